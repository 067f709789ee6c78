//! What every request handler can reach, and how a read gets the view it asked for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use ercs_commands::{Aggregates, Turns};
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_drill::DrillClock;
use ercs_eventlog::{EventLog, Position};
use ercs_projections::{AsOf, History, OneNetwork, Projector};
use ercs_seed::geography::Geography;

use crate::background::Background;
use crate::feed::Feed;
use crate::problem::Problem;
use crate::query::{READ_WAIT, ReadOptions};

/// One network (一张网) as the service runs it: the log, the command path, the
/// view following the log, its history and feed, and the turns its processes
/// take. The live service is one; every hosted drill is another, on its own
/// sandbox log, with its drill's id and clock.
pub struct AppState {
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
    pub metrics: Arc<crate::metrics::Metrics>,
    /// `/readyz` fails while the view lags the log by more than this.
    pub max_lag: std::time::Duration,
    /// The drill this network is, `None` for the live one.
    pub drill: Option<Arc<str>>,
    /// What time it is on this network.
    pub clock: Clock,
}

/// What time it is on a network: the wall clock on the live one, drill time
/// (演练时间) in a drill, so every command there is stamped with drill time.
#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    Wall,
    Drill(Arc<Mutex<DrillClock>>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Wall => Utc::now(),
            Clock::Drill(clock) => clock
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .now(Utc::now()),
        }
    }
}

/// The network a request acts on: the live one, or the hosted drill its path
/// names (`/api/v1/drills/{drill}/…`). Every handler takes its network this
/// way, so the same endpoints serve live and every drill.
#[derive(Clone)]
pub struct Net(web::Data<AppState>);

impl std::ops::Deref for Net {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl Net {
    pub fn into_inner(self) -> Arc<AppState> {
        self.0.into_inner()
    }

    pub fn data(&self) -> web::Data<AppState> {
        self.0.clone()
    }
}

impl FromRequest for Net {
    type Error = Problem;
    type Future = std::future::Ready<Result<Net, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(network_of(request).map(Net))
    }
}

/// The `{id}` segment of a request's path, however many segments the path
/// has before it (a drill's path adds `{drill}`).
pub struct PathId(String);

impl PathId {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Display for PathId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for PathId {
    type Target = String;

    fn deref(&self) -> &String {
        &self.0
    }
}

impl FromRequest for PathId {
    type Error = Problem;
    type Future = std::future::Ready<Result<PathId, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            request
                .match_info()
                .get("id")
                .map(|id| PathId(id.to_owned()))
                .ok_or_else(|| Problem::not_found("the path names no resource")),
        )
    }
}

/// The network of `request`: the drill its `{drill}` segment names, else live.
pub fn network_of(request: &HttpRequest) -> Result<web::Data<AppState>, Problem> {
    match request.match_info().get("drill") {
        Some(drill) => request
            .app_data::<web::Data<crate::drills::Drills>>()
            .and_then(|drills| drills.network(drill))
            .ok_or_else(|| crate::drills::unknown_drill(drill)),
        None => request
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| Problem::unavailable("the service is starting")),
    }
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

impl AppState {
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

    /// Read-your-writes. The head is published before any append is answered, so
    /// a position beyond it was never handed to a client: it is refused at once
    /// rather than waited for.
    async fn wait_for(&self, position: Position) -> Result<(), Problem> {
        let head = self.log.head().await.map_err(|error| {
            Problem::unavailable(format!("the event log does not answer: {error}"))
        })?;
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
