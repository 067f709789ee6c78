//! Optimal over every source–demand pair without building every pair: column
//! generation.
//!
//! A city has a few hundred sources of a commodity and a thousand demands, so the
//! complete network has hundreds of thousands of travel links, almost all of
//! which an optimum leaves empty. The solver starts on the nearest links
//! ([`CommodityNetwork::build`]). At its optimum every node has a potential π, and
//! a pair that is not linked would improve the plan exactly when its reduced cost
//! `travel_link(s, d).cost + π(s) − π(d)` is negative. [`Pricing`] finds, for
//! each demand, the pairs of most negative reduced cost; a batch of them is
//! linked, and the solver pivots on warm from its last basis
//! ([`NetworkSimplex::add_arcs`]). When no pair prices out, the potentials prove
//! the flow optimal over the complete network, which is what the certificate
//! checks ([`crate::certificate`]).
//!
//! Pricing every pair exactly each round would cost more than the solve, so most
//! pairs are ruled out by a lower bound on their cost: the tier crossings, the
//! lead time and the drive over the straight chord between the two points (never
//! longer than the great circle) at the fastest road speed. Sources are grouped by
//! district into *cells* with a bounding sphere, so a whole far cell is ruled out
//! by one bound; the cells are visited nearest first, a pair (or cell) is
//! skipped as soon as its bound cannot beat the demand's best pairs found so far,
//! and the visit stops at the first cell from which no later one can.
//! The exact cost of what is left is [`travel_link`]'s, so pricing and the links
//! built agree to the second. A pair with a measured travel time has no distance
//! bound and is always costed exactly.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::model::{AreaPath, Point, Tier};
use crate::network::{CommodityNetwork, Link, Site, travel_link};
use crate::problem::{PlanError, SurgeProblem};
use crate::settings::MAX_ARRIVAL_SECONDS;
use crate::simplex::{NetworkSimplex, SolveStatus};

/// Pairs linked per demand and per round at most: the few best are what a
/// demand will use, and the rest are priced again next round.
const PER_DEMAND: usize = 4;

/// A smaller radius than any the haversine may use (geo: 6,371.0088 km), so the
/// chord is a lower bound on the great-circle distance.
const CHORD_RADIUS_KM: f64 = 6_370.0;

/// One unlinked pair that would improve the plan, by problem indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priced {
    pub source: usize,
    pub demand: usize,
    pub reduced_cost: i64,
    /// The pair's travel link, costed.
    pub link: Link,
    /// Source and demand ranks in [`Pricing`], to note the pair linked.
    ranks: (usize, usize),
}

/// Where every source and demand of one problem is, as pricing reads it:
/// computed once and shared by the problem's commodities.
///
/// The cells are every source of a district, whatever it offers, so each
/// demand's distance to each cell is computed once for all commodities: a
/// commodity's sources of a district lie inside the district's sphere and in
/// its townships, so the cell's bound holds for them too.
#[derive(Clone, Debug)]
pub struct Sites {
    sources: Vec<Place>,
    demands: Vec<Place>,
    cells: Vec<Cell>,
    /// For each source (problem index), its cell.
    cell_of: Vec<u32>,
    /// For each demand (problem index), every cell in the order to visit it
    /// (`cells.len()` a demand), with the part of its bound that never changes.
    /// Shared with each commodity's pricing, which skips the cells it has no
    /// sources in (their floors still bound what is left, a little lower).
    reach: Arc<Vec<Reach>>,
    /// The settings' part of those bounds, to tell whether they still hold.
    bounds: Bounds,
}

/// A point on the unit sphere and its areas as small integers (by tier), so a
/// distance is a few multiplications and a tier comparison one compare.
#[derive(Clone, Copy, Debug)]
struct Place {
    xyz: [f64; 3],
    areas: [Option<u32>; 4],
}

