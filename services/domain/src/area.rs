//! Tiers and area codes. Areas are keyed by official GB/T 2260 division codes
//! (500101 = 万州区; townships have nine digits, 500101001); regions (区域), which are
//! not administrative divisions, have a slug key of their own.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::values::slug_char;

/// A tier of the one network, from the top: 市级 → 区域 → 区县 → 乡镇/街道 → 机构.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "district")
)]
pub enum Tier {
    /// 市级 — the municipality (Chongqing).
    City,
    /// 区域 — a regional hub (万州/三峡, 黔江/武陵山, 永川/渝西) or regional CDC area.
    Region,
    /// 区县 — a district or county.
    District,
    /// 乡镇/街道 — a township or sub-district.
    Township,
    /// 机构 — one institution (hospital, CDC, health centre).
    Institution,
}

all_values!(Tier {
    City,
    Region,
    District,
    Township,
    Institution
});

impl Tier {
    /// True when `self` sits strictly above `other` (City is above everything).
    pub fn is_above(self, other: Tier) -> bool {
        self < other
    }
}

/// A GB/T 2260 division code: six digits (province, prefecture or county level) or
/// nine (township). Cannot be malformed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
// The pattern is `parse`: a province digit 1–8, five more digits, and optionally a
// three-digit township part other than 000.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        min_length = 6,
        max_length = 9,
        example = "500101",
        pattern = "^[1-8][0-9]{5}([0-9]{2}[1-9]|[0-9][1-9][0-9]|[1-9][0-9]{2})?$"
    )
)]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad =
            |reason: &str| DomainError::invalid("division_code", format!("{raw:?}: {reason}"));
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("must be digits only"));
        }
        if raw.len() != 6 && raw.len() != 9 {
            return Err(bad("must be 6 digits (county) or 9 digits (township)"));
        }
        if !(b'1'..=b'8').contains(&raw.as_bytes()[0]) {
            return Err(bad("province part must start with 1–8"));
        }
        if raw.len() == 9 && raw.ends_with("000") {
            return Err(bad("township part must not be 000"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for a nine-digit township (乡镇/街道) code.
    pub fn is_township(&self) -> bool {
        self.0.len() == 9
    }

    /// The six-digit county-level code this code lies in (itself for a six-digit code).
    pub fn county(&self) -> DivisionCode {
        Self(self.0[..6].to_owned())
    }

    /// True when `other` lies within `self` by the structure of the codes: a province
    /// (`xx0000`) holds its prefix, a prefecture (`xxxx00`) likewise, a county holds its
    /// townships, and every code holds itself.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        let prefix = match &self.0 {
            c if c.len() == 9 => c.as_str(),
            c if c.ends_with("0000") => &c[..2],
            c if c.ends_with("00") => &c[..4],
            c => c.as_str(),
        };
        other.0.starts_with(prefix)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = DomainError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl From<DivisionCode> for String {
    fn from(code: DivisionCode) -> String {
        code.0
    }
}

impl std::fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

text_newtype!(
    /// The key of a region (区域), which has no division code: a lowercase slug such as
    /// `wanzhou-sanxia`. Must start with a letter so it never reads as a division code.
    RegionSlug, field = "region", max = 64, chars = slug_char,
    first = |c| c.is_ascii_lowercase(), first_rule = "must start with a lowercase letter",
    pattern = "^[a-z][a-z0-9_-]*$", example = "wanzhou-sanxia"
);

/// Any area of the hierarchy: a division (city, district, township) or a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AreaCode {
    Division(DivisionCode),
    Region(RegionSlug),
}

impl AreaCode {
    /// Digits parse as a division code, anything else as a region slug.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.bytes().next() {
            Some(b) if b.is_ascii_digit() => DivisionCode::parse(raw).map(Self::Division),
            _ => RegionSlug::parse(raw).map(Self::Region),
        }
    }

    pub fn as_division(&self) -> Option<&DivisionCode> {
        match self {
            Self::Division(code) => Some(code),
            Self::Region(_) => None,
        }
    }
}

impl From<DivisionCode> for AreaCode {
    fn from(code: DivisionCode) -> Self {
        Self::Division(code)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl std::str::FromStr for AreaCode {
    type Err = DomainError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl From<AreaCode> for String {
    fn from(code: AreaCode) -> String {
        code.to_string()
    }
}

impl std::fmt::Display for AreaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Division(code) => code.fmt(f),
            Self::Region(slug) => slug.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_division_code_is_six_or_nine_digits() {
        assert!(DivisionCode::parse("500101").is_ok());
        assert!(DivisionCode::parse("500101001").is_ok());
        for bad in [
            "50010",
            "5001010",
            "50010100a",
            "",
            "900101",
            "500101000",
            "５00101",
        ] {
            assert!(DivisionCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_division_code_deserializes_only_through_the_parse() {
        assert!(serde_json::from_str::<DivisionCode>("\"50010\"").is_err());
        let code: DivisionCode = serde_json::from_str("\"500101001\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"500101001\"");
    }

    #[test]
    fn a_township_lies_in_its_county_and_the_county_in_the_province() {
        let township = DivisionCode::parse("500101001").unwrap();
        let county = DivisionCode::parse("500101").unwrap();
        let city = DivisionCode::parse("500000").unwrap();
        assert_eq!(township.county(), county);
        assert!(county.contains(&township));
        assert!(city.contains(&township));
        assert!(!DivisionCode::parse("500102").unwrap().contains(&township));
    }

    #[test]
    fn an_area_code_is_a_division_or_a_region_slug() {
        assert!(matches!(
            AreaCode::parse("500101"),
            Ok(AreaCode::Division(_))
        ));
        assert!(matches!(
            AreaCode::parse("wanzhou-sanxia"),
            Ok(AreaCode::Region(_))
        ));
        assert!(AreaCode::parse("Wanzhou").is_err());
        assert!(AreaCode::parse("5001x1").is_err());
    }

    #[test]
    fn a_region_slug_must_start_with_a_letter() {
        assert!(RegionSlug::parse("wanzhou-sanxia").is_ok());
        for bad in ["-wanzhou", "_sanxia", "7-cdc-areas"] {
            let err = RegionSlug::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("region"), "{bad}");
        }
        assert!(serde_json::from_str::<RegionSlug>("\"-x\"").is_err());
    }

    #[test]
    fn the_city_tier_is_above_every_other() {
        assert!(Tier::City.is_above(Tier::Region));
        assert!(Tier::District.is_above(Tier::Township));
        assert!(!Tier::Township.is_above(Tier::District));
    }
}
