//! The plan: who sends what where, what is left unmet, and whom to ask for it.
//!
//! Everything here is read off a solved commodity network. Lists are sorted and
//! times are whole seconds shown as minutes to one decimal, so serialising the
//! same plan always gives the same bytes.

use serde::{Deserialize, Serialize};

use crate::certificate::{Certificate, CommodityCertificate};
use crate::model::{AreaPath, Commodity, Priority, SourceKind, Tier};
use crate::network::{CommodityNetwork, LinkKind, Site};
use crate::problem::SurgeProblem;
use crate::simplex::NetworkSimplex;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Σ over commodities of arrival seconds, escalation costs and shortage
    /// penalties: the quantity the solver minimised and the certificate proves.
    pub total_cost: i128,
    pub commodities: Vec<CommoditySummary>,
    pub assignments: Vec<Assignment>,
    pub shortfalls: Vec<Shortfall>,
    pub escalations: Vec<EscalationRequest>,
    pub certificate: Certificate,
}

/// The figures a dispatcher compares plans by, per commodity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommoditySummary {
    pub commodity: Commodity,
    pub needed: u64,
    pub served: u64,
    /// Units that arrive within the response standard (14 minutes by default).
    pub served_within_standard: u64,
    pub unmet: u64,
    /// Σ quantity × travel minutes over the assignments.
    pub unit_travel_minutes: f64,
    pub cost: i128,
    pub sources: usize,
    pub demands: usize,
    /// Travel and balance links built: the starting links and those pricing
    /// added. The plan is optimal over every source–demand pair all the same.
    pub links: usize,
}

/// Send `quantity` of `commodity` from `source` to `demand`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub commodity: Commodity,
    pub source: String,
    pub source_kind: SourceKind,
    pub demand: String,
    pub priority: Priority,
    pub quantity: u64,
    pub travel_minutes: f64,
    /// Wait before the source can start out (activation, conversion, mobilising).
    pub lead_minutes: f64,
    pub arrival_minutes: f64,
    /// Whether the arrival is within the response standard.
    pub within_standard: bool,
    /// The tiers climbed from the demand's own area to the one it shares with the
    /// source, e.g. `[township, district, region]`.
    pub tier_path: Vec<Tier>,
    /// Why this source and not another: the best source the demand is not served
    /// from, and what each unit would cost more from it (filled by
    /// [`crate::explain`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_best: Option<crate::explain::Alternative>,
}

/// Need that no source in reach could meet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shortfall {
    pub commodity: Commodity,
    pub demand: String,
    pub priority: Priority,
    pub quantity: u64,
    pub area: AreaPath,
}

/// A request up the tiers implied by shortfalls: `to_tier` (the area `to_area`)
/// should supply `quantity` to `from_area`. `to_tier` is the lowest tier above the
/// demand that still holds unused stock within the horizon; `beyond` means the
/// whole city is exhausted (national reserves, neighbouring provinces).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EscalationRequest {
    pub commodity: Commodity,
    pub to_tier: Tier,
    pub to_area: Option<String>,
    pub from_area: Option<String>,
    pub quantity: u64,
    pub demands: Vec<String>,
}

/// The part of a plan one commodity contributes.
pub(crate) struct CommodityPlan {
    pub summary: CommoditySummary,
    pub assignments: Vec<Assignment>,
    pub shortfalls: Vec<Shortfall>,
    pub escalations: Vec<EscalationRequest>,
    pub certificate: CommodityCertificate,
}

impl Plan {
    pub(crate) fn assemble(parts: Vec<CommodityPlan>) -> Plan {
        let mut plan = Plan {
            total_cost: parts.iter().map(|p| p.summary.cost).sum(),
            commodities: Vec::new(),
            assignments: Vec::new(),
            shortfalls: Vec::new(),
            escalations: Vec::new(),
            certificate: Certificate {
                commodities: Vec::new(),
            },
        };
        for part in parts {
            plan.commodities.push(part.summary);
            plan.assignments.extend(part.assignments);
            plan.shortfalls.extend(part.shortfalls);
            plan.escalations.extend(part.escalations);
            plan.certificate.commodities.push(part.certificate);
        }
        plan
    }

    /// Share of all needed units that arrive within the standard.
    pub fn share_within_standard(&self) -> f64 {
        let needed: u64 = self.commodities.iter().map(|c| c.needed).sum();
        let within: u64 = self
            .commodities
            .iter()
            .map(|c| c.served_within_standard)
            .sum();
        if needed == 0 {
            1.0
        } else {
            within as f64 / needed as f64
        }
    }

    /// Σ quantity × travel minutes over all assignments.
    pub fn unit_travel_minutes(&self) -> f64 {
        self.commodities.iter().map(|c| c.unit_travel_minutes).sum()
    }
}

