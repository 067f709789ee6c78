//! The event log as the service uses it, with every append timed and its batch
//! counted for `/metrics`: the port wrapped, so every backend is measured the
//! same way and from the service's side (what a command waits for).

use std::sync::Arc;
use std::time::Instant;

use ercs_eventlog::{Appended, Around, Error, EventLog, Wrapped};

use crate::metrics::Metrics;

pub struct Meter {
    log: Arc<dyn EventLog>,
    metrics: Arc<Metrics>,
}

/// The log, metered.
pub type Metered = Wrapped<Meter>;

/// `log`, its appends recorded in `metrics`.
pub fn metered(log: Arc<dyn EventLog>, metrics: Arc<Metrics>) -> Metered {
    Wrapped(Meter { log, metrics })
}

impl Around for Meter {
    fn log(&self) -> Arc<dyn EventLog> {
        Arc::clone(&self.log)
    }

    fn appended(&self, began: Instant, events: usize, outcome: Appended<'_>) {
        let label = match outcome {
            Appended::Written => "appended",
            Appended::Replayed => "replayed",
            Appended::Failed(Error::WrongExpectedRevision { .. }) => "conflict",
            Appended::Failed(_) => "failed",
        };
        self.metrics
            .append_seconds
            .observe_duration(&[label], began.elapsed());
        self.metrics.append_events.observe(&[label], events as f64);
    }
}
