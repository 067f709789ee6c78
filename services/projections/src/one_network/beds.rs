//! Facilities and their bed pools in the view: the domain's own `FacilityState`,
//! folded with `Facility::evolve`, so the bed rules live only in the domain.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ercs_domain::area::{DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedPool, BedPools, BedType, FacilityState, PoolKey};
use ercs_domain::ids::FacilityId;
use ercs_domain::values::Name;

/// Which beds: tier, district, EDXL-HAVE bed type and ladder class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct BedKey {
    pub tier: Tier,
    pub area: DivisionCode,
    pub bed_type: BedType,
    pub class: BedClass,
}

/// Beds of one key, summed over facilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BedAvailability {
    pub total: u32,
    pub staffed: u32,
    pub occupied: u32,
    pub reserved: u32,
    /// Usable at `now`: staffed, free, not held, and past any lead time.
    pub available_now: u32,
    /// Usable once the pool's lead time has run: designated beds as now,
    /// rapid-expansion beds once activated (whether or not they are yet), and
    /// rapid-vacate beds including those routine patients hold today.
    pub within_lead_time: u32,
}

impl std::ops::AddAssign for BedAvailability {
    fn add_assign(&mut self, o: Self) {
        self.total = self.total.saturating_add(o.total);
        self.staffed = self.staffed.saturating_add(o.staffed);
        self.occupied = self.occupied.saturating_add(o.occupied);
        self.reserved = self.reserved.saturating_add(o.reserved);
        self.available_now = self.available_now.saturating_add(o.available_now);
        self.within_lead_time = self.within_lead_time.saturating_add(o.within_lead_time);
    }
}

/// A pool whose counts are older than the stale age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleReport {
    pub facility: FacilityId,
    pub name: Name,
    pub bed_type: BedType,
    pub class: BedClass,
    pub reported_at: DateTime<Utc>,
    pub age: Duration,
}

/// Beds rolled up by tier, district, type and ladder class, as of `now`.
pub fn by_type_and_class<'a>(
    facilities: impl Iterator<Item = &'a FacilityState>,
    now: DateTime<Utc>,
) -> BTreeMap<BedKey, BedAvailability> {
    let mut rollup = BTreeMap::new();
    for facility in facilities {
        for (key, pool) in facility.pools.iter() {
            let at = BedKey {
                tier: facility.tier,
                area: facility.area.clone(),
                bed_type: key.bed_type,
                class: key.class,
            };
            *rollup.entry(at).or_default() += availability(key.class, pool, now);
        }
    }
    rollup
}

/// One set of bed pools (a facility's, or a 平急两用 venue's in emergency use) by
/// type and class, as of `now`.
pub fn of_pools(pools: &BedPools, now: DateTime<Utc>) -> Vec<(PoolKey, BedAvailability, u32)> {
    pools
        .iter()
        .map(|(key, pool)| {
            (
                *key,
                availability(key.class, pool, now),
                pool.lead_time_minutes,
            )
        })
        .collect()
}

pub(super) fn availability(class: BedClass, pool: &BedPool, now: DateTime<Utc>) -> BedAvailability {
    let reserved = pool.reserved_total();
    let within_lead_time = match class {
        BedClass::Designated | BedClass::RapidExpansion => pool.available(),
        BedClass::RapidVacate => pool.counts.staffed().saturating_sub(reserved),
    };
    BedAvailability {
        total: pool.counts.total(),
        staffed: pool.counts.staffed(),
        occupied: pool.counts.occupied(),
        reserved,
        available_now: pool.available_at(now),
        within_lead_time,
    }
}

/// Pools last reported more than `stale_after` before `now`, oldest first.
pub fn stale<'a>(
    facilities: impl Iterator<Item = &'a FacilityState>,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Vec<StaleReport> {
    let mut stale: Vec<StaleReport> = facilities
        .flat_map(|f| {
            f.pools.iter().map(move |(key, pool)| StaleReport {
                facility: f.id,
                name: f.name.clone(),
                bed_type: key.bed_type,
                class: key.class,
                reported_at: pool.reported_at,
                age: now - pool.reported_at,
            })
        })
        .filter(|report| report.age > stale_after)
        .collect();
    stale.sort_by_key(|report| (report.reported_at, report.facility));
    stale
}
