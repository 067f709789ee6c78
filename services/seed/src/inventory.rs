//! The resource inventory: facilities and their bed pools, teams, the item catalogue,
//! depots with their lots and reserve norms, and 平急两用 convertible facilities.
//!
//! The files hold domain values (parsed on load, so a bad value is a load error),
//! each under a stable `key`. [`Inventory::plan`] turns them into the domain commands
//! that enter each resource into the one network, with ids derived from the keys
//! (UUID v5), so loading the same files twice names the same aggregates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedCommand, BedCounts, BedType, FacilityCommand, FacilityKind};
use ercs_domain::convertible::{ConvertibleCommand, PeacetimeUse};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::{DepotId, FacilityId, TeamId};
use ercs_domain::supply::depot::{DepotCommand, LotNumber, ReserveTier};
use ercs_domain::supply::{ItemCode, ItemCommand, ItemDetails, ShelfLife, SupplyCategory};
use ercs_domain::team::{TeamCommand, TeamKind};
use ercs_domain::values::{CapabilityTag, Headcount, Name, Quantity, Reason, Unit};
use serde::Deserialize;
use uuid::Uuid;

use crate::geography::Source;
use crate::{Geography, SeedError};

/// A facility (hospital or health centre) and the bed pools it reports.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilitySeed {
    pub key: String,
    pub name: Name,
    pub kind: FacilityKind,
    pub tier: Tier,
    pub area: DivisionCode,
    /// The township whose point locates it; the area's point when absent.
    pub at: Option<DivisionCode>,
    /// One of the five lead public-health hospitals.
    pub lead: bool,
    /// Which figures are public and which synthetic.
    pub source: String,
    pub pools: Vec<PoolSeed>,
}

/// One bed pool: a type on one rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSeed {
    pub bed_type: BedType,
    pub class: BedClass,
    pub total: u32,
    pub staffed: u32,
    pub occupied: u32,
    pub lead_time_minutes: u32,
}

/// A response team.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSeed {
    pub key: String,
    pub name: Name,
    pub kind: TeamKind,
    pub tier: Tier,
    pub home_area: AreaCode,
    /// The district or township whose point is the team's base.
    pub at: DivisionCode,
    pub headcount: Headcount,
    pub capabilities: BTreeSet<CapabilityTag>,
}

/// A catalogue item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub code: ItemCode,
    pub name: Name,
    pub unit: Unit,
    pub category: SupplyCategory,
    pub shelf_life_days: Option<ShelfLife>,
}

/// A depot with its opening stock and reserve norms.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepotSeed {
    pub key: String,
    pub name: Name,
    pub tier: ReserveTier,
    pub area: AreaCode,
    pub at: DivisionCode,
    pub lots: Vec<LotSeed>,
    pub norms: Vec<NormSeed>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotSeed {
    pub item: ItemCode,
    pub lot: LotNumber,
    pub quantity: Quantity,
    pub expiry: Option<DateTime<Utc>>,
}

/// 储备定额 — the minimum a depot should hold of an item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormSeed {
    pub item: ItemCode,
    pub minimum: Quantity,
}

/// A 平急两用 facility. Its conversion lead time and emergency capacity are the plan
/// it is registered with; registering does not convert it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertibleSeed {
    pub key: String,
    pub name: Name,
    pub peacetime_use: PeacetimeUse,
    pub area: DivisionCode,
    pub at: Option<DivisionCode>,
    pub lead_time_minutes: u32,
    pub emergency_beds: BTreeMap<BedType, u32>,
    pub source: String,
}

/// Everything the inventory files hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// The time every seed command is stamped with; expiries are relative to it.
    pub seed_date: DateTime<Utc>,
    pub facilities: Vec<FacilitySeed>,
    pub teams: Vec<TeamSeed>,
    pub items: Vec<ItemSeed>,
    pub depots: Vec<DepotSeed>,
    pub convertibles: Vec<ConvertibleSeed>,
}

