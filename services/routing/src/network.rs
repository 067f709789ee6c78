//! The network of one commodity: who can give it, who needs it, and the links.
//!
//! Each commodity gets its own petgraph graph, because ventilators, ICU beds and
//! poisoning teams sit at different sites and their nearest sources differ. Nodes
//! are the sources that offer the commodity and can start out within the horizon,
//! the demands that need it, and one *shortage* node. Links:
//!
//! - **travel** `source → demand`, uncapacitated, costing the arrival time (lead
//!   time + travel time, seconds) plus the escalation cost of every tier boundary
//!   crossed ([`travel_link`]). Plans are optimal over the *complete* network, a
//!   travel link for every source–demand pair, but only some are built:
//!   [`CommodityNetwork::build`] starts each demand with its `nearest_sources`
//!   nearest sources and the `nearest_per_tier` nearest in each of its own areas
//!   (nearest by straight line), and [`crate::pricing`] adds the others as their
//!   reduced costs show they are needed. [`CommodityNetwork::build_complete`]
//!   builds every pair, for tests and audits;
//! - **shortage** `shortage → demand`, costing the demand's priority penalty: flow
//!   here is need left unmet;
//! - **surplus** `source → shortage`, free: stock left where it is.
//!
//! The shortage node balances the books (its supply is total need − total stock),
//! so every problem is feasible and unmet demand is an answer, never an error.
//! The penalty unit exceeds the cost of any chain of travel links, so a unit of a
//! higher priority is never left unserved to serve a lower one, and any service
//! beats none.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::flow::{FlowArc, FlowError, FlowProblem, MAX_ABS_COST, UNCAPACITATED};
use crate::model::{Commodity, Priority, Tier};
use crate::problem::{PlanError, SurgeProblem};
use crate::settings::MAX_ARRIVAL_SECONDS;
use crate::simplex::NetworkSimplex;

/// What a node of the network stands for (indices into the problem's lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    Source(usize),
    Demand(usize),
    Shortage,
}

/// What a link stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Travel {
        travel_seconds: u32,
        lead_seconds: u32,
        common: Tier,
    },
    Shortage {
        priority: Priority,
    },
    Surplus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub kind: LinkKind,
    pub cost: i64,
}

/// One commodity's network and the supplies that go with it.
#[derive(Clone, Debug)]
pub struct CommodityNetwork {
    pub commodity: Commodity,
    pub graph: DiGraph<Site, Link>,
    /// Indexed like the graph's nodes: stock, −need, and the shortage's balance.
    pub supply: Vec<i64>,
    pub shortage: NodeIndex,
    /// The link from a source node to a demand node, by problem indices.
    pub travel_links: FxHashMap<(usize, usize), usize>,
    /// The node of each demand and source, by problem index.
    pub demand_nodes: BTreeMap<usize, NodeIndex>,
    pub source_nodes: BTreeMap<usize, NodeIndex>,
}

/// Which travel links a network is built with.
#[derive(Clone, Copy)]
enum Linking {
    /// The nearest sources of each demand: where column generation starts.
    Nearest,
    /// Every source to every demand.
    Complete,
    /// None: the pairs a certificate uses are added one by one.
    Unlinked,
}

impl CommodityNetwork {
    /// The starting network: each demand linked to its nearest sources.
    pub fn build(problem: &SurgeProblem, commodity: &Commodity) -> Result<Self, PlanError> {
        Self::build_linking(problem, commodity, Linking::Nearest)
    }

    /// The complete network, every source linked to every demand explicitly: what
    /// plans are optimal over. The planner never builds it (see [`crate::pricing`]).
    pub fn build_complete(
        problem: &SurgeProblem,
        commodity: &Commodity,
    ) -> Result<Self, PlanError> {
        Self::build_linking(problem, commodity, Linking::Complete)
    }

    /// The nodes with their shortage and surplus links, and no travel link yet.
    pub fn build_unlinked(
        problem: &SurgeProblem,
        commodity: &Commodity,
    ) -> Result<Self, PlanError> {
        Self::build_linking(problem, commodity, Linking::Unlinked)
    }

    fn build_linking(
        problem: &SurgeProblem,
        commodity: &Commodity,
        linking: Linking,
    ) -> Result<Self, PlanError> {
        let horizon = problem.settings.horizon_minutes;
        let sources = sorted_by_id(&problem.sources, |s| {
            (s.offers.get(commodity).copied().unwrap_or(0) > 0
                && s.available_after_minutes <= horizon)
                .then_some(&s.id)
        });
        let demands = sorted_by_id(&problem.demands, |d| {
            (d.needs.get(commodity).copied().unwrap_or(0) > 0).then_some(&d.id)
        });
        let mut net = CommodityNetwork {
            commodity: commodity.clone(),
            graph: DiGraph::with_capacity(sources.len() + demands.len() + 1, 0),
            supply: Vec::new(),
            shortage: NodeIndex::end(),
            travel_links: FxHashMap::default(),
            demand_nodes: BTreeMap::new(),
            source_nodes: BTreeMap::new(),
        };
        net.add_nodes(problem, &sources, &demands);
        let unit = penalty_unit(problem, net.graph.node_count())?;
        match linking {
            Linking::Nearest => net.add_nearest_links(problem, &sources, &demands),
            Linking::Complete => {
                for &d in &demands {
                    for &s in &sources {
                        net.add_travel_link(problem, s, d);
                    }
                }
            }
            Linking::Unlinked => {}
        }
        net.add_balance_links(problem, &sources, &demands, unit);
        Ok(net)
    }

