//! The one network by district: what a map colours each district polygon with,
//! and what the live feed sends when something in a district changes. Resources
//! in a township or institution count towards their district.
//!
//! The feed rolls up one district per event, so that rollup must not cost the
//! whole city: an [`AreaIndex`], kept up to date as events are folded, says
//! which resources lie in each area, and a district's rollup reads only the
//! areas whose codes lie within the district's (GB/T 2260 codes nest: a
//! township's nine digits begin with its county's six).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, DivisionCode};
use ercs_domain::beds::BedType;
use ercs_domain::beds::FacilityState;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, TeamId};
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::DepotState;
use ercs_domain::team::TeamState;
use serde::Serialize;

use super::{
    BedAvailability, ConvertibleCapacity, ConvertiblePhase, ConvertibleRecord, IncidentRecord,
    OneNetwork, TeamCount, beds,
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

/// Which resources lie in each area (a team's home area, a facility's or depot's
/// area, each area an incident affects). Derived from the view's state, so it
/// is not snapshotted but rebuilt when a snapshot is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AreaIndex {
    areas: super::SharedMap<AreaCode, Members>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Members {
    teams: BTreeSet<TeamId>,
    facilities: BTreeSet<FacilityId>,
    depots: BTreeSet<DepotId>,
    convertibles: BTreeSet<FacilityId>,
    incidents: BTreeSet<IncidentId>,
}

/// The index, built the first time a district is rolled up (a view read from a
/// snapshot or made for the past may never be). Equal whenever the states are:
/// it is a function of them, and the tests check that it stays one.
#[derive(Debug, Clone, Default)]
pub struct LazyIndex(OnceLock<AreaIndex>);

impl PartialEq for LazyIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl LazyIndex {
    pub(super) fn get_mut(&mut self) -> Option<&mut AreaIndex> {
        self.0.get_mut()
    }
}

/// One resource of the view, as the index files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    Team(TeamId),
    Facility(FacilityId),
    Depot(DepotId),
    Convertible(FacilityId),
    Incident(IncidentId),
}

impl Members {
    fn set(&mut self, member: Member, present: bool) {
        fn put<T: Ord>(set: &mut BTreeSet<T>, id: T, present: bool) {
            if present {
                set.insert(id);
            } else {
                set.remove(&id);
            }
        }
        match member {
            Member::Team(id) => put(&mut self.teams, id, present),
            Member::Facility(id) => put(&mut self.facilities, id, present),
            Member::Depot(id) => put(&mut self.depots, id, present),
            Member::Convertible(id) => put(&mut self.convertibles, id, present),
            Member::Incident(id) => put(&mut self.incidents, id, present),
        }
    }

    fn is_empty(&self) -> bool {
        self.teams.is_empty()
            && self.facilities.is_empty()
            && self.depots.is_empty()
            && self.convertibles.is_empty()
            && self.incidents.is_empty()
    }
}

impl AreaIndex {
    /// Files `member` under the areas it lies in now (`now`), instead of those it
    /// lay in before the event (`before`).
    pub(super) fn refile(&mut self, member: Member, before: &[AreaCode], now: &[AreaCode]) {
        if before == now {
            return;
        }
        for area in before {
            if let Some(members) = self.areas.get_mut(area) {
                members.set(member, false);
                if members.is_empty() {
                    self.areas.remove(area);
                }
            }
        }
        for area in now {
            self.areas.update(area.clone(), |members| {
                let mut members = members.unwrap_or_default();
                members.set(member, true);
                Some(members)
            });
        }
    }

    /// The indexed areas whose codes lie within `district`'s, itself included.
    fn within<'a>(
        &'a self,
        district: &'a DivisionCode,
    ) -> impl Iterator<Item = (&'a AreaCode, &'a Members)> {
        self.areas
            .range(AreaCode::Division(district.clone())..)
            .take_while(move |(area, _)| {
                area.as_division()
                    .is_some_and(|code| code.as_str().starts_with(district.as_str()))
            })
    }
}

