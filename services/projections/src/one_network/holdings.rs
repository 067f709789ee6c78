//! What an incident holds: every team committed to it and not yet released,
//! every bed and unit of stock that a plan made for it still reserves, and every
//! consignment or transfer on its way for it; beside them, what it uses (beds its
//! patients occupy, consignments signed for), which is not held.
//!
//! The EDXL-RM lifecycle, as the view reads it: *committed* (reserved, mobilised)
//! → *en route* (`in_transit`, a team `mobilising`) → *received* / *on scene*
//! (`delivered`, a team `deployed`, beds `in_use`) → *released* (a reservation
//! given back, a team demobilised) → *returned* (a consignment refused, a team
//! back at base).
//!
//! Reservations are made by plans (调度方案), so an incident's reservations are
//! those of its plans; the view learns which incident a plan serves from the
//! plan's `PlanProposed` record.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, Tier};
use ercs_domain::beds::{BedClass, BedPool, BedPools, BedType};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, PlanId, ShipmentId, TeamId, TransferId};
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{DepotState, ShipmentState};
use ercs_domain::team::{TeamState, TeamStatus};
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
    /// Consignments and transfers on their way for it, with when each is due.
    pub in_transit: Vec<Movement>,
    /// In use, not held: beds its patients occupy (admitted under its plans).
    pub beds_in_use: Vec<HeldBeds>,
    /// Used, not held: consignments signed for at their destination (签收).
    pub delivered: Vec<Movement>,
}

impl Holdings {
    /// Nothing held: no team, reservation or movement. Beds in use and delivered
    /// stock are the incident's use of what it was sent, not holdings.
    pub fn is_empty(&self) -> bool {
        self.teams.is_empty()
            && self.beds.is_empty()
            && self.stock.is_empty()
            && self.in_transit.is_empty()
    }

    /// How many things are held, for a dispatcher's summary.
    pub fn count(&self) -> usize {
        self.teams.len() + self.beds.len() + self.stock.len() + self.in_transit.len()
    }
}

/// What a movement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Issued stock on its way to a township, facility or incident site (配送).
    Consignment,
    /// Stock on its way from one depot to another (调拨).
    Transfer,
}

/// Stock moving (or moved) for an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Movement {
    pub kind: MovementKind,
    /// The shipment or transfer id.
    pub id: String,
    pub from: DepotId,
    pub from_name: Name,
    pub item: ItemCode,
    pub quantity: u32,
    /// The area it goes to (a consignment's township, a transfer's depot's area).
    pub to_area: AreaCode,
    /// The depot a transfer goes to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_depot: Option<DepotId>,
    /// The facility a consignment goes to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_facility: Option<FacilityId>,
    /// Where it is unloaded, when the consignment says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    pub dispatched_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_arrival: Option<DateTime<Utc>>,
    /// Who signed for it, once delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
}