impl Sites {
    pub fn new(problem: &SurgeProblem) -> Sites {
        let mut names = AreaNames::default();
        let sources: Vec<Place> = (problem.sources.iter())
            .map(|s| names.place(s.location, &s.area))
            .collect();
        let demands: Vec<Place> = (problem.demands.iter())
            .map(|d| names.place(d.location, &d.area))
            .collect();
        let cells = cells_by_district(&sources);
        let mut cell_of = vec![0; sources.len()];
        for (c, cell) in (0..).zip(&cells) {
            for &s in &cell.members {
                cell_of[s] = c;
            }
        }
        let bounds = Bounds::new(problem);
        let reach = Arc::new(reach_by_demand(&bounds, &cells, &demands));
        Sites {
            sources,
            demands,
            cells,
            cell_of,
            reach,
            bounds,
        }
    }

    /// Whether these sites can serve `problem`: as many sources and demands,
    /// and bounds made under the same road model and crossing costs.
    fn fits(&self, problem: &SurgeProblem) -> bool {
        self.sources.len() == problem.sources.len()
            && self.demands.len() == problem.demands.len()
            && self.bounds == Bounds::new(problem)
    }
}

/// What pricing keeps of one source or demand: its indices, its place, and
/// (sources) its lead time.
#[derive(Clone, Debug)]
struct End {
    index: usize,
    node: usize,
    xyz: [f64; 3],
    areas: [Option<u32>; 4],
    lead_seconds: i64,
}

impl End {
    fn new(index: usize, node: usize, place: Place, lead_seconds: i64) -> End {
        End {
            index,
            node,
            xyz: place.xyz,
            areas: place.areas,
            lead_seconds,
        }
    }
}

/// Sources of one district, with a sphere (on the unit sphere's scale) that
/// holds them all.
#[derive(Clone, Debug)]
struct Cell {
    district: Option<u32>,
    /// The members' townships, sorted: a demand in none of them crosses at
    /// least a township boundary to reach any member.
    townships: Vec<u32>,
    members: Vec<usize>,
    centre: [f64; 3],
    radius: f64,
}

/// Prices the implicit pairs of one commodity network.
#[derive(Clone, Debug)]
pub struct Pricing {
    sources: Vec<End>,
    demands: Vec<End>,
    /// The sources (ranks) of each of the commodity's cells: the sites' cells
    /// it has sources in.
    cells: Vec<Vec<usize>>,
    /// The sites' reach: for each demand (problem index), every site cell in
    /// the order to visit them with the part of their bounds that never
    /// changes: once the least of what is left cannot beat the demand's best
    /// pairs, under the least keys of any cell, no later cell can.
    reach: Arc<Vec<Reach>>,
    /// For each site cell, the commodity's cell (`u32::MAX`: no sources here).
    local: Vec<u32>,
    /// The sites' bounds (the problem's road model and crossing costs).
    bounds: Bounds,
    /// The least crossing cost.
    crossing_floor: i64,
    /// For each demand, the sources (ranks, sorted) it has a measured travel
    /// time from.
    measured: Vec<Vec<usize>>,
    /// The pairs linked, by demand and source rank: these price at zero or
    /// more at an optimum, so they are never costed.
    linked: Pairs,
    /// The potentials of the last pricing (empty before the first).
    last: Vec<i64>,
    /// For each demand, whether the last pricing returned all its negative pairs.
    settled: Vec<bool>,
}

/// What every bound is made of, from the problem's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds {
    /// Seconds per unit-sphere chord at the fastest road speed, less a margin:
    /// a bound that is cheap to compute.
    seconds_per_chord: f64,
    /// Crossing cost by common tier (`Tier::INSIDE`, then beyond).
    crossing: [i64; 5],
}

impl Bounds {
    fn new(problem: &SurgeProblem) -> Bounds {
        let settings = &problem.settings;
        let fastest = (settings.roads.bands.iter())
            .map(|b| b.kmh)
            .fold(0.0, f64::max);
        let per_chord = CHORD_RADIUS_KM * settings.roads.circuity * 3600.0 / fastest;
        let tiers = [
            Tier::Township,
            Tier::District,
            Tier::Region,
            Tier::City,
            Tier::Beyond,
        ];
        Bounds {
            // No bound from a road model the problem would refuse.
            seconds_per_chord: if per_chord.is_finite() && per_chord > 0.0 {
                per_chord * (1.0 - 1e-9)
            } else {
                0.0
            },
            crossing: tiers.map(|t| i64::from(settings.escalation.crossing(t))),
        }
    }

