//! A plan that supersedes an approved one (`"supersedes": <plan>`): planned as if
//! what the old plan holds were free for it, and approved by handing over, not
//! by giving back and taking again.
//!
//! What the old plan still holds — bed and stock reservations, teams it
//! mobilised that are still committed — is offered to the new plan beside the
//! network's free capacity (`HeldBack`). What the old plan uses (patients
//! admitted under it, consignments it sent) stays its own and counts as covered.
//! On approval each assignment first takes over what the old plan holds at its
//! source (a `MoveReservation`, or the team kept as it is), then reserves only
//! the difference; what the old plan still holds after that is released. So the
//! beds and lots never pass through "free", where another plan could take them.

use std::collections::{BTreeMap, BTreeSet};

use ercs_domain::area::AreaCode;
use ercs_domain::beds::BedType;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::ids::TeamId;
use ercs_domain::team::TeamStatus;
use ercs_projections::OneNetwork;
use ercs_routing::{Commodity, CommodityKind, Source, SourceKind};

use super::{PlanRecord, area_path, point, wire};

/// What a plan being superseded holds that its successor may take over.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeldBack {
    /// Units by the source id the successor's problem names them by
    /// (`facility/<id>/<class>`, `convertible/<id>/<class>`, `depot/<id>`) and
    /// commodity.
    pub offers: BTreeMap<(String, Commodity), u64>,
    /// Teams it mobilised that are still committed to its incident, as sources.
    pub teams: Vec<Source>,
}

impl HeldBack {
    /// Nothing held back: a plan that supersedes none.
    pub fn none() -> Self {
        Self::default()
    }

    /// The teams held back, by id.
    pub fn team_ids(&self) -> BTreeSet<TeamId> {
        self.teams
            .iter()
            .filter_map(|source| source.id.strip_prefix("team/")?.parse().ok())
            .collect()
    }

    /// How much of `commodity` is held back at `source`.
    pub fn at(&self, source: &str, commodity: &Commodity) -> u64 {
        if let Some(team) = source.strip_prefix("team/") {
            let held = self.teams.iter().any(|t| {
                t.id.strip_prefix("team/") == Some(team) && t.offers.contains_key(commodity)
            });
            return u64::from(held);
        }
        self.offers
            .get(&(source.to_owned(), commodity.clone()))
            .copied()
            .unwrap_or(0)
    }
}

/// What `record`'s plan holds now, as its successor would be offered it.
pub fn held_back(view: &OneNetwork, record: &PlanRecord, areas: &AreaHierarchy) -> HeldBack {
    let plan = record.plan_id;
    let mut held = HeldBack::none();
    for depot in view.depots.values() {
        for ((reserved_for, item), lots) in &depot.reservations {
            if *reserved_for == plan {
                let units: u64 = lots.values().map(|q| u64::from(q.get())).sum();
                held.offers.insert(
                    (
                        format!("depot/{}", depot.id),
                        Commodity::supply(item.as_str()),
                    ),
                    units,
                );
            }
        }
    }
    let facilities = view
        .facilities
        .values()
        .map(|f| (format!("facility/{}", f.id), &f.pools));
    let venues = view
        .convertibles
        .values()
        .map(|v| (format!("convertible/{}", v.state.id), &v.state.pools));
    for (owner, pools) in facilities.chain(venues) {
        for (key, pool) in pools.iter() {
            if let Some(&beds) = pool.reserved.get(&plan).filter(|&&beds| beds > 0) {
                held.offers.insert(
                    (
                        format!("{owner}/{}", wire(&key.class)),
                        Commodity::bed(&wire(&key.bed_type)),
                    ),
                    u64::from(beds),
                );
            }
        }
    }
    held.teams = committed_teams(view, record)
        .into_iter()
        .filter_map(|id| view.teams.get(&id))
        .map(|team| Source {
            id: format!("team/{}", team.id),
            kind: SourceKind::TeamBase,
            // A team on scene starts from where it is; one on the way, from its base.
            location: match &team.status {
                TeamStatus::Deployed { location, .. } => point(location),
                _ => point(&team.base),
            },
            area: area_path(&team.home_area, areas),
            available_after_minutes: 0,
            offers: BTreeMap::from([(Commodity::team(&wire(&team.kind)), 1)]),
        })
        .collect();
    held
}

