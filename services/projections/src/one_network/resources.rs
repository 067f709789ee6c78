//! Every resource of the view as one shape: what lists, maps and the live feed
//! filter on (kind, tier, area, sub-kind, status, point) next to the resource's
//! own state. One place decides what "a district team on standby inside this
//! box" means, for the REST lists, the GeoJSON collections and the feed alike.

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, Tier};
use ercs_domain::geo::GeoPoint;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::supply::depot::ReserveTier;
use serde::{Deserialize, Serialize};

use super::{Mark, OneNetwork};

/// The kinds of resource in the one network; each is an API collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// 卫生应急队伍
    Teams,
    /// 医疗机构 and their bed pools
    Facilities,
    /// 物资储备库
    Depots,
    /// 平急两用 facilities
    Convertibles,
    /// 突发事件
    Incidents,
    /// The item catalogue (物资目录)
    Items,
}

impl ResourceKind {
    pub const ALL: [Self; 6] = [
        Self::Teams,
        Self::Facilities,
        Self::Depots,
        Self::Convertibles,
        Self::Incidents,
        Self::Items,
    ];

    /// The collection's name in URLs: `teams`, `facilities`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teams => "teams",
            Self::Facilities => "facilities",
            Self::Depots => "depots",
            Self::Convertibles => "convertibles",
            Self::Incidents => "incidents",
            Self::Items => "items",
        }
    }

    /// The prefix of its streams in the log (`team-<id>`).
    pub fn stream_prefix(self) -> &'static str {
        match self {
            Self::Teams => "team",
            Self::Facilities => "facility",
            Self::Depots => "depot",
            Self::Convertibles => "convertible",
            Self::Incidents => "incident",
            Self::Items => "item",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The kind and id a stream name belongs to, if it is a resource's stream.
    pub fn of_stream(stream: &str) -> Option<(Self, &str)> {
        let (prefix, id) = stream.split_once('-')?;
        let kind = Self::ALL
            .into_iter()
            .find(|k| k.stream_prefix() == prefix)?;
        Some((kind, id))
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource as lists, maps and feeds see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
    /// The tier it serves (a depot's reserve tier, as a tier of the hierarchy).
    pub tier: Option<Tier>,
    /// The areas it belongs to: its home area, or an incident's affected areas.
    pub areas: Vec<AreaCode>,
    /// What kind of team, facility, venue or incident; an item's category.
    pub subkind: String,
    /// Its lifecycle status (`standby`, `emergency_active`, `open`, ...), if it has one.
    pub status: Option<String>,
    /// Where it is (WGS-84); none for incidents and catalogue items.
    pub point: Option<GeoPoint>,
    /// Its stream's revision and last position.
    pub mark: Option<Mark>,
    /// What it holds, has on the way or has in use, and for which incident.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_for: Vec<super::Commitment>,
    /// The resource's state, as the API returns it.
    pub state: serde_json::Value,
}

/// What a list, a map layer or a feed subscription asks for. Every field left
/// `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceFilter {
    pub kind: Option<ResourceKind>,
    pub tier: Option<Tier>,
    /// Matches resources in this area or any area inside it.
    pub area: Option<AreaCode>,
    pub subkind: Option<String>,
    pub status: Option<String>,
    pub bbox: Option<BoundingBox>,
}

/// `[min lon, min lat, max lon, max lat]`, WGS-84, as in RFC 7946 and OGC API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl BoundingBox {
    /// Parses `west,south,east,north`; the rule broken is the error.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let numbers: Vec<f64> = raw
            .split(',')
            .map(|n| n.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| "must be four comma-separated numbers: west,south,east,north")?;
        let [west, south, east, north] = numbers[..] else {
            return Err("must be four comma-separated numbers: west,south,east,north");
        };
        if !numbers.iter().all(|n| n.is_finite()) {
            return Err("must be finite numbers");
        }
        if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
            return Err("longitudes must be within -180..180");
        }
        if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) || south > north {
            return Err("latitudes must be within -90..90, south no greater than north");
        }
        if west > east {
            return Err(
                "west must not exceed east (boxes across the antimeridian are not supported)",
            );
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    pub fn contains(&self, point: &GeoPoint) -> bool {
        (self.west..=self.east).contains(&point.lon())
            && (self.south..=self.north).contains(&point.lat())
    }
}

