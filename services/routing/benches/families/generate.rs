//! Instances of the standard min-cost flow families, written as DIMACS text so
//! that the same files can be given to other solvers (see `ortools_families.py`).
//!
//! Each generator is seeded and deterministic. The families follow the usual
//! benchmark sets (NETGEN, GRIDGEN-like grids, transportation, long paths,
//! assignment) in shape, not byte for byte: what matters here is the structure
//! that makes a solver slow or fast. `CAP -1` is "no bound".

use ercs_routing::synthetic::Rng;

/// A problem as it will be written: supplies and `(from, to, cap, cost)` arcs,
/// nodes 0-based here and 1-based in the file.
pub struct Instance {
    pub supply: Vec<i64>,
    pub arcs: Vec<(usize, usize, i64, i64)>,
}

impl Instance {
    fn new(nodes: usize) -> Self {
        Instance {
            supply: vec![0; nodes],
            arcs: Vec::new(),
        }
    }

    pub fn to_dimacs(&self) -> String {
        let mut text = format!("p min {} {}\n", self.supply.len(), self.arcs.len());
        for (u, &b) in self.supply.iter().enumerate().filter(|(_, b)| **b != 0) {
            text += &format!("n {} {b}\n", u + 1);
        }
        for &(from, to, cap, cost) in &self.arcs {
            text += &format!("a {} {} 0 {cap} {cost}\n", from + 1, to + 1);
        }
        text
    }

    /// Ships `amount` from `from` to `to` (in the supplies only).
    fn ship(&mut self, from: usize, to: usize, amount: i64) {
        self.supply[from] += amount;
        self.supply[to] -= amount;
    }

    /// The same instance made infeasible: every arc into the node with the
    /// largest demand is removed, so the proof is a one-node cut that a solver
    /// must still find.
    pub fn cut_off_largest_sink(&self) -> Instance {
        let sink = (0..self.supply.len())
            .min_by_key(|&u| self.supply[u])
            .unwrap_or(0);
        Instance {
            supply: self.supply.clone(),
            arcs: self.arcs.iter().copied().filter(|a| a.1 != sink).collect(),
        }
    }
}

/// The families, by the name used in file names and tables.
pub const FAMILIES: [&str; 7] = [
    "netgen",
    "netgen-negative",
    "grid",
    "transport-dense",
    "transport-sparse",
    "long-path",
    "assignment",
];

/// An instance of `family` with about `nodes` nodes.
pub fn generate(family: &str, nodes: usize, seed: u64) -> Instance {
    let rng = &mut Rng::new(seed ^ (nodes as u64) << 8);
    match family {
        "netgen" => netgen(rng, nodes, 0),
        "netgen-negative" => netgen(rng, nodes, -50),
        "grid" => grid(rng, nodes),
        "transport-dense" => transportation(rng, nodes, None),
        "transport-sparse" => transportation(rng, nodes, Some(8)),
        "long-path" => long_path(rng, nodes),
        "assignment" => assignment(rng, nodes),
        other => panic!("unknown family {other}"),
    }
}

/// NETGEN-like: 5% sources and 5% sinks, a capacitated skeleton path through
/// every node so that the supplies can move, and 8 random arcs per node with
/// costs from `min_cost` to 100 (negative ones make negative cycles, bounded by
/// the capacities).
fn netgen(rng: &mut Rng, n: usize, min_cost: i64) -> Instance {
    let mut p = Instance::new(n);
    let ends = (n / 20).max(1);
    for i in 0..ends {
        p.ship(i, n - 1 - i, rng.range(100, 1000));
    }
    let total: i64 = p.supply.iter().filter(|&&b| b > 0).sum();
    let order = shuffled(rng, n);
    for w in order.windows(2) {
        p.arcs.push((w[0], w[1], total, rng.range(1, 100)));
    }
    // Close the skeleton so every node reaches every other.
    p.arcs
        .push((order[n - 1], order[0], total, rng.range(1, 100)));
    for _ in 0..8 * n {
        let (u, v) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
        if u != v {
            p.arcs
                .push((u, v, rng.range(10, 1000), rng.range(min_cost, 100)));
        }
    }
    p
}

