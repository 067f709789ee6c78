//! Turning shortfalls into requests up the tiers (逐级上报).
//!
//! A shortfall means no source in reach had stock to spare. Whom to ask follows
//! the command chain: the lowest tier above the demand whose area still holds
//! unused stock of the commodity is asked first; when the whole city is drawn
//! down, the request goes beyond it. (Plans are optimal over every pair, so an
//! optimal plan leaves no stock unused while need goes short: its requests go
//! beyond the city.) Shortfalls claim leftover stock in priority order, so
//! two districts are not both told to ask the same region for the same ventilator.

use std::collections::BTreeMap;

use crate::model::{Demand, Tier};
use crate::network::CommodityNetwork;
use crate::plan::{EscalationRequest, Shortfall};
use crate::problem::SurgeProblem;

type Key = (Tier, Option<String>, Option<String>);

/// `shortfalls` must be in priority order; `leftover` is unused stock by node.
pub(crate) fn requests(
    problem: &SurgeProblem,
    net: &CommodityNetwork,
    shortfalls: &[Shortfall],
    mut leftover: Vec<u64>,
) -> Vec<EscalationRequest> {
    let demand_index: BTreeMap<&str, usize> = net
        .demand_nodes
        .keys()
        .map(|&d| (problem.demands[d].id.as_str(), d))
        .collect();
    let mut grouped: BTreeMap<Key, (u64, Vec<String>)> = BTreeMap::new();
    for shortfall in shortfalls {
        let demand = &problem.demands[demand_index[shortfall.demand.as_str()]];
        for (tier, quantity) in claim(problem, net, demand, shortfall.quantity, &mut leftover) {
            let key = (
                tier,
                demand.area.at(tier).map(str::to_owned),
                requesting_area(demand, tier),
            );
            let entry = grouped.entry(key).or_default();
            entry.0 += quantity;
            entry.1.push(demand.id.clone());
        }
    }
    grouped
        .into_iter()
        .map(|((to_tier, to_area, from_area), (quantity, mut demands))| {
            demands.sort();
            demands.dedup();
            EscalationRequest {
                commodity: net.commodity.clone(),
                to_tier,
                to_area,
                from_area,
                quantity,
                demands,
            }
        })
        .collect()
}

/// Splits `quantity` over the tiers, lowest first, taking leftover stock in each.
fn claim(
    problem: &SurgeProblem,
    net: &CommodityNetwork,
    demand: &Demand,
    mut quantity: u64,
    leftover: &mut [u64],
) -> Vec<(Tier, u64)> {
    let mut claims = Vec::new();
    for tier in Tier::INSIDE
        .into_iter()
        .filter(|&t| t >= demand.area.lowest_known())
    {
        let mut taken = 0;
        for (&s, node) in &net.source_nodes {
            if quantity == taken {
                break;
            }
            let spare = &mut leftover[node.index()];
            if *spare > 0 && problem.sources[s].area.shares(&demand.area, tier) {
                let take = (*spare).min(quantity - taken);
                *spare -= take;
                taken += take;
            }
        }
        if taken > 0 {
            claims.push((tier, taken));
            quantity -= taken;
        }
    }
    if quantity > 0 {
        claims.push((Tier::Beyond, quantity));
    }
    claims
}

/// Who asks: the demand's area one tier below the one asked.
fn requesting_area(demand: &Demand, asked: Tier) -> Option<String> {
    let below = match asked {
        Tier::Township | Tier::District => Tier::Township,
        Tier::Region => Tier::District,
        Tier::City => Tier::Region,
        Tier::Beyond => Tier::City,
    };
    let area = &demand.area;
    area.at(below)
        .or_else(|| Tier::INSIDE.into_iter().find_map(|t| area.at(t)))
        .map(str::to_owned)
}
