//! 平急两用 convertible facilities in the view: a small record of which phase each
//! is in, its registered plan (emergency beds and lead time) and the capacity of the
//! conversion under way or in effect, taken from the facts on its stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_domain::area::DivisionCode;
use ercs_domain::beds::BedType;
use ercs_domain::convertible::ConvertibleEvent;
use ercs_domain::values::Name;
use serde::{Deserialize, Serialize};

/// 有序转换、规范扩容、安全恢复: peacetime → converting → emergency active →
/// recovering (消杀) → peacetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvertiblePhase {
    Peacetime,
    Converting,
    EmergencyActive,
    Recovering,
}

/// One convertible facility: where it is, which phase it is in since when, and
/// what it can give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertibleRecord {
    pub name: Name,
    pub area: DivisionCode,
    pub phase: ConvertiblePhase,
    pub since: DateTime<Utc>,
    /// The registered plan: emergency beds by type, within `lead_time_minutes`.
    pub planned_beds: BTreeMap<BedType, u32>,
    pub lead_time_minutes: u32,
    /// The conversion under way or in effect, which may differ from the plan;
    /// `None` in peacetime.
    pub conversion: Option<ConversionRecord>,
}

/// What a conversion aims at and when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionRecord {
    pub target_beds: BTreeMap<BedType, u32>,
    pub ready_by: DateTime<Utc>,
}

/// Which convertible beds: district and EDXL-HAVE bed type.
pub type CapacityKey = (DivisionCode, BedType);

/// 平急两用 beds of one key, summed over facilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    /// Folds one event in; `None` until the facility is registered. Bed events
    /// (in emergency use) are not rolled up here.
    pub fn evolve(record: Option<Self>, event: &ConvertibleEvent) -> Option<Self> {
        use ConvertiblePhase::*;
        if let ConvertibleEvent::ConvertibleFacilityRegistered(e) = event {
            return Some(Self {
                name: e.name.clone(),
                area: e.area.clone(),
                phase: Peacetime,
                since: e.at,
                planned_beds: e.planned_beds.clone(),
                lead_time_minutes: e.lead_time_minutes,
                conversion: None,
            });
        }
        let mut record = record?;
        let (phase, at) = match event {
            ConvertibleEvent::ConversionStarted(e) => {
                record.conversion = Some(ConversionRecord {
                    target_beds: e.target_beds.clone(),
                    ready_by: e.ready_by,
                });
                (Converting, e.at)
            }
            ConvertibleEvent::ConversionCancelled(e) => (Peacetime, e.at),
            ConvertibleEvent::EmergencyUseActivated(e) => (EmergencyActive, e.at),
            ConvertibleEvent::RecoveryStarted(e) => (Recovering, e.at),
            ConvertibleEvent::RecoveryCompleted(e) => (Peacetime, e.at),
            ConvertibleEvent::ConvertibleFacilityRegistered(_)
            | ConvertibleEvent::ReadinessItemCompleted(_)
            | ConvertibleEvent::Beds(_) => return Some(record),
        };
        if phase == Peacetime {
            record.conversion = None;
        }
        Some(Self {
            phase,
            since: at,
            ..record
        })
    }

    /// This facility's beds by type as of `now`.
    fn capacity(&self, now: DateTime<Utc>) -> BTreeMap<BedType, ConvertibleCapacity> {
        let mut beds: BTreeMap<BedType, ConvertibleCapacity> = BTreeMap::new();
        for (&bed_type, &planned) in &self.planned_beds {
            beds.entry(bed_type).or_default().planned = planned;
        }
        let target = self.conversion.as_ref();
        let (reachable, wait) = match (self.phase, target) {
            (ConvertiblePhase::Peacetime, _) => (&self.planned_beds, self.lead_time_minutes),
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
            *rollup.entry((record.area.clone(), bed_type)).or_default() += beds;
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
            .entry((record.area.clone(), record.phase))
            .or_default() += 1;
    }
    rollup
}
