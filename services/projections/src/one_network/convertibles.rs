//! 平急两用 convertible facilities in the view: a small record of which phase each
//! is in, taken from the facts on its stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_domain::area::DivisionCode;
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

/// One convertible facility: where it is and which phase it is in since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertibleRecord {
    pub name: Name,
    pub area: DivisionCode,
    pub phase: ConvertiblePhase,
    pub since: DateTime<Utc>,
}

impl ConvertibleRecord {
    /// Folds one event in; `None` until the facility is registered. Bed events
    /// (in emergency use) are not rolled up here.
    pub fn evolve(record: Option<Self>, event: &ConvertibleEvent) -> Option<Self> {
        use ConvertiblePhase::*;
        let (phase, at) = match event {
            ConvertibleEvent::ConvertibleFacilityRegistered(e) => {
                return Some(Self {
                    name: e.name.clone(),
                    area: e.area.clone(),
                    phase: Peacetime,
                    since: e.at,
                });
            }
            ConvertibleEvent::ConversionStarted(e) => (Converting, e.at),
            ConvertibleEvent::ConversionCancelled(e) => (Peacetime, e.at),
            ConvertibleEvent::EmergencyUseActivated(e) => (EmergencyActive, e.at),
            ConvertibleEvent::RecoveryStarted(e) => (Recovering, e.at),
            ConvertibleEvent::RecoveryCompleted(e) => (Peacetime, e.at),
            ConvertibleEvent::ReadinessItemCompleted(_) | ConvertibleEvent::Beds(_) => {
                return record;
            }
        };
        record.map(|r| Self {
            phase,
            since: at,
            ..r
        })
    }
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