    /// Links source `s` to demand `d` (problem indices) and returns the new
    /// link's index, or `None` when they are linked already or not in this network.
    pub fn add_travel_link(&mut self, problem: &SurgeProblem, s: usize, d: usize) -> Option<usize> {
        self.add_link_with(s, d, || travel_link(problem, s, d))
    }

    /// [`Self::add_travel_link`] with the link already costed by
    /// [`travel_link`], as pricing has done.
    pub fn add_costed_link(&mut self, s: usize, d: usize, link: Link) -> Option<usize> {
        self.add_link_with(s, d, || link)
    }

    fn add_link_with(&mut self, s: usize, d: usize, link: impl FnOnce() -> Link) -> Option<usize> {
        let (&from, &to) = (self.source_nodes.get(&s)?, self.demand_nodes.get(&d)?);
        let Entry::Vacant(slot) = self.travel_links.entry((s, d)) else {
            return None;
        };
        let e = self.graph.add_edge(from, to, link()).index();
        slot.insert(e);
        Some(e)
    }

    fn add_nodes(&mut self, problem: &SurgeProblem, sources: &[usize], demands: &[usize]) {
        for &s in sources {
            self.source_nodes
                .insert(s, self.graph.add_node(Site::Source(s)));
            self.supply
                .push(problem.sources[s].offers[&self.commodity] as i64);
        }
        for &d in demands {
            self.demand_nodes
                .insert(d, self.graph.add_node(Site::Demand(d)));
            self.supply
                .push(-(problem.demands[d].needs[&self.commodity] as i64));
        }
        self.shortage = self.graph.add_node(Site::Shortage);
        self.supply.push(-self.supply.iter().sum::<i64>());
    }

    fn add_nearest_links(&mut self, problem: &SurgeProblem, sources: &[usize], demands: &[usize]) {
        let mut candidates = Candidates::new(problem, sources);
        for &d in demands {
            for s in candidates.for_demand(problem, d) {
                self.add_travel_link(problem, s, d);
            }
        }
    }

    fn add_balance_links(
        &mut self,
        problem: &SurgeProblem,
        sources: &[usize],
        demands: &[usize],
        unit: i64,
    ) {
        for &d in demands {
            let priority = problem.demands[d].priority;
            let link = Link {
                kind: LinkKind::Shortage { priority },
                cost: unit * priority.weight(),
            };
            self.graph
                .add_edge(self.shortage, self.demand_nodes[&d], link);
        }
        for &s in sources {
            let link = Link {
                kind: LinkKind::Surplus,
                cost: 0,
            };
            self.graph
                .add_edge(self.source_nodes[&s], self.shortage, link);
        }
    }

    /// The network as a plain flow problem: node and arc indices are the graph's.
    pub fn flow_problem(&self) -> FlowProblem {
        FlowProblem {
            supply: self.supply.clone(),
            arcs: self.graph.raw_edges().iter().map(arc_of).collect(),
        }
    }

    /// Link `e` as an arc of [`Self::flow_problem`].
    pub fn flow_arc(&self, e: usize) -> Option<FlowArc> {
        self.graph.raw_edges().get(e).map(arc_of)
    }

    /// A solver started from the all-short basis (see [`NetworkSimplex::with_star_basis`]),
    /// over the links built so far. (A greedy crash start, each demand that one
    /// linked source can serve whole hung from it, saved a sixth of the pivots
    /// on the synthetic city but cost more time than it saved: deeper trees
    /// make each pivot dearer.)
    pub fn solver(&self) -> Result<NetworkSimplex, FlowError> {
        let balance = self.graph.raw_edges().iter().enumerate();
        let spokes: Vec<usize> = balance
            .filter(|(_, e)| !matches!(e.weight.kind, LinkKind::Travel { .. }))
            .map(|(i, _)| i)
            .collect();
        NetworkSimplex::with_star_basis(&self.flow_problem(), self.shortage.index(), &spokes)
    }

    /// A node's stable name in certificates: `source:<id>`, `demand:<id>`, `shortage`.
    pub fn label(&self, problem: &SurgeProblem, node: NodeIndex) -> String {
        match self.graph[node] {
            Site::Source(s) => format!("source:{}", problem.sources[s].id),
            Site::Demand(d) => format!("demand:{}", problem.demands[d].id),
            Site::Shortage => "shortage".to_owned(),
        }
    }
}

