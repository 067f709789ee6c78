use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ercs_eventlog::{
    Direction, EventLog, FileAccess, Filter, Position, ReadFrom, RecordedEvent, SubscribeFrom,
    SubscriptionMessage,
};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::snapshot;

/// A read model: a value folded from the events it cares about.
pub trait Projection: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
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

/// The view had not reached the position asked for in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the view is at position {reached}, not yet at {wanted}")]
pub struct Lagging {
    pub wanted: Position,
    pub reached: Position,
}

/// Keeps a projection up to date from the log, in a task of its own.
pub struct Projector<P: Projection> {
    shared: Arc<Shared<P>>,
    task: JoinHandle<()>,
}

/// Told of every event the view applies, with the view as it then stands and
/// whether the view had caught up with the log (`false` while it replays history
/// at start); called under the view's write lock, so it sees each state exactly
/// once and in order.
pub type Observer<P> = Box<dyn FnMut(&P, &RecordedEvent, bool) + Send + Sync>;

struct Shared<P> {
    view: RwLock<P>,
    observer: std::sync::Mutex<Option<Observer<P>>>,
    /// The position the view reflects. Changed only while `view` is write-locked,
    /// so a reader holding the read lock sees a state and its position together.
    position: watch::Sender<Position>,
    caught_up: AtomicBool,
    options: ProjectorOptions,
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
        let (view, position) = options
            .snapshot_dir
            .as_deref()
            .and_then(snapshot::load::<P>)
            .unwrap_or_default();
        let shared = Arc::new(Shared {
            view: RwLock::new(view),
            observer: std::sync::Mutex::new(observer),
            position: watch::Sender::new(position),
            caught_up: AtomicBool::new(false),
            options,
        });
        let task = tokio::spawn(follow(Arc::clone(&shared), log));
        Self { shared, task }
    }

    /// Reads the view, with the position it reflects.
    pub fn read<R>(&self, read: impl FnOnce(&P) -> R) -> (R, Position) {
        let view = self
            .shared
            .view
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let position = *self.shared.position.borrow();
        (read(&view), position)
    }

    /// The position the view reflects.
    pub fn position(&self) -> Position {
        *self.shared.position.borrow()
    }

    /// Whether the view has read everything that was in the log when it started.
    pub fn is_caught_up(&self) -> bool {
        self.shared.caught_up.load(Ordering::Acquire)
    }

    /// Waits until the view reflects `position` (read-your-writes), at most `within`.
    pub async fn wait_for(&self, position: Position, within: Duration) -> Result<(), Lagging> {
        let mut reached = self.shared.position.subscribe();
        let arrived = tokio::time::timeout(within, reached.wait_for(|at| *at >= position))
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

    /// Writes a snapshot of the view as it stands, so a restart starts from here
    /// (a service calls it when it stops).
    pub async fn save_snapshot(&self) -> std::io::Result<()> {
        save(&self.shared).await
    }

    /// Stops following the log and writes a final snapshot.
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

/// Follows the log for ever. A failed subscription is opened again from the view's
/// own position: the log's client is never trusted to resume by itself.
async fn follow<P: Projection>(shared: Arc<Shared<P>>, log: Arc<dyn EventLog>) {
    let filter = P::filter();
    let mut unsaved = 0u64;
    let mut timer = tokio::time::interval(shared.options.snapshot_interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        // Unfiltered: the position must advance past events the view skips too, or a
        // reader waiting for its own (skipped) write would wait in vain.
        let after = *shared.position.borrow();
        let mut subscription = log.subscribe_all(SubscribeFrom::After(after), Filter::all());
        let failure = loop {
            let message = tokio::select! {
                message = subscription.next() => message,
                _ = timer.tick() => {
                    if unsaved > 0 {
                        unsaved = 0;
                        save_or_warn(&shared).await;
                    }
                    continue;
                }
            };
            match message {
                Some(Ok(SubscriptionMessage::Event(event))) => {
                    unsaved += apply(&shared, &filter, &event);
                }
                Some(Ok(SubscriptionMessage::Checkpoint(_))) => {}
                Some(Ok(SubscriptionMessage::CaughtUp(_))) => {
                    shared.caught_up.store(true, Ordering::Release)
                }
                Some(Err(error)) => break Some(error),
                None => break None,
            }
            if unsaved >= shared.options.snapshot_every {
                unsaved = 0;
                timer.reset();
                save_or_warn(&shared).await;
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

/// Applies `event` if the view wants it, telling the observer; moves the
/// position either way. Gives the number of events applied (0 or 1).
fn apply<P: Projection>(shared: &Shared<P>, filter: &Filter, event: &RecordedEvent) -> u64 {
    let mut view = shared
        .view
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let wanted = filter.matches(event.stream.as_str(), event.event_type.as_str());
    if wanted {
        view.apply(event);
        let mut observer = shared
            .observer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(observe) = observer.as_mut() {
            observe(&view, event, shared.caught_up.load(Ordering::Acquire));
        }
    }
    shared.position.send_replace(event.position);
    u64::from(wanted)
}

async fn save_or_warn<P: Projection>(shared: &Arc<Shared<P>>) {
    if let Err(error) = save(shared).await {
        tracing::warn!(projection = P::NAME, %error, "could not write the snapshot");
    }
}

async fn save<P: Projection>(shared: &Arc<Shared<P>>) -> std::io::Result<()> {
    let Some(dir) = &shared.options.snapshot_dir else {
        return Ok(());
    };
    let bytes = {
        let view = shared
            .view
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        snapshot::encode(&*view, *shared.position.borrow()).map_err(std::io::Error::other)?
    };
    let path = snapshot::path_for::<P>(dir);
    let access = shared.options.snapshot_access;
    tokio::task::spawn_blocking(move || snapshot::write(&path, &bytes, access))
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