    /// Whole seconds the drive over a unit-sphere chord takes at least, at the
    /// fastest speed.
    fn drive(&self, chord: f64) -> i64 {
        // A negative chord (inside a cell's sphere) is zero; past the cap every
        // arrival costs the same.
        let seconds = (chord.max(0.0) * self.seconds_per_chord).min(f64::from(MAX_ARRIVAL_SECONDS));
        seconds as i64 - 1
    }

    /// The least tier-crossing cost from any source of `cell` to a demand in
    /// `areas`: every member is in the cell's district.
    fn least_crossing(&self, cell: &Cell, areas: &[Option<u32>; 4]) -> i64 {
        let [township, district, ..] = *areas;
        let common = if township.is_some_and(|t| cell.townships.binary_search(&t).is_ok()) {
            0
        } else if district.is_some() && district == cell.district {
            1
        } else {
            2
        };
        self.crossing[common]
    }
}

/// For each demand of the problem, every cell in the order to visit it, nearest
/// first so that a demand's best pairs are found early and rule the farther
/// cells out: the demands of a district with sources share its cell's order
/// (cells by distance from its centre), and each demand elsewhere has its own.
fn reach_by_demand(bounds: &Bounds, cells: &[Cell], demands: &[Place]) -> Vec<Reach> {
    let by_distance = |from: &[f64; 3]| {
        let mut gaps: Vec<(f64, u32)> = (cells.iter().zip(0..))
            .map(|(c, i)| (distance(&c.centre, from) - c.radius, i))
            .collect();
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        gaps.into_iter().map(|(_, i)| i).collect::<Vec<u32>>()
    };
    let orders: Vec<Vec<u32>> = cells.iter().map(|c| by_distance(&c.centre)).collect();
    let mut reach = Vec::with_capacity(demands.len() * cells.len());
    for d in demands {
        let own = cells.iter().position(|c| c.district == d.areas[1]);
        let elsewhere;
        let order = match own {
            Some(c) => &orders[c],
            None => {
                elsewhere = by_distance(&d.xyz);
                &elsewhere
            }
        };
        let start = reach.len();
        for &c in order {
            let cell = &cells[c as usize];
            let drive = bounds.drive(distance(&cell.centre, &d.xyz) - cell.radius);
            let crossing = bounds.least_crossing(cell, &d.areas);
            reach.push(Reach {
                cell: c,
                drive,
                crossing,
                floor: drive + crossing,
            });
        }
        let mut floor = i64::MAX;
        for r in reach[start..].iter_mut().rev() {
            floor = floor.min(r.floor);
            r.floor = floor;
        }
    }
    reach
}

/// One round's bounds for a cell: the least `π(s) + lead(s)` and `π(s)` over
/// its sources (the arrival part of a cost is capped).
#[derive(Clone, Copy)]
struct CellKeys {
    lead: i64,
    pi: i64,
}

impl Pricing {
    /// Pricing for `net`, a network of `problem`; `sites` must have been built
    /// from `problem` (when its counts do not match, they are built afresh).
    pub fn new(problem: &SurgeProblem, sites: &Sites, net: &CommodityNetwork) -> Pricing {
        let own;
        let sites = if sites.fits(problem) {
            sites
        } else {
            own = Sites::new(problem);
            &own
        };
        let (mut sources, mut demands) = (Vec::new(), Vec::new());
        for node in net.graph.node_indices() {
            match net.graph[node] {
                Site::Source(s) => {
                    let lead = i64::from(problem.sources[s].available_after_minutes) * 60;
                    sources.push(End::new(s, node.index(), sites.sources[s], lead));
                }
                Site::Demand(d) => demands.push(End::new(d, node.index(), sites.demands[d], 0)),
                Site::Shortage => {}
            }
        }
        // The commodity's cells: the sites' cells it has sources in, in the
        // sites' order, holding those sources by rank.
        let mut local = vec![u32::MAX; sites.cells.len()];
        let mut cells: Vec<Vec<usize>> = Vec::new();
        let mut by_site: Vec<(u32, usize)> = (sources.iter().enumerate())
            .map(|(sr, s)| (sites.cell_of[s.index], sr))
            .collect();
        by_site.sort_unstable();
        for (c, sr) in by_site {
            if local[c as usize] == u32::MAX {
                local[c as usize] = cells.len() as u32;
                cells.push(Vec::new());
            }
            cells[local[c as usize] as usize].push(sr);
        }
        let bounds = sites.bounds;
        let measured = vec![Vec::new(); demands.len()];
        let linked = linked_ranks(net, &sources, &demands);
        let mut pricing = Pricing {
            sources,
            demands,
            cells,
            reach: sites.reach.clone(),
            local,
            crossing_floor: bounds.crossing.iter().copied().min().unwrap_or(0),
            bounds,
            settled: vec![false; measured.len()],
            measured,
            linked,
            last: Vec::new(),
        };
        pricing.find_measured(problem);
        pricing
    }

