//! What every request handler can reach, and how a read gets the view it asked for.

use std::sync::Arc;

use chrono::Duration;
use ercs_commands::{Aggregates, Turns};
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_eventlog::{EventLog, Position};
use ercs_projections::{OneNetwork, Projector, rebuild_as_of};
use ercs_seed::geography::Geography;

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
    /// The city's areas: tiers, districts, townships and their boundaries.
    pub geography: Arc<Geography>,
    pub areas: Arc<AreaHierarchy>,
    pub feed: Feed,
    /// Bed reports older than this are flagged stale.
    pub stale_after: Duration,
}

/// The view a read is served from: the live one, or one rebuilt as of a point in
/// the log's history.
pub enum View<'a> {
    Live(&'a Projector<OneNetwork>),
    AsOf(Box<OneNetwork>, Position),
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
    /// (waiting at most [`READ_WAIT`], then 503), or rebuilt `as_of`.
    pub async fn view(&self, options: ReadOptions) -> Result<View<'_>, Problem> {
        if let Some(as_of) = options.as_of {
            let (view, position) = rebuild_as_of::<OneNetwork>(&*self.log, as_of)
                .await
                .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))?;
            return Ok(View::AsOf(Box::new(view), position));
        }
        if let Some(position) = options.min_position {
            self.view
                .wait_for(position, READ_WAIT)
                .await
                .map_err(|lagging| {
                    Problem::unavailable(format!(
                        "{lagging}; retry shortly (the view follows the log within moments)"
                    ))
                    .retry_after(1)
                })?;
        }
        Ok(View::Live(&self.view))
    }
}
