#!/usr/bin/env bash
# Issue 12 asks that plans optimal over every source–demand pair stay within
# twice the city-scale cold solve of the day it was filed. This builds that
# code (commit 8f03552: the nearest-links solve, before column generation)
# beside this checkout and runs its cold solve interleaved with
# `examples/pricing`, so both see the same machine at the same moments.
#
#   services/routing/benches/filed-baseline.sh [REPS] [ROUNDS]
#
# Each round prints the filed code's best of REPS, then this code's table.
set -euo pipefail
reps=${1:-7}
rounds=${2:-3}
root=$(git rev-parse --show-toplevel)
work=${TMPDIR:-/tmp}/ercs-filed-baseline
if [ ! -f "$work/tree/Cargo.toml" ]; then
  mkdir -p "$work/tree"
  git -C "$root" archive 8f03552 | tar -x -C "$work/tree"
fi
cat > "$work/tree/services/routing/examples/cold.rs" <<'RS'
//! The city-scale cold solve over the nearest links, as benches/surge.rs's
//! `solve six commodities, city` measured it then: best of N.
use std::time::Instant;

use ercs_routing::network::CommodityNetwork;
use ercs_routing::synthetic::chongqing_surge;

fn main() {
    let reps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let problem = chongqing_surge(2026, 1);
    let nets: Vec<CommodityNetwork> = (problem.commodities().iter())
        .map(|c| CommodityNetwork::build(&problem, c).expect("network"))
        .collect();
    let mut best = f64::MAX;
    for _ in 0..reps {
        let started = Instant::now();
        let total: i128 = (nets.iter())
            .map(|net| {
                let mut s = net.solver().expect("solver");
                s.solve();
                s.total_cost()
            })
            .sum();
        std::hint::black_box(total);
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
    }
    println!("as filed (8f03552), nearest links only, best of {reps}: {best:.1} ms");
}
RS
echo "building the filed code in $work (once) and this code..." >&2
CARGO_TARGET_DIR="$work/target" cargo build -q --release \
  --manifest-path "$work/tree/Cargo.toml" -p ercs-routing --example cold
(cd "$root" && cargo build -q --release -p ercs-routing --example pricing)
pricing="${CARGO_TARGET_DIR:-$root/target}/release/examples/pricing"
for _ in $(seq "$rounds"); do
  "$work/target/release/examples/cold" "$reps"
  "$pricing" 1 "$reps" | tail -6
done
