//! The optimality conditions of minimum-cost flow, checked from scratch.
//!
//! A flow is optimal exactly when it is feasible and some node potentials π make
//! every reduced cost `cost + π(from) − π(to)` non-negative on arcs that could
//! carry more and non-positive on arcs that carry something (complementary
//! slackness). Checking that needs no solver, so a plan's certificate can be
//! verified by anyone holding the problem, and the tests use this as an oracle.

use crate::flow::{FlowProblem, UNCAPACITATED};

/// A broken optimality condition, naming the arc or node at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error(
        "expected {expected} arc flows and {expected_nodes} potentials, got {arcs} and {nodes}"
    )]
    Shape {
        expected: usize,
        expected_nodes: usize,
        arcs: usize,
        nodes: usize,
    },
    #[error("arc {arc} carries {flow}, outside 0..={capacity}")]
    Bounds {
        arc: usize,
        flow: i64,
        capacity: i64,
    },
    #[error("node {node} sends {net} net but its supply is {supply}")]
    Conservation { node: usize, net: i128, supply: i64 },
    #[error("arc {arc} has spare capacity but reduced cost {reduced_cost} < 0")]
    CheaperArcUnused { arc: usize, reduced_cost: i128 },
    #[error("arc {arc} carries flow but has reduced cost {reduced_cost} > 0")]
    DearerArcUsed { arc: usize, reduced_cost: i128 },
}

/// Checks feasibility and complementary slackness of `flows` under `potentials`.
pub fn check(problem: &FlowProblem, flows: &[i64], potentials: &[i64]) -> Result<(), Violation> {
    let nodes = problem.node_count();
    if flows.len() != problem.arcs.len() || potentials.len() != nodes {
        return Err(Violation::Shape {
            expected: problem.arcs.len(),
            expected_nodes: nodes,
            arcs: flows.len(),
            nodes: potentials.len(),
        });
    }
    let mut net = vec![0i128; nodes];
    for (arc, (a, &flow)) in problem.arcs.iter().zip(flows).enumerate() {
        if flow < 0 || flow > a.capacity {
            return Err(Violation::Bounds {
                arc,
                flow,
                capacity: a.capacity,
            });
        }
        net[a.from] += i128::from(flow);
        net[a.to] -= i128::from(flow);
        let reduced_cost =
            i128::from(a.cost) + i128::from(potentials[a.from]) - i128::from(potentials[a.to]);
        let spare = a.capacity == UNCAPACITATED || flow < a.capacity;
        if spare && reduced_cost < 0 {
            return Err(Violation::CheaperArcUnused { arc, reduced_cost });
        }
        if flow > 0 && reduced_cost > 0 {
            return Err(Violation::DearerArcUsed { arc, reduced_cost });
        }
    }
    for (node, (&net, &supply)) in net.iter().zip(&problem.supply).enumerate() {
        if net != i128::from(supply) {
            return Err(Violation::Conservation { node, net, supply });
        }
    }
    Ok(())
}
