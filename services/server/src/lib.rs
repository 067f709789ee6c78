//! The `ercs` service: what dispatchers, GIS dashboards and drill directors talk to.
//!
//! - [`auth`]: access control — bearer JWTs and API tokens, the seven roles,
//!   jurisdictions, and the guard in front of every handler.
//! - [`cli`]: the command line (`ercs serve`, ...).
//! - [`startup`]: builds the HTTP application on a bound listener; `main` and the
//!   tests start it the same way.
//! - [`seeding`]: loading a seed (`ercs seed chongqing`, `ercs serve --seed`)
//!   through the domain's commands, repeatably.
//! - [`problem`]: RFC 9457 problem details, the one shape every error takes.
//! - [`state`]: what handlers reach (the log, the command path, the live view,
//!   the city's areas, the feed) and how a read gets the view it asked for
//!   (`min_position`, `as_of`).
//! - `routes`: one module per group of endpoints: `resources` (lists and gets),
//!   `commands` (every domain command), `network` (rollups), `feed` (SSE),
//!   `ogc` (GIS as OGC API – Features), `audit` (the audit trail and each
//!   resource's history), `health`.
//! - [`feed`]: the live feed's hub: messages rendered once per event, a ring for
//!   resuming, resync for slow clients.
//! - [`gis`]: GeoJSON features and WGS-84 → GCJ-02 / BD-09.
//! - [`query`]: query strings, each bad parameter named in its problem.
//! - [`idempotency`]: `Idempotency-Key`, scoped and digested, kept by the log.
//! - [`references`]: what a command names must exist before it is decided.
//! - [`closing`]: closing an incident releases what it holds first, or refuses.
//! - [`transfers`]: the process that settles a transfer between two depots.
//! - [`openapi`]: the OpenAPI 3.1 document, from the domain's schemas and the
//!   route tables; `/docs` serves Swagger UI from inside the binary.
//! - [`examples`]: every command's name and a valid example body.
//! - [`observe`], [`metrics`], [`metered`]: for operators — one request id
//!   per request (header, problem+json, audit metadata, log lines), `/metrics`
//!   in the Prometheus text format, appends timed at the port.
//! - [`background`]: the runtime history work (feed catch-ups, `as_of` folds)
//!   runs on, off the request threads.

pub mod acting;
pub mod auth;
pub mod background;
pub mod bare_errors;
pub mod cli;
pub mod closing;
pub mod drill_cli;
pub mod drills;
pub mod examples;
pub mod feed;
pub mod gis;
pub mod idempotency;
pub mod metered;
pub mod metrics;
pub mod moving;
pub mod observe;
pub mod openapi;
pub mod plans;
pub mod problem;
pub mod query;
pub mod references;
pub mod routes;
pub mod seeding;
pub mod startup;
pub mod state;
pub mod store;
pub mod transfers;
