//! The yardstick plans are compared with: "nearest source with stock".
//!
//! This is what a dispatcher does by hand: take the demands most urgent first
//! (then by id) and fill each from the source that arrives soonest and still has
//! stock, ignoring tiers and everyone else's needs. It is not used to make plans;
//! the comparison example and the benchmarks report it beside the optimum.

use crate::model::Commodity;
use crate::network::{LinkKind, travel_link};
use crate::problem::SurgeProblem;

/// The figures a plan is judged by, computed the same way for either method.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub needed: u64,
    pub served: u64,
    pub served_within_standard: u64,
    /// Σ quantity × travel minutes.
    pub unit_travel_minutes: f64,
    /// Red need left unmet.
    pub red_unmet: u64,
}

impl Outcome {
    pub fn share_within_standard(&self) -> f64 {
        if self.needed == 0 {
            1.0
        } else {
            self.served_within_standard as f64 / self.needed as f64
        }
    }
}

/// Runs the greedy rule over every commodity some demand needs.
pub fn nearest_with_stock(problem: &SurgeProblem) -> Outcome {
    let mut outcome = Outcome::default();
    for commodity in problem.commodities() {
        greedy_commodity(problem, &commodity, &mut outcome);
    }
    outcome
}

fn greedy_commodity(problem: &SurgeProblem, commodity: &Commodity, outcome: &mut Outcome) {
    let settings = &problem.settings;
    let mut stock: Vec<u64> = problem
        .sources
        .iter()
        .map(|s| {
            if s.available_after_minutes <= settings.horizon_minutes {
                s.offers.get(commodity).copied().unwrap_or(0)
            } else {
                0
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..problem.demands.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&problem.demands[a], &problem.demands[b]);
        (a.priority, &a.id).cmp(&(b.priority, &b.id))
    });
    let standard = settings.standard_seconds(commodity.kind);
    for d in order {
        let demand = &problem.demands[d];
        let mut need = demand.needs.get(commodity).copied().unwrap_or(0);
        outcome.needed += need;
        let mut by_arrival: Vec<(u32, u32, usize)> = (0..stock.len())
            .filter(|&s| stock[s] > 0)
            .map(|s| match travel_link(problem, s, d).kind {
                LinkKind::Travel {
                    travel_seconds,
                    lead_seconds,
                    ..
                } => (
                    travel_seconds.saturating_add(lead_seconds),
                    travel_seconds,
                    s,
                ),
                _ => unreachable!("travel_link makes travel links"),
            })
            .collect();
        by_arrival.sort_unstable();
        for (arrival, travel, s) in by_arrival {
            if need == 0 {
                break;
            }
            let take = need.min(stock[s]);
            stock[s] -= take;
            need -= take;
            outcome.served += take;
            outcome.unit_travel_minutes += take as f64 * f64::from(travel) / 60.0;
            if arrival <= standard {
                outcome.served_within_standard += take;
            }
        }
        if demand.priority == crate::model::Priority::Red {
            outcome.red_unmet += need;
        }
    }
}

/// The same figures read off an optimal plan.
pub fn outcome_of(plan: &crate::plan::Plan) -> Outcome {
    let red_unmet = plan
        .shortfalls
        .iter()
        .filter(|s| s.priority == crate::model::Priority::Red)
        .map(|s| s.quantity)
        .sum();
    Outcome {
        needed: plan.commodities.iter().map(|c| c.needed).sum(),
        served: plan.commodities.iter().map(|c| c.served).sum(),
        served_within_standard: plan
            .commodities
            .iter()
            .map(|c| c.served_within_standard)
            .sum(),
        unit_travel_minutes: plan.unit_travel_minutes(),
        red_unmet,
    }
}
