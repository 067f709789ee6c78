//! Optimal plans against the greedy "nearest source with stock" rule, on the
//! synthetic Chongqing surge at city scale and ten times that.
//!
//! `cargo run --release -p ercs-routing --example compare`

use std::time::{Duration, Instant};

use ercs_routing::baseline::{self, Outcome};
use ercs_routing::network::CommodityNetwork;
use ercs_routing::synthetic::chongqing_surge;
use ercs_routing::{Planner, SurgeProblem, plan};

fn main() {
    for scale in [1, 10] {
        let problem = chongqing_surge(2026, scale);
        println!(
            "== scale ×{scale}: {} demands, {} sources ==",
            problem.demands.len(),
            problem.sources.len()
        );
        report_solve(&problem);
        let started = Instant::now();
        let optimal = plan(&problem).expect("plan");
        let plan_time = started.elapsed();
        optimal.certificate.verify(&problem).expect("certificate");
        print_outcome(
            "optimal (plan incl. build)",
            &baseline::outcome_of(&optimal),
            plan_time,
        );
        if scale == 1 {
            let started = Instant::now();
            let greedy = baseline::nearest_with_stock(&problem);
            print_outcome("greedy nearest-with-stock", &greedy, started.elapsed());
            report_warm(problem);
        }
    }
}

/// Network build and cold solve times, commodity by commodity.
fn report_solve(problem: &SurgeProblem) {
    let (mut build, mut solve) = (Duration::ZERO, Duration::ZERO);
    for commodity in problem.commodities() {
        let started = Instant::now();
        let net = CommodityNetwork::build(problem, &commodity).expect("network");
        let flow = net.flow_problem();
        build += started.elapsed();
        let started = Instant::now();
        let mut solver = net.solver().expect("solver");
        solver.solve();
        let took = started.elapsed();
        solve += took;
        println!(
            "  {commodity:<28} {:>6} nodes {:>7} links {:>6} pivots  {:>8.2} ms",
            flow.supply.len(),
            flow.arcs.len(),
            solver.pivots(),
            ms(took)
        );
    }
    println!(
        "  build all networks {:.1} ms; cold solve all commodities {:.2} ms",
        ms(build),
        ms(solve)
    );
}

fn report_warm(problem: SurgeProblem) {
    let commodity = problem.commodities()[4].clone();
    let demand = problem.demands[500].id.clone();
    let source = problem.sources[100].id.clone();
    let base = problem.demands[500].needs[&commodity];
    let mut planner = Planner::new(problem).expect("planner");
    let rounds = 200;
    let started = Instant::now();
    for i in 0..rounds {
        planner
            .set_need(&demand, &commodity, base + 1 + (i % 5))
            .expect("need");
    }
    let need_time = started.elapsed() / rounds as u32;
    let started = Instant::now();
    let nearest = planner
        .plan()
        .assignments
        .iter()
        .find(|a| a.demand == demand)
        .map(|a| a.source.clone());
    let linked = nearest.unwrap_or(source);
    for i in 0..rounds {
        planner
            .set_travel_minutes(&linked, &demand, 5.0 + (i % 7) as f64 * 6.0)
            .expect("travel");
    }
    let travel_time = started.elapsed().saturating_sub(Duration::ZERO) / rounds as u32;
    println!(
        "  warm re-plan: one need change {:.3} ms, one travel-time change {:.3} ms (means of {rounds})",
        ms(need_time),
        ms(travel_time)
    );
}

fn print_outcome(label: &str, o: &Outcome, took: Duration) {
    println!(
        "  {label:<28} served {}/{}  within 14 min {:.1}%  unit-travel {:.0} min  red unmet {}  time {:.1} ms",
        o.served,
        o.needed,
        100.0 * o.share_within_standard(),
        o.unit_travel_minutes,
        o.red_unmet,
        ms(took)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
