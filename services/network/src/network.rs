//! One network (一张网) as a runtime: the log, the command path, the view
//! following the log, its history and feed, and the turns its processes take.
//! The live service is one; every drill is another, on its own sandbox log.
//! Also how a read gets the view it asked for (`min_position`, `as_of`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use ercs_commands::{Aggregates, Turns};
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_eventlog::{EventLog, FileAccess, Position, RecordedEvent};
use ercs_projections::{
    AsOf, History, HistoryOptions, OneNetwork, Projector, ProjectorOptions, SaveTurns,
};
use ercs_seed::geography::Geography;
use http::StatusCode;

use crate::background::Background;
use crate::clock::Clock;
use crate::feed::{CatchUp, Feed};
use crate::metrics::Metrics;
use crate::problem::Problem;

/// One network (一张网) as the service runs it: the log, the command path, the
/// view following the log, its history and feed, and the turns its processes
/// take. The live service is one; every hosted drill is another, on its own
/// sandbox log, with its drill's id and clock. Both are made by
/// [`Network::start`].
pub struct Network {
    pub log: Arc<dyn EventLog>,
    pub aggregates: Aggregates,
    /// Runs of one process instance (a plan's approval, a transfer's settlement)
    /// take turns, so concurrent triggers dispatch each step once.
    pub processes: Turns,
    /// The one-network view, following the log.
    pub view: Projector<OneNetwork>,
    /// Views of the past, to fold `as_of` reads and feed catch-ups forward from.
    pub history: Arc<History<OneNetwork>>,
    /// Where history work runs, off the request threads (shared by the live
    /// network and every drill).
    pub background: Arc<Background>,
    /// Set once the view has caught up with the log's head as it was at start.
    pub ready: AtomicBool,
    /// The city's areas: tiers, districts, townships and their boundaries.
    pub geography: Arc<Geography>,
    pub areas: Arc<AreaHierarchy>,
    pub feed: Feed,
    /// Bed reports older than this are flagged stale.
    pub stale_after: Duration,
    /// What `/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// `/readyz` fails while the view lags the log by more than this.
    pub max_lag: std::time::Duration,
    /// The drill this network is, `None` for the live one.
    pub drill: Option<Arc<str>>,
    /// What time it is on this network.
    pub clock: Clock,
    /// Saves the command path's states now and then; stopped with the network.
    states: StatesSaver,
}

/// The view a read is served from: the live one, or one of the log's history.
pub enum View<'a> {
    Live(&'a Projector<OneNetwork>),
    AsOf(Arc<OneNetwork>, Position),
}

impl View<'_> {
    /// Reads the view, with the position it reflects.
    pub fn read<R>(&self, read: impl FnOnce(&OneNetwork) -> R) -> (R, Position) {
        match self {
            View::Live(projector) => projector.read(read),
            View::AsOf(view, position) => (read(view), *position),
        }
    }
}

impl Network {
    /// Where this network's endpoints are: `/api/v1`, or its drill's.
    pub fn base(&self) -> String {
        match &self.drill {
            Some(drill) => format!("/api/v1/drills/{drill}"),
            None => "/api/v1".to_owned(),
        }
    }

