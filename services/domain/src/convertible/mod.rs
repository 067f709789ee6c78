//! 平急两用 — convertible facilities: a hotel, gymnasium or exhibition hall with a
//! peacetime use and an emergency capacity. 有序转换、规范扩容、安全恢复: peacetime →
//! converting (lead time, target capacity, readiness checklist; activation waits for
//! the lead time unless a dispatcher opens early with a reason, which the event
//! records) → emergency use
//! (holding [`BedPools`](crate::beds::BedPools) like any facility) → recovering
//! (消杀, only once no bed is occupied or held) → peacetime.

mod command;
mod decider;
mod event;
mod phase;
#[cfg(test)]
mod tests;

pub use command::{ConvertibleCommand, PeacetimeUse};
pub use decider::{Conversion, ConvertibleFacility, ConvertibleState};
pub use event::*;
pub use phase::ConversionPhase;
