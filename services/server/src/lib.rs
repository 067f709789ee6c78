//! The `ercs` service: what dispatchers, GIS dashboards and drill directors talk to.
//!
//! - [`auth`]: access control — bearer JWTs and API tokens, the seven roles,
//!   jurisdictions, and the guard in front of every handler.
//! - [`cli`]: the command line (`ercs serve`, ...).
//! - [`startup`]: builds the HTTP application on a bound listener; `main` and the
//!   tests start it the same way.
//! - [`seeding`]: loading a seed (`ercs seed chongqing`, `ercs serve --seed`)
//!   through the domain's commands, repeatably.
//! - [`problem`]: RFC 9457 problem details at the HTTP edge: every error
//!   actix or a library answers becomes one.
//! - [`state`]: what handlers reach — the network a request's path names
//!   ([`state::Net`], the live one or a hosted drill's), and its `{id}`.
//! - `routes`: one module per group of endpoints: `resources` (lists and gets),
//!   `commands` (every domain command), `network` (rollups), `feed` (SSE),
//!   `ogc` (GIS as OGC API – Features), `audit` (the audit trail and each
//!   resource's history), `health`.
//! - [`query`]: query strings, each bad parameter named in its problem.
//! - [`idempotency`]: `Idempotency-Key`, scoped and digested, kept by the log.
//! - [`acting`]: who is acting in a request, for the processes it starts.
//! - [`drills`]: hosted drills, each a network of its own.
//! - [`openapi`]: the OpenAPI 3.1 document, from the domain's schemas and the
//!   route tables; `/docs` serves Swagger UI from inside the binary.
//! - [`examples`]: every command's name and a valid example body.
//! - [`observe`], [`metered`]: for operators — one request id per request
//!   (header, problem+json, audit metadata, log lines), appends timed at the
//!   port.
//!
//! The network itself — [`ercs_network::Network`]: the log, the command path,
//! the view, its history and feed — and the processes between commands
//! ([`transfers`], [`closing`], [`plans`], [`references`]) are `ercs-network`'s,
//! re-exported here under their old paths with [`feed`], [`gis`],
//! [`metrics`] and [`background`].

pub mod acting;
pub mod auth;
pub mod bare_errors;
pub mod cli;
pub mod drill_cli;
pub mod drills;
pub mod examples;
pub mod idempotency;
pub mod metered;
pub mod moving;
pub mod observe;
pub mod openapi;
pub mod problem;
pub mod query;
pub mod routes;
pub mod seeding;
pub mod startup;
pub mod state;
pub mod store;

// The network runtime and its processes live in `ercs-network`; the server
// reaches them (and its tests name them) by their old paths.
pub use ercs_network::{background, closing, feed, gis, metrics, plans, references, transfers};
