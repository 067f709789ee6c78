//! The bed rules: one function per [`BedCommand`](super::BedCommand), each
//! checking everything its event needs so that `BedPools::apply` never has to clamp.

use chrono::{DateTime, Utc};

use super::pools::{BedPool, BedPools, check_pool_idle};
use super::{BedClass, BedCounts, BedEvent, BedType, PoolKey, event::*};
use crate::DomainError;
use crate::ids::{FacilityId, IncidentId, PlanId};
use crate::values::after_minutes;

/// One facility's pools at the time of one command.
pub(super) struct Rules<'a> {
    pub pools: &'a BedPools,
    pub facility_id: FacilityId,
    pub at: DateTime<Utc>,
}

impl Rules<'_> {
    /// A report is a fact from the field (staff fell ill, a ward closed), so it is
    /// never refused: a command centre that refuses the truth loses its picture of
    /// reality exactly when it matters. `BedCounts` already keeps the counts
    /// themselves valid. If the staffed beds no longer hold every bed plans have
    /// reserved in the pool, the reservations stay (they are promises to plans
    /// already routing patients here) and the report comes with
    /// `ReservationsOverCommitted`, so projections and the routing core re-plan
    /// the plans holding this pool. Until they do, nothing new is reserved and
    /// admissions take at most the free beds (see `check_capacity`).
    pub fn report(&self, key: PoolKey, counts: BedCounts, lead_time_minutes: u32) -> Vec<BedEvent> {
        let reserved = self
            .pools
            .get(key.bed_type, key.class)
            .map_or(0, BedPool::reserved_total);
        let reported = BedsReported {
            facility_id: self.facility_id,
            bed_type: key.bed_type,
            class: key.class,
            counts,
            lead_time_minutes,
            at: self.at,
        };
        let short_by = counts.shortfall(reserved);
        if short_by == 0 {
            return vec![reported.into()];
        }
        let over_committed = ReservationsOverCommitted {
            facility_id: self.facility_id,
            bed_type: key.bed_type,
            class: key.class,
            reserved,
            free: counts.free(),
            short_by,
            at: self.at,
        };
        vec![reported.into(), over_committed.into()]
    }

    pub fn activate_expansion(&self, bed_type: BedType) -> Result<BedEvent, DomainError> {
        let pool = self.pools.expansion(bed_type, "activate_expansion")?;
        let ready_at = after_minutes(self.at, pool.lead_time_minutes, "lead_time_minutes")?;
        Ok(ExpansionActivated {
            facility_id: self.facility_id,
            bed_type,
            ready_at,
            at: self.at,
        }
        .into())
    }

    pub fn stand_down_expansion(&self, bed_type: BedType) -> Result<BedEvent, DomainError> {
        let pool = self.pools.expansion(bed_type, "stand_down_expansion")?;
        let key = PoolKey {
            bed_type,
            class: BedClass::RapidExpansion,
        };
        check_pool_idle(key, pool)?;
        Ok(ExpansionStoodDown {
            facility_id: self.facility_id,
            bed_type,
            at: self.at,
        }
        .into())
    }

    pub fn vacate(&self, bed_type: BedType, beds: u32) -> Result<BedEvent, DomainError> {
        let pool = self.pools.pool(bed_type, BedClass::RapidVacate)?;
        check_at_most(
            positive(beds, "beds")?,
            pool.counts.occupied(),
            "beds",
            "occupied",
        )?;
        let ready_at = after_minutes(self.at, pool.lead_time_minutes, "lead_time_minutes")?;
        Ok(BedsVacated {
            facility_id: self.facility_id,
            bed_type,
            beds,
            ready_at,
            at: self.at,
        }
        .into())
    }

    pub fn admit(
        &self,
        key: PoolKey,
        patients: u32,
        plan: Option<PlanId>,
    ) -> Result<BedEvent, DomainError> {
        self.check_capacity(key, (positive(patients, "patients")?, "patients"), plan)?;
        Ok(PatientsAdmitted {
            facility_id: self.facility_id,
            bed_type: key.bed_type,
            class: key.class,
            patients,
            plan,
            at: self.at,
        }
        .into())
    }

    pub fn discharge(
        &self,
        key: PoolKey,
        patients: u32,
        plan: Option<PlanId>,
    ) -> Result<BedEvent, DomainError> {
        let pool = self.pools.pool(key.bed_type, key.class)?;
        check_at_most(
            positive(patients, "patients")?,
            pool.counts.occupied(),
            "patients",
            "occupied",
        )?;
        if let Some(plan) = plan {
            let admitted = pool.admitted.get(&plan).copied().unwrap_or(0);
            if patients > admitted {
                return Err(DomainError::invalid(
                    "patients",
                    format!(
                        "plan {plan} has {admitted} patients admitted in this pool; \
                         {patients} cannot be discharged under it"
                    ),
                ));
            }
        }
        Ok(PatientsDischarged {
            facility_id: self.facility_id,
            bed_type: key.bed_type,
            class: key.class,
            patients,
            at: self.at,
            plan,
        }
        .into())
    }

    pub fn reserve(
        &self,
        key: PoolKey,
        plan: PlanId,
        beds: u32,
        incident: Option<IncidentId>,
    ) -> Result<BedEvent, DomainError> {
        self.check_capacity(key, (positive(beds, "beds")?, "beds"), None)?;
        Ok(BedsReserved {
            facility_id: self.facility_id,
            plan,
            bed_type: key.bed_type,
            class: key.class,
            beds,
            at: self.at,
            incident,
        }
        .into())
    }

    pub fn release(&self, key: PoolKey, plan: PlanId) -> Result<BedEvent, DomainError> {
        let pool = self.pools.pool(key.bed_type, key.class)?;
        let beds = *pool
            .reserved
            .get(&plan)
            .ok_or_else(|| DomainError::not_found("bed reservation", plan))?;
        Ok(BedReservationReleased {
            facility_id: self.facility_id,
            plan,
            bed_type: key.bed_type,
            class: key.class,
            beds,
            at: self.at,
        }
        .into())
    }

    /// Hands `beds` of what `plans.0` holds in the pool over to `plans.1`. Only
    /// what the first plan holds can move, and a plan cannot take over from itself.
    pub fn move_reservation(
        &self,
        key: PoolKey,
        (from, to): (PlanId, PlanId),
        beds: u32,
        incident: Option<IncidentId>,
    ) -> Result<BedEvent, DomainError> {
        let beds = positive(beds, "beds")?;
        if from == to {
            return Err(DomainError::invalid(
                "to",
                "a reservation moves to another plan, not to the plan holding it",
            ));
        }
        let pool = self.pools.pool(key.bed_type, key.class)?;
        let held = *pool
            .reserved
            .get(&from)
            .ok_or_else(|| DomainError::not_found("bed reservation", from))?;
        check_at_most(beds, held, "beds", "held by the plan")?;
        Ok(BedReservationMoved {
            facility_id: self.facility_id,
            from,
            to,
            bed_type: key.bed_type,
            class: key.class,
            beds,
            at: self.at,
            incident,
        }
        .into())
    }

    /// Beds for `wanted` patients must be usable now and free. Under a plan they may
    /// come from what the plan holds, but never from beds nobody staffs or somebody
    /// occupies: at most min(staffed − occupied, available + held). In an
    /// over-committed pool available is 0, so nothing is reserved or admitted outside
    /// a plan, and a plan admits at most the free beds, even if it holds more.
    /// `wanted` is the count and the input field it came in.
    fn check_capacity(
        &self,
        key: PoolKey,
        (wanted, field): (u32, &'static str),
        plan: Option<PlanId>,
    ) -> Result<(), DomainError> {
        let pool = self.pools.pool(key.bed_type, key.class)?;
        if !pool.is_usable_at(self.at) {
            let missing = match pool.usable_from {
                Some(from) => format!("usable from {from}"),
                None => "not activated or vacated".to_owned(),
            };
            return Err(DomainError::NotReady {
                what: format!("{key} beds"),
                missing,
            });
        }
        let held = plan
            .and_then(|p| pool.reserved.get(&p))
            .copied()
            .unwrap_or(0);
        let available = pool
            .counts
            .free()
            .min(pool.available().saturating_add(held));
        if wanted > available {
            return Err(DomainError::InsufficientBeds {
                pool: key.to_string(),
                field,
                requested: wanted,
                available,
            });
        }
        Ok(())
    }
}

fn positive(n: u32, field: &'static str) -> Result<u32, DomainError> {
    if n == 0 {
        Err(DomainError::invalid(field, "must be at least 1"))
    } else {
        Ok(n)
    }
}

fn check_at_most(n: u32, limit: u32, field: &'static str, what: &str) -> Result<(), DomainError> {
    if n > limit {
        Err(DomainError::invalid(
            field,
            format!("{n} exceeds the {limit} {what}"),
        ))
    } else {
        Ok(())
    }
}
