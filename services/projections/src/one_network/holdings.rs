//! What an incident holds: every team committed to it and not yet released, and
//! every bed and unit of stock that a plan made for it still reserves.
//!
//! Reservations are made by plans (调度方案), so an incident's reservations are
//! those of its plans; the view learns which incident a plan serves from the
//! plan's `PlanProposed` record.

use std::collections::{BTreeMap, BTreeSet};

use ercs_domain::beds::{BedClass, BedPools, BedType};
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, PlanId, TeamId};
use ercs_domain::supply::ItemCode;
use ercs_domain::team::TeamStatus;
use ercs_domain::values::Name;
use serde::{Deserialize, Serialize};

use super::OneNetwork;

/// Everything held for one incident, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Holdings {
    /// Teams mobilising for it or on scene (调派, 到达).
    pub teams: Vec<HeldTeam>,
    /// Beds its plans reserve, at facilities and 平急两用 venues.
    pub beds: Vec<HeldBeds>,
    /// Stock its plans reserve at depots.
    pub stock: Vec<HeldStock>,
}

impl Holdings {
    pub fn is_empty(&self) -> bool {
        self.teams.is_empty() && self.beds.is_empty() && self.stock.is_empty()
    }

    /// How many things are held, for a dispatcher's summary.
    pub fn count(&self) -> usize {
        self.teams.len() + self.beds.len() + self.stock.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldTeam {
    pub team: TeamId,
    pub name: Name,
    pub status: TeamStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldBeds {
    /// A facility or a 平急两用 venue.
    pub facility: FacilityId,
    pub name: Name,
    pub plan: PlanId,
    pub bed_type: BedType,
    pub class: BedClass,
    pub beds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldStock {
    pub depot: DepotId,
    pub name: Name,
    pub plan: PlanId,
    pub item: ItemCode,
    pub quantity: u32,
}

/// The part of a plan's `PlanProposed` record the view reads.
#[derive(Deserialize)]
pub(super) struct ProposedPlan {
    pub plan_id: PlanId,
    pub request: PlanRequestIncident,
}

#[derive(Deserialize)]
pub(super) struct PlanRequestIncident {
    pub incident: Option<IncidentId>,
}

impl OneNetwork {
    /// What `incident` holds now.
    pub fn holdings(&self, incident: IncidentId) -> Holdings {
        let serves = |plan: &PlanId| self.plans.get(plan) == Some(&incident);
        let teams = self
            .teams
            .values()
            .filter(|team| {
                matches!(
                    team.status,
                    TeamStatus::Mobilising { .. } | TeamStatus::Deployed { .. }
                ) && team.status.incident() == Some(incident)
            })
            .map(|team| HeldTeam {
                team: team.id,
                name: team.name.clone(),
                status: team.status.clone(),
            })
            .collect();
        let facilities = self.facilities.values().map(|f| (f.id, &f.name, &f.pools));
        let venues = self
            .convertibles
            .values()
            .map(|v| (v.state.id, &v.state.name, &v.state.pools));
        let beds = facilities
            .chain(venues)
            .flat_map(|(facility, name, pools)| held_beds(facility, name, pools, &serves))
            .collect();
        let stock = self
            .depots
            .values()
            .flat_map(|depot| {
                depot
                    .reservations
                    .iter()
                    .filter(|((plan, _), _)| serves(plan))
                    .map(|((plan, item), lots)| HeldStock {
                        depot: depot.id,
                        name: depot.name.clone(),
                        plan: *plan,
                        item: item.clone(),
                        quantity: lots.values().map(|q| q.get()).sum(),
                    })
            })
            .collect();
        Holdings { teams, beds, stock }
    }
}

impl OneNetwork {
    /// The incidents the resource on `stream` is committed to now: a team's
    /// incident while mobilised, on scene or returning; the incidents whose plans
    /// hold beds or stock there; an incident itself.
    pub fn incidents_concerning(&self, stream: &str) -> BTreeSet<IncidentId> {
        let Some((prefix, id)) = stream.split_once('-') else {
            return BTreeSet::new();
        };
        let of_plans = |plans: &mut dyn Iterator<Item = &PlanId>| {
            plans
                .filter_map(|plan| self.plans.get(plan).copied())
                .collect()
        };
        let pools_plans = |pools: &BedPools| -> BTreeSet<IncidentId> {
            of_plans(&mut pools.iter().flat_map(|(_, pool)| pool.reserved.keys()))
        };
        match prefix {
            "team" => id
                .parse()
                .ok()
                .and_then(|id: TeamId| self.teams.get(&id))
                .and_then(|team| team.status.incident())
                .into_iter()
                .collect(),
            "facility" => id
                .parse()
                .ok()
                .and_then(|id: FacilityId| self.facilities.get(&id))
                .map(|f| pools_plans(&f.pools))
                .unwrap_or_default(),
            "convertible" => id
                .parse()
                .ok()
                .and_then(|id: FacilityId| self.convertibles.get(&id))
                .map(|v| pools_plans(&v.state.pools))
                .unwrap_or_default(),
            "depot" => id
                .parse()
                .ok()
                .and_then(|id: DepotId| self.depots.get(&id))
                .map(|d| of_plans(&mut d.reservations.keys().map(|(plan, _)| plan)))
                .unwrap_or_default(),
            "incident" => id.parse().ok().into_iter().collect(),
            _ => BTreeSet::new(),
        }
    }
}

fn held_beds(
    facility: FacilityId,
    name: &Name,
    pools: &BedPools,
    serves: &impl Fn(&PlanId) -> bool,
) -> Vec<HeldBeds> {
    pools
        .iter()
        .flat_map(|(key, pool)| {
            pool.reserved
                .iter()
                .filter(|(plan, beds)| serves(plan) && **beds > 0)
                .map(move |(plan, &beds)| HeldBeds {
                    facility,
                    name: name.clone(),
                    plan: *plan,
                    bed_type: key.bed_type,
                    class: key.class,
                    beds,
                })
        })
        .collect()
}

/// Which incident each plan serves; a plan made for ad-hoc demand serves none.
pub(super) type PlanIncidents = BTreeMap<PlanId, IncidentId>;
