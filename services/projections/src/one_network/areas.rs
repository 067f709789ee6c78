//! The one network by district: what a map colours each district polygon with,
//! and what the live feed sends when something in a district changes. Resources
//! in a township or institution count towards their district.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, DivisionCode};
use ercs_domain::beds::BedType;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::supply::ItemCode;
use serde::Serialize;

use super::{
    BedAvailability, ConvertibleCapacity, ConvertiblePhase, OneNetwork, TeamCount, beds,
    convertibles, supplies, teams,
};

/// One district's availability.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AreaRollup {
    /// Teams based in the district by status (`standby`, `deployed`, ...).
    pub teams: BTreeMap<&'static str, TeamCount>,
    /// Beds of every type and class.
    pub beds: BedAvailability,
    pub beds_by_type: BTreeMap<BedType, BedAvailability>,
    /// 平急两用 venues by phase, and their emergency beds.
    pub convertibles: BTreeMap<ConvertiblePhase, u32>,
    pub convertible_beds: ConvertibleCapacity,
    /// Items whose usable stock in the district's depots falls short of their
    /// reserve norms, and by how much (in each item's unit).
    pub supply_shortfall: BTreeMap<ItemCode, u64>,
    /// Open incidents affecting the district.
    pub open_incidents: u32,
}

impl OneNetwork {
    /// Every district's rollup at `now`; districts with nothing in them are absent.
    pub fn area_rollups(
        &self,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
    ) -> BTreeMap<DivisionCode, AreaRollup> {
        self.rollups_where(areas, now, |_| true)
    }

    /// One district's rollup at `now`: what the live feed sends when something
    /// in it changes, so only that district's resources are counted.
    pub fn area_rollup(
        &self,
        district: &DivisionCode,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
    ) -> AreaRollup {
        self.rollups_where(areas, now, |d| d == district)
            .remove(district)
            .unwrap_or_default()
    }

    fn rollups_where(
        &self,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
        wanted: impl Fn(&DivisionCode) -> bool,
    ) -> BTreeMap<DivisionCode, AreaRollup> {
        let district = |area: &AreaCode| -> Option<DivisionCode> {
            areas
                .district_of(area)
                .and_then(|record| record.code.as_division().cloned())
                .or_else(|| area.as_division().cloned())
                .filter(|d| wanted(d))
        };
        let in_scope = |area: &AreaCode| district(area).is_some();
        let mut rollups: BTreeMap<DivisionCode, AreaRollup> = BTreeMap::new();
        let teams = self.teams.values().filter(|t| in_scope(&t.home_area));
        for (key, count) in teams::by_status_and_kind(teams) {
            if let Some(d) = district(&key.area) {
                *rollups
                    .entry(d)
                    .or_default()
                    .teams
                    .entry(key.status)
                    .or_default() += count;
            }
        }
        let facilities = self
            .facilities
            .values()
            .filter(|f| in_scope(&f.area.clone().into()));
        for (key, beds) in beds::by_type_and_class(facilities, now) {
            if let Some(d) = district(&key.area.clone().into()) {
                let rollup = rollups.entry(d).or_default();
                rollup.beds += beds;
                *rollup.beds_by_type.entry(key.bed_type).or_default() += beds;
            }
        }
        let convertibles: Vec<_> = self
            .convertibles
            .values()
            .filter(|c| in_scope(&c.state.area.clone().into()))
            .collect();
        for ((area, phase), count) in convertibles::by_phase(convertibles.iter().copied()) {
            if let Some(d) = district(&area.into()) {
                *rollups
                    .entry(d)
                    .or_default()
                    .convertibles
                    .entry(phase)
                    .or_default() += count;
            }
        }
        for ((area, _), capacity) in convertibles::capacity(convertibles.into_iter(), now) {
            if let Some(d) = district(&area.into()) {
                rollups.entry(d).or_default().convertible_beds += capacity;
            }
        }
        let depots = self.depots.values().filter(|depot| in_scope(&depot.area));
        for (key, stock) in supplies::by_item(depots, now) {
            if stock.shortfall == 0 {
                continue;
            }
            if let Some(d) = district(&key.area) {
                *rollups
                    .entry(d)
                    .or_default()
                    .supply_shortfall
                    .entry(key.item)
                    .or_default() += stock.shortfall;
            }
        }
        for incident in self.incidents.values().filter(|i| !i.closed) {
            for area in &incident.affected_areas {
                if let Some(d) = district(&area.clone().into()) {
                    rollups.entry(d).or_default().open_incidents += 1;
                }
            }
        }
        rollups
    }
}
