//! The `ercs` service: what dispatchers, GIS dashboards and drill directors talk to.
//!
//! - [`cli`]: the command line (`ercs serve`, ...).
//! - [`startup`]: builds the HTTP application on a bound listener; `main` and the
//!   tests start it the same way.
//! - [`seeding`]: loading a seed (`ercs seed chongqing`, `ercs serve --seed`)
//!   through the domain's commands, repeatably.
//! - [`problem`]: RFC 9457 problem details, the one shape every error takes.
//! - `routes`: one module per group of endpoints.

pub mod cli;
pub mod problem;
mod routes;
pub mod seeding;
pub mod startup;
