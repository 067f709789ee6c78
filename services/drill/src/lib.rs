//! Drills (演练): a drill director replays a scripted drill into a sandbox while
//! trainee dispatchers play on it, and the outcome is judged from the record.
//!
//! This crate holds what a drill is apart from the network it runs on, so that
//! nothing of it depends on the HTTP server:
//!
//! - [`clock`]: drill time (re-exported from `ercs_network::clock`, since a
//!   network's clock may be a drill's). Each drill has its own clock: a speed
//!   factor (1×, 10×, 60×) or as fast as possible, pause, resume, and seek.
//!   Everything is a pure function of the wall time it is given, so a run is
//!   reproducible.
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
//! - [`aar`]: the after-action report (演练评估报告) read off a drill's
//!   sandbox: timeline, response to each demand, unmet demand over drill time,
//!   service-standard shares, resources by tier, the judged expectations; two
//!   runs compared; one printable HTML page.
//!
//! The network a drill runs on, and the processes between its commands, are
//! `ercs_network`'s, the same the live service runs.

pub mod aar;
pub use ercs_network::clock;
pub mod evaluate;
pub mod run;

pub use aar::{AfterAction, Comparison, after_action, compare};
pub use clock::{DrillClock, Speed};
pub use evaluate::{AnchorKey, Observed, Outcome, Status, evaluate};
pub use run::{
    Anchored, Progress, RunError, RunReport, Session, Start, drill_time, run, run_with_after_action,
};
