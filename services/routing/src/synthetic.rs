//! Seeded synthetic instances for tests, benchmarks and the comparison example.
//!
//! The crate takes no randomness from the environment: a generator is a SplitMix64
//! stream from an explicit seed, so a benchmark or a failing test can be replayed
//! exactly.

use crate::flow::{FlowArc, FlowProblem, UNCAPACITATED};

/// SplitMix64: tiny, fast, and good enough to scatter test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random flow problem: some nodes supply, some demand, arcs with random costs
/// (some negative) and capacities (some unbounded). It may be infeasible.
pub fn random_flow_problem(rng: &mut Rng, nodes: usize, arcs: usize, negative_costs: bool) -> FlowProblem {
    let mut supply = vec![0i64; nodes];
    if nodes >= 2 {
        for _ in 0..nodes {
            let (a, b) = (rng.below(nodes as u64) as usize, rng.below(nodes as u64) as usize);
            let q = rng.range(0, 9);
            supply[a] += q;
            supply[b] -= q;
        }
    }
    let arcs = (0..arcs)
        .map(|_| FlowArc {
            from: rng.below(nodes as u64) as usize,
            to: rng.below(nodes as u64) as usize,
            capacity: if rng.below(4) == 0 { UNCAPACITATED } else { rng.range(0, 15) },
            cost: if negative_costs { rng.range(-5, 20) } else { rng.range(0, 20) },
        })
        .collect();
    FlowProblem { supply, arcs }
}
