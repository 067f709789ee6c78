//! 卫生应急资源“一张网” — the one-network view: every team, bed pool, depot,
//! convertible facility and incident, rolled up by tier, area and kind.
//!
//! The view keeps each aggregate's state as the domain's own `evolve` leaves it
//! (teams, facilities, depots), so availability is judged by the domain's rules and
//! never by a second copy of them. Queries are pure functions of the view and the
//! `now` they are given: the view holds no clock.

mod areas;
pub mod beds;
pub mod convertibles;
mod holdings;
mod incidents;
pub mod plans;
mod resources;
mod shared;
pub mod supplies;
mod teams;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::AddAssign;

use chrono::{DateTime, Duration, Utc};
use ercs_commands::decode;
use ercs_domain::area::DivisionCode;
use ercs_domain::beds::{Facility, FacilityState};
use ercs_domain::convertible::ConvertibleEvent;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, TeamId, TransferId};
use ercs_domain::incident::{IncidentEvent, ResponseLevel};
use ercs_domain::supply::depot::{Depot, DepotEvent, DepotState};
use ercs_domain::supply::{CatalogueItem, ItemCode, ItemState};
use ercs_domain::team::{Team, TeamState};
use ercs_domain::{Decider, DecodeError, DomainError};
use ercs_eventlog::{Filter, RecordedEvent};
use serde::{Deserialize, Serialize};

use crate::Projection;

use areas::Member;
pub use areas::{AreaIndex, AreaRollup};
pub use beds::{BedAvailability, BedKey, StaleReport};
pub use convertibles::{CapacityKey, ConvertibleCapacity, ConvertiblePhase, ConvertibleRecord};
pub use holdings::{Commitment, HeldBeds, HeldStock, HeldTeam, Holdings, Movement, MovementKind};
pub use incidents::IncidentRecord;
pub use resources::{BoundingBox, Resource, ResourceFilter, ResourceKind};
pub use shared::SharedMap;
pub use supplies::{SupplyKey, SupplyRollup};
pub use teams::{TeamCount, TeamKey};

/// The one-network view. Snapshotted as JSON with its position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneNetwork {
    pub teams: SharedMap<TeamId, TeamState>,
    pub facilities: SharedMap<FacilityId, FacilityState>,
    pub depots: SharedMap<DepotId, DepotState>,
    pub convertibles: SharedMap<FacilityId, ConvertibleRecord>,
    pub incidents: SharedMap<IncidentId, IncidentRecord>,
    /// The item catalogue: names, units and shelf lives of what depots stock.
    pub items: SharedMap<ItemCode, ItemState>,
    /// Which incident each surge plan serves, from its `PlanProposed` record: an
    /// incident's reservations are its plans'.
    #[serde(default)]
    pub plans: holdings::PlanIncidents,
    /// Every plan and where it stands (proposed, approved, cancelled, ...).
    #[serde(default)]
    pub plan_states: SharedMap<ercs_domain::ids::PlanId, plans::PlanSummary>,
    /// Where each resource's stream stands, by stream name: its revision (the
    /// `ETag` of the resource) and the log position of its last event.
    pub marks: SharedMap<String, Mark>,
    /// Transfers received at their destination whose completion at the source
    /// is still to come (a depot's state keeps no record of what it received,
    /// so the view keeps these few: at most the transfers open at their source).
    #[serde(default)]
    pub received_transfers: BTreeSet<TransferId>,
    /// Events of this view's streams that this build could not read: logged and
    /// left out, never guessed at.
    pub skipped: u64,
    /// Which resources lie in each area, so one district rolls up without
    /// reading the city. Derived from the state above, so it is not snapshotted:
    /// built on first use, then kept up to date by every fold.
    #[serde(skip)]
    by_area: areas::LazyIndex,
}

impl Projection for OneNetwork {
    const NAME: &'static str = "one-network";
    // 6: a reservation or admission no longer moves a pool's `reported_at`;
    // plans and the incident each serves. 7: consignments, transfers in
    // transit, beds in use per plan. 8: plans' statuses. 10: depots keep no
    // settled or received transfer ids; `received_transfers`.
    const VERSION: u32 = 10;

    /// Every stream: events are dispatched by stream prefix, and other streams
    /// (the item catalogue, processes) are passed over.
    fn filter() -> Filter {
        Filter::all()
    }

