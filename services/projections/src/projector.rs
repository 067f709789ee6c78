use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ercs_eventlog::{
    Direction, EventLog, FileAccess, Filter, Position, ReadFrom, RecordedEvent, SubscribeFrom,
    SubscriptionMessage,
};
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::snapshot;
use crate::turns::SaveTurns;

/// A read model: a value folded from the events it cares about. `Clone`, because
/// the projector publishes a copy of it for readers after each batch it applies.
pub trait Projection:
    Default + Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Names the snapshot file (`<NAME>.snapshot.json`).
    const NAME: &'static str;
    /// Bump it when the state's shape or meaning changes: older snapshots are then
    /// discarded and the view rebuilt from the log.
    const VERSION: u32;

    /// The events [`apply`](Projection::apply) is given.
    fn filter() -> Filter;

    /// Folds one event in. It cannot fail: the log is never wrong, so an event the
    /// projection cannot read is for it to report and skip.
    fn apply(&mut self, event: &RecordedEvent);
}

#[derive(Clone, Debug)]
pub struct ProjectorOptions {
    /// Where snapshots live; `None` keeps the view in memory only.
    pub snapshot_dir: Option<PathBuf>,
    /// Who may read the snapshot files (default: their owner only).
    pub snapshot_access: FileAccess,
    /// Write a snapshot after this many applied events (and when stopped).
    pub snapshot_every: u64,
    /// Write a snapshot this long after the last one if events were applied since,
    /// so a quiet view is saved too and a crash costs at most this much replay.
    pub snapshot_interval: Duration,
    /// Pause before resubscribing after the subscription failed.
    pub retry_after: Duration,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        Self {
            snapshot_dir: None,
            snapshot_access: FileAccess::default(),
            snapshot_every: 10_000,
            snapshot_interval: Duration::from_secs(60),
            retry_after: Duration::from_millis(500),
        }
    }
}

/// Most events applied in one batch, before the projector looks at publishing.
pub const BATCH_EVENTS: usize = 256;
/// Longest one batch runs.
pub const BATCH_TIME: Duration = Duration::from_millis(5);
/// Least time between two publications, so a stream of writes does not
/// publish a copy per batch. A copy is cheap (the view's maps share their
/// entries: `SharedMap`), but the first change after it copies the map's
/// nodes. Measured with `load-tests/run.sh mixed` on the 2-core machine: once
/// copies were shared, 5 ms gave the same throughput as 20 ms and took the
/// view lag's median from 23 to 13 ms (p99 49 → 40 ms). (While each
/// publication was a deep copy, 2 ms of allocation, 20 ms had been the best.)
pub const PUBLISH_GAP: Duration = Duration::from_millis(5);

/// The view had not reached the position asked for in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the view is at position {reached}, not yet at {wanted}")]
pub struct Lagging {
    pub wanted: Position,
    pub reached: Position,
}

/// Keeps a projection up to date from the log, in a task of its own.
///
/// The task owns the state it folds into; readers never see it. After each
/// batch of events (whatever the log had ready, at most [`BATCH_EVENTS`] or
/// [`BATCH_TIME`] of work) it publishes an immutable copy with the position it
/// reflects, at most once per [`PUBLISH_GAP`], and a reader takes an `Arc` of
/// the latest copy. So a
/// read never waits for the projector and the projector never waits for a
/// read: the only lock they share guards the swap of one pointer.
pub struct Projector<P: Projection> {
    shared: Arc<Shared<P>>,
    task: JoinHandle<()>,
}

/// Told of every event the view applies, with the view as it then stands and
/// whether the view had caught up with the log (`false` while it replays history
/// at start); called by the projector's task, so it sees each state exactly once
/// and in order.
pub type Observer<P> = Box<dyn FnMut(&P, &RecordedEvent, bool) + Send + Sync>;

/// A published view: a state and the position it reflects, always together.
pub struct Published<P> {
    pub view: Arc<P>,
    pub position: Position,
    /// The id of the event at `position` (`None` at the start of the log).
    event: Option<uuid::Uuid>,
}

impl<P> Clone for Published<P> {
    fn clone(&self) -> Self {
        Self {
            view: Arc::clone(&self.view),
            position: self.position,
            event: self.event,
        }
    }
}

struct Shared<P> {
    published: watch::Sender<Published<P>>,
    /// Where the snapshot read at start left the view (`START` without one).
    restored: Position,
    caught_up: AtomicBool,
    options: ProjectorOptions,
    /// Held while a snapshot is written: one at a time, so two never race on
    /// the file, and the projector's own saves skip while one is under way.
    saving: SaveTurns,
}