    fn find_measured(&mut self, problem: &SurgeProblem) {
        let Some(matrix) = problem.travel.as_ref().filter(|m| !m.is_empty()) else {
            return;
        };
        let demand_rank: HashMap<&str, usize> = (self.demands.iter().enumerate())
            .map(|(dr, d)| (problem.demands[d.index].id.as_str(), dr))
            .collect();
        for (sr, s) in self.sources.iter().enumerate() {
            for demand in matrix.demands_from(&problem.sources[s.index].id) {
                if let Some(&dr) = demand_rank.get(demand) {
                    self.measured[dr].push(sr);
                }
            }
        }
    }

    /// Notes that the pair (problem indices) now has a measured travel time.
    pub fn measured(&mut self, s: usize, d: usize) {
        let rank = |ends: &[End], i| ends.iter().position(|e| e.index == i);
        if let (Some(sr), Some(dr)) = (rank(&self.sources, s), rank(&self.demands, d)) {
            insert_sorted(&mut self.measured[dr], sr);
            // Its cost changed: price the demand in full next time.
            self.settled[dr] = false;
        }
    }

    /// Notes that a priced pair has been linked.
    pub fn linked(&mut self, p: &Priced) {
        let (sr, dr) = p.ranks;
        self.linked.insert(dr, sr);
    }

    /// Up to `limit` pairs of negative reduced cost under `potentials` (indexed
    /// by node), at most a few per demand, most negative first; ties go to the
    /// demand, then the source, of lower id, so the batch is deterministic. An
    /// empty answer means no pair prices out. Linked pairs never appear: at an
    /// optimum every link prices at zero or more.
    ///
    /// A demand whose pricing last time was complete (all its negative pairs
    /// were returned, and have been linked) is priced only against the sources
    /// whose potential rose by less than the demand's since: a reduced cost
    /// `c + π(s) − π(d)` changes by the one shift less the other, so every
    /// other pair is no lower than it was, and it was not negative. That keeps
    /// the later rounds and warm re-plans cheap.
    pub fn negative_pairs(
        &mut self,
        problem: &SurgeProblem,
        potentials: &[i64],
        limit: usize,
    ) -> Vec<Priced> {
        let fresh = self.last.len() != potentials.len();
        let shift = |node: usize| potentials[node] - self.last.get(node).map_or(0, |&p| p);
        let source_shift: Vec<i64> = self.sources.iter().map(|s| shift(s.node)).collect();
        let cell_shift: Vec<i64> = (self.cells.iter())
            .map(|c| c.iter().map(|&sr| source_shift[sr]).min())
            .map(|least| least.unwrap_or(i64::MAX))
            .collect();
        let least_shift = cell_shift.iter().copied().min().unwrap_or(i64::MAX);
        let keys = Keys::new(self.cell_keys(potentials));
        let mut found = Vec::new();
        let mut best = Vec::with_capacity(PER_DEMAND + 1);
        for dr in 0..self.demands.len() {
            let below = (!fresh && self.settled[dr]).then(|| shift(self.demands[dr].node));
            if below.is_some_and(|b| least_shift >= b) {
                continue;
            }
            best.clear();
            let visit = Visit {
                keys: &keys,
                source_shift: &source_shift,
                cell_shift: &cell_shift,
                below,
            };
            self.price_demand(problem, potentials, &visit, dr, &mut best);
            self.settled[dr] = best.len() < PER_DEMAND;
            found.extend_from_slice(&best);
        }
        // Ranks follow the ids, so the batch does not depend on input order.
        found.sort_by_key(|p| (p.reduced_cost, p.ranks.1, p.ranks.0));
        for p in found.iter().skip(limit) {
            self.settled[p.ranks.1] = false;
        }
        found.truncate(limit);
        self.last = potentials.to_vec();
        found
    }

