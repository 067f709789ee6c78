//! What a surge plan is asked about: sources, demands and commodities.
//!
//! These are the routing crate's own plain structs, not the domain's aggregates:
//! the server maps its read model (the one-network view) into them, so this crate
//! depends on nothing of ours and can be tested, benchmarked and reasoned about on
//! its own. Ids are the caller's strings; areas are the GB/T 2260 codes and region
//! slugs the rest of ERCS uses, any of which may be missing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A WGS-84 longitude/latitude in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

impl Point {
    pub fn new(lon: f64, lat: f64) -> Self {
        Point { lon, lat }
    }

    pub fn is_valid(&self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && self.lon.abs() <= 180.0
            && self.lat.abs() <= 90.0
    }
}

/// Where a site sits in the tier hierarchy. A missing part never matches, except
/// the city: a missing city means the city being planned.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AreaPath {
    /// 乡镇/街道: a 9-digit code such as `500101001`.
    pub township: Option<String>,
    /// 区县: a 6-digit code such as `500101`.
    pub district: Option<String>,
    /// 区域: a slug such as `wanzhou-sanxia`.
    pub region: Option<String>,
    /// 市: e.g. `500000`.
    pub city: Option<String>,
}

/// The tiers a supply can be drawn from, lowest first. `Beyond` is outside the
/// city: national reserves or a neighbouring province (国家/兄弟省市支援).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Township,
    District,
    Region,
    City,
    Beyond,
}

impl Tier {
    /// The four tiers inside the city, lowest first.
    pub const INSIDE: [Tier; 4] = [Tier::Township, Tier::District, Tier::Region, Tier::City];

    pub fn above(self) -> Tier {
        match self {
            Tier::Township => Tier::District,
            Tier::District => Tier::Region,
            Tier::Region => Tier::City,
            Tier::City | Tier::Beyond => Tier::Beyond,
        }
    }
}

impl AreaPath {
    /// The area's code at `tier`, if known (`Beyond` has none).
    pub fn at(&self, tier: Tier) -> Option<&str> {
        match tier {
            Tier::Township => self.township.as_deref(),
            Tier::District => self.district.as_deref(),
            Tier::Region => self.region.as_deref(),
            Tier::City => self.city.as_deref(),
            Tier::Beyond => None,
        }
    }

    /// Whether both sites are in the same area at `tier`.
    pub fn shares(&self, other: &AreaPath, tier: Tier) -> bool {
        match (tier, self.at(tier), other.at(tier)) {
            (Tier::City, a, b) => a.is_none() || b.is_none() || a == b,
            (_, Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// The lowest tier whose area holds both sites.
    pub fn common_tier(&self, other: &AreaPath) -> Tier {
        Tier::INSIDE
            .into_iter()
            .find(|&t| self.shares(other, t))
            .unwrap_or(Tier::Beyond)
    }

    /// The lowest tier this path names, where a demand's escalation starts.
    pub fn lowest_known(&self) -> Tier {
        Tier::INSIDE
            .into_iter()
            .find(|&t| self.at(t).is_some())
            .unwrap_or(Tier::City)
    }
}

/// What kind of thing a commodity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommodityKind {
    /// A bed type, e.g. `icu`, `negative_pressure`.
    Bed,
    /// A catalogue item, e.g. `ventilator`.
    Supply,
    /// A team kind, e.g. `medical_rescue` (紧急医学救援).
    Team,
}

/// One thing that is allocated on its own: written `bed:icu`, `supply:ventilator`,
/// `team:medical_rescue`, which is also its JSON form (usable as a map key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Commodity {
    pub kind: CommodityKind,
    pub code: String,
}

impl Commodity {
    pub fn bed(code: &str) -> Self {
        Commodity {
            kind: CommodityKind::Bed,
            code: code.to_owned(),
        }
    }
    pub fn supply(code: &str) -> Self {
        Commodity {
            kind: CommodityKind::Supply,
            code: code.to_owned(),
        }
    }
    pub fn team(code: &str) -> Self {
        Commodity {
            kind: CommodityKind::Team,
            code: code.to_owned(),
        }
    }
}

impl fmt::Display for Commodity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            CommodityKind::Bed => "bed",
            CommodityKind::Supply => "supply",
            CommodityKind::Team => "team",
        };
        write!(f, "{kind}:{}", self.code)
    }
}

impl FromStr for Commodity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, code) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not `kind:code`"))?;
        let kind = match kind {
            "bed" => CommodityKind::Bed,
            "supply" => CommodityKind::Supply,
            "team" => CommodityKind::Team,
            other => {
                return Err(format!(
                    "unknown commodity kind `{other}` (bed, supply, team)"
                ));
            }
        };
        if code.is_empty() {
            return Err(format!("`{s}` has an empty code"));
        }
        Ok(Commodity {
            kind,
            code: code.to_owned(),
        })
    }
}

impl From<Commodity> for String {
    fn from(c: Commodity) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Commodity {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// What a source is, for the dispatcher reading the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Stock at a reserve depot (储备库).
    DepotStock,
    /// A facility's bed pool (a ladder step: designated, rapid-expansion, vacated).
    BedPool,
    /// A 平急两用 venue, active or converting within the horizon.
    ConvertibleFacility,
    /// Teams on standby at their base.
    TeamBase,
}

/// Something that can give: stock, beds or teams at one site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: String,
    pub kind: SourceKind,
    pub location: Point,
    #[serde(default)]
    pub area: AreaPath,
    /// Minutes until it can start out (activation, conversion, mobilisation).
    /// It adds to every arrival time; beyond the horizon the source is left out.
    #[serde(default)]
    pub available_after_minutes: u32,
    /// How much of each commodity it can give.
    pub offers: BTreeMap<Commodity, u64>,
}

/// 网格化分色: the colour a grid cell's vulnerable groups are coded with. Red is
/// served first whatever it costs in travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Red,
    Orange,
    Yellow,
    Green,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Red,
        Priority::Orange,
        Priority::Yellow,
        Priority::Green,
    ];

    /// 4 for red down to 1 for green: the multiple of the penalty unit.
    pub fn weight(self) -> i64 {
        match self {
            Priority::Red => 4,
            Priority::Orange => 3,
            Priority::Yellow => 2,
            Priority::Green => 1,
        }
    }
}

/// Something that needs: a township's (or area's) demand at one priority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    pub id: String,
    pub location: Point,
    #[serde(default)]
    pub area: AreaPath,
    pub priority: Priority,
    pub needs: BTreeMap<Commodity, u64>,
}
