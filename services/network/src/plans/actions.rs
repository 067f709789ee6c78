//! Lead times become actions. The planner looks only as far as its horizon
//! (240 minutes by default), so a 平急两用 venue that takes 48 hours to convert,
//! or rapid-expansion beds that take a day to staff, never appear in its
//! assignments, and the need they could meet is escalated beyond the city. A
//! dispatcher must hear instead: "start converting 万州区体育馆 now: 500 beds at
//! +48 h". So after planning, each bed shortfall is offered the sources beyond
//! the horizon that have the beds, soonest to arrive first, as recommended
//! actions with their ready time and capacity; and escalation beyond the city
//! asks only for what no source in the city can supply at any lead time.

use std::collections::BTreeMap;

use ercs_routing::{Commodity, CommodityKind, Plan, SourceKind, SurgeProblem, Tier};
use serde::{Deserialize, Serialize};

/// One recommended action: what to start now, and what it brings when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// `convert` (a 平急两用 venue), `activate_expansion` or `vacate` (a
    /// facility's rapid-expansion or rapid-vacate beds).
    pub action: String,
    pub source: String,
    pub commodity: Commodity,
    /// The demand it would serve, and how much of it.
    pub demand: String,
    pub quantity: u64,
    /// Minutes until the beds are ready if the action starts now.
    pub ready_in_minutes: u32,
    /// Ready, then the drive: when patients could be there.
    pub arrival_minutes: f64,
}

/// The actions that would cover `plan`'s bed shortfalls with sources beyond the
/// horizon, soonest first; and the plan's escalations beyond the city reduced
/// by what they cover.
pub fn recommend(problem: &SurgeProblem, plan: &mut Plan) -> Vec<Recommendation> {
    let horizon = problem.settings.horizon_minutes;
    // What each late source has left to offer, by commodity.
    let mut left: BTreeMap<(usize, Commodity), u64> = BTreeMap::new();
    for (s, source) in problem.sources.iter().enumerate() {
        if source.available_after_minutes > horizon {
            for (commodity, &n) in &source.offers {
                left.insert((s, commodity.clone()), n);
            }
        }
    }
    let mut recommended = Vec::new();
    let mut shortfalls: Vec<_> = plan
        .shortfalls
        .iter()
        .filter(|s| s.commodity.kind == CommodityKind::Bed)
        .collect();
    shortfalls.sort_by_key(|s| (s.priority, s.demand.clone()));
    for shortfall in shortfalls {
        let Some(demand) = problem.demands.iter().find(|d| d.id == shortfall.demand) else {
            continue;
        };
        let mut candidates: Vec<(f64, usize, u32)> = left
            .iter()
            .filter(|((_, commodity), n)| *commodity == shortfall.commodity && **n > 0)
            .map(|((s, _), _)| {
                let source = &problem.sources[*s];
                let drive = problem
                    .settings
                    .roads
                    .seconds(source.location, demand.location);
                let ready = source.available_after_minutes;
                (f64::from(ready) + f64::from(drive) / 60.0, *s, ready)
            })
            .collect();
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut need = shortfall.quantity;
        for (arrival, s, ready) in candidates {
            if need == 0 {
                break;
            }
            let key = (s, shortfall.commodity.clone());
            let available = left.get_mut(&key).expect("a candidate has stock");
            let take = need.min(*available);
            *available -= take;
            need -= take;
            let source = &problem.sources[s];
            recommended.push(Recommendation {
                action: action_of(source.kind, &source.id).into(),
                source: source.id.clone(),
                commodity: shortfall.commodity.clone(),
                demand: shortfall.demand.clone(),
                quantity: take,
                ready_in_minutes: ready,
                arrival_minutes: (arrival * 10.0).round() / 10.0,
            });
        }
    }
    reduce_escalations(plan, &recommended);
    recommended
}

fn action_of(kind: SourceKind, id: &str) -> &'static str {
    match kind {
        SourceKind::ConvertibleFacility => "convert",
        _ if id.contains("/rapid_vacate") => "vacate",
        _ => "activate_expansion",
    }
}

/// Escalation beyond the city asks only for what the city cannot supply at any
/// lead time: what the recommendations cover comes off it.
fn reduce_escalations(plan: &mut Plan, recommended: &[Recommendation]) {
    let mut covered: BTreeMap<(Commodity, String), u64> = BTreeMap::new();
    for r in recommended {
        *covered
            .entry((r.commodity.clone(), r.demand.clone()))
            .or_default() += r.quantity;
    }
    for escalation in plan
        .escalations
        .iter_mut()
        .filter(|e| e.to_tier == Tier::Beyond)
    {
        for demand in &escalation.demands {
            if let Some(n) = covered.get_mut(&(escalation.commodity.clone(), demand.clone())) {
                let off = (*n).min(escalation.quantity);
                escalation.quantity -= off;
                *n -= off;
            }
        }
    }
    plan.escalations.retain(|e| e.quantity > 0);
}