    /// Each cell's least `π(s) + lead(s)` and `π(s)`.
    fn cell_keys(&self, potentials: &[i64]) -> Vec<CellKeys> {
        let pi = |s: &End| potentials[s.node];
        (self.cells.iter())
            .map(|cell| {
                let mut keys = CellKeys {
                    lead: i64::MAX,
                    pi: i64::MAX,
                };
                for s in cell.iter().map(|&sr| &self.sources[sr]) {
                    keys.lead = keys.lead.min(pi(s) + s.lead_seconds);
                    keys.pi = keys.pi.min(pi(s));
                }
                keys
            })
            .collect()
    }

    /// The best pairs of one demand, into `best`.
    fn price_demand(
        &self,
        problem: &SurgeProblem,
        potentials: &[i64],
        visit: &Visit,
        dr: usize,
        best: &mut Vec<Priced>,
    ) {
        let (keys, below) = (visit.keys, visit.below);
        // Under `below`, only a source whose potential rose less than the
        // demand's can have fallen to a negative reduced cost.
        let can_fall = |shift: i64| below.is_none_or(|b| shift < b);
        let d = &self.demands[dr];
        let pi_d = potentials[d.node];
        let measured = &self.measured[dr];
        let bound = |keys: CellKeys, drive_crossing: i64, crossing: i64| {
            (keys.lead.saturating_add(drive_crossing))
                .min(
                    keys.pi
                        .saturating_add(i64::from(MAX_ARRIVAL_SECONDS) + crossing),
                )
                .saturating_sub(pi_d)
        };
        let nc = self.local.len();
        for reach in &self.reach[d.index * nc..(d.index + 1) * nc] {
            // No cell from here on is nearer, nor has lesser keys.
            let later = bound(keys.least, reach.floor, self.crossing_floor);
            if ruled_out(best, later) && measured.is_empty() {
                break;
            }
            let c = self.local[reach.cell as usize];
            if c == u32::MAX {
                continue;
            }
            let c = c as usize;
            let cell = &self.cells[c];
            if !can_fall(visit.cell_shift[c]) {
                continue;
            }
            if ruled_out(
                best,
                bound(keys.cells[c], reach.drive + reach.crossing, reach.crossing),
            ) && measured.is_empty()
            {
                continue;
            }
            for &sr in cell {
                if !can_fall(visit.source_shift[sr]) {
                    continue;
                }
                let s = &self.sources[sr];
                let pi_s = potentials[s.node];
                let crossing = self.bounds.crossing[common_tier(&s.areas, &d.areas)];
                // Cost + π(s) − π(d) must beat the bar: first with the fastest
                // speed, then with the road model's bands over the chord.
                let arrival =
                    |drive: i64| (s.lead_seconds + drive).min(i64::from(MAX_ARRIVAL_SECONDS));
                let fixed = pi_s + crossing - pi_d;
                // A measured time has no distance bound.
                if measured.is_empty() || measured.binary_search(&sr).is_err() {
                    let chord = distance(&s.xyz, &d.xyz);
                    if ruled_out(best, fixed + arrival(self.bounds.drive(chord)))
                        || ruled_out(best, fixed + arrival(self.banded_bound(problem, chord)))
                    {
                        continue;
                    }
                }
                if self.linked.contains(dr, sr) {
                    continue;
                }
                let link = travel_link(problem, s.index, d.index);
                let reduced_cost = link.cost + pi_s - pi_d;
                if beats(best, reduced_cost, sr) {
                    keep_best(
                        best,
                        Priced {
                            source: s.index,
                            demand: d.index,
                            reduced_cost,
                            link,
                            ranks: (sr, dr),
                        },
                    );
                }
            }
        }
    }