fn arc_of(edge: &petgraph::graph::Edge<Link>) -> FlowArc {
    FlowArc {
        from: edge.source().index(),
        to: edge.target().index(),
        capacity: UNCAPACITATED,
        cost: edge.weight.cost,
    }
}

/// The cost of one travel link, capped so penalties stay a fixed size.
pub fn travel_link(problem: &SurgeProblem, s: usize, d: usize) -> Link {
    let (source, demand) = (&problem.sources[s], &problem.demands[d]);
    let measured = problem
        .travel
        .as_ref()
        .and_then(|m| m.seconds(&source.id, &demand.id));
    let travel_seconds = measured.unwrap_or_else(|| {
        problem
            .settings
            .roads
            .seconds(source.location, demand.location)
    });
    let lead_seconds = source.available_after_minutes.saturating_mul(60);
    let common = source.area.common_tier(&demand.area);
    let arrival = travel_seconds
        .saturating_add(lead_seconds)
        .min(MAX_ARRIVAL_SECONDS);
    let cost = i64::from(arrival) + i64::from(problem.settings.escalation.crossing(common));
    Link {
        kind: LinkKind::Travel {
            travel_seconds,
            lead_seconds,
            common,
        },
        cost,
    }
}

/// The penalty for one unit of unmet green need; red costs four of these. It
/// exceeds any path of travel links through every node.
fn penalty_unit(problem: &SurgeProblem, nodes: usize) -> Result<i64, PlanError> {
    let max_link =
        i128::from(MAX_ARRIVAL_SECONDS) + i128::from(problem.settings.escalation.max()) + 1;
    let unit = max_link * nodes as i128;
    let highest = unit * i128::from(Priority::Red.weight());
    if highest > i128::from(MAX_ABS_COST) {
        return Err(PlanError::TooLarge(format!(
            "{nodes} nodes in one commodity network"
        )));
    }
    Ok(unit as i64)
}

fn sorted_by_id<'a, T>(items: &'a [T], keep: impl Fn(&'a T) -> Option<&'a String>) -> Vec<usize> {
    let mut kept: Vec<(&String, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, t)| keep(t).map(|id| (id, i)))
        .collect();
    kept.sort();
    kept.into_iter().map(|(_, i)| i).collect()
}

/// Picks the sources each demand is first linked to.
struct Candidates {
    sources: Vec<usize>,
    /// Sources grouped by (tier, area code) for the per-tier picks.
    by_area: BTreeMap<(Tier, String), Vec<usize>>,
    distance: Vec<f64>,
}

impl Candidates {
    fn new(problem: &SurgeProblem, sources: &[usize]) -> Self {
        let mut by_area: BTreeMap<(Tier, String), Vec<usize>> = BTreeMap::new();
        for (rank, &s) in sources.iter().enumerate() {
            for tier in [Tier::Township, Tier::District, Tier::Region] {
                if let Some(code) = problem.sources[s].area.at(tier) {
                    by_area
                        .entry((tier, code.to_owned()))
                        .or_default()
                        .push(rank);
                }
            }
        }
        Candidates {
            sources: sources.to_vec(),
            by_area,
            distance: vec![0.0; sources.len()],
        }
    }

    /// Source indices, sorted: the nearest overall and the nearest in each area.
    fn for_demand(&mut self, problem: &SurgeProblem, d: usize) -> Vec<usize> {
        let settings = &problem.settings;
        let demand = &problem.demands[d];
        let here = demand.location;
        let cos_lat = here.lat.to_radians().cos();
        for (rank, &s) in self.sources.iter().enumerate() {
            let p = problem.sources[s].location;
            let (dx, dy) = ((p.lon - here.lon) * cos_lat, p.lat - here.lat);
            self.distance[rank] = dx * dx + dy * dy;
        }
        let mut picked = nearest(
            &self.distance,
            0..self.sources.len(),
            settings.nearest_sources,
        );
        for tier in [Tier::Township, Tier::District, Tier::Region] {
            let Some(code) = demand.area.at(tier) else {
                continue;
            };
            if let Some(group) = self.by_area.get(&(tier, code.to_owned())) {
                picked.extend(nearest(
                    &self.distance,
                    group.iter().copied(),
                    settings.nearest_per_tier,
                ));
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked.into_iter().map(|rank| self.sources[rank]).collect()
    }
}

/// The `k` ranks of least distance, ties to the lower rank.
fn nearest(distance: &[f64], ranks: impl Iterator<Item = usize>, k: usize) -> Vec<usize> {
    let mut all: Vec<usize> = ranks.collect();
    let key = |&r: &usize| (distance[r], r);
    if all.len() > k {
        all.select_nth_unstable_by(k, |a, b| {
            key(a).partial_cmp(&key(b)).expect("distances are finite")
        });
        all.truncate(k);
    }
    all
}
