//! ERCS routing core: optimal surge allocation of beds, supplies and teams across
//! the city → region → district → township tiers.
//!
//! Pure: no I/O, no clock, no randomness, no async. The server maps its
//! availability snapshot (the one-network view) into a [`SurgeProblem`] of plain
//! structs, calls [`plan`](fn@plan) (or keeps a [`Planner`] to re-plan warm), and gets a
//! [`Plan`]: assignments, shortfalls, escalation requests and a [`Certificate`]
//! anyone can check with [`Certificate::verify`]. This crate depends on no other
//! ERCS crate.
//!
//! How a plan is made:
//!
//! 1. [`network`]: per commodity (each bed type, supply item, team kind), a
//!    petgraph graph of the sources that can start out within the horizon and the
//!    demands, joined by travel links costed in seconds of arrival time
//!    ([`travel`]: haversine × circuity at banded road speeds, or a measured
//!    matrix) plus a cost per tier boundary crossed ([`settings`]), and a
//!    shortage node whose links price unmet need by priority.
//! 2. [`simplex`]: each network is solved to optimality as a minimum-cost flow by
//!    a primal network simplex, which also yields the dual potentials;
//!    [`pricing`] prices every unlinked source–demand pair with them and links
//!    those that would improve the plan, until none would, so the plan is optimal
//!    over the complete network, not only over the links first built.
//! 3. [`plan`](mod@plan) and [`escalation`]: the flows are read back as
//!    assignments judged against the 14-minute standard, shortfalls, and requests
//!    to the tier that still has stock.
//!
//! The solver stands on its own: [`dimacs::solve_dimacs`] solves a DIMACS
//! min-cost flow file.

pub mod baseline;
pub mod certificate;
pub mod dimacs;
pub mod escalation;
pub mod explain;
pub mod flow;
pub mod model;
pub mod network;
pub mod optimality;
pub mod plan;
pub mod planner;
pub mod pricing;
pub mod problem;
pub mod settings;
pub mod simplex;
pub mod synthetic;
pub mod travel;

pub use certificate::{Certificate, CertificateError};
pub use dimacs::{DimacsError, DimacsOutcome, solve_dimacs};
pub use explain::{Alternative, explain};
pub use model::{
    AreaPath, Commodity, CommodityKind, Demand, Point, Priority, Source, SourceKind, Tier,
};
pub use plan::{Assignment, CommoditySummary, EscalationRequest, Plan, Shortfall};
pub use planner::{Planner, plan};
pub use problem::{PlanError, SurgeProblem};
pub use settings::{EscalationCosts, Settings};
pub use travel::{RoadModel, SpeedBand, TravelMatrix, TravelMatrixError};
