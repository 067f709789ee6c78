//! The bed rules, shared by every aggregate that holds beds.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BedClass, BedCommand, BedCounts, BedEvent, BedType, PoolKey, event::*};
use crate::DomainError;
use crate::decider::corrupt_stream;
use crate::ids::{FacilityId, PlanId};
use crate::lifecycle::Lifecycle;

/// One pool: the beds of one type and ladder class at one facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BedPool {
    pub counts: BedCounts,
    /// When these counts were last reported or changed.
    #[cfg_attr(feature = "openapi", schema(example = "2025-07-01T07:45:00Z"))]
    pub reported_at: DateTime<Utc>,
    pub lead_time_minutes: u32,
    /// From when the beds may be used; `None` while dormant (expansion not activated,
    /// vacate not ordered). Designated beds are usable from the start of time, chrono's
    /// earliest instant, which serde writes as `-262143-01-01T00:00:00Z` (not RFC 3339).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::usable_from))]
    pub usable_from: Option<DateTime<Utc>>,
    /// Beds held for plans.
    pub reserved: BTreeMap<PlanId, u32>,
    /// Patients admitted under each plan and not yet discharged (in use for its incident).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub admitted: BTreeMap<PlanId, u32>,
}

impl BedPool {
    pub fn reserved_total(&self) -> u32 {
        self.reserved
            .values()
            .fold(0, |sum, beds| sum.saturating_add(*beds))
    }

    /// staffed − occupied − reserved, never below zero.
    pub fn available(&self) -> u32 {
        self.counts.free().saturating_sub(self.reserved_total())
    }

    /// Beds plans hold beyond the free ones (reserved − free, else 0). Only a report
    /// makes this positive (the field's counts are never refused); releases,
    /// discharges and admissions under the short plans bring it back down.
    pub fn over_committed(&self) -> u32 {
        self.counts.shortfall(self.reserved_total())
    }

    pub fn is_usable_at(&self, at: DateTime<Utc>) -> bool {
        self.usable_from.is_some_and(|from| from <= at)
    }

    /// What a dispatcher can send patients to at `at`.
    pub fn available_at(&self, at: DateTime<Utc>) -> u32 {
        if self.is_usable_at(at) {
            self.available()
        } else {
            0
        }
    }

    pub fn expansion_phase(&self) -> ExpansionPhase {
        if self.usable_from.is_some() {
            ExpansionPhase::Active
        } else {
            ExpansionPhase::Dormant
        }
    }
}

/// Whether a facility's rapid-expansion beds of one type are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpansionPhase {
    Dormant,
    /// Activated: usable once the lead time has passed.
    Active,
}

impl Lifecycle for ExpansionPhase {
    const AGGREGATE: &'static str = "rapid-expansion bed pool";
    const TRANSITIONS: &'static [(Self, &'static str, Self)] = &[
        (Self::Dormant, "activate_expansion", Self::Active),
        (Self::Active, "stand_down_expansion", Self::Dormant),
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Dormant => "dormant",
            Self::Active => "active",
        }
    }
}

/// All the bed pools of one facility; serialized as `[key, pool]` pairs, since a
/// `PoolKey` cannot be a JSON object key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BedPools {
    #[serde(with = "crate::map_as_pairs")]
    pools: BTreeMap<PoolKey, BedPool>,
}

