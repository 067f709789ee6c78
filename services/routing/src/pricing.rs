//! Optimal over every source–demand pair without building every pair: column
//! generation.
//!
//! A city has a few hundred sources of a commodity and a thousand demands, so the
//! complete network has hundreds of thousands of travel links, almost all of
//! which an optimum leaves empty. The solver starts on the nearest links
//! ([`CommodityNetwork::build`]). At its optimum every node has a potential π, and
//! a pair that is not linked would improve the plan exactly when its reduced cost
//! `travel_link(s, d).cost + π(s) − π(d)` is negative. [`Pricing`] computes that
//! for every unlinked pair from the problem, the most negative are linked in a
//! batch, and the solver pivots on warm from its last basis
//! ([`NetworkSimplex::add_arcs`]). When no pair prices out, the potentials prove
//! the flow optimal over the complete network, which is what the certificate
//! checks ([`crate::certificate`]).
//!
//! Most pairs are ruled out without computing their cost: the cost is at least
//! the tier crossings plus the lead time plus the drive over the straight chord
//! between the two points (shorter than the great circle), and a pair whose lower
//! bound already exceeds `π(d) − π(s)` cannot price out. The exact cost of the
//! rest is [`travel_link`]'s, so pricing and the links built agree to the second.

use std::collections::{HashMap, HashSet};

use crate::model::{AreaPath, Point, Tier};
use crate::network::{CommodityNetwork, Site, travel_link};
use crate::problem::{PlanError, SurgeProblem};
use crate::settings::MAX_ARRIVAL_SECONDS;
use crate::simplex::{NetworkSimplex, SolveStatus};

/// Pairs linked per demand and per round at most: the few best are what a
/// demand will use, and the rest are priced again next round at little cost.
const PER_DEMAND: usize = 4;

/// A smaller radius than any the haversine may use (geo: 6,371.0088 km), so the
/// chord is a lower bound on the great-circle distance.
const CHORD_RADIUS_KM: f64 = 6_370.0;

/// One unlinked pair that would improve the plan, by problem indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priced {
    pub source: usize,
    pub demand: usize,
    pub reduced_cost: i128,
}

/// What pricing keeps of one source or demand: its indices, where it is on the
/// unit sphere, its areas as small integers, and (sources) its lead time.
#[derive(Clone, Debug)]
struct End {
    index: usize,
    node: usize,
    xyz: [f64; 3],
    areas: [Option<u32>; 4],
    lead_seconds: i64,
}

/// Prices the implicit pairs of one commodity network.
#[derive(Clone, Debug)]
pub struct Pricing {
    sources: Vec<End>,
    demands: Vec<End>,
    /// Pairs (source rank, demand rank) with a measured travel time, which no
    /// distance bounds: these are always costed exactly.
    measured: HashSet<(usize, usize)>,
}

impl Pricing {
    pub fn new(problem: &SurgeProblem, net: &CommodityNetwork) -> Pricing {
        let mut names = AreaNames::default();
        let mut ends = |site: Site, node: usize| match site {
            Site::Source(s) => {
                let source = &problem.sources[s];
                let lead = i64::from(source.available_after_minutes) * 60;
                Some(names.end(s, node, source.location, &source.area, lead))
            }
            Site::Demand(d) => {
                let demand = &problem.demands[d];
                Some(names.end(d, node, demand.location, &demand.area, 0))
            }
            Site::Shortage => None,
        };
        let mut sources = Vec::new();
        let mut demands = Vec::new();
        for node in net.graph.node_indices() {
            let site = net.graph[node];
            if let Some(end) = ends(site, node.index()) {
                match site {
                    Site::Source(_) => sources.push(end),
                    _ => demands.push(end),
                }
            }
        }
        let mut pricing = Pricing {
            sources,
            demands,
            measured: HashSet::new(),
        };
        pricing.find_measured(problem);
        pricing
    }

    fn find_measured(&mut self, problem: &SurgeProblem) {
        let Some(matrix) = problem.travel.as_ref().filter(|m| !m.is_empty()) else {
            return;
        };
        for (sr, s) in self.sources.iter().enumerate() {
            let source = &problem.sources[s.index].id;
            for (dr, d) in self.demands.iter().enumerate() {
                if matrix.seconds(source, &problem.demands[d.index].id).is_some() {
                    self.measured.insert((sr, dr));
                }
            }
        }
    }

    /// Notes that the pair (problem indices) now has a measured travel time.
    pub fn measured(&mut self, s: usize, d: usize) {
        let rank = |ends: &[End], i| ends.iter().position(|e| e.index == i);
        if let (Some(sr), Some(dr)) = (rank(&self.sources, s), rank(&self.demands, d)) {
            self.measured.insert((sr, dr));
        }
    }

    /// Up to `limit` pairs of negative reduced cost under `potentials` (indexed
    /// by node), most negative first; ties go to the lower demand, then source,
    /// so the batch is deterministic. Linked pairs never appear: at an optimum
    /// every link prices at zero or more.
    pub fn negative_pairs(
        &self,
        problem: &SurgeProblem,
        potentials: &[i64],
        limit: usize,
    ) -> Vec<Priced> {
        let mut found = Vec::new();
        let mut best: Vec<Priced> = Vec::with_capacity(PER_DEMAND + 1);
        for (dr, d) in self.demands.iter().enumerate() {
            best.clear();
            let pi_d = i128::from(potentials[d.node]);
            for (sr, s) in self.sources.iter().enumerate() {
                // The pair prices out only if its cost is below this.
                let below = pi_d - i128::from(potentials[s.node]);
                if below <= 0 || !self.may_cost_less(problem, sr, dr, below) {
                    continue;
                }
                let cost = travel_link(problem, s.index, d.index).cost;
                let reduced_cost = i128::from(cost) - below;
                if reduced_cost < 0 {
                    keep_best(&mut best, Priced {
                        source: s.index,
                        demand: d.index,
                        reduced_cost,
                    });
                }
            }
            found.extend_from_slice(&best);
        }
        found.sort_by_key(|p| (p.reduced_cost, p.demand, p.source));
        found.truncate(limit);
        found
    }

