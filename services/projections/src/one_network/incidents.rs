//! Incidents in the view: their response level and whether they are still open.

use std::collections::{BTreeMap, BTreeSet};

use ercs_domain::area::DivisionCode;
use ercs_domain::beds::BedType;
use ercs_domain::geo::GeoPoint;
use ercs_domain::incident::{IncidentEvent, IncidentKind, ResponseLevel};
use ercs_domain::supply::ItemCode;
use ercs_domain::team::TeamKind;
use ercs_domain::values::Name;
use serde::{Deserialize, Serialize};

/// One incident: its response level (Ⅰ–Ⅳ级响应), whether it is still open, and
/// the demand recorded for it, which surge plans are made for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub kind: IncidentKind,
    pub title: Name,
    pub level: ResponseLevel,
    pub affected_areas: BTreeSet<DivisionCode>,
    /// Where it happened, when the declaration said: its point on the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    pub closed: bool,
    /// Beds needed, by township and bed type.
    #[serde(default)]
    pub bed_demand: BTreeMap<DivisionCode, BTreeMap<BedType, u32>>,
    /// Units needed, by area and item.
    #[serde(default)]
    pub supply_demand: BTreeMap<DivisionCode, BTreeMap<ItemCode, u32>>,
    /// Teams needed, by kind.
    #[serde(default)]
    pub team_demand: BTreeMap<TeamKind, u32>,
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
                    location: e.location,
                    closed: false,
                    bed_demand: BTreeMap::new(),
                    supply_demand: BTreeMap::new(),
                    team_demand: BTreeMap::new(),
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
            IncidentEvent::BedDemandRecorded(e) => {
                set(
                    record.bed_demand.entry(e.township.clone()).or_default(),
                    e.bed_type,
                    e.beds,
                );
                record.bed_demand.retain(|_, beds| !beds.is_empty());
            }
            IncidentEvent::SupplyDemandRecorded(e) => {
                let units = e.quantity.get();
                set(
                    record.supply_demand.entry(e.area.clone()).or_default(),
                    e.item.clone(),
                    units,
                );
                record.supply_demand.retain(|_, items| !items.is_empty());
            }
            IncidentEvent::TeamDemandRecorded(e) => {
                set(&mut record.team_demand, e.kind.clone(), e.teams)
            }
            _ => {}
        }
        Some(record)
    }
}

/// Sets a demand; zero withdraws it.
fn set<K: Ord>(demand: &mut BTreeMap<K, u32>, key: K, value: u32) {
    if value == 0 {
        demand.remove(&key);
    } else {
        demand.insert(key, value);
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
