//! Facilities and their bed pools in the view: the domain's own `FacilityState`,
//! folded with `Facility::evolve`. A pool is snapshotted as its counts, and restored
//! by replaying the few bed events that rebuild exactly those counts through
//! `BedPools::apply`, so the bed rules live only in the domain.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ercs_domain::area::{DivisionCode, Tier};
use ercs_domain::beds::{
    BedClass, BedCounts, BedEvent, BedPool, BedPools, BedType, BedsReported, BedsReserved,
    BedsVacated, ExpansionActivated, FacilityKind, FacilityState,
};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::{FacilityId, PlanId};
use ercs_domain::values::Name;
use serde::{Deserialize, Serialize};

/// One facility as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "FacilityRecord", from = "FacilityRecord")]
pub struct FacilityView(pub FacilityState);

impl From<FacilityState> for FacilityView {
    fn from(state: FacilityState) -> Self {
        Self(state)
    }
}

impl From<FacilityView> for FacilityState {
    fn from(view: FacilityView) -> Self {
        view.0
    }
}

/// Which beds: tier, district, EDXL-HAVE bed type and ladder class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BedKey {
    pub tier: Tier,
    pub area: DivisionCode,
    pub bed_type: BedType,
    pub class: BedClass,
}

/// Beds of one key, summed over facilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    facilities: impl Iterator<Item = &'a FacilityView>,
    now: DateTime<Utc>,
) -> BTreeMap<BedKey, BedAvailability> {
    let mut rollup = BTreeMap::new();
    for FacilityView(facility) in facilities {
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

fn availability(class: BedClass, pool: &BedPool, now: DateTime<Utc>) -> BedAvailability {
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
    facilities: impl Iterator<Item = &'a FacilityView>,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Vec<StaleReport> {
    let mut stale: Vec<StaleReport> = facilities
        .flat_map(|FacilityView(f)| {
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

#[derive(Serialize, Deserialize)]
struct FacilityRecord {
    id: FacilityId,
    name: Name,
    kind: FacilityKind,
    tier: Tier,
    area: DivisionCode,
    location: GeoPoint,
    pools: Vec<PoolRecord>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PoolRecord {
    bed_type: BedType,
    class: BedClass,
    counts: BedCounts,
    reported_at: DateTime<Utc>,
    lead_time_minutes: u32,
    usable_from: Option<DateTime<Utc>>,
    reserved: BTreeMap<PlanId, u32>,
}

impl From<FacilityView> for FacilityRecord {
    fn from(FacilityView(f): FacilityView) -> Self {
        Self {
            pools: pool_records(&f.pools),
            id: f.id,
            name: f.name,
            kind: f.kind,
            tier: f.tier,
            area: f.area,
            location: f.location,
        }
    }
}

impl From<FacilityRecord> for FacilityView {
    fn from(r: FacilityRecord) -> Self {
        Self(FacilityState {
            pools: restore_pools(r.id, &r.pools),
            id: r.id,
            name: r.name,
            kind: r.kind,
            tier: r.tier,
            area: r.area,
            location: r.location,
        })
    }
}

pub(super) fn pool_records(pools: &BedPools) -> Vec<PoolRecord> {
    pools
        .iter()
        .map(|(key, pool)| PoolRecord {
            bed_type: key.bed_type,
            class: key.class,
            counts: pool.counts,
            reported_at: pool.reported_at,
            lead_time_minutes: pool.lead_time_minutes,
            usable_from: pool.usable_from,
            reserved: pool.reserved.clone(),
        })
        .collect()
}

pub(super) fn restore_pools(facility_id: FacilityId, records: &[PoolRecord]) -> BedPools {
    let mut pools = BedPools::default();
    for event in records.iter().flat_map(|r| r.events(facility_id)) {
        pools.apply(&event);
    }
    pools
}

impl PoolRecord {
    /// The bed events that leave a fresh pool exactly as recorded: the report, the
    /// activation or vacating that made it usable, and each plan's hold, all at the
    /// pool's reported-at time.
    fn events(&self, facility_id: FacilityId) -> Vec<BedEvent> {
        let (bed_type, class, at) = (self.bed_type, self.class, self.reported_at);
        let mut events: Vec<BedEvent> = vec![
            BedsReported {
                facility_id,
                bed_type,
                class,
                counts: self.counts,
                lead_time_minutes: self.lead_time_minutes,
                at,
            }
            .into(),
        ];
        match (class, self.usable_from) {
            (BedClass::RapidExpansion, Some(ready_at)) => events.push(
                ExpansionActivated {
                    facility_id,
                    bed_type,
                    ready_at,
                    at,
                }
                .into(),
            ),
            (BedClass::RapidVacate, Some(ready_at)) => events.push(
                BedsVacated {
                    facility_id,
                    bed_type,
                    beds: 0,
                    ready_at,
                    at,
                }
                .into(),
            ),
            _ => {}
        }
        events.extend(self.reserved.iter().map(|(&plan, &beds)| {
            BedEvent::from(BedsReserved {
                facility_id,
                plan,
                bed_type,
                class,
                beds,
                at,
            })
        }));
        events
    }
}
