//! The DIMACS entry point on a file, checked against the independent solver.

mod common;

use ercs_routing::dimacs::{self, DimacsOutcome, Infeasible, Total, Verdict};
use ercs_routing::flow::{FlowProblem, UNCAPACITATED};
use ercs_routing::synthetic::{Rng, random_flow_problem};
use proptest::prelude::*;

const SMALL: &str = include_str!("data/surge_small.min");
/// Verified twice outside this crate's solver: by `common::min_cost` below and by
/// networkx's `network_simplex` (lower bounds removed by hand).
const SMALL_OPTIMUM: i128 = 137;

#[test]
fn the_small_instance_has_its_known_optimal_cost() {
    let DimacsOutcome::Optimal { cost, flows } = dimacs::solve_dimacs(SMALL).unwrap() else {
        panic!("expected an optimum");
    };
    assert_eq!(cost, Total::from(SMALL_OPTIMUM));
    assert!(flows[1] >= 2, "the lower bound of arc 1->4 is honoured");
}

#[test]
fn the_independent_solver_agrees_on_the_small_instance() {
    let problem = dimacs::parse(SMALL).unwrap();
    let oracle = common::min_cost(&problem.flow).expect("feasible");
    assert_eq!(
        problem.base_cost() + Total::from(oracle),
        Total::from(SMALL_OPTIMUM)
    );
}

#[test]
fn removing_a_township_demand_without_its_supply_is_infeasible() {
    let unbalanced = SMALL.replace("n 8 -7", "n 8 -6");
    assert_eq!(
        dimacs::solve_dimacs(&unbalanced).unwrap(),
        DimacsOutcome::Infeasible(Infeasible::Unbalanced {
            supply: 10 + 6,
            demand: 9 + 6
        })
    );
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    for text in [
        "",
        "p",
        "p min -1 0",
        "p min 1 1\na 1 1 0 0",
        "\u{0}\u{1}",
        "p min 99999999 0",
        "n 1 2\np min 1 0",
    ] {
        let _ = dimacs::solve_dimacs(text);
    }
}

/// The problem as a DIMACS file, every capacity multiplied by `scale` (so that
/// capacities reach far beyond the old 2^40 "unbounded" sentinel).
fn to_dimacs(problem: &FlowProblem, scale: i64) -> String {
    let mut text = format!("p min {} {}\n", problem.node_count(), problem.arcs.len());
    for (u, b) in problem.supply.iter().enumerate() {
        text += &format!("n {} {}\n", u + 1, b * scale);
    }
    for a in &problem.arcs {
        let cap = if a.capacity == UNCAPACITATED {
            -1
        } else {
            a.capacity * scale
        };
        text += &format!("a {} {} 0 {cap} {}\n", a.from + 1, a.to + 1, a.cost);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Optimal costs match the independent solver, and every infeasible verdict
    /// names a cut that really is one: its need exceeds the arcs across it.
    #[test]
    fn solve_agrees_with_successive_shortest_paths_at_any_scale(
        seed in any::<u64>(), nodes in 1usize..14, arcs in 0usize..50,
        negative in any::<bool>(), big in any::<bool>(),
    ) {
        let mut problem = random_flow_problem(&mut Rng::new(seed), nodes, arcs, negative);
        for a in &mut problem.arcs {
            if a.cost < 0 && a.capacity == UNCAPACITATED {
                a.capacity = 20; // the oracle saturates negative arcs
            }
        }
        let scale = if big { 1 << 41 } else { 1 };
        let text = to_dimacs(&problem, scale);
        let outcome = dimacs::solve_dimacs(&text).unwrap();
        let mut scaled = problem.clone();
        scaled.supply.iter_mut().for_each(|b| *b *= scale);
        for a in scaled.arcs.iter_mut().filter(|a| a.capacity != UNCAPACITATED) {
            a.capacity *= scale;
        }
        match (common::min_cost(&scaled), outcome) {
            (Some(cost), DimacsOutcome::Optimal { cost: found, .. }) => {
                prop_assert_eq!(found, Total::from(cost));
            }
            (None, DimacsOutcome::Infeasible(Infeasible::Cut(cut))) => {
                prop_assert!(cut.need > cut.capacity, "{cut:?}");
                let inside = |u: usize| cut.nodes.contains(&u) == cut.sends;
                let need: i128 = (0..nodes).filter(|&u| inside(u)).map(|u| i128::from(scaled.supply[u])).sum();
                prop_assert_eq!(need, cut.need);
                let across: i128 = scaled.arcs.iter()
                    .filter(|a| inside(a.from) && !inside(a.to))
                    .map(|a| if a.capacity == UNCAPACITATED { i128::MAX / 4 } else { i128::from(a.capacity) })
                    .sum();
                prop_assert_eq!(across, cut.capacity);
            }
            (None, DimacsOutcome::Infeasible(Infeasible::Unbalanced { supply, demand })) => {
                prop_assert_ne!(supply, demand);
            }
            (oracle, outcome) => prop_assert!(false, "oracle {oracle:?}, solve {outcome:?}"),
        }
    }
}

#[test]
fn the_report_of_the_small_instance_exits_0() {
    let r = dimacs::report(SMALL, false);
    assert_eq!(
        (r.verdict, r.text),
        (Verdict::Optimal, format!("optimal cost: {SMALL_OPTIMUM}\n"))
    );
}
