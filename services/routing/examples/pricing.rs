//! What optimality over every source–demand pair costs, on the synthetic city:
//! per commodity, the pricing rounds, links and pivots, and the cold solve times
//! of the 10 nearest links alone (the plan before pricing), of the starting
//! links alone, of column generation from them (the plan now) and of every pair
//! linked up front. Each time is the best of `REPS` runs, interleaved, so a busy
//! machine slows them alike. `START` overrides `nearest_sources` for the start.
//!
//! `cargo run --release -p ercs-routing --example pricing [SCALE] [REPS] [START]`
//!
//! The same cold solve as the code had when issue 12 was filed, interleaved
//! with this one: `services/routing/benches/filed-baseline.sh`.

use std::time::Instant;

use ercs_routing::network::CommodityNetwork;
use ercs_routing::pricing::{CommoditySolver, Sites};
use ercs_routing::synthetic::chongqing_surge;
use ercs_routing::{Commodity, PlanError, SurgeProblem, plan};

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (scale, reps) = (arg(1, 1), arg(2, 7));
    let mut problem = chongqing_surge(2026, scale);
    problem.settings.nearest_sources = arg(3, problem.settings.nearest_sources);
    let start = networks(&problem, CommodityNetwork::build);
    let complete = networks(&problem, CommodityNetwork::build_complete);
    let mut ten = problem.clone();
    ten.settings.nearest_sources = 10;
    let ten = networks(&ten, CommodityNetwork::build);
    report_commodities(&problem, &start);
    let mut best = [f64::MAX; 5];
    for _ in 0..reps {
        let copy = start.clone();
        let times = [
            ms(|| solve_as_built(&ten)),
            ms(|| solve_as_built(&start)),
            ms(|| solve_over_all_pairs(&problem, copy)),
            ms(|| solve_as_built(&complete)),
            ms(|| plan(&problem).map(|_| 0).unwrap_or(0)),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
    }
    let [ten, alone, priced, full, whole] = best;
    let k = problem.settings.nearest_sources;
    println!("cold solve, six commodities, best of {reps}:");
    println!("  10 nearest links only (optimal over them)   {ten:>8.1} ms");
    println!(
        "  {k:>2} nearest links only (the start)           {alone:>8.1} ms  ({:.2}x)",
        alone / ten
    );
    println!(
        "  over every pair by column generation        {priced:>8.1} ms  ({:.2}x)",
        priced / ten
    );
    println!(
        "  every pair linked up front                  {full:>8.1} ms  ({:.2}x)",
        full / ten
    );
    println!("whole plan (build, solve, read-out)          {whole:>8.1} ms");
}

type Build = fn(&SurgeProblem, &Commodity) -> Result<CommodityNetwork, PlanError>;

fn networks(problem: &SurgeProblem, build: Build) -> Vec<CommodityNetwork> {
    let commodities = problem.commodities();
    commodities
        .iter()
        .map(|c| build(problem, c).expect("network"))
        .collect()
}

fn report_commodities(problem: &SurgeProblem, nearest: &[CommodityNetwork]) {
    let sites = Sites::new(problem);
    for net in nearest {
        let start = net.graph.edge_count();
        let mut s = CommoditySolver::new(problem, &sites, net.clone()).expect("solver");
        s.solve(problem).expect("solve");
        let mut alone = net.solver().expect("solver");
        alone.solve();
        println!(
            "  {:<26} {:>4} sources  links {start:>6} -> {:>6}  rounds {}  pivots {:>5} -> {:>5}  cost {} -> {} ({:+.2} %)",
            net.commodity.to_string(),
            net.source_nodes.len(),
            s.network.graph.edge_count(),
            s.rounds,
            alone.pivots(),
            s.solver.pivots(),
            alone.total_cost(),
            s.solver.total_cost(),
            100.0 * (s.solver.total_cost() - alone.total_cost()) as f64 / alone.total_cost() as f64,
        );
    }
}

fn solve_as_built(networks: &[CommodityNetwork]) -> i128 {
    networks
        .iter()
        .map(|net| {
            let mut s = net.solver().expect("solver");
            s.solve();
            s.total_cost()
        })
        .sum()
}

fn solve_over_all_pairs(problem: &SurgeProblem, networks: Vec<CommodityNetwork>) -> i128 {
    let sites = Sites::new(problem);
    networks
        .into_iter()
        .map(|net| {
            let mut s = CommoditySolver::new(problem, &sites, net).expect("solver");
            s.solve(problem).expect("solve");
            s.solver.total_cost()
        })
        .sum()
}

fn ms(f: impl FnOnce() -> i128) -> f64 {
    let started = Instant::now();
    std::hint::black_box(f());
    started.elapsed().as_secs_f64() * 1e3
}
