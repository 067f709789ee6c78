//! The network simplex against an independent solver, on random problems.

mod common;

use ercs_routing::flow::{FlowArc, FlowProblem, UNCAPACITATED};
use ercs_routing::optimality;
use ercs_routing::simplex::{self, SolveStatus};
use ercs_routing::synthetic::{Rng, random_flow_problem};
use proptest::prelude::*;

/// A random problem; half of them get an expensive ring that makes them feasible.
fn random_problem(seed: u64, nodes: usize, arcs: usize, negative: bool) -> FlowProblem {
    let mut problem = random_flow_problem(&mut Rng::new(seed), nodes, arcs, negative);
    if seed.is_multiple_of(2) {
        for u in 0..nodes {
            let v = (u + 1) % nodes;
            problem.arcs.push(FlowArc {
                from: u,
                to: v,
                capacity: UNCAPACITATED,
                cost: 60,
            });
            problem.arcs.push(FlowArc {
                from: v,
                to: u,
                capacity: UNCAPACITATED,
                cost: 60,
            });
        }
    }
    // The oracle saturates negative arcs, so they must be bounded.
    for a in &mut problem.arcs {
        if a.cost < 0 && a.capacity == UNCAPACITATED {
            a.capacity = 20;
        }
    }
    problem
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_optimal_cost_matches_successive_shortest_paths(
        seed in any::<u64>(), nodes in 1usize..16, arcs in 0usize..60, negative in any::<bool>(),
    ) {
        let problem = random_problem(seed, nodes, arcs, negative);
        let (status, solver) = simplex::solve(&problem).unwrap();
        match common::min_cost(&problem) {
            None => prop_assert_eq!(status, SolveStatus::Infeasible),
            Some(cost) => {
                prop_assert_eq!(status, SolveStatus::Optimal);
                prop_assert_eq!(solver.total_cost(), cost);
                prop_assert!(optimality::check(&problem, solver.flows(), &solver.potentials()).is_ok());
            }
        }
    }

    #[test]
    fn warm_changes_reach_the_cold_optimum(
        seed in any::<u64>(), nodes in 2usize..14, arcs in 1usize..50, steps in 1usize..6,
    ) {
        let mut problem = random_problem(seed, nodes, arcs, false);
        let mut warm = simplex::NetworkSimplex::new(&problem).unwrap();
        warm.solve();
        let mut rng = Rng::new(seed ^ 0xABCD);
        for _ in 0..steps {
            if rng.below(2) == 0 {
                let arc = rng.below(problem.arcs.len() as u64) as usize;
                let cost = rng.range(0, 30);
                problem.arcs[arc].cost = cost;
                warm.set_cost(arc, cost).unwrap();
            } else {
                let (from, to) = (rng.below(nodes as u64) as usize, rng.below(nodes as u64) as usize);
                let amount = rng.range(0, 6);
                warm.move_supply(from, to, amount).unwrap();
                if from != to {
                    problem.supply[from] -= amount;
                    problem.supply[to] += amount;
                }
            }
            let status = warm.solve();
            match common::min_cost(&problem) {
                None => prop_assert_eq!(status, SolveStatus::Infeasible),
                Some(cost) => {
                    prop_assert_eq!(status, SolveStatus::Optimal);
                    prop_assert_eq!(warm.total_cost(), cost);
                }
            }
        }
    }

    #[test]
    fn arcs_added_to_a_solved_basis_reach_the_optimum_of_all_arcs(
        seed in any::<u64>(), nodes in 2usize..14, arcs in 1usize..50, first in 0usize..50,
    ) {
        let problem = random_problem(seed, nodes, arcs, true);
        let split = first.min(problem.arcs.len());
        let start = FlowProblem { supply: problem.supply.clone(), arcs: problem.arcs[..split].to_vec() };
        let mut warm = simplex::NetworkSimplex::new(&start).unwrap();
        warm.solve();
        warm.add_arcs(&problem.arcs[split..]).unwrap();
        let status = warm.solve();
        match common::min_cost(&problem) {
            None => prop_assert_eq!(status, SolveStatus::Infeasible),
            Some(cost) => {
                prop_assert_eq!(status, SolveStatus::Optimal);
                prop_assert_eq!(warm.total_cost(), cost);
                prop_assert!(optimality::check(&problem, warm.flows(), &warm.potentials()).is_ok());
            }
        }
    }
}
