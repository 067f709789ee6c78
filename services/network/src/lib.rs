//! One network (卫生应急资源“一张网”) as something both the live service and every
//! drill instantiate, so that nothing of a drill depends on the HTTP server and
//! nothing is written twice.
//!
//! - [`network`]: [`Network`], the runtime of one network — its log, command
//!   path, view, history, feed and processes' turns — and [`Network::start`],
//!   which the live service and every hosted drill call alike; how a read gets
//!   the view it asked for (`min_position`, `as_of`).
//! - [`clock`]: what time it is on a network — the wall clock, or drill time.
//! - [`problem`]: RFC 9457 problem details, the one shape every refusal takes
//!   (rendered for actix-web with the `actix` feature).
//! - [`feed`]: the live feed's hub: messages rendered once per event, a ring for
//!   resuming, resync for slow clients.
//! - [`gis`]: GeoJSON features and WGS-84 → GCJ-02 / BD-09.
//! - [`background`]: the runtime history work (feed catch-ups, `as_of` folds)
//!   runs on, off the request threads.
//! - [`metrics`]: the counters a network's work updates, for `/metrics`.
//! - The processes that run between commands, on behalf of who is
//!   [`acting`]: [`transfers`] (settling a transfer between two depots),
//!   [`closing`] (closing an incident releases what it holds first, or
//!   refuses), [`plans`] (a surge plan's approval, supersession and release),
//!   and [`references`] (what a command names must exist before it is decided).
//! - [`seeding`]: loads a seed (the Chongqing plan) into a log through the
//!   command path, idempotently.

pub mod acting;
pub mod background;
pub mod clock;
pub mod closing;
pub mod feed;
pub mod gis;
pub mod metrics;
pub mod network;
pub mod plans;
pub mod problem;
pub mod references;
pub mod seeding;
pub mod transfers;

pub use clock::Clock;
pub use network::{Network, READ_WAIT, ReadOptions, STATES_FILE, Shared, View, ViewArgs};
pub use problem::Problem;