impl<P: Projection> Shared<P> {
    fn latest(&self) -> Published<P> {
        self.published.borrow().clone()
    }
}

impl<P: Projection> Projector<P> {
    /// Starts from the snapshot when there is one to trust, else from the start of
    /// the log. Must be called within a Tokio runtime.
    pub fn start(log: Arc<dyn EventLog>, options: ProjectorOptions) -> Self {
        Self::start_observed(log, options, None)
    }

    /// Like [`start`](Self::start), telling `observer` of every event applied from
    /// then on (a live feed renders its messages there).
    pub fn start_observed(
        log: Arc<dyn EventLog>,
        options: ProjectorOptions,
        observer: Option<Observer<P>>,
    ) -> Self {
        let (view, position, event) = match options
            .snapshot_dir
            .as_deref()
            .and_then(snapshot::load::<P>)
        {
            Some(loaded) => (loaded.view, loaded.position, Some(loaded.event)),
            None => Default::default(),
        };
        // Readers see the snapshot once it is checked against the log (in
        // `follow`); until then, the start of the log.
        let shared = Arc::new(Shared {
            published: watch::Sender::new(Published {
                view: Arc::new(P::default()),
                position: Position::START,
                event: None,
            }),
            restored: position,
            caught_up: AtomicBool::new(false),
            options,
            saving: SaveTurns::default(),
        });
        let folding = Folding {
            view,
            position,
            event,
            observer,
            unsaved: 0,
        };
        let task = tokio::spawn(follow(Arc::clone(&shared), log, folding));
        Self { shared, task }
    }

    /// Reads the latest published view, with the position it reflects.
    pub fn read<R>(&self, read: impl FnOnce(&P) -> R) -> (R, Position) {
        let Published { view, position, .. } = self.shared.latest();
        (read(&view), position)
    }

    /// The latest published view and its position, to read at leisure (or on
    /// another thread) while the projector moves on.
    pub fn latest(&self) -> Published<P> {
        self.shared.latest()
    }

    /// The position of the snapshot read at start (`START` without one):
    /// the view never applied an event at or before it in this process,
    /// whether the snapshot is then trusted or the view rebuilt.
    pub fn restored_position(&self) -> Position {
        self.shared.restored
    }

    /// The position the published view reflects.
    pub fn position(&self) -> Position {
        self.shared.published.borrow().position
    }

    /// Whether the view has read everything that was in the log when it started.
    pub fn is_caught_up(&self) -> bool {
        self.shared.caught_up.load(Ordering::Acquire)
    }

    /// Waits until the published view reflects `position` (read-your-writes), at
    /// most `within`.
    pub async fn wait_for(&self, position: Position, within: Duration) -> Result<(), Lagging> {
        let mut reached = self.shared.published.subscribe();
        let arrived = tokio::time::timeout(within, reached.wait_for(|at| at.position >= position))
            .await
            .map(|r| r.is_ok());
        match arrived {
            Ok(true) => Ok(()),
            _ => Err(Lagging {
                wanted: position,
                reached: self.position(),
            }),
        }
    }

    /// Writes a snapshot of the published view, so a restart starts from here
    /// (a service calls it when it stops).
    pub async fn save_snapshot(&self) -> std::io::Result<()> {
        save(&self.shared).await
    }

    /// Writes no snapshot from now on, after the one under way: the directory
    /// can then be replaced or deleted (a drill rewound or deleted) without a
    /// late save landing in it.
    pub async fn stop_saving(&self) {
        self.shared.saving.stop().await;
    }

    /// Stops following the log and writes a final snapshot (unless saving
    /// has stopped).
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.task.abort();
        let _ = (&mut self.task).await;
        save(&self.shared).await
    }
}

impl<P: Projection> Drop for Projector<P> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the projector's task owns: the state it folds into, ahead of the
/// published copy by at most one batch.
struct Folding<P: Projection> {
    view: P,
    position: Position,
    /// The id of the event at `position`.
    event: Option<uuid::Uuid>,
    observer: Option<Observer<P>>,
    /// Events applied since the last snapshot.
    unsaved: u64,
}

/// What one subscription message asks of the loop.
enum Next {
    Go,
    Failed(ercs_eventlog::Error),
    Ended,
}