    fn apply(&mut self, event: &RecordedEvent) {
        if let Err(error) = self.fold(event) {
            tracing::warn!(
                projection = Self::NAME,
                stream = event.stream.as_str(),
                position = event.position.0,
                event_type = event.event_type.as_str(),
                %error,
                "skipped an event the one-network view cannot read"
            );
            self.skipped += 1;
        }
        self.marks.insert(
            event.stream.as_str().to_owned(),
            Mark {
                revision: event.revision,
                position: event.position.0,
                at: event.recorded_at,
            },
        );
    }
}

/// The last event of one stream the view has folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The stream's revision: 0 after its first event.
    pub revision: u64,
    pub position: u64,
    /// When the log recorded that event.
    pub at: DateTime<Utc>,
}

/// Why an event was left out of the view.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("the stream name does not carry a valid id: {0}")]
    Id(#[from] DomainError),
    #[error(transparent)]
    Event(#[from] DecodeError),
}

impl OneNetwork {
    fn fold(&mut self, event: &RecordedEvent) -> Result<(), Unreadable> {
        let Some((prefix, id)) = event.stream.as_str().split_once('-') else {
            return Ok(());
        };
        match prefix {
            "team" => {
                let (id, event) = (id.parse()?, decode(event)?);
                self.refiled(Member::Team(id), |v| {
                    fold::<Team, _>(&mut v.teams, id, &event)
                })
            }
            "facility" => {
                let (id, event) = (id.parse()?, decode(event)?);
                self.refiled(Member::Facility(id), |v| {
                    fold::<Facility, _>(&mut v.facilities, id, &event)
                })
            }
            "depot" => {
                let (id, event) = (id.parse()?, decode(event)?);
                match &event {
                    DepotEvent::TransferReceived(e) => {
                        self.received_transfers.insert(e.transfer);
                    }
                    DepotEvent::TransferCompleted(e) => {
                        self.received_transfers.remove(&e.transfer);
                    }
                    _ => {}
                }
                self.refiled(Member::Depot(id), |v| {
                    fold::<Depot, _>(&mut v.depots, id, &event)
                })
            }
            "item" => fold::<CatalogueItem, _>(&mut self.items, id.parse()?, &decode(event)?),
            "convertible" => {
                let (id, event): (_, ConvertibleEvent) = (id.parse()?, decode(event)?);
                self.refiled(Member::Convertible(id), |v| {
                    v.convertibles
                        .update(id, |r| ConvertibleRecord::evolve(r, &event))
                })
            }
            "incident" => {
                let (id, event): (_, IncidentEvent) = (id.parse()?, decode(event)?);
                self.refiled(Member::Incident(id), |v| {
                    v.incidents
                        .update(id, |r| IncidentRecord::evolve(r, &event))
                })
            }
            "plan" => self.fold_plan(id.parse()?, event)?,
            _ => {}
        }
        Ok(())
    }

    /// Runs `fold` and files `member` under the areas it lies in afterwards.
    fn refiled(&mut self, member: Member, fold: impl FnOnce(&mut Self)) {
        let before = match self.by_area.get_mut() {
            Some(_) => self.areas_of(member),
            None => Vec::new(),
        };
        fold(self);
        let after = self.areas_of(member);
        if let Some(index) = self.by_area.get_mut() {
            index.refile(member, &before, &after);
        }
    }

    /// One event of a plan's stream: what it serves and where it stands.
    fn fold_plan(
        &mut self,
        id: ercs_domain::ids::PlanId,
        event: &RecordedEvent,
    ) -> Result<(), Unreadable> {
        use plans::{Approved, PlanStatus, PlanSummary, Proposed, Superseded};
        fn read<'a, T: Deserialize<'a>>(
            event: &'a RecordedEvent,
            event_type: &'static str,
        ) -> Result<T, Unreadable> {
            event
                .data
                .deserialize()
                .map_err(|source| DecodeError::Malformed { event_type, source }.into())
        }
        let at = event.recorded_at;
        let status = match event.event_type.as_str() {
            "PlanProposed" => {
                let plan: Proposed = read(event, "PlanProposed")?;
                if let Some(incident) = plan.request.incident {
                    self.plans.insert(plan.plan_id, incident);
                }
                let summary = PlanSummary {
                    plan: plan.plan_id,
                    incident: plan.request.incident,
                    status: PlanStatus::Proposed,
                    proposed_at: plan.proposed_at,
                    proposed_by: plan.proposed_by,
                    changed_at: at,
                    superseded_by: None,
                    supersedes: plan.request.supersedes,
                };
                self.plan_states.insert(plan.plan_id, summary);
                return Ok(());
            }
            "PlanApproved" => {
                let approved: Approved = read(event, "PlanApproved")?;
                if approved.partial {
                    PlanStatus::PartlyApproved
                } else {
                    PlanStatus::Approved
                }
            }
            "PlanCancelled" => PlanStatus::Cancelled,
            "PlanSuperseded" => {
                let superseded: Superseded = read(event, "PlanSuperseded")?;
                if let Some(summary) = self.plan_states.get_mut(&id) {
                    summary.superseded_by = Some(superseded.by);
                }
                PlanStatus::Superseded
            }
            _ => return Ok(()),
        };
        if let Some(summary) = self.plan_states.get_mut(&id) {
            summary.status = status;
            summary.changed_at = at;
        }
        Ok(())
    }

    /// An incident's plans, oldest first.
    pub fn plans_of(&self, incident: IncidentId) -> Vec<&plans::PlanSummary> {
        let mut found: Vec<_> = self
            .plan_states
            .values()
            .filter(|p| p.incident == Some(incident))
            .collect();
        found.sort_by_key(|p| p.proposed_at);
        found
    }

    /// Teams by tier, home area, kind and status, with their headcount.
    pub fn teams_by_status_and_kind(&self) -> BTreeMap<TeamKey, TeamCount> {
        teams::by_status_and_kind(self.teams.values())
    }

    /// Beds by tier, area, type and ladder class: usable at `now`, and usable once
    /// each pool's lead time has run.
    pub fn beds_by_type_and_class(&self, now: DateTime<Utc>) -> BTreeMap<BedKey, BedAvailability> {
        beds::by_type_and_class(self.facilities.values(), now)
    }

    /// Stock by reserve tier, area and item, with days-to-expiry buckets and the
    /// shortfall against the reserve norms, at `now`.
    pub fn supplies_by_item(&self, now: DateTime<Utc>) -> BTreeMap<SupplyKey, SupplyRollup> {
        supplies::by_item(self.depots.values(), now)
    }

    /// 平急两用 facilities by district and phase.
    pub fn convertibles_by_phase(&self) -> BTreeMap<(DivisionCode, ConvertiblePhase), u32> {
        convertibles::by_phase(self.convertibles.values())
    }

    /// 平急两用 emergency beds by district and bed type at `now`: planned, open now,
    /// and reachable within the lead time, with the longest wait for them.
    pub fn convertible_capacity(
        &self,
        now: DateTime<Utc>,
    ) -> BTreeMap<CapacityKey, ConvertibleCapacity> {
        convertibles::capacity(self.convertibles.values(), now)
    }

    /// Open incidents by response level.
    pub fn incidents_by_level(&self) -> BTreeMap<ResponseLevel, u32> {
        incidents::open_by_level(self.incidents.values())
    }

    /// Bed pools last reported more than `stale_after` before `now`, oldest first.
    pub fn stale_reports(&self, now: DateTime<Utc>, stale_after: Duration) -> Vec<StaleReport> {
        beds::stale(self.facilities.values(), now, stale_after)
    }
}

/// Rolls a rollup up further, e.g. beds by tier alone: `roll_up(&beds, |k| k.tier)`.
pub fn roll_up<K, K2: Ord, V: AddAssign + Default + Copy>(
    rollup: &BTreeMap<K, V>,
    by: impl Fn(&K) -> K2,
) -> BTreeMap<K2, V> {
    let mut coarser = BTreeMap::new();
    for (key, value) in rollup {
        *coarser.entry(by(key)).or_default() += *value;
    }
    coarser
}

/// Folds one event into an aggregate's state with the domain's own `evolve`.
fn fold<D, S: Clone>(states: &mut SharedMap<D::Id, S>, id: D::Id, event: &D::Event)
where
    D: Decider<State = Option<S>>,
    D::Id: Ord + Clone,
{
    states.update(id, |state| D::evolve(state, event))
}
