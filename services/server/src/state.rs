//! What every request handler can reach, and how a read gets the view it asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::StatusCode;
use chrono::Duration;
use ercs_commands::{Aggregates, Turns};
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_eventlog::{EventLog, Position};
use ercs_projections::{AsOf, History, OneNetwork, Projector};
use ercs_seed::geography::Geography;

use crate::background::Background;
use crate::feed::Feed;
use crate::problem::Problem;
use crate::query::{READ_WAIT, ReadOptions};

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
    /// Where history work runs, off the request threads.
    pub background: Background,
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
