//! Solve times on the synthetic Chongqing surge (six commodities).
//!
//! "solve six commodities" is the planner's solve: optimal over every
//! source–demand pair by column generation from the nearest links. For scale it
//! is set beside a solve of its starting links alone, of the 10 nearest links
//! alone (optimal only over those, what the planner did before pricing) and a
//! solve with every pair linked up front. The same cold solve as the code had
//! when issue 12 was filed: `benches/filed-baseline.sh`.
//!
//! `cargo bench -p ercs-routing --bench surge`; the comparison with the greedy
//! rule (travel, 14-minute share) is `cargo run --release -p ercs-routing --example compare`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ercs_routing::network::CommodityNetwork;
use ercs_routing::pricing::{CommoditySolver, Sites};
use ercs_routing::synthetic::chongqing_surge;
use ercs_routing::{Commodity, PlanError, Planner, SurgeProblem, baseline, plan};

fn networks(problem: &SurgeProblem, build: Build) -> Vec<CommodityNetwork> {
    let commodities = problem.commodities();
    commodities
        .iter()
        .map(|c| build(problem, c).unwrap())
        .collect()
}

type Build = fn(&SurgeProblem, &Commodity) -> Result<CommodityNetwork, PlanError>;

/// Cold solves over every source–demand pair, as `plan` does: from the all-short
/// star basis on the nearest links, then column generation.
fn solve_all(problem: &SurgeProblem, networks: Vec<CommodityNetwork>) -> i128 {
    let sites = Sites::new(problem);
    networks
        .into_iter()
        .map(|net| {
            let mut s = CommoditySolver::new(problem, &sites, net).unwrap();
            s.solve(problem).unwrap();
            s.solver.total_cost()
        })
        .sum()
}

/// Cold solves of the networks as built, with no pricing.
fn solve_as_built(networks: &[CommodityNetwork]) -> i128 {
    networks
        .iter()
        .map(|net| {
            let mut s = net.solver().unwrap();
            s.solve();
            s.total_cost()
        })
        .sum()
}

fn cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("cold");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    let problem = chongqing_surge(2026, 1);
    let city = networks(&problem, CommodityNetwork::build);
    group.bench_function("solve six commodities, city", |b| {
        b.iter_batched(
            || city.clone(),
            |nets| solve_all(black_box(&problem), nets),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("solve nearest links only, city", |b| {
        b.iter(|| solve_as_built(black_box(&city)))
    });
    // The plan before pricing: the 10 nearest links (the default then), alone.
    let mut ten = problem.clone();
    ten.settings.nearest_sources = 10;
    let ten = networks(&ten, CommodityNetwork::build);
    group.bench_function("solve 10 nearest links only, city", |b| {
        b.iter(|| solve_as_built(black_box(&ten)))
    });
    let complete = networks(&problem, CommodityNetwork::build_complete);
    group.bench_function("solve every pair linked explicitly, city", |b| {
        b.iter(|| solve_as_built(black_box(&complete)))
    });
    group.bench_function("plan incl. network build, city", |b| {
        b.iter(|| plan(black_box(&problem)).unwrap())
    });
    group.bench_function("greedy nearest-with-stock, city", |b| {
        b.iter(|| baseline::nearest_with_stock(black_box(&problem)))
    });
    let big = chongqing_surge(2026, 10);
    let ten = networks(&big, CommodityNetwork::build);
    group.bench_function("solve six commodities, city x10", |b| {
        b.iter_batched(
            || ten.clone(),
            |nets| solve_all(black_box(&big), nets),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn warm(c: &mut Criterion) {
    let mut group = c.benchmark_group("warm");
    let problem = chongqing_surge(2026, 1);
    let commodity = problem.commodities()[4].clone();
    let demand = problem.demands[500].id.clone();
    let base = problem.demands[500].needs[&commodity];
    let mut planner = Planner::new(problem).unwrap();
    let source = planner
        .plan()
        .assignments
        .iter()
        .find(|a| a.demand == demand)
        .unwrap()
        .source
        .clone();
    let mut i = 0u64;
    group.bench_function("re-plan after one need change", |b| {
        b.iter(|| {
            i += 1;
            planner
                .set_need(&demand, &commodity, base + 1 + i % 5)
                .unwrap();
        })
    });
    group.bench_function("re-plan after one travel-time change", |b| {
        b.iter(|| {
            i += 1;
            planner
                .set_travel_minutes(&source, &demand, 5.0 + (i % 7) as f64 * 6.0)
                .unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, cold, warm);
criterion_main!(benches);
