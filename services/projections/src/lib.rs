//! Projections: read models fed from the event log.
//!
//! A [`Projection`] is a plain value folded from events. A [`Projector`] keeps one
//! up to date from a live subscription, and answers "has the view reached position
//! *p* yet?" so a dispatcher reads their own write ([`Projector::wait_for`]).
//!
//! A view's state and the position it reflects are saved together, in one snapshot
//! file written atomically, so a restart neither applies an event twice nor skips
//! one. When a snapshot is missing, damaged or from an older version of the
//! projection, the view is rebuilt from the log: the log is the source of truth,
//! and a snapshot only saves time.

mod history;
pub mod one_network;
mod projector;
mod snapshot;
mod turns;

pub use history::{History, HistoryOptions};
pub use one_network::OneNetwork;
pub use projector::{
    AsOf, Lagging, Observer, Projection, Projector, ProjectorOptions, rebuild, rebuild_as_of,
};
pub use turns::SaveTurns;