    /// Now, on this network's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The view `options` ask for: live once it has reached `min_position`
    /// (waiting at most [`READ_WAIT`], then 503), or as it stood `as_of`.
    pub async fn view(&self, options: ReadOptions) -> Result<View<'_>, Problem> {
        if let Some(as_of) = options.as_of {
            let (view, position) = self.as_of(as_of).await?;
            return Ok(View::AsOf(view, position));
        }
        if let Some(position) = options.min_position {
            self.wait_for(position).await?;
        }
        Ok(View::Live(&self.view))
    }

    /// Reads `view`. A view of the past is read on the history runtime: a whole
    /// network's rollups are work the request threads should not do for time
    /// travel, any more than the fold that made the view.
    pub async fn read_view<R: Send + 'static>(
        &self,
        view: &View<'_>,
        read: impl FnOnce(&OneNetwork) -> R + Send + 'static,
    ) -> Result<(R, Position), Problem> {
        match view {
            View::Live(projector) => Ok(projector.read(read)),
            View::AsOf(past, position) => {
                let (past, position) = (Arc::clone(past), *position);
                let read = self.background.run(async move { read(&past) }).await?;
                Ok((read, position))
            }
        }
    }

    /// Whether the view has caught up with the log as it was at start.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Folded on the history runtime from the nearest kept view, a bounded number
    /// at a time.
    async fn as_of(&self, as_of: AsOf) -> Result<(Arc<OneNetwork>, Position), Problem> {
        let history = Arc::clone(&self.history);
        self.background
            .run(async move { history.at(as_of).await })
            .await?
            .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))
    }

    /// The log's head: a position every acknowledged append is at or before
    /// (503 when the log does not answer).
    pub async fn head(&self) -> Result<Position, Problem> {
        self.log.head().await.map_err(|error| {
            Problem::unavailable(format!("the event log does not answer: {error}"))
        })
    }

    /// Read-your-writes. The head is published before any append is answered, so
    /// a position beyond it was never handed to a client: it is refused at once
    /// rather than waited for.
    async fn wait_for(&self, position: Position) -> Result<(), Problem> {
        let head = self.head().await?;
        if position > head {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "position-beyond-head",
                "Position beyond the log's head",
                format!(
                    "`min_position` {} is beyond the log's head at {}; use a position a write returned",
                    position.0, head.0
                ),
            )
            .with_field("min_position"));
        }
        self.view
            .wait_for(position, READ_WAIT)
            .await
            .map_err(|lagging| {
                Problem::unavailable(format!(
                    "{lagging}; retry shortly (the view follows the log within moments)"
                ))
                .retry_after(1)
            })
    }
}

/// Which state of the view a read wants.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Wait until the view has reached this position (read-your-writes).
    pub min_position: Option<Position>,
    /// Rebuild the view as of this point in the log (time travel).
    pub as_of: Option<AsOf>,
}

/// How long a read waits for `min_position` before answering 503.
pub const READ_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What every network a service runs shares: the city, the history runtime,
/// the metrics and the view's tuning.
#[derive(Clone)]
pub struct Shared {
    pub geography: Arc<Geography>,
    pub areas: Arc<AreaHierarchy>,
    pub background: Arc<Background>,
    pub metrics: Arc<Metrics>,
    pub tuning: ViewArgs,
    pub access: FileAccess,
    pub max_lag: std::time::Duration,
}

impl Network {
    /// One network on `log`: its view (snapshotted in `snapshot_dir`, beside the
    /// command path's states, [`STATES_FILE`]) starts
    /// following the log, and every change it applies goes out on its feed and
    /// is offered to its history. `drill` names the drill it is, with its
    /// clock; `None` is the live network. Fails only if the history runtime
    /// has stopped.
    pub fn start(
        shared: &Shared,
        log: Arc<dyn EventLog>,
        snapshot_dir: PathBuf,
        drill: Option<(Arc<str>, Clock)>,
    ) -> std::io::Result<Network> {
        let tuning = &shared.tuning;
        let history = Arc::new(History::new(
            Arc::clone(&log),
            HistoryOptions {
                folds: usize::from(tuning.as_of_folds),
                ..HistoryOptions::default()
            },
        ));
        let runtime = shared
            .background
            .handle()
            .ok_or_else(|| std::io::Error::other("no runtime"))?;
        let catch_up = CatchUp::new(
            Arc::clone(&log),
            Arc::clone(&history),
            runtime.clone(),
            usize::from(tuning.feed_catch_ups),
            tuning.feed_catch_up_queue as usize,
        );
        let (drill, clock) = match drill {
            Some((id, clock)) => (Some(id), clock),
            None => (None, Clock::Wall),
        };
        let feed = Feed::of_network(
            Arc::clone(&shared.areas),
            catch_up,
            drill.clone(),
            clock.clone(),
        );
        let (publisher, recorder) = (feed.clone(), Arc::clone(&history));
        let view = Projector::start_observed(
            Arc::clone(&log),
            ProjectorOptions {
                snapshot_dir: Some(snapshot_dir.clone()),
                snapshot_access: shared.access,
                snapshot_every: tuning.snapshot_every_events,
                snapshot_interval: std::time::Duration::from_secs(tuning.snapshot_every_seconds),
                ..ProjectorOptions::default()
            },
            Some(Box::new(
                move |view: &OneNetwork, event: &RecordedEvent, live: bool| {
                    recorder.offer(view, event);
                    publisher.publish(view, event, live)
                },
            )),
        );
        feed.starts_after(view.restored_position().0);
        let aggregates = Aggregates::new(Arc::clone(&log));
        let states = StatesSaver::start(
            &aggregates,
            &runtime,
            &snapshot_dir,
            shared.access,
            std::time::Duration::from_secs(tuning.snapshot_every_seconds),
        );
        Ok(Network {
            aggregates,
            states,
            processes: Default::default(),
            log,
            view,
            history,
            background: Arc::clone(&shared.background),
            ready: AtomicBool::new(false),
            geography: Arc::clone(&shared.geography),
            areas: Arc::clone(&shared.areas),
            feed,
            stale_after: Duration::hours(24),
            metrics: Arc::clone(&shared.metrics),
            max_lag: shared.max_lag,
            drill,
            clock,
        })
    }

