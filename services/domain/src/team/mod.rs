//! 卫生应急队伍 — response teams: who they are and where they are in their lifecycle
//! (standby → mobilising → deployed → returning → resting → standby; unavailable).

mod command;
mod decider;
mod event;
mod kind;
mod status;
#[cfg(test)]
mod tests;

pub use command::TeamCommand;
pub use decider::{Team, TeamState};
pub use event::*;
pub use kind::{CustomKind, TeamKind};
pub(crate) use kind::{kind_custom_prefix, kind_names};
pub use status::{TeamPhase, TeamStatus};
