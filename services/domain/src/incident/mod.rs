//! 突发事件 — incidents: their response level (Ⅰ–Ⅳ级响应), the areas they affect and
//! the demand they post for beds, supplies and teams.

mod command;
mod decider;
mod event;
mod level;
#[cfg(test)]
mod tests;

pub use command::{IncidentCommand, IncidentKind};
pub use decider::{Incident, IncidentPhase, IncidentState};
pub use event::*;
pub use level::ResponseLevel;