impl<P: Projection> Folding<P> {
    /// Applies `event` if the view wants it, telling the observer; moves the
    /// position either way (a reader waiting for its own skipped write must not
    /// wait in vain).
    fn apply(&mut self, filter: &Filter, event: &RecordedEvent, live: bool) {
        if filter.matches(event.stream.as_str(), event.event_type.as_str()) {
            self.view.apply(event);
            self.unsaved += 1;
            if let Some(observe) = self.observer.as_mut() {
                observe(&self.view, event, live);
            }
        }
        self.position = event.position;
        self.event = Some(event.id);
    }

    fn take(&mut self, shared: &Shared<P>, filter: &Filter, message: Option<Message>) -> Next {
        match message {
            Some(Ok(SubscriptionMessage::Event(event))) => {
                let live = shared.caught_up.load(Ordering::Acquire);
                self.apply(filter, &event, live);
            }
            Some(Ok(SubscriptionMessage::Checkpoint(_))) => {}
            Some(Ok(SubscriptionMessage::CaughtUp(_))) => {
                // Published first, so whoever sees "caught up" sees the view too.
                self.publish(shared);
                shared.caught_up.store(true, Ordering::Release)
            }
            Some(Err(error)) => return Next::Failed(error),
            None => return Next::Ended,
        }
        Next::Go
    }

    /// Hands readers a copy of the state as it stands, if it moved on.
    fn publish(&self, shared: &Shared<P>) {
        if shared.published.borrow().position == self.position {
            return;
        }
        shared.published.send_replace(Published {
            view: Arc::new(self.view.clone()),
            position: self.position,
            event: self.event,
        });
    }
}

type Message = Result<SubscriptionMessage, ercs_eventlog::Error>;

/// Follows the log for ever. A failed subscription is opened again from the view's
/// own position: the log's client is never trusted to resume by itself.
async fn follow<P: Projection>(
    shared: Arc<Shared<P>>,
    log: Arc<dyn EventLog>,
    mut folding: Folding<P>,
) {
    let filter = P::filter();
    // A snapshot is of this log only if the log holds its event where it says.
    if let Some(event) = folding.event {
        while let Err(error) = check_snapshot(&shared, &*log, &mut folding, event).await {
            tracing::warn!(projection = P::NAME, %error, "cannot check the snapshot against the log; retrying");
            tokio::time::sleep(shared.options.retry_after).await;
        }
    }
    let mut timer = tokio::time::interval(shared.options.snapshot_interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    // When the view was last published, and whether it has moved on since.
    let (mut published, mut pending) = (Instant::now(), false);
    loop {
        // Unfiltered: the position must advance past events the view skips too.
        let after = folding.position;
        let mut subscription = log.subscribe_all(SubscribeFrom::After(after), Filter::all());
        let failure = loop {
            let message = tokio::select! {
                message = subscription.next() => message,
                _ = tokio::time::sleep_until((published + PUBLISH_GAP).into()), if pending => {
                    folding.publish(&shared);
                    (published, pending) = (Instant::now(), false);
                    continue;
                }
                _ = timer.tick() => {
                    if folding.unsaved > 0 {
                        // The snapshot is of a published copy: the latest one.
                        folding.publish(&shared);
                        (published, pending) = (Instant::now(), false);
                        folding.unsaved = 0;
                        save_behind(&shared);
                    }
                    continue;
                }
            };
            let mut next = folding.take(&shared, &filter, message);
            // Whatever else the log has ready joins this batch, within bounds.
            let began = Instant::now();
            let mut batch = 1;
            while matches!(next, Next::Go) && batch < BATCH_EVENTS && began.elapsed() < BATCH_TIME {
                let Some(message) = subscription.next().now_or_never() else {
                    break;
                };
                next = folding.take(&shared, &filter, message);
                batch += 1;
            }
            if published.elapsed() >= PUBLISH_GAP || !matches!(next, Next::Go) {
                folding.publish(&shared);
                (published, pending) = (Instant::now(), false);
            } else {
                pending = true;
            }
            match next {
                Next::Go => {}
                Next::Failed(error) => break Some(error),
                Next::Ended => break None,
            }
            if folding.unsaved >= shared.options.snapshot_every {
                folding.publish(&shared);
                (published, pending) = (Instant::now(), false);
                folding.unsaved = 0;
                timer.reset();
                save_behind(&shared);
            }
        };
        match failure {
            Some(error) => {
                tracing::warn!(projection = P::NAME, %error, "subscription failed; resubscribing")
            }
            None => return,
        }
        tokio::time::sleep(shared.options.retry_after).await;
    }
}

/// Starts the view over from the beginning of the log when the snapshot's
/// event is not at its position there: the snapshot is of another log (a
/// backup restored over the directory, a drill's directory replaced) and its
/// state would be wrong, not merely behind.
async fn check_snapshot<P: Projection>(
    shared: &Shared<P>,
    log: &dyn EventLog,
    folding: &mut Folding<P>,
    event: uuid::Uuid,
) -> Result<(), ercs_eventlog::Error> {
    let at = folding.position;
    let found = log
        .read_all(ReadFrom::At(at), Direction::Forwards, &Filter::all(), 1)
        .await?;
    if found
        .first()
        .is_some_and(|e| e.position == at && e.id == event)
    {
        folding.publish(shared);
        return Ok(());
    }
    tracing::warn!(
        projection = P::NAME,
        position = at.0,
        "the snapshot is not of this log (its event is not at its position); rebuilding from the log"
    );
    folding.view = P::default();
    folding.position = Position::START;
    folding.event = None;
    Ok(())
}

/// Saves the published view in a task of its own, so the projector goes on
/// folding (and the feed on delivering) while the snapshot is encoded and
/// synced, which takes tens of milliseconds for the city. Skipped while an
/// earlier save is still under way: the next one will hold its events too.
fn save_behind<P: Projection>(shared: &Arc<Shared<P>>) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let Some(_turn) = shared.saving.try_take() else {
            return;
        };
        if let Err(error) = write_snapshot(&shared).await {
            tracing::warn!(projection = P::NAME, %error, "could not write the snapshot");
        }
    });
}

