//! Seeded synthetic instances for tests, benchmarks and the comparison example.
//!
//! The crate takes no randomness from the environment: a generator is a SplitMix64
//! stream from an explicit seed, so a benchmark or a failing test can be replayed
//! exactly.

use std::collections::BTreeMap;

use crate::flow::{FlowArc, FlowProblem, UNCAPACITATED};
use crate::model::{AreaPath, Commodity, Demand, Point, Priority, Source, SourceKind};
use crate::problem::SurgeProblem;

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
pub fn random_flow_problem(
    rng: &mut Rng,
    nodes: usize,
    arcs: usize,
    negative_costs: bool,
) -> FlowProblem {
    let mut supply = vec![0i64; nodes];
    if nodes >= 2 {
        for _ in 0..nodes {
            let (a, b) = (
                rng.below(nodes as u64) as usize,
                rng.below(nodes as u64) as usize,
            );
            let q = rng.range(0, 9);
            supply[a] += q;
            supply[b] -= q;
        }
    }
    let arcs = (0..arcs)
        .map(|_| FlowArc {
            from: rng.below(nodes as u64) as usize,
            to: rng.below(nodes as u64) as usize,
            capacity: if rng.below(4) == 0 {
                UNCAPACITATED
            } else {
                rng.range(0, 15)
            },
            cost: if negative_costs {
                rng.range(-5, 20)
            } else {
                rng.range(0, 20)
            },
        })
        .collect();
    FlowProblem { supply, arcs }
}

/// The commodities of the synthetic instances: three bed types, two items, a team kind.
pub fn chongqing_commodities() -> Vec<Commodity> {
    vec![
        Commodity::bed("general_isolation"),
        Commodity::bed("icu"),
        Commodity::bed("negative_pressure"),
        Commodity::supply("n95_respirator"),
        Commodity::supply("ventilator"),
        Commodity::team("medical_rescue"),
    ]
}

const DISTRICTS: usize = 38;
const TOWNSHIPS: usize = 1031;
const REGIONS: [&str; 4] = [
    "yongchuan-yuxi",
    "main-urban",
    "wanzhou-sanxia",
    "qianjiang-wuling",
];

struct Geography {
    townships: Vec<(Point, AreaPath)>,
}

fn geography(rng: &mut Rng, scale: usize) -> Geography {
    // Chongqing's extent, roughly: 105.3–110.1°E, 28.2–32.1°N.
    let centres: Vec<Point> = (0..DISTRICTS)
        .map(|_| Point::new(105.3 + 4.8 * rng.unit(), 28.2 + 3.9 * rng.unit()))
        .collect();
    let townships = (0..TOWNSHIPS * scale)
        .map(|t| {
            let d = t % DISTRICTS;
            let c = centres[d];
            let point = Point::new(
                c.lon + 0.5 * (rng.unit() - 0.5),
                c.lat + 0.5 * (rng.unit() - 0.5),
            );
            (point, area_of(d, t / DISTRICTS, c))
        })
        .collect();
    Geography { townships }
}

fn area_of(district: usize, township: usize, centre: Point) -> AreaPath {
    let region = REGIONS[(((centre.lon - 105.3) / 1.2) as usize).min(3)];
    let district = format!("5001{:02}", district + 1);
    AreaPath {
        township: Some(format!("{district}{:04}", township + 1)),
        district: Some(district),
        region: Some(region.to_owned()),
        city: Some("500000".to_owned()),
    }
}

/// Which commodities a kind of site holds, and the kind of source it is.
fn holdings(kind: usize) -> (SourceKind, &'static [usize]) {
    match kind {
        0 => (SourceKind::DepotStock, &[3, 4]), // city and region depots
        1 => (SourceKind::BedPool, &[0, 1, 2, 4]), // district hospitals
        2 => (SourceKind::DepotStock, &[3, 4]), // district depots
        3 => (SourceKind::BedPool, &[0, 3]),    // township clinics
        4 => (SourceKind::ConvertibleFacility, &[0]), // 平急两用 venues
        _ => (SourceKind::TeamBase, &[5]),      // team bases
    }
}

/// A synthetic surge over Chongqing: 1,031 × `scale` townships as demands and
/// about 409 × `scale` sources over six commodities; stock covers about 90% of
/// need, so shortfalls, priorities and escalation all come into play.
pub fn chongqing_surge(seed: u64, scale: usize) -> SurgeProblem {
    let mut rng = Rng::new(seed);
    let geo = geography(&mut rng, scale.max(1));
    let commodities = chongqing_commodities();
    let demands: Vec<Demand> = geo
        .townships
        .iter()
        .enumerate()
        .map(|(i, (point, area))| {
            let priority = match rng.below(10) {
                0 => Priority::Red,
                1 | 2 => Priority::Orange,
                3..=5 => Priority::Yellow,
                _ => Priority::Green,
            };
            let ranges = [(1, 20), (1, 3), (1, 4), (50, 800), (1, 3), (1, 2)];
            let needs = commodities
                .iter()
                .zip(ranges)
                .map(|(c, (lo, hi))| (c.clone(), rng.range(lo, hi) as u64))
                .collect();
            Demand {
                id: format!("d{i:06}"),
                location: *point,
                area: area.clone(),
                priority,
                needs,
            }
        })
        .collect();
    let counts = [7, 2 * DISTRICTS, DISTRICTS, 200, 40, 48].map(|n| n * scale.max(1));
    let mut sources = Vec::new();
    let mut kinds = Vec::new();
    for (kind, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            sources.push(synthetic_source(&mut rng, &geo, kind, sources.len()));
            kinds.push(kind);
        }
    }
    spread_stock(&mut rng, &mut sources, &kinds, &demands, &commodities);
    SurgeProblem {
        sources,
        demands,
        ..SurgeProblem::default()
    }
}

fn synthetic_source(rng: &mut Rng, geo: &Geography, kind: usize, n: usize) -> Source {
    let (point, area) = &geo.townships[rng.below(geo.townships.len() as u64) as usize];
    let (source_kind, _) = holdings(kind);
    let lead = match source_kind {
        SourceKind::ConvertibleFacility => rng.range(60, 300) as u32,
        SourceKind::TeamBase => rng.range(10, 30) as u32,
        _ => 0,
    };
    Source {
        id: format!("s{n:06}"),
        kind: source_kind,
        location: *point,
        area: area.clone(),
        available_after_minutes: lead,
        offers: BTreeMap::new(),
    }
}

/// Shares out 90% of each commodity's total need over the sources holding it.
fn spread_stock(
    rng: &mut Rng,
    sources: &mut [Source],
    kinds: &[usize],
    demands: &[Demand],
    commodities: &[Commodity],
) {
    for (c, commodity) in commodities.iter().enumerate() {
        let need: u64 = demands.iter().map(|d| d.needs[commodity]).sum();
        let holders: Vec<usize> = (0..sources.len())
            .filter(|&s| holdings(kinds[s]).1.contains(&c))
            .collect();
        let weights: Vec<f64> = holders.iter().map(|_| 0.2 + rng.unit()).collect();
        let total: f64 = weights.iter().sum();
        for (&s, w) in holders.iter().zip(weights) {
            let stock = (0.9 * need as f64 * w / total).round() as u64;
            sources[s].offers.insert(commodity.clone(), stock.max(1));
        }
    }
}