    /// Whole seconds the drive over a unit-sphere chord takes at least, by the
    /// road model itself (one second off for its rounding up).
    fn banded_bound(&self, problem: &SurgeProblem, chord: f64) -> i64 {
        let km = chord * CHORD_RADIUS_KM * (1.0 - 1e-9);
        i64::from(problem.settings.roads.seconds_for_km(km)) - 1
    }
}

/// What one demand's pricing visits: the cells with these bounds, and, when
/// `below` is given, only the sources whose potential rose by less (see
/// [`Pricing::negative_pairs`]).
struct Visit<'a> {
    keys: &'a Keys,
    /// How far each source's potential (by rank), and the least of each
    /// cell's, rose since the last pricing.
    source_shift: &'a [i64],
    cell_shift: &'a [i64],
    below: Option<i64>,
}

/// One round's keys per cell, and the least of each over every cell.
struct Keys {
    cells: Vec<CellKeys>,
    least: CellKeys,
}

impl Keys {
    fn new(cells: Vec<CellKeys>) -> Keys {
        let least = CellKeys {
            lead: cells.iter().map(|k| k.lead).min().unwrap_or(i64::MAX),
            pi: cells.iter().map(|k| k.pi).min().unwrap_or(i64::MAX),
        };
        Keys { cells, least }
    }
}

/// The part of a cell's bound, for one demand, that does not change.
#[derive(Clone, Copy, Debug)]
struct Reach {
    cell: u32,
    /// Seconds of drive to the cell's sphere at least.
    drive: i64,
    /// The least crossing cost to any member.
    crossing: i64,
    /// The least `drive + crossing` of this cell and every later one.
    floor: i64,
}

/// Whether a pair whose reduced cost is at least `bound` cannot be kept: it is
/// not negative, or `best` is full of pairs that are better (a tie may still
/// win on its rank, so ties are not ruled out).
fn ruled_out(best: &[Priced], bound: i64) -> bool {
    bound >= 0 || (best.len() == PER_DEMAND && best.last().is_some_and(|w| bound > w.reduced_cost))
}

/// Whether a negative pair of source rank `sr` is among the `PER_DEMAND` best
/// so far, by reduced cost and then rank: the kept set does not depend on the
/// order the pairs were met in.
fn beats(best: &[Priced], reduced_cost: i64, sr: usize) -> bool {
    reduced_cost < 0
        && (best.len() < PER_DEMAND
            || best
                .last()
                .is_some_and(|w| (reduced_cost, sr) < (w.reduced_cost, w.ranks.0)))
}

/// Inserts `p` into `best`, kept in (reduced cost, source rank) order and at
/// most `PER_DEMAND` long.
fn keep_best(best: &mut Vec<Priced>, p: Priced) {
    let key = |q: &Priced| (q.reduced_cost, q.ranks.0);
    let at = best.partition_point(|b| key(b) < key(&p));
    best.insert(at, p);
    best.truncate(PER_DEMAND);
}

/// [`AreaPath::common_tier`] on interned codes, as an index into `Tier::INSIDE`
/// (4: beyond the city).
fn common_tier(a: &[Option<u32>; 4], b: &[Option<u32>; 4]) -> usize {
    let shares = |i: usize| match (a[i], b[i]) {
        (Some(x), Some(y)) => x == y,
        // Only the city tier is shared when a code is missing (AreaPath::shares).
        _ => i == 3,
    };
    (0..4).find(|&i| shares(i)).unwrap_or(4)
}

fn insert_sorted(row: &mut Vec<usize>, x: usize) {
    if let Err(at) = row.binary_search(&x) {
        row.insert(at, x);
    }
}

/// A set of (demand rank, source rank) pairs, a bit each.
#[derive(Clone, Debug)]
struct Pairs {
    words: usize,
    bits: Vec<u64>,
}

impl Pairs {
    fn new(demands: usize, sources: usize) -> Pairs {
        let words = sources.div_ceil(64);
        Pairs {
            words,
            bits: vec![0; words * demands],
        }
    }

