//! The plain minimum-cost flow problem that the solver takes.
//!
//! Both the surge network and DIMACS files are lowered to this one shape, so the
//! solver, its certificate check and the tests share a single vocabulary: nodes
//! are indices, supplies are signed (positive = the node must send, negative = it
//! must receive), lower bounds are zero and costs are integers.

use serde::{Deserialize, Serialize};

pub mod feasible;

/// An arc with no upper bound.
pub const UNCAPACITATED: i64 = i64::MAX;

/// One arc of a [`FlowProblem`]: `capacity` is [`UNCAPACITATED`] for "no bound".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowArc {
    pub from: usize,
    pub to: usize,
    pub capacity: i64,
    pub cost: i64,
}

/// A minimum-cost flow problem: ship every supply to the demands at least cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowProblem {
    /// One entry per node; they must sum to zero for the problem to be feasible.
    pub supply: Vec<i64>,
    pub arcs: Vec<FlowArc>,
}

/// Why a [`FlowProblem`] cannot be handed to the solver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("arc {arc} joins node {node}, but there are only {nodes} nodes")]
    NodeOutOfRange {
        arc: usize,
        node: usize,
        nodes: usize,
    },
    #[error("arc {arc} has a negative capacity {capacity}")]
    NegativeCapacity { arc: usize, capacity: i64 },
    #[error("arc {arc} has cost {cost}, beyond the supported ±{MAX_ABS_COST}")]
    CostTooLarge { arc: usize, cost: i64 },
    #[error("node {node} has supply {supply}, beyond the supported ±{MAX_ABS_SUPPLY}")]
    SupplyTooLarge { node: usize, supply: i64 },
    #[error("{nodes} nodes are more than the supported {MAX_NODES}")]
    TooManyNodes { nodes: usize },
}

/// Bounds that keep every sum the solver forms (potentials, big-M, cost × flow)
/// inside `i64`/`i128` without overflow checks in the inner loop.
pub const MAX_ABS_COST: i64 = 1 << 40;
pub const MAX_ABS_SUPPLY: i64 = 1 << 40;
pub const MAX_NODES: usize = 1 << 20;

impl FlowProblem {
    pub fn node_count(&self) -> usize {
        self.supply.len()
    }

    /// Checks the limits above; the solver relies on them.
    pub fn validate(&self) -> Result<(), FlowError> {
        self.validate_with(MAX_ABS_COST as u64, MAX_ABS_SUPPLY as u64)
    }

    /// Checks the shape and the given limits on |cost| and |supply| (the exact
    /// `i128` solver takes any `i64`).
    pub fn validate_with(&self, max_abs_cost: u64, max_abs_supply: u64) -> Result<(), FlowError> {
        let nodes = self.node_count();
        if nodes > MAX_NODES {
            return Err(FlowError::TooManyNodes { nodes });
        }
        for (node, &supply) in self.supply.iter().enumerate() {
            if supply.unsigned_abs() > max_abs_supply {
                return Err(FlowError::SupplyTooLarge { node, supply });
            }
        }
        for (arc, a) in self.arcs.iter().enumerate() {
            if let Some(node) = [a.from, a.to].into_iter().find(|&n| n >= nodes) {
                return Err(FlowError::NodeOutOfRange { arc, node, nodes });
            }
            if a.capacity < 0 {
                return Err(FlowError::NegativeCapacity {
                    arc,
                    capacity: a.capacity,
                });
            }
            if a.cost.unsigned_abs() > max_abs_cost {
                return Err(FlowError::CostTooLarge { arc, cost: a.cost });
            }
        }
        Ok(())
    }

    /// Σ cost × flow, in `i128` so that no realistic instance overflows.
    pub fn cost_of(&self, flows: &[i64]) -> i128 {
        self.arcs
            .iter()
            .zip(flows)
            .map(|(a, &f)| i128::from(a.cost) * i128::from(f))
            .sum()
    }
}