impl ResourceFilter {
    /// Whether `resource` is wanted. Areas are matched through `areas`, so a
    /// district filter takes in the district's townships and institutions.
    pub fn matches(&self, resource: &Resource, areas: &AreaHierarchy) -> bool {
        self.kind.is_none_or(|k| k == resource.kind)
            && self.tier.is_none_or(|t| resource.tier == Some(t))
            && self.subkind.as_ref().is_none_or(|s| *s == resource.subkind)
            && self
                .status
                .as_ref()
                .is_none_or(|s| resource.status.as_ref() == Some(s))
            && self
                .bbox
                .is_none_or(|b| resource.point.as_ref().is_some_and(|p| b.contains(p)))
            && self.area.as_ref().is_none_or(|wanted| {
                resource.areas.iter().any(|area| {
                    area == wanted || areas.path(area).any(|record| &record.code == wanted)
                })
            })
    }
}

impl OneNetwork {
    /// Every resource of a kind, in id order.
    pub fn resources(&self, kind: ResourceKind) -> Vec<Resource> {
        self.resources_where(kind, |_| true)
    }

    /// The resources of a kind that `keep` wants, in id order. `keep` sees each
    /// resource before its state is rendered, so a filtered list or a page pays
    /// only for what it returns.
    pub fn resources_where(
        &self,
        kind: ResourceKind,
        mut keep: impl FnMut(&Resource) -> bool,
    ) -> Vec<Resource> {
        macro_rules! each {
            ($map:expr, $describe:expr) => {
                $map.iter()
                    .filter_map(|(id, state)| {
                        let mut resource = self.resource(kind, id.to_string(), $describe(state));
                        keep(&resource).then(|| {
                            resource.state = serde_json::to_value(state).unwrap_or_default();
                            resource
                        })
                    })
                    .collect()
            };
        }
        match kind {
            ResourceKind::Teams => each!(self.teams, describe::team),
            ResourceKind::Facilities => each!(self.facilities, describe::facility),
            ResourceKind::Depots => each!(self.depots, describe::depot),
            ResourceKind::Convertibles => each!(self.convertibles, describe::convertible),
            ResourceKind::Incidents => each!(self.incidents, describe::incident),
            ResourceKind::Items => each!(self.items, describe::item),
        }
    }

    /// One resource by kind and id, as written in its stream name.
    pub fn resource_by_id(&self, kind: ResourceKind, id: &str) -> Option<Resource> {
        macro_rules! one {
            ($map:expr, $describe:expr) => {{
                let key = id.parse().ok()?;
                let state = $map.get(&key)?;
                let mut resource = self.resource(kind, id.to_owned(), $describe(state));
                resource.state = serde_json::to_value(state).unwrap_or_default();
                Some(resource)
            }};
        }
        match kind {
            ResourceKind::Teams => one!(self.teams, describe::team),
            ResourceKind::Facilities => one!(self.facilities, describe::facility),
            ResourceKind::Depots => one!(self.depots, describe::depot),
            ResourceKind::Convertibles => one!(self.convertibles, describe::convertible),
            ResourceKind::Incidents => one!(self.incidents, describe::incident),
            ResourceKind::Items => one!(self.items, describe::item),
        }
    }

    /// The areas of resource `id` of `kind` (its description's, no state
    /// rendered), if the view has it.
    pub fn resource_areas(&self, kind: ResourceKind, id: &str) -> Option<Vec<AreaCode>> {
        macro_rules! areas {
            ($map:expr, $describe:expr) => {{
                let key = id.parse().ok()?;
                $map.get(&key).map(|state| $describe(state).areas)
            }};
        }
        match kind {
            ResourceKind::Teams => areas!(self.teams, describe::team),
            ResourceKind::Facilities => areas!(self.facilities, describe::facility),
            ResourceKind::Depots => areas!(self.depots, describe::depot),
            ResourceKind::Convertibles => areas!(self.convertibles, describe::convertible),
            ResourceKind::Incidents => areas!(self.incidents, describe::incident),
            ResourceKind::Items => areas!(self.items, describe::item),
        }
    }