/// The inventory files, one source each.
pub struct InventorySources<'a> {
    pub facilities: Source<'a>,
    pub teams: Source<'a>,
    pub catalogue: Source<'a>,
    pub depots: Source<'a>,
    pub convertibles: Source<'a>,
}

#[derive(Deserialize)]
struct File<T> {
    seed_date: DateTime<Utc>,
    #[serde(
        alias = "facilities",
        alias = "teams",
        alias = "items",
        alias = "depots"
    )]
    #[serde(alias = "convertibles")]
    records: Vec<T>,
}

fn parse<T: for<'de> Deserialize<'de>>(
    source: Source<'_>,
) -> Result<(DateTime<Utc>, Vec<T>), SeedError> {
    let file: File<T> = serde_json::from_str(source.text).map_err(|error| SeedError::Json {
        file: source.file,
        source: error,
    })?;
    Ok((file.seed_date, file.records))
}

/// The commands for one resource, on one aggregate, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Commands {
    Item(ItemCode, Vec<ItemCommand>),
    Team(TeamId, Vec<TeamCommand>),
    Facility(FacilityId, Vec<FacilityCommand>),
    Depot(DepotId, Vec<DepotCommand>),
    Convertible(FacilityId, Vec<ConvertibleCommand>),
}

/// One resource to seed: its stable key and its commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub key: String,
    pub commands: Commands,
}

impl Inventory {
    /// Parses the files; they must agree on the seed date and keys must be unique.
    pub fn from_sources(sources: InventorySources<'_>) -> Result<Self, SeedError> {
        let (seed_date, facilities) = parse(sources.facilities)?;
        let dates_agree = |file: &'static str, date: DateTime<Utc>| {
            if date == seed_date {
                Ok(())
            } else {
                Err(SeedError::Inconsistent {
                    file,
                    reason: format!("seed_date {date} differs from {seed_date}"),
                })
            }
        };
        let (date, teams) = parse(sources.teams)?;
        dates_agree(sources.teams.file, date)?;
        let (date, items) = parse(sources.catalogue)?;
        dates_agree(sources.catalogue.file, date)?;
        let (date, depots) = parse(sources.depots)?;
        dates_agree(sources.depots.file, date)?;
        let (date, convertibles) = parse(sources.convertibles)?;
        dates_agree(sources.convertibles.file, date)?;
        let inventory = Self {
            seed_date,
            facilities,
            teams,
            items,
            depots,
            convertibles,
        };
        inventory.check_keys()?;
        Ok(inventory)
    }

    fn check_keys(&self) -> Result<(), SeedError> {
        let mut seen = BTreeSet::new();
        let keys = (self.facilities.iter().map(|f| &f.key))
            .chain(self.teams.iter().map(|t| &t.key))
            .chain(self.depots.iter().map(|d| &d.key))
            .chain(self.convertibles.iter().map(|c| &c.key));
        for key in keys {
            if !seen.insert(key) {
                return Err(SeedError::Inconsistent {
                    file: "seeds/chongqing",
                    reason: format!("key {key} is used twice"),
                });
            }
        }
        Ok(())
    }

    /// Every resource as the commands that enter it: catalogue items first, then
    /// facilities, teams, depots and convertibles, each in file order.
    pub fn plan(&self, geography: &Geography) -> Result<Vec<Planned>, SeedError> {
        let locate = |at: &DivisionCode| point(geography, at);
        let mut plan = Vec::new();
        for item in &self.items {
            plan.push(Planned {
                key: format!("item/{}", item.code),
                commands: Commands::Item(item.code.clone(), vec![catalogue(item)]),
            });
        }
        for f in &self.facilities {
            let mut commands = vec![FacilityCommand::Register {
                facility_id: FacilityId::from_uuid(seed_id(&f.key)),
                name: f.name.clone(),
                kind: f.kind,
                tier: f.tier,
                area: f.area.clone(),
                location: locate(f.at.as_ref().unwrap_or(&f.area))?,
            }];
            for pool in &f.pools {
                commands.push(FacilityCommand::Beds(report(pool)?));
            }
            let id = FacilityId::from_uuid(seed_id(&f.key));
            plan.push(planned(&f.key, Commands::Facility(id, commands)));
        }
        for t in &self.teams {
            let id = TeamId::from_uuid(seed_id(&t.key));
            let register = TeamCommand::Register {
                team_id: id,
                name: t.name.clone(),
                kind: t.kind.clone(),
                tier: t.tier,
                home_area: t.home_area.clone(),
                base: locate(&t.at)?,
                headcount: t.headcount,
                capabilities: t.capabilities.clone(),
            };
            plan.push(planned(&t.key, Commands::Team(id, vec![register])));
        }
        for d in &self.depots {
            let id = DepotId::from_uuid(seed_id(&d.key));
            plan.push(planned(
                &d.key,
                Commands::Depot(id, depot(id, d, locate(&d.at)?)),
            ));
        }
        for c in &self.convertibles {
            let id = FacilityId::from_uuid(seed_id(&c.key));
            let register = ConvertibleCommand::Register {
                facility_id: id,
                name: c.name.clone(),
                peacetime_use: c.peacetime_use,
                area: c.area.clone(),
                location: locate(c.at.as_ref().unwrap_or(&c.area))?,
                planned_beds: c.emergency_beds.clone(),
                lead_time_minutes: c.lead_time_minutes,
            };
            plan.push(planned(&c.key, Commands::Convertible(id, vec![register])));
        }
        Ok(plan)
    }
}

