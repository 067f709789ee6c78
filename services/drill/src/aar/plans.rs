//! The surge plans (调度方案) of a drill, read from their streams: what each
//! proposed, what its approval dispatched, and when it stopped counting
//! (cancelled, superseded). The JSON is the server's `PlanRecord` and
//! `Approval`, read by field so that this crate does not depend on the server.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    Demand, DemandResponse, Drawn, Kind, Tally, UnmetPoint, WithinStandard, minutes, tally,
};
use crate::run::Logged;

/// A demand as plans name it: (incident, commodity, demand point).
type DemandKey = (String, String, String);

/// Units an approved plan holds for each demand, by plan stream, while the
/// plan counts (not cancelled, not superseded).
type Held = BTreeMap<String, Vec<(DemandKey, u64)>>;

/// One plan as its stream tells it.
pub(super) struct PlanRead {
    pub id: String,
    pub stream: String,
    pub incident: Option<String>,
    pub proposed_at: DateTime<Utc>,
    pub assignments: Vec<Value>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Approved and dispatched: (assignment index, units newly dispatched,
    /// units in all counting what was taken over from a superseded plan).
    pub dispatched: Vec<(usize, u64, u64)>,
}

impl PlanRead {
    fn covers(&self, demand: &Demand) -> bool {
        self.incident.as_deref() == Some(demand.incident.as_str())
            && self.assignments.iter().any(|a| serves(a, demand))
    }

    fn dispatched_assignments(&self) -> impl Iterator<Item = (&Value, u64, u64)> {
        (self.dispatched.iter())
            .filter_map(|&(i, new, all)| Some((self.assignments.get(i)?, new, all)))
    }
}

/// Whether an assignment sends the demand's commodity to it.
fn serves(assignment: &Value, demand: &Demand) -> bool {
    assignment["commodity"].as_str() == Some(demand.commodity.as_str())
        && assignment["demand"].as_str() == Some(demand.point().as_str())
}

pub(super) struct Plans {
    /// In the order they were proposed.
    plans: Vec<PlanRead>,
}

impl Plans {
    pub fn read(events: &[Logged]) -> Plans {
        let mut plans: Vec<PlanRead> = Vec::new();
        for event in events {
            let e = &event.observed;
            if e.event_type == "PlanProposed" {
                plans.push(PlanRead {
                    id: e.data["plan_id"].as_str().unwrap_or_default().to_owned(),
                    stream: e.stream.clone(),
                    incident: e.data["request"]["incident"].as_str().map(str::to_owned),
                    proposed_at: e.at,
                    assignments: (e.data["plan"]["assignments"].as_array().cloned())
                        .unwrap_or_default(),
                    approved_at: None,
                    dispatched: Vec::new(),
                });
            } else if e.event_type == "PlanApproved"
                && let Some(plan) = plans.iter_mut().find(|p| p.stream == e.stream)
            {
                plan.approved_at = Some(e.at);
                plan.dispatched = dispatched(&e.data, &plan.assignments);
            }
        }
        Plans { plans }
    }

    fn on(&self, stream: &str) -> Option<&PlanRead> {
        self.plans.iter().find(|p| p.stream == stream)
    }

    /// How the drill answered one demand.
    pub fn response(&self, demand: &Demand, events: &[Logged]) -> DemandResponse {
        let plan = (self.plans.iter()).find(|p| p.proposed_at >= demand.at && p.covers(demand));
        let approved_at = plan.and_then(|p| p.approved_at);
        let arrived = plan
            .zip(approved_at)
            .and_then(|(plan, approved)| arrival(plan, demand, approved, events));
        DemandResponse {
            kind: demand.kind,
            incident: demand.incident.clone(),
            commodity: demand.commodity.clone(),
            area: demand.area.clone(),
            quantity: demand.quantity,
            recorded_at: demand.at,
            by: demand.by.clone(),
            plan: plan.map(|p| p.id.clone()),
            minutes_to_plan: plan.map(|p| minutes(demand.at, p.proposed_at)),
            minutes_to_approval: approved_at.map(|at| minutes(demand.at, at)),
            minutes_to_arrival: arrived.map(|at| minutes(demand.at, at)),
        }
    }

    /// Demanded, dispatched and unmet by kind after each event that changed
    /// them, in log order.
    pub fn unmet(&self, events: &[Logged]) -> Vec<UnmetPoint> {
        let mut demanded: BTreeMap<DemandKey, u64> = BTreeMap::new();
        let mut held = Held::new();
        let mut points: Vec<UnmetPoint> = Vec::new();
        for event in events {
            let e = &event.observed;
            if let Some(demand) = Demand::read(event) {
                let point = demand.point();
                demanded.insert((demand.incident, demand.commodity, point), demand.quantity);
            } else if e.event_type == "PlanApproved"
                && let Some(plan) = self.on(&e.stream)
            {
                let incident = plan.incident.clone().unwrap_or_default();
                let units = plan.dispatched_assignments().map(|(a, _, all)| {
                    let text = |f: &str| a[f].as_str().unwrap_or_default().to_owned();
                    ((incident.clone(), text("commodity"), text("demand")), all)
                });
                held.insert(e.stream.clone(), units.collect());
            } else if matches!(e.event_type.as_str(), "PlanCancelled" | "PlanSuperseded") {
                held.remove(&e.stream);
            } else {
                continue;
            }
            let point = standing(e.at, &demanded, &held);
            match points.last_mut() {
                Some(last) if last.at == point.at => *last = point,
                Some(last) if same_figures(last, &point) => {}
                _ => points.push(point),
            }
        }
        points
    }