/// One row of the commitments rollup: what a tier and area hold for an incident,
/// have on the way, or have in use. Rolled up further by `GET /api/v1/network`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commitment {
    /// The tier of the resource that holds or sends it.
    pub tier: Option<Tier>,
    /// Where the resource is; for a movement, where it is going.
    pub area: AreaCode,
    /// `teams`, `beds` or `stock`.
    pub kind: &'static str,
    /// `held`, `in_transit` or `in_use`.
    pub status: &'static str,
    pub incident: IncidentId,
    pub teams: u64,
    pub beds: u64,
    pub units: u64,
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
        // Beds its plans hold, and beds its patients occupy: the same pools, read
        // by their reservations or by their admissions.
        let beds = self.beds_for(&serves, |pool| &pool.reserved);
        let (in_transit, delivered) = self.movements_for(incident, &serves);
        let beds_in_use = self.beds_for(&serves, |pool| &pool.admitted);
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
        Holdings {
            teams,
            beds,
            stock,
            in_transit,
            beds_in_use,
            delivered,
        }
    }

    /// Beds at every facility and 平急两用 venue counted per plan by `count`
    /// (reservations or admissions), for the plans `serves` accepts.
    fn beds_for(
        &self,
        serves: &impl Fn(&PlanId) -> bool,
        count: impl Fn(&BedPool) -> &BTreeMap<PlanId, u32>,
    ) -> Vec<HeldBeds> {
        let facilities = self.facilities.values().map(|f| (f.id, &f.name, &f.pools));
        let venues = self
            .convertibles
            .values()
            .map(|v| (v.state.id, &v.state.name, &v.state.pools));
        let mut found = Vec::new();
        for (facility, name, pools) in facilities.chain(venues) {
            for (key, pool) in pools.iter() {
                for (plan, &beds) in count(pool) {
                    if beds > 0 && serves(plan) {
                        found.push(HeldBeds {
                            facility,
                            name: name.clone(),
                            plan: *plan,
                            bed_type: key.bed_type,
                            class: key.class,
                            beds,
                        });
                    }
                }
            }
        }
        found
    }

    /// The consignments and transfers for `incident`: (in transit, delivered).
    fn movements_for(
        &self,
        incident: IncidentId,
        serves: &impl Fn(&PlanId) -> bool,
    ) -> (Vec<Movement>, Vec<Movement>) {
        let mut in_transit = Vec::new();
        let mut delivered = Vec::new();
        for movement in self.movements() {
            let ours = movement.0.incident == Some(incident)
                || movement.0.plan.as_ref().is_some_and(serves);
            if !ours {
                continue;
            }
            match movement.1 {
                Moving::InTransit => in_transit.push(movement.0),
                Moving::Delivered => delivered.push(movement.0),
                Moving::Settled => {}
            }
        }
        (in_transit, delivered)
    }

    /// Every consignment and transfer in the network, with where it stands.
    fn movements(&self) -> Vec<(Movement, Moving)> {
        self.depots
            .values()
            .flat_map(|depot| self.movements_from(depot))
            .collect()
    }

    /// The consignments and transfers a depot sent, with where each stands
    /// (transfers only while in transit).
    fn movements_from(&self, depot: &DepotState) -> Vec<(Movement, Moving)> {
        let mut all = Vec::new();
        for (id, shipment) in &depot.shipments {
            let moving = match shipment.state {
                ShipmentState::InTransit => Moving::InTransit,
                ShipmentState::Delivered => Moving::Delivered,
                ShipmentState::Returned => Moving::Settled,
            };
            let movement = Movement {
                kind: MovementKind::Consignment,
                id: id.to_string(),
                from: depot.id,
                from_name: depot.name.clone(),
                item: shipment.item.clone(),
                quantity: shipment.quantity(),
                to_area: shipment.delivery.area.clone(),
                to_depot: None,
                to_facility: shipment.delivery.facility,
                location: shipment.delivery.location,
                dispatched_at: shipment.dispatched_at,
                expected_arrival: Some(shipment.delivery.expected_arrival),
                received_by: shipment.received_by.clone(),
                plan: shipment.plan,
                incident: shipment.incident,
            };
            all.push((movement, moving));
        }
        for (id, outbound) in &depot.outbound {
            // Received, and only its completion at the source still to come.
            if self.received_transfers.contains(id) {
                continue;
            }
            let destination = self.depots.get(&outbound.to);
            let movement = Movement {
                kind: MovementKind::Transfer,
                id: id.to_string(),
                from: depot.id,
                from_name: depot.name.clone(),
                item: outbound.item.clone(),
                quantity: outbound.picks.iter().map(|p| p.quantity.get()).sum(),
                to_area: destination.map_or_else(|| depot.area.clone(), |d| d.area.clone()),
                to_depot: Some(outbound.to),
                to_facility: None,
                location: destination.map(|d| d.location),
                dispatched_at: outbound.dispatched_at,
                expected_arrival: outbound.expected_arrival,
                received_by: None,
                plan: None,
                incident: outbound.incident,
            };
            all.push((movement, Moving::InTransit));
        }
        all
    }

    /// What every tier and area hold for each incident, have on the way for it,
    /// or have in use: the rows `GET /api/v1/network` rolls up as `commitments`.
    pub fn commitments(&self) -> Vec<Commitment> {
        let teams = self.teams.values().flat_map(|t| self.team_commitments(t));
        let facilities = self
            .facilities
            .values()
            .flat_map(|f| self.pool_commitments(Some(f.tier), &f.area.clone().into(), &f.pools));
        // A 平急两用 venue belongs to its area, not to a tier of its own.
        let venues = self.convertibles.values().flat_map(|v| {
            self.pool_commitments(None, &v.state.area.clone().into(), &v.state.pools)
        });
        let depots = self.depots.values().flat_map(|d| self.depot_commitments(d));
        let mut rows: BTreeMap<CommitmentKey, [u64; 3]> = BTreeMap::new();
        for row in teams.chain(facilities).chain(venues).chain(depots) {
            let sums = rows
                .entry((row.tier, row.area, row.kind, row.status, row.incident))
                .or_default();
            for (sum, n) in sums.iter_mut().zip([row.teams, row.beds, row.units]) {
                *sum += n;
            }
        }
        rows.into_iter()
            .map(
                |((tier, area, kind, status, incident), [teams, beds, units])| Commitment {
                    tier,
                    area,
                    kind,
                    status,
                    incident,
                    teams,
                    beds,
                    units,
                },
            )
            .collect()
    }

    /// What one resource holds, has on the way or has in use, for which
    /// incident: the `held_for` of its [`Resource`](super::Resource).
    pub(super) fn commitments_of_stream(&self, stream: &str) -> Vec<Commitment> {
        let Some((prefix, id)) = stream.split_once('-') else {
            return Vec::new();
        };
        match prefix {
            "team" => id
                .parse()
                .ok()
                .and_then(|id: TeamId| self.teams.get(&id))
                .map(|t| self.team_commitments(t))
                .unwrap_or_default(),
            "facility" => id
                .parse()
                .ok()
                .and_then(|id: FacilityId| self.facilities.get(&id))
                .map(|f| self.pool_commitments(Some(f.tier), &f.area.clone().into(), &f.pools))
                .unwrap_or_default(),
            "convertible" => id
                .parse()
                .ok()
                .and_then(|id: FacilityId| self.convertibles.get(&id))
                .map(|v| self.pool_commitments(None, &v.state.area.clone().into(), &v.state.pools))
                .unwrap_or_default(),
            "depot" => id
                .parse()
                .ok()
                .and_then(|id: DepotId| self.depots.get(&id))
                .map(|d| self.depot_commitments(d))
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn team_commitments(&self, team: &TeamState) -> Vec<Commitment> {
        let status = match team.status {
            TeamStatus::Mobilising { .. } => "in_transit",
            TeamStatus::Deployed { .. } => "in_use",
            _ => return Vec::new(),
        };
        team.status
            .incident()
            .map(|incident| Commitment {
                tier: Some(team.tier),
                area: team.home_area.clone(),
                kind: "teams",
                status,
                incident,
                teams: 1,
                beds: 0,
                units: 0,
            })
            .into_iter()
            .collect()
    }

    fn pool_commitments(
        &self,
        tier: Option<Tier>,
        area: &AreaCode,
        pools: &BedPools,
    ) -> Vec<Commitment> {
        let mut rows = Vec::new();
        for (_, pool) in pools.iter() {
            let held = pool
                .reserved
                .iter()
                .map(|(plan, beds)| ("held", plan, beds));
            let used = pool
                .admitted
                .iter()
                .map(|(plan, beds)| ("in_use", plan, beds));
            for (status, plan, &beds) in held.chain(used) {
                if let Some(&incident) = self.plans.get(plan) {
                    rows.push(Commitment {
                        tier,
                        area: area.clone(),
                        kind: "beds",
                        status,
                        incident,
                        teams: 0,
                        beds: u64::from(beds),
                        units: 0,
                    });
                }
            }
        }
        rows
    }

    fn depot_commitments(&self, depot: &DepotState) -> Vec<Commitment> {
        let tier = Some(super::resources::tier_of_reserve(depot.tier));
        let stock = |area: &AreaCode, status, incident, units| Commitment {
            tier,
            area: area.clone(),
            kind: "stock",
            status,
            incident,
            teams: 0,
            beds: 0,
            units,
        };
        let mut rows = Vec::new();
        for ((plan, _), lots) in &depot.reservations {
            if let Some(&incident) = self.plans.get(plan) {
                let units = lots.values().map(|q| u64::from(q.get())).sum();
                rows.push(stock(&depot.area, "held", incident, units));
            }
        }
        for (movement, moving) in self.movements_from(depot) {
            let incident = movement
                .incident
                .or_else(|| movement.plan.and_then(|p| self.plans.get(&p).copied()));
            if let (Some(incident), Moving::InTransit) = (incident, moving) {
                // Counted where it is going: what an area has coming to it.
                let units = u64::from(movement.quantity);
                rows.push(stock(&movement.to_area, "in_transit", incident, units));
            }
        }
        rows
    }
}

/// A commitments row's key fields.
type CommitmentKey = (
    Option<Tier>,
    AreaCode,
    &'static str,
    &'static str,
    IncidentId,
);

/// Where a movement stands, for sorting it into an incident's holdings.
enum Moving {
    InTransit,
    Delivered,
    /// Returned or received: nothing to show for the incident.
    Settled,
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
            of_plans(
                &mut pools
                    .iter()
                    .flat_map(|(_, pool)| pool.reserved.keys().chain(pool.admitted.keys())),
            )
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
                .map(|d| {
                    let mut incidents: BTreeSet<IncidentId> =
                        of_plans(&mut d.reservations.keys().map(|(plan, _)| plan));
                    for shipment in d.shipments.values().filter(|s| s.in_transit()) {
                        incidents.extend(shipment.incident);
                        incidents.extend(shipment.plan.and_then(|p| self.plans.get(&p).copied()));
                    }
                    let moving = d
                        .outbound
                        .iter()
                        .filter(|(id, _)| !self.received_transfers.contains(id));
                    incidents.extend(moving.filter_map(|(_, o)| o.incident));
                    incidents
                })
                .unwrap_or_default(),
            "incident" => id.parse().ok().into_iter().collect(),
            _ => BTreeSet::new(),
        }
    }
}