/// Saves the published view, after any save under way.
async fn save<P: Projection>(shared: &Arc<Shared<P>>) -> std::io::Result<()> {
    let Some(_turn) = shared.saving.take().await else {
        return Ok(());
    };
    write_snapshot(shared).await
}

/// Writes the published view: encoded and written off the async threads, while
/// the projector and the readers go on. The caller holds `saving`.
async fn write_snapshot<P: Projection>(shared: &Arc<Shared<P>>) -> std::io::Result<()> {
    let Some(dir) = &shared.options.snapshot_dir else {
        return Ok(());
    };
    let Published {
        view,
        position,
        event,
    } = shared.latest();
    let path = snapshot::path_for::<P>(dir);
    let access = shared.options.snapshot_access;
    tokio::task::spawn_blocking(move || {
        let bytes = snapshot::encode(&*view, position, event).map_err(std::io::Error::other)?;
        access.replace_file(&path, &bytes)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A point in the log's history: a position, or the last event recorded at or
/// before a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    Position(Position),
    Time(chrono::DateTime<chrono::Utc>),
}

/// The view as of `up_to`, folded afresh from the log: for time travel, and to check
/// a live view against the truth.
pub async fn rebuild<P: Projection>(
    log: &dyn EventLog,
    up_to: Position,
) -> Result<P, ercs_eventlog::Error> {
    Ok(rebuild_as_of(log, AsOf::Position(up_to)).await?.0)
}

/// The view as of a position or a time, with the position it reflects (the last
/// event folded in; `Position(0)` when none was).
pub async fn rebuild_as_of<P: Projection>(
    log: &dyn EventLog,
    as_of: AsOf,
) -> Result<(P, Position), ercs_eventlog::Error> {
    fold_forward(log, P::default(), Position(0), as_of, |_, _| {}).await
}

/// Folds the events after `after` into `view`, page by page, up to `as_of`;
/// `each` sees the view after each event. Gives the view and the position of the
/// last event folded in (`after` when none was).
pub(crate) async fn fold_forward<P: Projection>(
    log: &dyn EventLog,
    mut view: P,
    after: Position,
    as_of: AsOf,
    mut each: impl FnMut(&P, &RecordedEvent),
) -> Result<(P, Position), ercs_eventlog::Error> {
    const PAGE: usize = 4096;
    let within = |event: &RecordedEvent| match as_of {
        AsOf::Position(up_to) => event.position <= up_to,
        AsOf::Time(at) => event.recorded_at <= at,
    };
    let filter = P::filter();
    let mut reached = after;
    loop {
        let from = ReadFrom::At(Position(reached.0.saturating_add(1)));
        let page = log
            .read_all(from, Direction::Forwards, &filter, PAGE)
            .await?;
        for event in page.iter().take_while(|event| within(event)) {
            view.apply(event);
            reached = event.position;
            each(&view, event);
        }
        match page.last() {
            Some(last) if page.len() == PAGE && within(last) => {}
            _ => return Ok((view, reached)),
        }
    }
}
