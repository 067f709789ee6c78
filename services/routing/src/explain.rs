//! Why each assignment uses its source: the best source its demand is not
//! already served from, and what each unit would cost more from there.
//!
//! At the optimum every node has a potential π (the plan's certificate), and a
//! source–demand pair's reduced cost `cost(s, d) + π(s) − π(d)` is what sending
//! one more unit along it, with the rest of the plan re-balanced, adds at the
//! least: zero on the pairs the plan uses, never negative on any pair. The
//! smallest reduced cost among the demand's other sources is the price of the
//! best alternative, in the plan's own cost units (seconds of arrival plus the
//! tier-crossing penalties). A dispatcher reads it as "from 万州区人民医院
//! instead: arrives in 18 min, 6 min more per unit". It is computed from the
//! problem and the certificate alone, after the solve, for the assignments only
//! (assignments × sources of their commodity), so a plan costs nothing more to
//! find.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::Commodity;
use crate::network::{LinkKind, travel_link};
use crate::plan::{Plan, minutes, tier_path};
use crate::problem::SurgeProblem;

/// The best other source for an assignment's demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub source: String,
    /// When a unit from it would arrive (lead + travel).
    pub arrival_minutes: f64,
    /// The tiers a unit from it would climb, as the assignment's `tier_path`.
    pub tier_path: Vec<crate::model::Tier>,
    /// What each unit from it would add to the plan's cost at the least (its
    /// reduced cost), in cost seconds: arrival plus tier-crossing penalties.
    pub extra_seconds_per_unit: i64,
}

/// Fills each assignment's `next_best` from the plan's certificate. An
/// assignment whose demand has no other source keeps `None`.
pub fn explain(problem: &SurgeProblem, plan: &mut Plan) {
    let demand_of: HashMap<&str, usize> = (problem.demands.iter().enumerate())
        .map(|(d, demand)| (demand.id.as_str(), d))
        .collect();
    // Per commodity, each source's potential (None: it does not offer it), read once.
    let sources: HashMap<&Commodity, Vec<Option<i64>>> = (plan.certificate.commodities.iter())
        .map(|c| {
            let of_source = problem
                .sources
                .iter()
                .map(|source| {
                    let offers = source.offers.get(&c.commodity).is_some_and(|&n| n > 0);
                    offers
                        .then(|| c.potentials.get(&format!("source:{}", source.id)).copied())
                        .flatten()
                })
                .collect();
            (&c.commodity, of_source)
        })
        .collect();
    let demand_potential = |commodity: &Commodity, d: usize| {
        let certificate = plan.certificate.commodities.iter();
        let part = certificate.clone().find(|c| &c.commodity == commodity)?;
        part.potentials
            .get(&format!("demand:{}", problem.demands[d].id))
            .copied()
    };
    // The sources already serving each demand with each commodity: the next
    // best is one the plan does not use there (for a team, another team).
    let mut serving: HashMap<(&str, &Commodity), Vec<&str>> = HashMap::new();
    for a in &plan.assignments {
        serving
            .entry((a.demand.as_str(), &a.commodity))
            .or_default()
            .push(a.source.as_str());
    }
    let found: Vec<Option<Alternative>> = (plan.assignments.iter())
        .map(|a| {
            let d = *demand_of.get(a.demand.as_str())?;
            let pi_d = demand_potential(&a.commodity, d)?;
            let of_source = sources.get(&a.commodity)?;
            let used = serving.get(&(a.demand.as_str(), &a.commodity))?;
            best_other(problem, of_source, (used, d), pi_d)
        })
        .collect();
    for (assignment, best) in plan.assignments.iter_mut().zip(found) {
        assignment.next_best = best;
    }
}

/// The source not in `used` with the least reduced cost to demand `d`;
/// `potentials` holds each source's potential where it offers the commodity.
fn best_other(
    problem: &SurgeProblem,
    potentials: &[Option<i64>],
    (used, d): (&[&str], usize),
    pi_d: i64,
) -> Option<Alternative> {
    let demand = &problem.demands[d];
    let mut best: Option<(i128, usize)> = None;
    for (s, pi_s) in potentials.iter().enumerate() {
        let Some(pi_s) = *pi_s else { continue };
        if used.contains(&problem.sources[s].id.as_str()) {
            continue;
        }
        let cost = i128::from(travel_link(problem, s, d).cost);
        let reduced = cost + i128::from(pi_s) - i128::from(pi_d);
        // Ties go to the lower source index, so the answer never depends on order.
        if best.is_none_or(|(least, _)| reduced < least) {
            best = Some((reduced, s));
        }
    }
    let (reduced, s) = best?;
    let LinkKind::Travel {
        travel_seconds,
        lead_seconds,
        common,
    } = travel_link(problem, s, d).kind
    else {
        return None;
    };
    Some(Alternative {
        source: problem.sources[s].id.clone(),
        arrival_minutes: minutes(travel_seconds.saturating_add(lead_seconds)),
        tier_path: tier_path(demand.area.lowest_known().min(common), common),
        extra_seconds_per_unit: i64::try_from(reduced.max(0)).unwrap_or(i64::MAX),
    })
}
