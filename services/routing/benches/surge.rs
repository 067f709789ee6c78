//! Solve times on the synthetic Chongqing surge (six commodities).
//!
//! `cargo bench -p ercs-routing --bench surge`; the comparison with the greedy
//! rule (travel, 14-minute share) is `cargo run --release -p ercs-routing --example compare`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ercs_routing::network::CommodityNetwork;
use ercs_routing::synthetic::chongqing_surge;
use ercs_routing::{Planner, baseline, plan};

fn networks(scale: usize) -> Vec<CommodityNetwork> {
    let problem = chongqing_surge(2026, scale);
    let commodities = problem.commodities();
    commodities
        .iter()
        .map(|c| CommodityNetwork::build(&problem, c).unwrap())
        .collect()
}

/// Cold solves from the all-short star basis, as `plan` does.
fn solve_all(networks: &[CommodityNetwork]) -> i128 {
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
    let city = networks(1);
    group.bench_function("solve six commodities, city", |b| {
        b.iter(|| solve_all(black_box(&city)))
    });
    let problem = chongqing_surge(2026, 1);
    group.bench_function("plan incl. network build, city", |b| {
        b.iter(|| plan(black_box(&problem)).unwrap())
    });
    group.bench_function("greedy nearest-with-stock, city", |b| {
        b.iter(|| baseline::nearest_with_stock(black_box(&problem)))
    });
    let ten = networks(10);
    group.bench_function("solve six commodities, city x10", |b| {
        b.iter(|| solve_all(black_box(&ten)))
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