    fn insert(&mut self, dr: usize, sr: usize) {
        self.bits[dr * self.words + sr / 64] |= 1 << (sr % 64);
    }

    fn contains(&self, dr: usize, sr: usize) -> bool {
        self.bits[dr * self.words + sr / 64] & (1 << (sr % 64)) != 0
    }
}

/// The (demand, source) rank pairs `net` links.
fn linked_ranks(net: &CommodityNetwork, sources: &[End], demands: &[End]) -> Pairs {
    // Node → rank, as dense tables: hashing every link costs more.
    let rank_of = |ends: &[End]| {
        let mut rank = vec![usize::MAX; net.graph.node_count()];
        for (r, e) in ends.iter().enumerate() {
            rank[e.node] = r;
        }
        rank
    };
    let (source_rank, demand_rank) = (rank_of(sources), rank_of(demands));
    let mut linked = Pairs::new(demands.len(), sources.len());
    for edge in net.graph.raw_edges() {
        let (sr, dr) = (
            source_rank[edge.source().index()],
            demand_rank[edge.target().index()],
        );
        if sr != usize::MAX && dr != usize::MAX {
            linked.insert(dr, sr);
        }
    }
    linked
}

/// Straight-line distance between two points on the unit sphere.
fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    (x * x + y * y + z * z).sqrt()
}

/// Groups sources (problem indices) by district; those without one form one
/// more cell.
fn cells_by_district(sources: &[Place]) -> Vec<Cell> {
    let mut groups: BTreeMap<Option<u32>, Vec<usize>> = BTreeMap::new();
    for (rank, s) in sources.iter().enumerate() {
        groups.entry(s.areas[1]).or_default().push(rank);
    }
    groups
        .into_iter()
        .map(|(district, members)| {
            let n = members.len() as f64;
            let mut centre = [0.0; 3];
            for &m in &members {
                for (c, x) in centre.iter_mut().zip(sources[m].xyz) {
                    *c += x / n;
                }
            }
            let radius = members
                .iter()
                .map(|&m| distance(&centre, &sources[m].xyz))
                .fold(0.0, f64::max)
                * (1.0 + 1e-9);
            let mut townships: Vec<u32> = members
                .iter()
                .filter_map(|&m| sources[m].areas[0])
                .collect();
            townships.sort_unstable();
            townships.dedup();
            Cell {
                district,
                townships,
                members,
                centre,
                radius,
            }
        })
        .collect()
}

/// Area codes as small integers, per tier, so a tier comparison is one compare.
#[derive(Default)]
struct AreaNames {
    ids: [HashMap<String, u32>; 4],
}

impl AreaNames {
    fn place(&mut self, p: Point, area: &AreaPath) -> Place {
        let (lon, lat) = (p.lon.to_radians(), p.lat.to_radians());
        let mut areas = [None; 4];
        for (i, tier) in Tier::INSIDE.into_iter().enumerate() {
            areas[i] = area.at(tier).map(|code| {
                let ids = &mut self.ids[i];
                match ids.get(code) {
                    Some(&id) => id,
                    None => {
                        let id = ids.len() as u32;
                        ids.insert(code.to_owned(), id);
                        id
                    }
                }
            });
        }
        Place {
            xyz: [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()],
            areas,
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
    /// Starts on `network`'s links from the all-short basis; nothing is solved
    /// yet. `sites` are the problem's (see [`Pricing::new`]).
    pub fn new(
        problem: &SurgeProblem,
        sites: &Sites,
        network: CommodityNetwork,
    ) -> Result<Self, PlanError> {
        let solver = network
            .solver()
            .map_err(|e| PlanError::TooLarge(e.to_string()))?;
        let pricing = Pricing::new(problem, sites, &network);
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
            let mut added = Vec::with_capacity(priced.len());
            for p in &priced {
                self.pricing.linked(p);
                let e = self.network.add_costed_link(p.source, p.demand, p.link);
                added.extend(e.and_then(|e| self.network.flow_arc(e)));
            }
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
        (PER_DEMAND * self.network.demand_nodes.len()).max(64)
    }
}
