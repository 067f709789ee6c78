//! Incidents in the view: their response level and whether they are still open.

use std::collections::{BTreeMap, BTreeSet};

use ercs_domain::area::DivisionCode;
use ercs_domain::incident::{IncidentEvent, IncidentKind, ResponseLevel};
use ercs_domain::values::Name;
use serde::{Deserialize, Serialize};

/// One incident: its response level (Ⅰ–Ⅳ级响应) and whether it is still open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub kind: IncidentKind,
    pub title: Name,
    pub level: ResponseLevel,
    pub affected_areas: BTreeSet<DivisionCode>,
    pub closed: bool,
}

impl IncidentRecord {
    /// Folds one event in; `None` until the incident is declared.
    pub fn evolve(record: Option<Self>, event: &IncidentEvent) -> Option<Self> {
        let mut record = match (record, event) {
            (_, IncidentEvent::IncidentDeclared(e)) => {
                return Some(Self {
                    kind: e.kind,
                    title: e.title.clone(),
                    level: e.level,
                    affected_areas: e.affected_areas.clone(),
                    closed: false,
                });
            }
            (None, _) => return None,
            (Some(record), _) => record,
        };
        match event {
            IncidentEvent::ResponseLevelRaised(e) => record.level = e.to,
            IncidentEvent::ResponseLevelLowered(e) => record.level = e.to,
            IncidentEvent::AffectedAreasExtended(e) => {
                record.affected_areas.extend(e.areas.iter().cloned())
            }
            IncidentEvent::IncidentClosed(_) => record.closed = true,
            _ => {}
        }
        Some(record)
    }
}

/// Open incidents counted by response level.
pub fn open_by_level<'a>(
    records: impl Iterator<Item = &'a IncidentRecord>,
) -> BTreeMap<ResponseLevel, u32> {
    let mut rollup = BTreeMap::new();
    for record in records.filter(|r| !r.closed) {
        *rollup.entry(record.level).or_default() += 1;
    }
    rollup
}
