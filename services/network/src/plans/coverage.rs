//! What an incident's live plans still cover: the demand a new plan for it must
//! not plan again.
//!
//! Each dispatched assignment of an approved plan counts for as much as its
//! source still holds, uses or has sent for that plan: a bed pool's reservation
//! and the patients admitted under the plan, a depot's reservation and the
//! consignments it issued from it (on the road or signed for), a team still
//! mobilising or on scene for the incident. What a source holds for a plan is
//! shared out over the plan's assignments from it in their order, so two
//! demands served from one depot are each covered only by what is left.
//!
//! A superseded plan, and the plan a new one is about to supersede, count only
//! for what they use (patients admitted, consignments sent): what they hold is
//! handed over to, or planned anew by, the plan that replaces them.

use std::collections::BTreeMap;

use ercs_domain::beds::{BedClass, BedPools, BedType};
use ercs_domain::ids::{DepotId, FacilityId, PlanId, TeamId};
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::ShipmentState;
use ercs_domain::team::TeamStatus;
use ercs_projections::OneNetwork;
use ercs_routing::{Commodity, CommodityKind};

use super::{PlanRecord, parse_wire};

/// Units still covered, by demand id and commodity.
pub type Coverage = BTreeMap<(String, Commodity), u64>;

/// What the plans in `records` still cover, as the view stands; `replacing`
/// names the plan a new one supersedes.
pub fn covered(view: &OneNetwork, records: &[PlanRecord], replacing: Option<PlanId>) -> Coverage {
    let mut coverage = Coverage::new();
    for record in records {
        let Some(approval) = &record.approval else {
            continue;
        };
        let holds = record.superseded.is_none() && Some(record.plan_id) != replacing;
        // Per source and commodity: what is left to share out, once read.
        let mut left: BTreeMap<(String, Commodity), u64> = BTreeMap::new();
        for dispatch in approval
            .dispatches
            .iter()
            .filter(|d| d.outcome == "dispatched")
        {
            let Some(assignment) = record.plan.assignments.get(dispatch.assignment) else {
                continue;
            };
            let key = (assignment.source.clone(), assignment.commodity.clone());
            let remaining = left.entry(key).or_insert_with(|| {
                still_held(
                    view,
                    record,
                    &assignment.source,
                    &assignment.commodity,
                    holds,
                )
            });
            let share = assignment.quantity.min(*remaining);
            *remaining -= share;
            *coverage
                .entry((assignment.demand.clone(), assignment.commodity.clone()))
                .or_default() += share;
        }
    }
    coverage
}

/// What `source` still holds (when `holds`), uses or has sent of `commodity`
/// for the plan.
fn still_held(
    view: &OneNetwork,
    record: &PlanRecord,
    source: &str,
    commodity: &Commodity,
    holds: bool,
) -> u64 {
    let plan = record.plan_id;
    let parts: Vec<&str> = source.split('/').collect();
    match (commodity.kind, parts.as_slice()) {
        (CommodityKind::Bed, [owner, raw, class, ..]) => {
            let (Some(bed_type), Some(class)) = (
                parse_wire::<BedType>(&commodity.code),
                parse_wire::<BedClass>(class),
            ) else {
                return 0;
            };
            let Ok(id) = raw.parse::<FacilityId>() else {
                return 0;
            };
            let pools = match *owner {
                "facility" => view.facilities.get(&id).map(|f| &f.pools),
                "convertible" => view.convertibles.get(&id).map(|v| &v.state.pools),
                _ => None,
            };
            pools.map_or(0, |pools| pool_held(pools, plan, bed_type, class, holds))
        }
        (CommodityKind::Supply, ["depot", raw]) => {
            let (Ok(id), Ok(item)) = (raw.parse::<DepotId>(), ItemCode::parse(&commodity.code))
            else {
                return 0;
            };
            let Some(depot) = view.depots.get(&id) else {
                return 0;
            };
            let reserved: u64 = depot
                .reservations
                .get(&(plan, item.clone()))
                .filter(|_| holds)
                .map_or(0, |lots| lots.values().map(|q| u64::from(q.get())).sum());
            let sent: u64 = depot
                .shipments
                .values()
                .filter(|s| s.plan == Some(plan) && s.item == item)
                .filter(|s| s.state != ShipmentState::Returned)
                .map(|s| u64::from(s.quantity()))
                .sum();
            reserved + sent
        }
        (CommodityKind::Team, ["team", raw]) if holds => {
            let committed = raw
                .parse::<TeamId>()
                .ok()
                .and_then(|id| view.teams.get(&id))
                .is_some_and(|team| {
                    matches!(
                        team.status,
                        TeamStatus::Mobilising { .. } | TeamStatus::Deployed { .. }
                    ) && team.status.incident() == record.request.incident
                });
            u64::from(committed)
        }
        _ => 0,
    }
}

fn pool_held(
    pools: &BedPools,
    plan: PlanId,
    bed_type: BedType,
    class: BedClass,
    holds: bool,
) -> u64 {
    pools.get(bed_type, class).map_or(0, |pool| {
        let reserved = pool
            .reserved
            .get(&plan)
            .copied()
            .filter(|_| holds)
            .unwrap_or(0);
        let admitted = pool.admitted.get(&plan).copied().unwrap_or(0);
        u64::from(reserved) + u64::from(admitted)
    })
}