/// Which incident each plan serves; a plan made for ad-hoc demand serves none.
pub(super) type PlanIncidents = BTreeMap<PlanId, IncidentId>;

/// The references to an incident an event's data may carry.
#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    incident: Option<IncidentId>,
    #[serde(default)]
    plan: Option<PlanId>,
    #[serde(default)]
    shipment: Option<ShipmentId>,
    #[serde(default)]
    transfer: Option<TransferId>,
    /// A received transfer's source.
    #[serde(default)]
    from: Option<DepotId>,
}

impl OneNetwork {
    /// The incidents an event concerns: those its resource is committed to
    /// after it, and those the event itself names — directly, through a plan, or
    /// through a consignment or a transfer — so the step that ends a commitment (a release, a
    /// signature, a demobilisation) still reaches the incident's subscribers.
    pub fn incidents_of_event(&self, stream: &str, data: &str) -> BTreeSet<IncidentId> {
        let mut incidents = self.incidents_concerning(stream);
        let Ok(named) = serde_json::from_str::<Named>(data) else {
            return incidents;
        };
        incidents.extend(named.incident);
        incidents.extend(named.plan.and_then(|plan| self.plans.get(&plan).copied()));
        let depot = stream
            .strip_prefix("depot-")
            .and_then(|id| id.parse::<DepotId>().ok());
        if let Some(transfer) = named.transfer {
            // Received here from `from`, whose record of it is open until the
            // completion (a dispatch, return or completion names its incident).
            let source = named.from.or(depot).and_then(|id| self.depots.get(&id));
            incidents.extend(
                source
                    .and_then(|source| source.outbound.get(&transfer))
                    .and_then(|outbound| outbound.incident),
            );
        }
        if let Some(shipment) = named.shipment {
            let consignment = depot
                .and_then(|id| self.depots.get(&id))
                .and_then(|depot| depot.shipments.get(&shipment));
            if let Some(consignment) = consignment {
                incidents.extend(consignment.incident);
                incidents.extend(
                    consignment
                        .plan
                        .and_then(|plan| self.plans.get(&plan).copied()),
                );
            }
        }
        incidents
    }
}
