//! The area hierarchy, loaded from data (the seeds' Chongqing division list), not
//! hard-coded: City → Region → District → Township. It answers "which district, which
//! region is this township in" for routing's escalation and the dashboard's rollups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::area::{AreaCode, Tier};
use crate::values::Name;

/// One row of the hierarchy as the seed data gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaRecord {
    pub code: AreaCode,
    pub name: Name,
    pub tier: Tier,
    /// `None` only for the city at the top.
    pub parent: Option<AreaCode>,
}

/// A checked tree of areas: every parent exists and sits in a higher tier, so
/// walking up always ends at the city.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaHierarchy {
    areas: BTreeMap<AreaCode, AreaRecord>,
}

impl AreaHierarchy {
    /// Builds the hierarchy, refusing duplicates, dangling parents and tier mix-ups.
    pub fn from_records(
        records: impl IntoIterator<Item = AreaRecord>,
    ) -> Result<Self, DomainError> {
        let mut areas = BTreeMap::new();
        for record in records {
            check_code_fits_tier(&record)?;
            if areas.contains_key(&record.code) {
                return Err(DomainError::already_exists("area", &record.code));
            }
            areas.insert(record.code.clone(), record);
        }
        let hierarchy = Self { areas };
        hierarchy
            .areas
            .values()
            .try_for_each(|r| hierarchy.check_parent(r))?;
        Ok(hierarchy)
    }

    pub fn get(&self, code: &AreaCode) -> Option<&AreaRecord> {
        self.areas.get(code)
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The area and then each area above it, up to the city.
    pub fn path<'a>(&'a self, code: &AreaCode) -> impl Iterator<Item = &'a AreaRecord> + 'a {
        std::iter::successors(self.get(code), |area| {
            area.parent.as_ref().and_then(|p| self.get(p))
        })
    }

    /// The area at `tier` that contains `code` (the area itself when it is at `tier`).
    pub fn ancestor_at(&self, code: &AreaCode, tier: Tier) -> Option<&AreaRecord> {
        self.path(code).find(|area| area.tier == tier)
    }

    /// 区县 — the district a township (or the district itself) lies in.
    pub fn district_of(&self, code: &AreaCode) -> Option<&AreaRecord> {
        self.ancestor_at(code, Tier::District)
    }

    /// 区域 — the region a district or township lies in.
    pub fn region_of(&self, code: &AreaCode) -> Option<&AreaRecord> {
        self.ancestor_at(code, Tier::Region)
    }

    /// The areas directly below `code`.
    pub fn children<'a>(&'a self, code: &'a AreaCode) -> impl Iterator<Item = &'a AreaRecord> + 'a {
        self.areas
            .values()
            .filter(move |area| area.parent.as_ref() == Some(code))
    }

    fn check_parent(&self, record: &AreaRecord) -> Result<(), DomainError> {
        let Some(parent_code) = &record.parent else {
            return match record.tier {
                Tier::City => Ok(()),
                _ => Err(DomainError::invalid(
                    "parent",
                    format!("{} has no parent; only the city may", record.code),
                )),
            };
        };
        let parent = self
            .get(parent_code)
            .ok_or_else(|| DomainError::not_found("parent area", parent_code))?;
        if !parent.tier.is_above(record.tier) {
            return Err(DomainError::invalid(
                "parent",
                format!(
                    "{} ({:?}) cannot sit under {} ({:?})",
                    record.code, record.tier, parent.code, parent.tier
                ),
            ));
        }
        check_township_in_its_county(record, parent)
    }
}

/// Cities, districts and townships are divisions; regions are not.
fn check_code_fits_tier(record: &AreaRecord) -> Result<(), DomainError> {
    let fits = match (&record.code, record.tier) {
        (AreaCode::Region(_), Tier::Region) => true,
        (AreaCode::Division(code), Tier::Township) => code.is_township(),
        (AreaCode::Division(code), Tier::City | Tier::District) => !code.is_township(),
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "code",
            format!("{} is not a {:?} code", record.code, record.tier),
        ))
    }
}

/// A township's nine-digit code begins with its district's six: the data must agree.
fn check_township_in_its_county(
    record: &AreaRecord,
    parent: &AreaRecord,
) -> Result<(), DomainError> {
    match (&record.code, &parent.code, parent.tier) {
        (AreaCode::Division(t), AreaCode::Division(d), Tier::District)
            if t.is_township() && t.county() != *d =>
        {
            Err(DomainError::invalid(
                "parent",
                format!("township {t} is not in district {d}"),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(code: &str, name: &str, tier: Tier, parent: Option<&str>) -> AreaRecord {
        AreaRecord {
            code: AreaCode::parse(code).unwrap(),
            name: Name::parse(name).unwrap(),
            tier,
            parent: parent.map(|p| AreaCode::parse(p).unwrap()),
        }
    }

    fn chongqing() -> Vec<AreaRecord> {
        vec![
            record("500000", "重庆市", Tier::City, None),
            record(
                "wanzhou-sanxia",
                "万州/三峡区域",
                Tier::Region,
                Some("500000"),
            ),
            record("500101", "万州区", Tier::District, Some("wanzhou-sanxia")),
            record("500101001", "高笋塘街道", Tier::Township, Some("500101")),
        ]
    }

    fn code(raw: &str) -> AreaCode {
        AreaCode::parse(raw).unwrap()
    }

    #[test]
    fn a_township_knows_its_district_and_region() {
        let h = AreaHierarchy::from_records(chongqing()).unwrap();
        assert_eq!(
            h.district_of(&code("500101001")).unwrap().code,
            code("500101")
        );
        assert_eq!(
            h.region_of(&code("500101001")).unwrap().code,
            code("wanzhou-sanxia")
        );
        assert_eq!(h.path(&code("500101001")).count(), 4);
        assert_eq!(h.children(&code("500101")).count(), 1);
    }

    #[test]
    fn records_may_come_in_any_order() {
        let mut records = chongqing();
        records.reverse();
        assert_eq!(AreaHierarchy::from_records(records).unwrap().len(), 4);
    }

    #[test]
    fn a_dangling_parent_is_refused() {
        let mut records = chongqing();
        records.push(record(
            "500102",
            "涪陵区",
            Tier::District,
            Some("fuling-hub"),
        ));
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().code(),
            "not-found"
        );
    }

    #[test]
    fn a_parent_must_sit_in_a_higher_tier() {
        let mut records = chongqing();
        records.push(record("500102", "涪陵区", Tier::District, Some("500101")));
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().field(),
            Some("parent")
        );
    }

    #[test]
    fn a_township_must_lie_in_the_district_its_code_names() {
        let mut records = chongqing();
        records.push(record(
            "500102001",
            "敦仁街道",
            Tier::Township,
            Some("500101"),
        ));
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().field(),
            Some("parent")
        );
    }

    #[test]
    fn a_code_must_fit_its_tier() {
        let records = vec![record("500101001", "x", Tier::District, None)];
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().field(),
            Some("code")
        );
    }

    #[test]
    fn an_area_is_listed_once() {
        let mut records = chongqing();
        records.push(record(
            "500101",
            "万州区",
            Tier::District,
            Some("wanzhou-sanxia"),
        ));
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().code(),
            "already-exists"
        );
    }

    #[test]
    fn only_the_city_has_no_parent() {
        let records = vec![record("500101", "万州区", Tier::District, None)];
        assert_eq!(
            AreaHierarchy::from_records(records).unwrap_err().field(),
            Some("parent")
        );
    }
}