    /// The resource a stream holds, if the view has it.
    pub fn resource_of_stream(&self, stream: &str) -> Option<Resource> {
        let (kind, id) = ResourceKind::of_stream(stream)?;
        self.resource_by_id(kind, id)
    }

    /// A resource described, its state not yet rendered.
    fn resource(&self, kind: ResourceKind, id: String, description: Description) -> Resource {
        let stream = format!("{}-{id}", kind.stream_prefix());
        let mark = self.marks.get(&stream).copied();
        let held_for = self.commitments_of_stream(&stream);
        Resource {
            kind,
            id,
            name: description.name,
            tier: description.tier,
            areas: description.areas,
            subkind: description.subkind,
            status: description.status,
            point: description.point,
            mark,
            held_for,
            state: serde_json::Value::Null,
        }
    }

    /// When the view last changed, from the marks.
    pub fn last_change(&self) -> Option<DateTime<Utc>> {
        self.marks.values().map(|m| m.at).max()
    }
}

/// What each kind of state says about itself for filtering.
struct Description {
    name: String,
    tier: Option<Tier>,
    areas: Vec<AreaCode>,
    subkind: String,
    status: Option<String>,
    point: Option<GeoPoint>,
}

/// A value's name on the wire (its serde name), for sub-kinds and statuses.
fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

mod describe {
    use ercs_domain::beds::FacilityState;
    use ercs_domain::supply::ItemState;
    use ercs_domain::supply::depot::DepotState;
    use ercs_domain::team::TeamState;

    use super::*;
    use crate::one_network::{ConvertibleRecord, IncidentRecord};

    pub fn team(team: &TeamState) -> Description {
        Description {
            name: team.name.to_string(),
            tier: Some(team.tier),
            areas: vec![team.home_area.clone()],
            subkind: wire(&team.kind),
            status: Some(team.status.phase().name().to_owned()),
            point: Some(where_team_is(team)),
        }
    }

    /// A team on scene is where it works, not at its base: every map, list and
    /// feed message shows it there.
    fn where_team_is(team: &TeamState) -> GeoPoint {
        match &team.status {
            ercs_domain::team::TeamStatus::Deployed { location, .. } => *location,
            _ => team.base,
        }
    }

    pub fn facility(facility: &FacilityState) -> Description {
        Description {
            name: facility.name.to_string(),
            tier: Some(facility.tier),
            areas: vec![facility.area.clone().into()],
            subkind: wire(&facility.kind),
            status: None,
            point: Some(facility.location),
        }
    }

    pub fn depot(depot: &DepotState) -> Description {
        Description {
            name: depot.name.to_string(),
            tier: Some(super::tier_of_reserve(depot.tier)),
            areas: vec![depot.area.clone()],
            subkind: wire(&depot.tier),
            status: None,
            point: Some(depot.location),
        }
    }

    pub fn convertible(record: &ConvertibleRecord) -> Description {
        let state = &record.state;
        Description {
            name: state.name.to_string(),
            tier: Some(Tier::Institution),
            areas: vec![state.area.clone().into()],
            subkind: wire(&state.peacetime_use),
            status: Some(state.phase.name().to_owned()),
            point: Some(state.location),
        }
    }

    pub fn incident(record: &IncidentRecord) -> Description {
        Description {
            name: record.title.to_string(),
            tier: None,
            areas: record
                .affected_areas
                .iter()
                .cloned()
                .map(Into::into)
                .collect(),
            subkind: wire(&record.kind),
            status: Some(if record.closed { "closed" } else { "open" }.to_owned()),
            point: record.location,
        }
    }

    pub fn item(item: &ItemState) -> Description {
        Description {
            name: item.details.name.to_string(),
            tier: None,
            areas: Vec::new(),
            subkind: wire(&item.details.category),
            status: Some(item.phase.name().to_owned()),
            point: None,
        }
    }
}

/// A depot's reserve tier as a tier of the area hierarchy.
pub(super) fn tier_of_reserve(tier: ReserveTier) -> Tier {
    match tier {
        ReserveTier::City => Tier::City,
        ReserveTier::Regional => Tier::Region,
        ReserveTier::District => Tier::District,
        ReserveTier::Institution => Tier::Institution,
    }
}
