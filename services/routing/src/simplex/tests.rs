use super::*;
use crate::flow::FlowArc;
use crate::optimality;
use crate::synthetic::{Rng, random_flow_problem};

fn arc(from: usize, to: usize, capacity: i64, cost: i64) -> FlowArc {
    FlowArc {
        from,
        to,
        capacity,
        cost,
    }
}

/// Solves with the tree bookkeeping checked after every pivot.
fn solve_checked(s: &mut NetworkSimplex) -> SolveStatus {
    s.check_tree().expect("starting tree");
    while s.find_entering_arc() {
        if s.pivot() == SolveStatus::Unbounded {
            return SolveStatus::Unbounded;
        }
        s.check_tree()
            .unwrap_or_else(|e| panic!("after pivot {}: {e}", s.pivots));
    }
    s.status = None;
    s.solve()
}

fn assert_certified(s: &NetworkSimplex) {
    optimality::check(&s.problem(), s.flows(), &s.potentials()).expect("optimality certificate");
}

#[test]
fn ships_along_the_cheaper_of_two_routes() {
    let problem = FlowProblem {
        supply: vec![5, 0, -5],
        arcs: vec![
            arc(0, 2, UNCAPACITATED, 10),
            arc(0, 1, 3, 1),
            arc(1, 2, UNCAPACITATED, 1),
        ],
    };
    let (status, s) = solve(&problem).unwrap();
    assert_eq!(status, SolveStatus::Optimal);
    assert_eq!(s.flows(), &[2, 3, 3]);
    assert_eq!(s.total_cost(), 2 * 10 + 3 + 3);
    assert_certified(&s);
}

#[test]
fn a_demand_no_arc_reaches_is_infeasible() {
    let problem = FlowProblem {
        supply: vec![4, -4],
        arcs: vec![arc(0, 1, 3, 1)],
    };
    assert_eq!(solve(&problem).unwrap().0, SolveStatus::Infeasible);
}

#[test]
fn unbalanced_supplies_are_infeasible() {
    let problem = FlowProblem {
        supply: vec![4, -3],
        arcs: vec![arc(0, 1, 9, 1)],
    };
    assert_eq!(solve(&problem).unwrap().0, SolveStatus::Infeasible);
}

#[test]
fn an_uncapacitated_negative_cycle_is_unbounded() {
    let problem = FlowProblem {
        supply: vec![0, 0],
        arcs: vec![arc(0, 1, UNCAPACITATED, -2), arc(1, 0, UNCAPACITATED, 1)],
    };
    assert_eq!(solve(&problem).unwrap().0, SolveStatus::Unbounded);
}

#[test]
fn a_capacitated_negative_cycle_is_saturated() {
    let problem = FlowProblem {
        supply: vec![0, 0],
        arcs: vec![arc(0, 1, 7, -2), arc(1, 0, UNCAPACITATED, 1)],
    };
    let (status, s) = solve(&problem).unwrap();
    assert_eq!(status, SolveStatus::Optimal);
    assert_eq!(s.total_cost(), -7);
    assert_certified(&s);
}

#[test]
fn an_empty_problem_is_optimal_at_zero() {
    let (status, s) = solve(&FlowProblem::default()).unwrap();
    assert_eq!((status, s.total_cost()), (SolveStatus::Optimal, 0));
}

#[test]
fn every_pivot_keeps_the_tree_consistent_and_optima_are_certified() {
    let mut rng = Rng::new(7);
    for round in 0..300 {
        let nodes = 2 + rng.below(12) as usize;
        let arcs = rng.below(40) as usize;
        let problem = random_flow_problem(&mut rng, nodes, arcs, round % 2 == 0);
        let mut s = NetworkSimplex::new(&problem).unwrap();
        if solve_checked(&mut s) == SolveStatus::Optimal {
            assert_certified(&s);
        }
    }
}

#[test]
fn a_warm_cost_change_reaches_the_same_optimum_as_a_cold_solve() {
    let mut rng = Rng::new(11);
    for _ in 0..300 {
        let nodes = 2 + rng.below(10) as usize;
        let arcs = 1 + rng.below(30) as usize;
        let mut problem = random_flow_problem(&mut rng, nodes, arcs, false);
        let mut warm = NetworkSimplex::new(&problem).unwrap();
        warm.solve();
        let arc = rng.below(problem.arcs.len() as u64) as usize;
        let cost = rng.range(0, 25);
        problem.arcs[arc].cost = cost;
        warm.set_cost(arc, cost).unwrap();
        warm.check_tree().unwrap();
        assert_same_outcome(&mut warm, &problem);
    }
}

#[test]
fn a_warm_supply_change_reaches_the_same_optimum_as_a_cold_solve() {
    let mut rng = Rng::new(13);
    for _ in 0..500 {
        let nodes = 2 + rng.below(10) as usize;
        let arcs = 1 + rng.below(30) as usize;
        let mut problem = random_flow_problem(&mut rng, nodes, arcs, false);
        let mut warm = NetworkSimplex::new(&problem).unwrap();
        warm.solve();
        for _ in 0..3 {
            let (from, to) = (
                rng.below(nodes as u64) as usize,
                rng.below(nodes as u64) as usize,
            );
            let amount = rng.range(0, 8);
            warm.move_supply(from, to, amount).unwrap();
            if from != to {
                problem.supply[from] -= amount;
                problem.supply[to] += amount;
            }
            warm.check_tree().unwrap();
            assert_same_outcome(&mut warm, &problem);
        }
    }
}

fn assert_same_outcome(warm: &mut NetworkSimplex, problem: &FlowProblem) {
    let warm_status = solve_checked(warm);
    let (cold_status, cold) = solve(problem).unwrap();
    assert_eq!(warm_status, cold_status);
    if cold_status == SolveStatus::Optimal {
        assert_eq!(warm.total_cost(), cold.total_cost());
        assert_certified(warm);
    }
}

#[test]
fn a_star_start_reaches_the_same_optimum_as_the_plain_start() {
    let mut rng = Rng::new(17);
    for _ in 0..300 {
        let nodes = 2 + rng.below(10) as usize;
        let arcs = rng.below(30) as usize;
        let mut problem = random_flow_problem(&mut rng, nodes, arcs, false);
        let hub = rng.below(nodes as u64) as usize;
        let first_spoke = problem.arcs.len();
        for u in (0..nodes).filter(|&u| u != hub) {
            let (from, to) = if problem.supply[u] >= 0 {
                (u, hub)
            } else {
                (hub, u)
            };
            problem
                .arcs
                .push(arc(from, to, UNCAPACITATED, rng.range(0, 40)));
        }
        let spokes: Vec<usize> = (first_spoke..problem.arcs.len()).collect();
        let mut star = NetworkSimplex::with_star_basis(&problem, hub, &spokes).unwrap();
        star.check_tree().expect("star tree");
        assert_same_outcome(&mut star, &problem);
    }
}