/// The resources one rollup counts.
#[derive(Default)]
struct Scope<'a> {
    teams: Vec<&'a TeamState>,
    facilities: Vec<&'a FacilityState>,
    depots: Vec<&'a DepotState>,
    convertibles: Vec<&'a ConvertibleRecord>,
    incidents: Vec<&'a IncidentRecord>,
}

impl OneNetwork {
    /// Every district's rollup at `now`; districts with nothing in them are absent.
    pub fn area_rollups(
        &self,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
    ) -> BTreeMap<DivisionCode, AreaRollup> {
        let district = |area: &AreaCode| district_of(areas, area);
        let scope = Scope {
            teams: self.teams.values().collect(),
            facilities: self.facilities.values().collect(),
            depots: self.depots.values().collect(),
            convertibles: self.convertibles.values().collect(),
            incidents: self.incidents.values().collect(),
        };
        roll_up_districts(&scope, now, district)
    }

    /// One district's rollup at `now`: what the live feed sends when something
    /// in it changes. Reads only the resources filed under the district's areas,
    /// so its cost is the district's, not the city's.
    pub fn area_rollup(
        &self,
        district: &DivisionCode,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
    ) -> AreaRollup {
        let in_district = |area: &AreaCode| district_of(areas, area).filter(|d| d == district);
        let scope = self.scope_within(district, &in_district);
        roll_up_districts(&scope, now, in_district)
            .remove(district)
            .unwrap_or_default()
    }

    /// The resources filed under areas that lie in `district`. A team,
    /// facility, depot or venue is filed under its one area; an incident under
    /// each area it affects, so it is counted once however many lie here.
    fn scope_within(
        &self,
        district: &DivisionCode,
        in_district: &impl Fn(&AreaCode) -> Option<DivisionCode>,
    ) -> Scope<'_> {
        let mut scope = Scope::default();
        let mut incidents = BTreeSet::new();
        for (_, members) in self
            .area_index()
            .within(district)
            .filter(|(a, _)| in_district(a).is_some())
        {
            scope.teams.extend(found(&members.teams, &self.teams));
            scope
                .facilities
                .extend(found(&members.facilities, &self.facilities));
            scope.depots.extend(found(&members.depots, &self.depots));
            scope
                .convertibles
                .extend(found(&members.convertibles, &self.convertibles));
            incidents.extend(&members.incidents);
        }
        scope.incidents = incidents
            .into_iter()
            .filter_map(|id| self.incidents.get(id))
            .collect();
        scope
    }

    /// The area index as it stands, kept up to date since first use.
    pub fn area_index(&self) -> &AreaIndex {
        self.by_area.0.get_or_init(|| self.indexed())
    }

    /// The area index built afresh from the state.
    pub fn indexed(&self) -> AreaIndex {
        let mut index = AreaIndex::default();
        for (id, team) in &self.teams {
            index.refile(
                Member::Team(*id),
                &[],
                std::slice::from_ref(&team.home_area),
            );
        }
        for (id, facility) in &self.facilities {
            index.refile(Member::Facility(*id), &[], &[facility.area.clone().into()]);
        }
        for (id, depot) in &self.depots {
            index.refile(Member::Depot(*id), &[], std::slice::from_ref(&depot.area));
        }
        for (id, record) in &self.convertibles {
            index.refile(
                Member::Convertible(*id),
                &[],
                &[record.state.area.clone().into()],
            );
        }
        for (id, incident) in &self.incidents {
            let affected: Vec<AreaCode> = incident
                .affected_areas
                .iter()
                .cloned()
                .map(Into::into)
                .collect();
            index.refile(Member::Incident(*id), &[], &affected);
        }
        index
    }

    /// The areas `member` lies in, as the view stands.
    pub(super) fn areas_of(&self, member: Member) -> Vec<AreaCode> {
        match member {
            Member::Team(id) => self.teams.get(&id).map(|t| vec![t.home_area.clone()]),
            Member::Facility(id) => self
                .facilities
                .get(&id)
                .map(|f| vec![f.area.clone().into()]),
            Member::Depot(id) => self.depots.get(&id).map(|d| vec![d.area.clone()]),
            Member::Convertible(id) => self
                .convertibles
                .get(&id)
                .map(|c| vec![c.state.area.clone().into()]),
            Member::Incident(id) => self
                .incidents
                .get(&id)
                .map(|i| i.affected_areas.iter().cloned().map(Into::into).collect()),
        }
        .unwrap_or_default()
    }
}

