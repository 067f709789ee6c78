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
//! - [`run`]: a scripted drill run headless on a sandbox log of its own: seeded,
//!   each step sent through the command path stamped with its drill time, the
//!   expectations judged from the sandbox's record at the end
//!   (`ercs drill run`).
//!
//! Still to come (issue 13): the processes in the shared network crate, the
//! `/api/v1/drills/{id}/…` routes where trainees play, replay of a recorded
//! range of the live log, and the after-action report.

pub mod clock;
pub mod evaluate;
pub mod run;

pub use clock::{DrillClock, Speed};
pub use evaluate::{AnchorKey, Observed, Outcome, Status, evaluate};
pub use run::{Anchored, Progress, RunError, RunReport, Session, Start, run};