    /// False only when the pair's cost is sure to be `below` or more.
    fn may_cost_less(&self, problem: &SurgeProblem, sr: usize, dr: usize, below: i128) -> bool {
        let (s, d) = (&self.sources[sr], &self.demands[dr]);
        let settings = &problem.settings;
        let crossing = settings.escalation.crossing(common_tier(&s.areas, &d.areas));
        // The arrival part of the cost (capped) must be below this.
        let room = below - i128::from(crossing);
        if room <= 0 {
            return false;
        }
        if room > i128::from(MAX_ARRIVAL_SECONDS) || self.measured.contains(&(sr, dr)) {
            return true;
        }
        let chord = distance(&s.xyz, &d.xyz) * CHORD_RADIUS_KM;
        // One second off for the rounding of the exact time.
        let drive = i128::from(settings.roads.seconds_for_km(chord)) - 1;
        i128::from(s.lead_seconds) + drive < room
    }
}

/// Inserts `p` into `best`, which keeps the `PER_DEMAND` most negative.
fn keep_best(best: &mut Vec<Priced>, p: Priced) {
    let at = best.partition_point(|b| b.reduced_cost <= p.reduced_cost);
    if at < PER_DEMAND {
        best.insert(at, p);
        best.truncate(PER_DEMAND);
    }
}

/// [`AreaPath::common_tier`] on interned codes.
fn common_tier(a: &[Option<u32>; 4], b: &[Option<u32>; 4]) -> Tier {
    let shares = |i: usize| match (Tier::INSIDE[i], a[i], b[i]) {
        (Tier::City, x, y) => x.is_none() || y.is_none() || x == y,
        (_, Some(x), Some(y)) => x == y,
        _ => false,
    };
    (0..4)
        .find(|&i| shares(i))
        .map_or(Tier::Beyond, |i| Tier::INSIDE[i])
}

/// Straight-line distance between two points on the unit sphere.
fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    (x * x + y * y + z * z).sqrt()
}

/// Area codes as small integers, per tier, so a tier comparison is one compare.
#[derive(Default)]
struct AreaNames {
    ids: [HashMap<String, u32>; 4],
}

impl AreaNames {
    fn end(&mut self, index: usize, node: usize, p: Point, area: &AreaPath, lead: i64) -> End {
        let (lon, lat) = (p.lon.to_radians(), p.lat.to_radians());
        let mut areas = [None; 4];
        for (i, tier) in Tier::INSIDE.into_iter().enumerate() {
            areas[i] = area.at(tier).map(|code| {
                let next = self.ids[i].len() as u32;
                *self.ids[i].entry(code.to_owned()).or_insert(next)
            });
        }
        End {
            index,
            node,
            xyz: [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()],
            areas,
            lead_seconds: lead,
        }
    }
}

/// One commodity solved over the complete network: the links built so far, the
/// solver's basis over them, and the pricing of the rest.
#[derive(Clone, Debug)]
pub struct CommoditySolver {
    pub network: CommodityNetwork,
    pub solver: NetworkSimplex,
    pub pricing: Pricing,
    /// Pricing rounds that added links, over the solver's life.
    pub rounds: u64,
}

impl CommoditySolver {
    /// Starts on `network`'s links from the all-short basis; nothing is solved yet.
    pub fn new(problem: &SurgeProblem, network: CommodityNetwork) -> Result<Self, PlanError> {
        let solver = network
            .solver()
            .map_err(|e| PlanError::TooLarge(e.to_string()))?;
        let pricing = Pricing::new(problem, &network);
        Ok(CommoditySolver {
            network,
            solver,
            pricing,
            rounds: 0,
        })
    }

    /// Solves, prices, links what prices out and solves again, until no pair
    /// does: then the flow is optimal over every source–demand pair.
    pub fn solve(&mut self, problem: &SurgeProblem) -> Result<(), PlanError> {
        let limit = self.batch_limit();
        loop {
            // The shortage node makes every network feasible and no cost is negative.
            let status = self.solver.solve();
            if status != SolveStatus::Optimal {
                return Err(PlanError::TooLarge(format!(
                    "{}: the solver ended {status:?}",
                    self.network.commodity
                )));
            }
            let potentials = self.solver.potentials();
            let priced = self.pricing.negative_pairs(problem, &potentials, limit);
            let network = &mut self.network;
            let added: Vec<_> = priced
                .iter()
                .filter_map(|p| network.add_travel_link(problem, p.source, p.demand))
                .collect::<Vec<_>>()
                .into_iter()
                .filter_map(|e| network.flow_arc(e))
                .collect();
            if added.is_empty() {
                return Ok(());
            }
            self.rounds += 1;
            self.solver
                .add_arcs(&added)
                .map_err(|e| PlanError::TooLarge(e.to_string()))?;
        }
    }

    /// A batch as large as the demands: room for each to gain its best pair.
    fn batch_limit(&self) -> usize {
        self.network.demand_nodes.len().max(64)
    }
}
