//! The geography as typed records: what the seed files say, checked on load.

use std::collections::BTreeMap;

use ercs_domain::area::{AreaCode, DivisionCode, RegionSlug, Tier};
use ercs_domain::geo::GeoPoint;
use ercs_domain::hierarchy::{AreaHierarchy, AreaRecord};
use ercs_domain::values::Name;
use geo::MultiPolygon;
use serde::Deserialize;

use crate::SeedError;
use crate::parse;

/// One seed file: its path (for errors) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub file: &'static str,
    pub text: &'a str,
}

/// 市级 — the municipality at the top of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    pub code: DivisionCode,
    pub name: Name,
}

/// 区县 — a district or county with its WGS-84 boundary (RFC 7946 winding).
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub code: DivisionCode,
    pub name: Name,
    /// The 一区两群 region the district belongs to.
    pub region: RegionSlug,
    pub boundary: MultiPolygon<f64>,
}

/// 乡镇/街道 — a township or sub-district.
#[derive(Debug, Clone, PartialEq)]
pub struct Township {
    pub code: DivisionCode,
    pub name: Name,
    pub county: DivisionCode,
    pub location: GeoPoint,
    /// True when `location` is a generated stand-in, not a surveyed seat.
    pub synthetic: bool,
}

/// 区域 — one part of 一区两群; together the regions hold every district once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub slug: RegionSlug,
    pub name: Name,
    /// The wider grouping, e.g. 主城都市区 for 中心城区 and 主城新区.
    pub group: Option<RegionSlug>,
    pub districts: Vec<DivisionCode>,
}

/// A grouping of regions, e.g. 主城都市区 = 中心城区 + 主城新区.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionGroup {
    pub slug: RegionSlug,
    pub name: Name,
    pub regions: Vec<RegionSlug>,
}

/// A regional hub (区域中心), e.g. 万州/三峡, seated in one district.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hub {
    pub slug: RegionSlug,
    pub name: Name,
    pub seat: DivisionCode,
}

/// Everything the geography seeds hold, consistent across the files.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    pub city: City,
    pub groups: Vec<RegionGroup>,
    pub regions: Vec<Region>,
    pub hubs: Vec<Hub>,
    /// Sorted by code.
    pub districts: Vec<District>,
    /// Sorted by code.
    pub townships: Vec<Township>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    city: City,
    groups: Vec<RegionGroup>,
    regions: Vec<Region>,
    hubs: Vec<Hub>,
}

impl Geography {
    /// Parses the three files and checks that they agree: every district's region
    /// lists it, every township's county exists, every hub sits in a district.
    pub fn from_sources(
        districts: Source<'_>,
        townships: Source<'_>,
        regions: Source<'_>,
    ) -> Result<Self, SeedError> {
        let RegionsFile {
            city,
            groups,
            regions: region_list,
            hubs,
        } = serde_json::from_str(regions.text).map_err(|source| SeedError::Json {
            file: regions.file,
            source,
        })?;
        let mut geography = Self {
            city,
            groups,
            regions: region_list,
            hubs,
            districts: parse::districts(districts)?,
            townships: parse::townships(townships)?,
        };
        geography.districts.sort_by(|a, b| a.code.cmp(&b.code));
        geography.townships.sort_by(|a, b| a.code.cmp(&b.code));
        geography.check_regions(regions.file)?;
        geography.check_townships(townships.file)?;
        Ok(geography)
    }

    pub fn district(&self, code: &DivisionCode) -> Option<&District> {
        self.districts
            .binary_search_by(|d| d.code.cmp(code))
            .ok()
            .map(|i| &self.districts[i])
    }

    pub fn region(&self, slug: &RegionSlug) -> Option<&Region> {
        self.regions.iter().find(|r| &r.slug == slug)
    }

    /// The townships of one county, in code order.
    pub fn townships_of(&self, county: &DivisionCode) -> &[Township] {
        let start = self.townships.partition_point(|t| t.county < *county);
        let end = self.townships.partition_point(|t| t.county <= *county);
        &self.townships[start..end]
    }

    /// The hubs seated in a district of `region`.
    pub fn hubs_in<'a>(&'a self, region: &'a RegionSlug) -> impl Iterator<Item = &'a Hub> + 'a {
        self.hubs.iter().filter(move |hub| {
            self.district(&hub.seat)
                .is_some_and(|district| &district.region == region)
        })
    }

    /// The tree city → region → district → township, as the domain's records.
    pub fn area_records(&self) -> Vec<AreaRecord> {
        let city = AreaCode::from(self.city.code.clone());
        let record = |code: AreaCode, name: &Name, tier, parent: AreaCode| AreaRecord {
            code,
            name: name.clone(),
            tier,
            parent: Some(parent),
        };
        let top = AreaRecord {
            code: city.clone(),
            name: self.city.name.clone(),
            tier: Tier::City,
            parent: None,
        };
        let regions = self.regions.iter().map(|r| {
            let code = AreaCode::Region(r.slug.clone());
            record(code, &r.name, Tier::Region, city.clone())
        });
        let districts = self.districts.iter().map(|d| {
            let parent = AreaCode::Region(d.region.clone());
            record(d.code.clone().into(), &d.name, Tier::District, parent)
        });
        let townships = self.townships.iter().map(|t| {
            let parent = t.county.clone().into();
            record(t.code.clone().into(), &t.name, Tier::Township, parent)
        });
        std::iter::once(top)
            .chain(regions)
            .chain(districts)
            .chain(townships)
            .collect()
    }

    /// The checked area hierarchy, for "which district, which region is this in".
    pub fn hierarchy(&self) -> Result<AreaHierarchy, SeedError> {
        Ok(AreaHierarchy::from_records(self.area_records())?)
    }

    fn check_regions(&self, file: &'static str) -> Result<(), SeedError> {
        let inconsistent = |reason: String| SeedError::Inconsistent { file, reason };
        let mut listed: BTreeMap<&DivisionCode, &RegionSlug> = BTreeMap::new();
        for region in &self.regions {
            for code in &region.districts {
                if let Some(other) = listed.insert(code, &region.slug) {
                    return Err(inconsistent(format!(
                        "district {code} is in both {other} and {}",
                        region.slug
                    )));
                }
            }
        }
        for district in &self.districts {
            if listed.remove(&district.code) != Some(&district.region) {
                return Err(inconsistent(format!(
                    "district {} names region {}, which does not list it",
                    district.code, district.region
                )));
            }
        }
        if let Some(code) = listed.keys().next() {
            return Err(inconsistent(format!(
                "region lists unknown district {code}"
            )));
        }
        for hub in &self.hubs {
            if self.district(&hub.seat).is_none() {
                return Err(inconsistent(format!(
                    "hub {} is seated in unknown district {}",
                    hub.slug, hub.seat
                )));
            }
        }
        for group in &self.groups {
            for slug in &group.regions {
                if self.region(slug).and_then(|r| r.group.as_ref()) != Some(&group.slug) {
                    return Err(inconsistent(format!(
                        "group {} lists region {slug}, which does not name it",
                        group.slug
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_townships(&self, file: &'static str) -> Result<(), SeedError> {
        match self
            .townships
            .iter()
            .find(|t| self.district(&t.county).is_none())
        {
            Some(t) => Err(SeedError::Inconsistent {
                file,
                reason: format!("township {} names unknown county {}", t.code, t.county),
            }),
            None => Ok(()),
        }
    }
}
