//! 平急两用 convertible facilities in the view: the domain's state of each, since
//! when it is in its phase, and the capacity of the conversion under way or in
//! effect.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_domain::Decider;
use ercs_domain::area::DivisionCode;
use ercs_domain::beds::BedType;
use ercs_domain::convertible::{ConvertibleEvent, ConvertibleFacility, ConvertibleState};
use serde::{Deserialize, Serialize};

/// 有序转换、规范扩容、安全恢复: peacetime → converting → emergency active →
/// recovering (消杀) → peacetime. The domain's own phase.
pub use ercs_domain::convertible::ConversionPhase as ConvertiblePhase;

/// One convertible facility: the domain's own state (where it is, its plan, the
/// conversion under way and, in emergency use, its bed pools) and since when it has
/// been in its phase, which the state does not keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertibleRecord {
    pub state: ConvertibleState,
    pub since: DateTime<Utc>,
}

/// Which convertible beds: district and EDXL-HAVE bed type.
pub type CapacityKey = (DivisionCode, BedType);

/// 平急两用 beds of one key, summed over facilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConvertibleCapacity {
    /// The registered plans, whatever the phase.
    pub planned: u32,
    /// Opened for emergency use (the activated conversion's target).
    pub available_now: u32,
    /// Reachable by converting: planned beds of peacetime venues, the target of
    /// conversions under way, and the beds already open. Recovering venues count
    /// nothing: 消杀 comes first.
    pub within_lead_time: u32,
    /// The longest wait, in minutes from `now`, among the beds in `within_lead_time`:
    /// the planned lead time in peacetime, the time left until `ready_by` while
    /// converting, nothing once open. Rolls up as the maximum.
    pub lead_time_minutes: u32,
}

impl std::ops::AddAssign for ConvertibleCapacity {
    fn add_assign(&mut self, o: Self) {
        self.planned = self.planned.saturating_add(o.planned);
        self.available_now = self.available_now.saturating_add(o.available_now);
        self.within_lead_time = self.within_lead_time.saturating_add(o.within_lead_time);
        self.lead_time_minutes = self.lead_time_minutes.max(o.lead_time_minutes);
    }
}

impl ConvertibleRecord {
    /// Folds one event in with the domain's `evolve`; `None` until registered.
    pub fn evolve(record: Option<Self>, event: &ConvertibleEvent) -> Option<Self> {
        let (state, since) = match record {
            Some(Self { state, since }) => (Some(state), since),
            None => (None, DateTime::<Utc>::MIN_UTC),
        };
        let state = ConvertibleFacility::evolve(state, event)?;
        let since = match event {
            ConvertibleEvent::ConvertibleFacilityRegistered(e) => e.at,
            ConvertibleEvent::ConversionStarted(e) => e.at,
            ConvertibleEvent::ConversionCancelled(e) => e.at,
            ConvertibleEvent::EmergencyUseActivated(e) => e.at,
            ConvertibleEvent::RecoveryStarted(e) => e.at,
            ConvertibleEvent::RecoveryCompleted(e) => e.at,
            ConvertibleEvent::ReadinessItemCompleted(_) | ConvertibleEvent::Beds(_) => since,
        };
        Some(Self { state, since })
    }

    /// This facility's beds by type as of `now`.
    pub(super) fn capacity(&self, now: DateTime<Utc>) -> BTreeMap<BedType, ConvertibleCapacity> {
        let mut beds: BTreeMap<BedType, ConvertibleCapacity> = BTreeMap::new();
        let state = &self.state;
        for (&bed_type, &planned) in &state.planned_beds {
            beds.entry(bed_type).or_default().planned = planned;
        }
        let target = state.conversion.as_ref();
        let (reachable, wait) = match (state.phase, target) {
            (ConvertiblePhase::Peacetime, _) => (&state.planned_beds, state.lead_time_minutes),
            (ConvertiblePhase::Converting, Some(c)) => {
                (&c.target_beds, minutes_until(now, c.ready_by))
            }
            (ConvertiblePhase::EmergencyActive, Some(c)) => {
                for (&bed_type, &n) in &c.target_beds {
                    beds.entry(bed_type).or_default().available_now = n;
                }
                (&c.target_beds, 0)
            }
            _ => return beds,
        };
        for (&bed_type, &n) in reachable {
            let entry = beds.entry(bed_type).or_default();
            entry.within_lead_time = n;
            entry.lead_time_minutes = wait;
        }
        beds
    }
}

/// Whole minutes from `now` until `then`, rounded up; none once it has passed.
fn minutes_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u32 {
    let seconds = (then - now).num_seconds().max(0);
    u32::try_from((seconds + 59) / 60).unwrap_or(u32::MAX)
}

/// 平急两用 beds by district and bed type as of `now`: planned, open now, and
/// reachable within the lead time.
pub fn capacity<'a>(
    records: impl Iterator<Item = &'a ConvertibleRecord>,
    now: DateTime<Utc>,
) -> BTreeMap<CapacityKey, ConvertibleCapacity> {
    let mut rollup: BTreeMap<CapacityKey, ConvertibleCapacity> = BTreeMap::new();
    for record in records {
        for (bed_type, beds) in record.capacity(now) {
            *rollup
                .entry((record.state.area.clone(), bed_type))
                .or_default() += beds;
        }
    }
    rollup
}

/// Convertible facilities counted by district and phase.
pub fn by_phase<'a>(
    records: impl Iterator<Item = &'a ConvertibleRecord>,
) -> BTreeMap<(DivisionCode, ConvertiblePhase), u32> {
    let mut rollup = BTreeMap::new();
    for record in records {
        *rollup
            .entry((record.state.area.clone(), record.state.phase))
            .or_default() += 1;
    }
    rollup
}