impl BedPools {
    pub fn get(&self, bed_type: BedType, class: BedClass) -> Option<&BedPool> {
        self.pools.get(&PoolKey { bed_type, class })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&PoolKey, &BedPool)> {
        self.pools.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    pub fn occupied(&self) -> u32 {
        self.pools
            .values()
            .fold(0, |sum, p| sum.saturating_add(p.counts.occupied()))
    }

    pub fn reserved(&self) -> u32 {
        self.pools
            .values()
            .fold(0, |sum, p| sum.saturating_add(p.reserved_total()))
    }

    /// Beds held beyond the free ones, over all pools: what plans must re-plan.
    pub fn over_committed(&self) -> u32 {
        self.pools
            .values()
            .fold(0, |sum, p| sum.saturating_add(p.over_committed()))
    }

    /// Beds of a type usable at `at`, over all ladder classes.
    pub fn available_at(&self, bed_type: BedType, at: DateTime<Utc>) -> u32 {
        self.pools
            .iter()
            .filter(|(key, _)| key.bed_type == bed_type)
            .fold(0, |sum, (_, pool)| {
                sum.saturating_add(pool.available_at(at))
            })
    }

    /// Refuses unless no bed is occupied or held; `what` names the holder in the error.
    pub(crate) fn check_idle(&self, what: impl Into<String>) -> Result<(), DomainError> {
        check_idle(what.into(), self.occupied(), self.reserved())
    }

    /// Opens designated pools with the given totals, none staffed yet.
    pub(crate) fn open_designated(targets: &BTreeMap<BedType, u32>, at: DateTime<Utc>) -> Self {
        let pools = targets
            .iter()
            .map(|(&bed_type, &total)| {
                let counts = BedCounts::new(total, 0, 0).unwrap_or_default();
                let pool = BedPool {
                    counts,
                    reported_at: at,
                    lead_time_minutes: 0,
                    usable_from: Some(DateTime::<Utc>::MIN_UTC),
                    reserved: BTreeMap::new(),
                    admitted: BTreeMap::new(),
                };
                (
                    PoolKey {
                        bed_type,
                        class: BedClass::Designated,
                    },
                    pool,
                )
            })
            .collect();
        Self { pools }
    }

    /// Decides one bed command for the facility `facility_id` at `at`.
    pub fn decide(
        &self,
        facility_id: FacilityId,
        command: BedCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<BedEvent>, DomainError> {
        let rules = super::rules::Rules {
            pools: self,
            facility_id,
            at,
        };
        let event = match command {
            BedCommand::Report {
                bed_type,
                class,
                counts,
                lead_time_minutes,
            } => {
                // Never refused, and it may bring the over-commitment alarm with it.
                return Ok(rules.report(PoolKey { bed_type, class }, counts, lead_time_minutes));
            }
            BedCommand::ActivateExpansion { bed_type } => rules.activate_expansion(bed_type),
            BedCommand::StandDownExpansion { bed_type } => rules.stand_down_expansion(bed_type),
            BedCommand::Vacate { bed_type, beds } => rules.vacate(bed_type, beds),
            BedCommand::Admit {
                bed_type,
                class,
                patients,
                plan,
            } => rules.admit(PoolKey { bed_type, class }, patients, plan),
            BedCommand::Discharge {
                bed_type,
                class,
                patients,
                plan,
            } => rules.discharge(PoolKey { bed_type, class }, patients, plan),
            BedCommand::Reserve {
                plan,
                bed_type,
                class,
                beds,
                incident,
            } => rules.reserve(PoolKey { bed_type, class }, plan, beds, incident),
            BedCommand::Release {
                plan,
                bed_type,
                class,
            } => rules.release(PoolKey { bed_type, class }, plan),
            BedCommand::MoveReservation {
                from,
                to,
                bed_type,
                class,
                beds,
                incident,
            } => rules.move_reservation(PoolKey { bed_type, class }, (from, to), beds, incident),
        }?;
        Ok(vec![event])
    }

    /// Applies one event exactly as its decider emitted it. The deciders keep
    /// occupied ≤ staffed, and never reserve or admit beyond the free beds, so nothing
    /// here clamps; an event that breaks them comes from a corrupt stream (see the
    /// crate doc on invariants). Reserved may exceed free only after a report, which
    /// is a fact and applied as reported: see [`BedPool::over_committed`].
    pub fn apply(&mut self, event: &BedEvent) {
        match event {
            BedEvent::BedsReported(e) => self.report(e),
            BedEvent::ExpansionActivated(e) => {
                self.update(e.bed_type, BedClass::RapidExpansion, |pool| {
                    pool.usable_from = Some(e.ready_at);
                })
            }
            BedEvent::ExpansionStoodDown(e) => {
                self.update(e.bed_type, BedClass::RapidExpansion, |pool| {
                    pool.usable_from = None;
                })
            }
            BedEvent::BedsVacated(e) => self.update(e.bed_type, BedClass::RapidVacate, |pool| {
                change_occupied(pool, e.beds, Change::Down);
                pool.usable_from = Some(e.ready_at);
            }),
            BedEvent::PatientsAdmitted(e) => self.update(e.bed_type, e.class, |pool| {
                if let Some(plan) = e.plan {
                    take_reserved(pool, plan, e.patients);
                    let admitted = pool.admitted.entry(plan).or_default();
                    *admitted = admitted.saturating_add(e.patients);
                }
                change_occupied(pool, e.patients, Change::Up);
            }),
            BedEvent::PatientsDischarged(e) => self.update(e.bed_type, e.class, |pool| {
                if let Some(plan) = e.plan
                    && let Some(admitted) = pool.admitted.get_mut(&plan)
                {
                    *admitted = admitted.saturating_sub(e.patients);
                    if *admitted == 0 {
                        pool.admitted.remove(&plan);
                    }
                }
                change_occupied(pool, e.patients, Change::Down);
            }),
            BedEvent::BedsReserved(e) => self.update(e.bed_type, e.class, |pool| {
                let held = pool.reserved.entry(e.plan).or_default();
                *held = held.checked_add(e.beds).unwrap_or_else(|| {
                    corrupt_stream(format_args!(
                        "plan {} holds more than u32::MAX beds",
                        e.plan
                    ));
                    u32::MAX
                });
            }),
            BedEvent::BedReservationReleased(e) => self.update(e.bed_type, e.class, |pool| {
                pool.reserved.remove(&e.plan);
            }),
            BedEvent::BedReservationMoved(e) => self.update(e.bed_type, e.class, |pool| {
                let moved = take_reserved(pool, e.from, e.beds);
                if moved < e.beds {
                    corrupt_stream(format_args!(
                        "plan {} moved {} beds but held {moved}",
                        e.from, e.beds
                    ));
                }
                let held = pool.reserved.entry(e.to).or_default();
                *held = held.saturating_add(moved);
            }),
            // The report before it already left the pool short; this is the alarm.
            BedEvent::ReservationsOverCommitted(_) => {}
        }
    }

    fn report(&mut self, e: &BedsReported) {
        let key = PoolKey {
            bed_type: e.bed_type,
            class: e.class,
        };
        let previous = self.pools.remove(&key);
        let usable_from = match e.class {
            // Designated beds are usable as soon as they are staffed.
            BedClass::Designated => Some(DateTime::<Utc>::MIN_UTC),
            _ => previous.as_ref().and_then(|p| p.usable_from),
        };
        let (reserved, admitted) = previous
            .map(|p| (p.reserved, p.admitted))
            .unwrap_or_default();
        let pool = BedPool {
            counts: e.counts,
            reported_at: e.at,
            lead_time_minutes: e.lead_time_minutes,
            usable_from,
            reserved,
            admitted,
        };
        self.pools.insert(key, pool);
    }

    /// Changes a pool. Only a report from the field moves `reported_at`: a
    /// reservation, an admission or an activation is not news of the counts, and
    /// a clinic that never reports must stay flagged stale.
    fn update(&mut self, bed_type: BedType, class: BedClass, change: impl FnOnce(&mut BedPool)) {
        if let Some(pool) = self.pools.get_mut(&PoolKey { bed_type, class }) {
            change(pool);
        }
    }

    pub(super) fn pool(&self, bed_type: BedType, class: BedClass) -> Result<&BedPool, DomainError> {
        let key = PoolKey { bed_type, class };
        self.pools
            .get(&key)
            .ok_or_else(|| DomainError::not_found("bed pool", key))
    }

    pub(super) fn expansion(
        &self,
        bed_type: BedType,
        action: &'static str,
    ) -> Result<&BedPool, DomainError> {
        let pool = self.pool(bed_type, BedClass::RapidExpansion)?;
        pool.expansion_phase().step(action)?;
        Ok(pool)
    }
}

pub(super) fn check_pool_idle(key: PoolKey, pool: &BedPool) -> Result<(), DomainError> {
    check_idle(
        key.to_string(),
        pool.counts.occupied(),
        pool.reserved_total(),
    )
}

fn check_idle(what: String, occupied: u32, reserved: u32) -> Result<(), DomainError> {
    match (occupied, reserved) {
        (0, 0) => Ok(()),
        _ => Err(DomainError::BedsInUse {
            what,
            occupied,
            reserved,
        }),
    }
}

/// Takes up to `beds` of what `plan` holds (admissions under a plan use its held
/// beds first; a move hands them on); returns how many it took.
fn take_reserved(pool: &mut BedPool, plan: PlanId, beds: u32) -> u32 {
    let Some(held) = pool.reserved.get_mut(&plan) else {
        return 0;
    };
    let taken = beds.min(*held);
    *held -= taken;
    if *held == 0 {
        pool.reserved.remove(&plan);
    }
    taken
}

#[derive(Clone, Copy)]
enum Change {
    Up,
    Down,
}

/// Moves the occupancy by exactly `by`; a move the counts cannot hold is a corrupt stream.
fn change_occupied(pool: &mut BedPool, by: u32, change: Change) {
    let occupied = pool.counts.occupied();
    let exact = match change {
        Change::Up => occupied.checked_add(by),
        Change::Down => occupied.checked_sub(by),
    };
    match exact.map(|n| pool.counts.with_occupied(n)) {
        Some(Ok(counts)) => pool.counts = counts,
        _ => {
            corrupt_stream(format_args!(
                "occupancy {occupied} cannot move by {by} within {:?}",
                pool.counts
            ));
            let nearest = match change {
                Change::Up => occupied.saturating_add(by).min(pool.counts.staffed()),
                Change::Down => occupied.saturating_sub(by),
            };
            pool.counts = pool.counts.with_occupied(nearest).unwrap_or(pool.counts);
        }
    }
}