    /// Saves the view and the command path's states, so the next start neither
    /// replays the log nor folds every stream again (a service calls it when it
    /// stops; both are also saved as it runs).
    pub async fn save_snapshots(&self) -> std::io::Result<()> {
        let view = self.view.save_snapshot().await;
        let states = self.states.save(&self.aggregates).await;
        view.and(states)
    }

    /// Stops saving the view's snapshot and the command path's states, after
    /// the saves under way, so the network's directory can be replaced or
    /// deleted (a drill rewound or deleted) without an old save landing in it.
    pub async fn stop_saving(&self) {
        self.view.stop_saving().await;
        self.states.stop().await;
    }
}

/// The file beside the view's snapshot that holds the command path's states.
pub const STATES_FILE: &str = "aggregates.states.json";

/// Saves the command path's states every so often when they changed, off the
/// request threads; restores them when the network starts. Saves take turns,
/// so the last one started is the one on disk, and none starts once stopped.
struct StatesSaver {
    file: Arc<StatesFile>,
    /// Ends the periodic saves when the network goes; a save under way
    /// finishes first only through [`StatesSaver::stop`].
    task: tokio::task::AbortHandle,
}

struct StatesFile {
    path: PathBuf,
    access: FileAccess,
    turns: SaveTurns,
}

impl StatesSaver {
    fn start(
        aggregates: &Aggregates,
        runtime: &tokio::runtime::Handle,
        dir: &Path,
        access: FileAccess,
        every: std::time::Duration,
    ) -> Self {
        let path = dir.join(STATES_FILE);
        match aggregates.restore_states(&path) {
            Ok(0) => {}
            Ok(restored) => {
                tracing::info!(restored, path = %path.display(), "restored the command path's states")
            }
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "not restoring the command path's states; each aggregate is folded from the log when first used")
            }
        }
        let file = Arc::new(StatesFile {
            path,
            access,
            turns: SaveTurns::default(),
        });
        let saving = save_every(aggregates.clone(), Arc::clone(&file), every);
        let task = runtime.spawn(saving).abort_handle();
        Self { file, task }
    }

    /// Saves now, after any save under way.
    async fn save(&self, aggregates: &Aggregates) -> std::io::Result<()> {
        self.file.save(aggregates).await
    }

    /// Waits for a save under way, then saves no more (before the network's
    /// directory is replaced or deleted).
    async fn stop(&self) {
        self.file.turns.stop().await;
        self.task.abort();
    }
}

impl Drop for StatesSaver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StatesFile {
    /// Encodes and writes the states on a blocking thread, holding the turn
    /// until the file is in place; nothing once stopped.
    async fn save(&self, aggregates: &Aggregates) -> std::io::Result<()> {
        let Some(turn) = self.turns.take().await else {
            return Ok(());
        };
        let (aggregates, path, access) = (aggregates.clone(), self.path.clone(), self.access);
        let saved = tokio::task::spawn_blocking(move || aggregates.save_states(&path, access));
        let saved = saved.await.map_err(std::io::Error::other)?.map(|_| ());
        drop(turn);
        saved
    }
}

/// Saves the states every `every` if they changed since the last save.
async fn save_every(aggregates: Aggregates, file: Arc<StatesFile>, every: std::time::Duration) {
    let mut saved = aggregates.state_changes();
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        timer.tick().await;
        let changes = aggregates.state_changes();
        if changes == saved {
            continue;
        }
        match file.save(&aggregates).await {
            Ok(()) => saved = changes,
            Err(error) => {
                tracing::warn!(%error, path = %file.path.display(), "could not save the command path's states")
            }
        }
    }
}