    pub fn within_standard(&self) -> Vec<WithinStandard> {
        let units = tally(self.new_units().map(|(_, kind, n)| (kind, n)));
        let within = tally(
            self.new_units()
                .filter(|(a, _, _)| a["within_standard"].as_bool() == Some(true))
                .map(|(_, kind, n)| (kind, n)),
        );
        Kind::ALL
            .iter()
            .map(|&kind| {
                let units = units.get(&kind).copied().unwrap_or(0);
                let within = within.get(&kind).copied().unwrap_or(0);
                WithinStandard {
                    kind,
                    units,
                    within,
                    share: (units > 0).then(|| within as f64 / units as f64),
                }
            })
            .collect()
    }

    pub fn drawn_by_tier(&self) -> Vec<Drawn> {
        let by_tier = tally(self.new_units().map(|(a, kind, n)| {
            let tier = (a["tier_path"].as_array())
                .and_then(|path| path.last()?.as_str())
                .unwrap_or("unknown");
            ((tier_rank(tier), tier.to_owned(), kind), n)
        }));
        by_tier
            .into_iter()
            .map(|((_, tier, kind), units)| Drawn { tier, kind, units })
            .collect()
    }

    /// Every unit approvals newly dispatched (what a superseding plan took
    /// over was counted with the plan it came from), with its assignment.
    fn new_units(&self) -> impl Iterator<Item = (&Value, Kind, u64)> {
        self.plans
            .iter()
            .flat_map(PlanRead::dispatched_assignments)
            .filter_map(|(a, new, _)| Some((a, Kind::of_commodity(a["commodity"].as_str()?)?, new)))
            .filter(|(_, _, new)| *new > 0)
    }
}

/// Tiers lowest first, as the report lists them.
fn tier_rank(tier: &str) -> usize {
    ["township", "district", "region", "city", "beyond"]
        .iter()
        .position(|t| *t == tier)
        .unwrap_or(usize::MAX)
}

/// The dispatched assignments of an approval: index, units newly dispatched,
/// units in all.
fn dispatched(approval: &Value, assignments: &[Value]) -> Vec<(usize, u64, u64)> {
    let dispatches = approval["dispatches"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    dispatches
        .iter()
        .filter(|d| d["outcome"] == "dispatched")
        .filter_map(|d| {
            let index = d["assignment"].as_u64()? as usize;
            let all = assignments.get(index)?["quantity"].as_u64()?;
            let taken = d["taken_over"].as_u64().unwrap_or(0).min(all);
            Some((index, all - taken, all))
        })
        .collect()
}

fn standing(at: DateTime<Utc>, demanded: &BTreeMap<DemandKey, u64>, held: &Held) -> UnmetPoint {
    let served = tally(held.values().flatten().cloned());
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    for (key, &want) in demanded {
        let Some(kind) = Kind::of_commodity(&key.1) else {
            continue;
        };
        let got = served.get(key).copied().unwrap_or(0);
        let t = tallies.entry(kind).or_default();
        t.demanded += want;
        t.approved += got;
        t.unmet += want.saturating_sub(got);
    }
    let of = |kind| tallies.get(&kind).copied().unwrap_or_default();
    UnmetPoint {
        at,
        beds: of(Kind::Beds),
        supplies: of(Kind::Supplies),
        teams: of(Kind::Teams),
    }
}

fn same_figures(a: &UnmetPoint, b: &UnmetPoint) -> bool {
    (a.beds, a.supplies, a.teams) == (b.beds, b.supplies, b.teams)
}

/// The first arrival the log shows of what `plan`'s approval dispatched for
/// `demand`: the team on scene, patients admitted to the plan's beds, the
/// plan's consignment signed for.
fn arrival(
    plan: &PlanRead,
    demand: &Demand,
    approved: DateTime<Utc>,
    events: &[Logged],
) -> Option<DateTime<Utc>> {
    let after = || {
        events
            .iter()
            .map(|e| &e.observed)
            .filter(|e| e.at >= approved)
    };
    let code = demand.commodity.split_once(':').map_or("", |(_, c)| c);
    let mut arrivals = Vec::new();
    for (assignment, _, _) in plan.dispatched_assignments() {
        if !serves(assignment, demand) {
            continue;
        }
        match demand.kind {
            Kind::Teams => {
                let source = assignment["source"].as_str().unwrap_or_default();
                let Some(team) = source.strip_prefix("team/") else {
                    continue;
                };
                let stream = format!("team-{team}");
                arrivals.extend(
                    after()
                        .find(|e| e.event_type == "TeamDeployed" && e.stream == stream)
                        .map(|e| e.at),
                );
            }
            Kind::Beds => arrivals.extend(
                after()
                    .find(|e| {
                        e.event_type == "PatientsAdmitted"
                            && e.data["plan"].as_str() == Some(plan.id.as_str())
                            && e.data["bed_type"].as_str() == Some(code)
                    })
                    .map(|e| e.at),
            ),
            Kind::Supplies => {
                let issued = after().filter(|e| {
                    e.event_type == "StockIssued"
                        && e.data["plan"].as_str() == Some(plan.id.as_str())
                        && e.data["item"].as_str() == Some(code)
                });
                for issue in issued {
                    let shipment = &issue.data["delivery"]["shipment"];
                    arrivals.extend(
                        after()
                            .find(|e| {
                                e.event_type == "DeliverySigned"
                                    && e.stream == issue.stream
                                    && !shipment.is_null()
                                    && &e.data["shipment"] == shipment
                            })
                            .map(|e| e.at),
                    );
                }
            }
        }
    }
    arrivals.into_iter().min()
}