pub(crate) fn minutes(seconds: u32) -> f64 {
    (f64::from(seconds) / 6.0).round() / 10.0
}

/// Reads one solved network into its part of the plan.
pub(crate) fn read_commodity(
    problem: &SurgeProblem,
    net: &CommodityNetwork,
    solver: &NetworkSimplex,
) -> CommodityPlan {
    let flows = solver.flows();
    let standard = problem.settings.standard_seconds(net.commodity.kind);
    let mut assignments = Vec::new();
    let mut shortfalls = Vec::new();
    let mut leftover = vec![0u64; net.graph.node_count()];
    for (e, edge) in net.graph.raw_edges().iter().enumerate() {
        let quantity = flows[e] as u64;
        if quantity == 0 {
            continue;
        }
        match (
            edge.weight.kind,
            net.graph[edge.source()],
            net.graph[edge.target()],
        ) {
            (
                LinkKind::Travel {
                    travel_seconds,
                    lead_seconds,
                    common,
                },
                Site::Source(s),
                Site::Demand(d),
            ) => {
                let arrival = travel_seconds.saturating_add(lead_seconds);
                assignments.push(assignment(
                    problem,
                    net,
                    (s, d),
                    quantity,
                    [travel_seconds, lead_seconds],
                    common,
                    arrival <= standard,
                ));
            }
            (LinkKind::Shortage { priority }, _, Site::Demand(d)) => shortfalls.push(Shortfall {
                commodity: net.commodity.clone(),
                demand: problem.demands[d].id.clone(),
                priority,
                quantity,
                area: problem.demands[d].area.clone(),
            }),
            (LinkKind::Surplus, _, _) => leftover[edge.source().index()] = quantity,
            _ => {}
        }
    }
    assignments.sort_by(|a, b| (&a.demand, &a.source).cmp(&(&b.demand, &b.source)));
    shortfalls.sort_by(|a, b| (a.priority, &a.demand).cmp(&(b.priority, &b.demand)));
    let escalations = crate::escalation::requests(problem, net, &shortfalls, leftover);
    CommodityPlan {
        summary: summary(problem, net, solver, &assignments, &shortfalls),
        certificate: CommodityCertificate::from_solver(problem, net, solver),
        assignments,
        shortfalls,
        escalations,
    }
}

fn assignment(
    problem: &SurgeProblem,
    net: &CommodityNetwork,
    (s, d): (usize, usize),
    quantity: u64,
    [travel, lead]: [u32; 2],
    common: Tier,
    within_standard: bool,
) -> Assignment {
    let (source, demand) = (&problem.sources[s], &problem.demands[d]);
    let start = demand.area.lowest_known().min(common);
    Assignment {
        commodity: net.commodity.clone(),
        source: source.id.clone(),
        source_kind: source.kind,
        demand: demand.id.clone(),
        priority: demand.priority,
        quantity,
        travel_minutes: minutes(travel),
        lead_minutes: minutes(lead),
        arrival_minutes: minutes(travel.saturating_add(lead)),
        within_standard,
        tier_path: tier_path(start, common),
        next_best: None,
    }
}

pub(crate) fn tier_path(start: Tier, end: Tier) -> Vec<Tier> {
    let mut path = vec![start];
    while *path.last().expect("non-empty") < end {
        path.push(path.last().expect("non-empty").above());
    }
    path
}

fn summary(
    problem: &SurgeProblem,
    net: &CommodityNetwork,
    solver: &NetworkSimplex,
    assignments: &[Assignment],
    shortfalls: &[Shortfall],
) -> CommoditySummary {
    let needed = net
        .demand_nodes
        .keys()
        .map(|&d| problem.demands[d].needs[&net.commodity])
        .sum();
    let unmet = shortfalls.iter().map(|s| s.quantity).sum();
    let unit_travel: f64 = assignments
        .iter()
        .map(|a| a.quantity as f64 * a.travel_minutes)
        .sum();
    CommoditySummary {
        commodity: net.commodity.clone(),
        needed,
        served: assignments.iter().map(|a| a.quantity).sum(),
        served_within_standard: assignments
            .iter()
            .filter(|a| a.within_standard)
            .map(|a| a.quantity)
            .sum(),
        unmet,
        unit_travel_minutes: (unit_travel * 10.0).round() / 10.0,
        cost: solver.total_cost(),
        sources: net.source_nodes.len(),
        demands: net.demand_nodes.len(),
        links: net.graph.edge_count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_path_climbs_from_the_demand_to_the_shared_tier() {
        use Tier::*;
        assert_eq!(
            tier_path(Township, Region),
            vec![Township, District, Region]
        );
        assert_eq!(tier_path(Township, Township), vec![Township]);
        assert_eq!(
            tier_path(District, Beyond),
            vec![District, Region, City, Beyond]
        );
    }
}
