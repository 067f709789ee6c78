//! The DIMACS entry point on a file, checked against the independent solver.

mod common;

use ercs_routing::dimacs::{self, DimacsOutcome};

const SMALL: &str = include_str!("data/surge_small.min");
/// Verified twice outside this crate's solver: by `common::min_cost` below and by
/// networkx's `network_simplex` (lower bounds removed by hand).
const SMALL_OPTIMUM: i128 = 137;

#[test]
fn the_small_instance_has_its_known_optimal_cost() {
    let DimacsOutcome::Optimal { cost, flows } = dimacs::solve_dimacs(SMALL).unwrap() else {
        panic!("expected an optimum");
    };
    assert_eq!(cost, SMALL_OPTIMUM);
    assert!(flows[1] >= 2, "the lower bound of arc 1->4 is honoured");
}

#[test]
fn the_independent_solver_agrees_on_the_small_instance() {
    let problem = dimacs::parse(SMALL).unwrap();
    let oracle = common::min_cost(&problem.flow).expect("feasible");
    assert_eq!(problem.base_cost + oracle, SMALL_OPTIMUM);
}

#[test]
fn removing_a_township_demand_without_its_supply_is_infeasible() {
    let unbalanced = SMALL.replace("n 8 -7", "n 8 -6");
    assert_eq!(
        dimacs::solve_dimacs(&unbalanced).unwrap(),
        DimacsOutcome::Infeasible
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