/// The records of `ids` that `records` holds.
fn found<'a: 'b, 'b, K: Ord, V>(
    ids: &'b BTreeSet<K>,
    records: &'a super::SharedMap<K, V>,
) -> impl Iterator<Item = &'a V> + 'b {
    ids.iter().filter_map(|id| records.get(id))
}

/// The district an area counts towards: its 区县 in the hierarchy, or itself
/// when the hierarchy does not know it.
fn district_of(areas: &AreaHierarchy, area: &AreaCode) -> Option<DivisionCode> {
    areas
        .district_of(area)
        .and_then(|record| record.code.as_division().cloned())
        .or_else(|| area.as_division().cloned())
}

/// Rolls `scope` up by the district `district` gives each area (`None`: not
/// counted). Each resource is added straight into its district's rollup: the
/// feed does this for one district per event, so no rollup keyed finer than a
/// district (by tier, area, kind) is built on the way.
fn roll_up_districts(
    scope: &Scope<'_>,
    now: DateTime<Utc>,
    district: impl Fn(&AreaCode) -> Option<DivisionCode>,
) -> BTreeMap<DivisionCode, AreaRollup> {
    let mut rollups: BTreeMap<DivisionCode, AreaRollup> = BTreeMap::new();
    for team in &scope.teams {
        if let Some(rollup) = district_rollup(&mut rollups, district(&team.home_area)) {
            *rollup.teams.entry(team.status.phase().name()).or_default() += TeamCount {
                teams: 1,
                headcount: team.headcount.get(),
            };
        }
    }
    for facility in &scope.facilities {
        if let Some(rollup) = district_rollup(&mut rollups, district(&facility.area.clone().into()))
        {
            for (key, pool) in facility.pools.iter() {
                let beds = beds::availability(key.class, pool, now);
                rollup.beds += beds;
                *rollup.beds_by_type.entry(key.bed_type).or_default() += beds;
            }
        }
    }
    for record in &scope.convertibles {
        if let Some(rollup) =
            district_rollup(&mut rollups, district(&record.state.area.clone().into()))
        {
            *rollup.convertibles.entry(record.state.phase).or_default() += 1;
            for beds in record.capacity(now).into_values() {
                rollup.convertible_beds += beds;
            }
        }
    }
    for depot in &scope.depots {
        if let Some(rollup) = district_rollup(&mut rollups, district(&depot.area)) {
            // Only an item with a norm can fall short of it.
            for item in depot.norms.keys() {
                if let Some(short) = depot.shortfall_of(item, now) {
                    *rollup.supply_shortfall.entry(item.clone()).or_default() +=
                        u64::from(short.missing.get());
                }
            }
        }
    }
    for incident in scope.incidents.iter().filter(|i| !i.closed) {
        for area in &incident.affected_areas {
            if let Some(rollup) = district_rollup(&mut rollups, district(&area.clone().into())) {
                rollup.open_incidents += 1;
            }
        }
    }
    rollups
}

/// The rollup of `district`, begun empty; `None` when the area was not counted.
fn district_rollup(
    rollups: &mut BTreeMap<DivisionCode, AreaRollup>,
    district: Option<DivisionCode>,
) -> Option<&mut AreaRollup> {
    district.map(|d| rollups.entry(d).or_default())
}