/// The teams `record`'s approval mobilised that are still committed to its incident.
pub fn committed_teams(view: &OneNetwork, record: &PlanRecord) -> BTreeSet<TeamId> {
    record
        .approval
        .iter()
        .flat_map(|approval| &approval.dispatches)
        .filter(|d| d.outcome == "dispatched")
        .filter_map(|d| record.plan.assignments.get(d.assignment))
        .filter_map(|a| a.source.strip_prefix("team/")?.parse::<TeamId>().ok())
        .filter(|id| {
            view.teams.get(id).is_some_and(|team| {
                matches!(
                    team.status,
                    TeamStatus::Mobilising { .. } | TeamStatus::Deployed { .. }
                ) && team.status.incident() == record.request.incident
            })
        })
        .collect()
}

/// Adds what is held back to `sources`: onto the source of the same id, or as a
/// source of its own where the network offers nothing free there (a pool the old
/// plan holds entirely).
pub fn offer(sources: &mut Vec<Source>, held: &HeldBack, view: &OneNetwork, areas: &AreaHierarchy) {
    for ((id, commodity), &units) in &held.offers {
        if let Some(source) = sources.iter_mut().find(|s| &s.id == id) {
            *source.offers.entry(commodity.clone()).or_default() += units;
        } else if let Some(mut source) = bare_source(view, id, commodity.kind, areas) {
            source.offers.insert(commodity.clone(), units);
            sources.push(source);
        }
    }
    for team in &held.teams {
        if !sources.iter().any(|s| s.id == team.id) {
            sources.push(team.clone());
        }
    }
}

/// A source with nothing on offer yet, at the place `id` names.
fn bare_source(
    view: &OneNetwork,
    id: &str,
    kind: CommodityKind,
    areas: &AreaHierarchy,
) -> Option<Source> {
    let parts: Vec<&str> = id.split('/').collect();
    let (location, area, source_kind) = match (kind, parts.as_slice()) {
        (CommodityKind::Supply, ["depot", raw]) => {
            let depot = view.depots.get(&raw.parse().ok()?)?;
            (
                point(&depot.location),
                depot.area.clone(),
                SourceKind::DepotStock,
            )
        }
        (CommodityKind::Bed, ["facility", raw, _]) => {
            let facility = view.facilities.get(&raw.parse().ok()?)?;
            let area: AreaCode = facility.area.clone().into();
            (point(&facility.location), area, SourceKind::BedPool)
        }
        (CommodityKind::Bed, ["convertible", raw, _]) => {
            let venue = &view.convertibles.get(&raw.parse().ok()?)?.state;
            let area: AreaCode = venue.area.clone().into();
            (point(&venue.location), area, SourceKind::BedPool)
        }
        _ => return None,
    };
    Some(Source {
        id: id.to_owned(),
        kind: source_kind,
        location,
        area: area_path(&area, areas),
        available_after_minutes: 0,
        offers: BTreeMap::new(),
    })
}

/// What one assignment takes over from the superseded plan, shared out over
/// the successor's assignments from one source in their order.
#[derive(Debug, Default)]
pub struct Takeover {
    left: BTreeMap<(String, Commodity), u64>,
}

impl Takeover {
    pub fn new(held: &HeldBack) -> Self {
        let mut left = held.offers.clone();
        for team in &held.teams {
            for commodity in team.offers.keys() {
                left.insert((team.id.clone(), commodity.clone()), 1);
            }
        }
        Self { left }
    }

    /// Takes up to `wanted` of `commodity` at `source`; returns how much.
    pub fn take(&mut self, source: &str, commodity: &Commodity, wanted: u64) -> u64 {
        let Some(left) = self.left.get_mut(&(source.to_owned(), commodity.clone())) else {
            return 0;
        };
        let taken = wanted.min(*left);
        *left -= taken;
        taken
    }
}

/// The bed type of a bed commodity, for the move command.
pub fn bed_type(commodity: &Commodity) -> Option<BedType> {
    super::parse_wire(&commodity.code)
}