fn planned(key: &str, commands: Commands) -> Planned {
    Planned {
        key: key.to_owned(),
        commands,
    }
}

/// The id of the resource with this key: UUID v5 under the Chongqing seed namespace.
pub fn seed_id(key: &str) -> Uuid {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:ercs:seed:chongqing");
    Uuid::new_v5(&namespace, key.as_bytes())
}

/// A township's point, or for a district the point of its first township (in code
/// order), so every resource stands inside its area.
fn point(geography: &Geography, code: &DivisionCode) -> Result<GeoPoint, SeedError> {
    let township = match geography.townships.binary_search_by(|t| t.code.cmp(code)) {
        Ok(i) => Some(&geography.townships[i]),
        Err(_) => geography.townships_of(code).first(),
    };
    township
        .map(|t| t.location)
        .ok_or_else(|| SeedError::Inconsistent {
            file: "seeds/chongqing",
            reason: format!("{code} is neither a district nor a township"),
        })
}

fn catalogue(item: &ItemSeed) -> ItemCommand {
    ItemCommand::Catalogue {
        item: item.code.clone(),
        details: ItemDetails {
            name: item.name.clone(),
            unit: item.unit.clone(),
            category: item.category,
            shelf_life_days: item.shelf_life_days,
        },
    }
}

fn report(pool: &PoolSeed) -> Result<BedCommand, SeedError> {
    Ok(BedCommand::Report {
        bed_type: pool.bed_type,
        class: pool.class,
        counts: BedCounts::new(pool.total, pool.staffed, pool.occupied)?,
        lead_time_minutes: pool.lead_time_minutes,
    })
}

fn depot(id: DepotId, d: &DepotSeed, location: GeoPoint) -> Vec<DepotCommand> {
    let reason = |text: &str| Reason::parse(text).expect("a fixed, valid reason");
    let register = DepotCommand::Register {
        depot_id: id,
        name: d.name.clone(),
        tier: d.tier,
        area: d.area.clone(),
        location,
    };
    let lots = d.lots.iter().map(|lot| DepotCommand::ReceiveLot {
        item: lot.item.clone(),
        lot_number: lot.lot.clone(),
        quantity: lot.quantity,
        expiry: lot.expiry,
        reason: reason("opening stock (seed)"),
    });
    let norms = d.norms.iter().map(|norm| DepotCommand::SetReserveNorm {
        item: norm.item.clone(),
        minimum: norm.minimum,
        reason: reason("reserve norm (seed)"),
    });
    std::iter::once(register).chain(lots).chain(norms).collect()
}