/// How often the one-network view is saved, and how much history work requests
/// may cause at once.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ViewArgs {
    /// Snapshot the one-network view after this many events, so a restart (even
    /// after `kill -9`) replays at most this many.
    #[cfg_attr(feature = "cli", arg(long, env = "ERCS_SNAPSHOT_EVERY_EVENTS", default_value_t = ViewArgs::DEFAULT.snapshot_every_events,
          value_parser = clap::value_parser!(u64).range(1..), value_name = "EVENTS"))]
    pub snapshot_every_events: u64,

    /// Snapshot it this many seconds after the last snapshot, if anything changed
    /// since, whichever comes first.
    #[cfg_attr(feature = "cli", arg(long, env = "ERCS_SNAPSHOT_EVERY_SECONDS", default_value_t = ViewArgs::DEFAULT.snapshot_every_seconds,
          value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS"))]
    pub snapshot_every_seconds: u64,

    /// Feed resumes served from the log at once (`Last-Event-ID` older than the
    /// feed's memory); more wait their turn, receiving heartbeats.
    #[cfg_attr(feature = "cli", arg(long, env = "ERCS_FEED_CATCH_UPS", default_value_t = ViewArgs::DEFAULT.feed_catch_ups,
          value_parser = clap::value_parser!(u16).range(1..), value_name = "N"))]
    pub feed_catch_ups: u16,

    /// Feed resumes that may be waiting for or in a catch-up at once; beyond them a resume is
    /// refused with 503 and `Retry-After`.
    #[cfg_attr(feature = "cli", arg(long, env = "ERCS_FEED_CATCH_UP_QUEUE", default_value_t = ViewArgs::DEFAULT.feed_catch_up_queue,
          value_name = "N"))]
    pub feed_catch_up_queue: u32,

    /// `as_of` views folded at once; more wait their turn.
    #[cfg_attr(feature = "cli", arg(long, env = "ERCS_AS_OF_FOLDS", default_value_t = ViewArgs::DEFAULT.as_of_folds,
          value_parser = clap::value_parser!(u16).range(1..), value_name = "N"))]
    pub as_of_folds: u16,
}

impl ViewArgs {
    pub const DEFAULT: Self = Self {
        snapshot_every_events: 10_000,
        snapshot_every_seconds: 60,
        feed_catch_ups: 2,
        feed_catch_up_queue: 1_000,
        as_of_folds: 2,
    };
}

impl Default for ViewArgs {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use ercs_eventlog::SqliteEventLog;

    use super::*;

    #[tokio::test]
    async fn a_stopped_states_saver_writes_nothing_and_makes_no_directory() {
        let dir = tempfile::tempdir().unwrap();
        let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
        let aggregates = Aggregates::new(Arc::new(log));
        let sandbox = dir.path().join("sandbox");
        let every = std::time::Duration::from_secs(3600);
        let runtime = tokio::runtime::Handle::current();
        let saver = StatesSaver::start(&aggregates, &runtime, &sandbox, FileAccess::Owner, every);
        saver.save(&aggregates).await.unwrap();
        assert!(sandbox.join(STATES_FILE).exists(), "saved before the stop");

        // The sandbox goes, as a drill's does when it is deleted or rewound.
        saver.stop().await;
        std::fs::remove_dir_all(&sandbox).unwrap();
        saver.save(&aggregates).await.unwrap();
        assert!(
            !sandbox.exists(),
            "a save after the stop made the directory again"
        );
    }

    #[tokio::test]
    async fn a_save_waits_for_the_one_under_way() {
        let dir = tempfile::tempdir().unwrap();
        let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
        let aggregates = Aggregates::new(Arc::new(log));
        let every = std::time::Duration::from_secs(3600);
        let runtime = tokio::runtime::Handle::current();
        let saver = StatesSaver::start(&aggregates, &runtime, dir.path(), FileAccess::Owner, every);
        let path = dir.path().join(STATES_FILE);
        // A save under way holds the turn: another one does not write until it ends.
        let under_way = saver.file.turns.take().await;
        let (file, next) = (Arc::clone(&saver.file), aggregates.clone());
        let waiting = tokio::spawn(async move { file.save(&next).await });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!path.exists(), "saved while another save held the turn");
        drop(under_way);
        waiting.await.unwrap().unwrap();
        assert!(path.exists());
    }
}