/// A square grid with arcs both ways between neighbours; supplies in the left
/// column, demands in the right one.
fn grid(rng: &mut Rng, n: usize) -> Instance {
    let side = (n as f64).sqrt().round().max(2.0) as usize;
    let mut p = Instance::new(side * side);
    let at = |r: usize, c: usize| r * side + c;
    for r in 0..side {
        p.ship(
            at(r, 0),
            at(rng.below(side as u64) as usize, side - 1),
            rng.range(10, 100),
        );
    }
    for r in 0..side {
        for c in 0..side {
            let mut join = |a: usize, b: usize, rng: &mut Rng| {
                p.arcs.push((a, b, rng.range(50, 500), rng.range(1, 100)));
                p.arcs.push((b, a, rng.range(50, 500), rng.range(1, 100)));
            };
            if c + 1 < side {
                join(at(r, c), at(r, c + 1), rng);
            }
            if r + 1 < side {
                join(at(r, c), at(r + 1, c), rng);
            }
        }
    }
    p
}

/// Sources `√n` (dense, every pair joined) or `n/10` (sparse, each sink joined
/// to `degree` random sources and one fixed one); uncapacitated arcs.
fn transportation(rng: &mut Rng, n: usize, degree: Option<usize>) -> Instance {
    let sources = match degree {
        None => (n as f64).sqrt() as usize,
        Some(_) => n / 10,
    }
    .max(1);
    let mut p = Instance::new(n);
    for t in sources..n {
        p.ship(rng.below(sources as u64) as usize, t, rng.range(1, 100));
    }
    for t in sources..n {
        match degree {
            None => (0..sources).for_each(|s| p.arcs.push((s, t, -1, rng.range(1, 1000)))),
            Some(d) => {
                p.arcs.push((t % sources, t, -1, rng.range(500, 1000)));
                for _ in 0..d {
                    let s = rng.below(sources as u64) as usize;
                    p.arcs.push((s, t, -1, rng.range(1, 1000)));
                }
            }
        }
    }
    p
}

/// A path through all nodes carrying everything from the first ten to the last
/// ten, with short forward and backward jumps: the spanning trees get deep.
fn long_path(rng: &mut Rng, n: usize) -> Instance {
    let mut p = Instance::new(n);
    let ends = 10.min(n / 2).max(1);
    for i in 0..ends {
        p.ship(i, n - 1 - i, rng.range(10, 100));
    }
    let total: i64 = p.supply.iter().filter(|&&b| b > 0).sum();
    for u in 0..n - 1 {
        p.arcs.push((u, u + 1, total, rng.range(1, 10)));
    }
    for _ in 0..2 * n {
        let u = rng.below(n as u64) as usize;
        let v = (u + 1 + rng.below(50) as usize).min(n - 1);
        if u != v {
            let (a, b) = if rng.below(4) == 0 { (v, u) } else { (u, v) };
            p.arcs.push((a, b, rng.range(1, 50), rng.range(5, 100)));
        }
    }
    p
}

/// `n/2` workers and `n/2` jobs; each worker can do its own job and 10 random
/// ones, at a cost from 1 to 1000.
fn assignment(rng: &mut Rng, n: usize) -> Instance {
    let half = (n / 2).max(1);
    let mut p = Instance::new(2 * half);
    for w in 0..half {
        p.ship(w, half + w, 1);
        p.arcs.push((w, half + w, 1, rng.range(1, 1000)));
        for _ in 0..10 {
            let job = half + rng.below(half as u64) as usize;
            p.arcs.push((w, job, 1, rng.range(1, 1000)));
        }
    }
    p
}

fn shuffled(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}
