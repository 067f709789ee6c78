//! Drills (演练): a drill director replays a scripted drill into a sandbox while
//! trainee dispatchers play on it, and the outcome is judged from the record.
//!
//! This crate holds what a drill is apart from the network it runs on, so that
//! nothing of it depends on the HTTP server:
//!
//! - [`clock`]: drill time. Each drill has its own clock: a speed factor (1×,
//!   10×, 60×) or as fast as possible, pause, resume, and seek. Everything is a
//!   pure function of the wall time it is given, so a run is reproducible.
//! - [`evaluate`]: the expected player actions of a script
//!   ([`ercs_seed::drill_script::Expectation`]) marked met, late, missed or
//!   still open, from the events the drill's log holds and the drill times the
//!   steps and injects they count from happened at.
//!
//! Still to come (issue 13): the sandbox network itself (its own log under the
//! data directory, the command path, view, feed and processes shared with the
//! live service), the `/api/v1/drills/{id}/…` routes, replay of a recorded
//! range of the live log, and the after-action report.

pub mod clock;
pub mod evaluate;

pub use clock::{DrillClock, Speed};
pub use evaluate::{AnchorKey, Observed, Outcome, Status, evaluate};
