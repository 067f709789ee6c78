//! Small value types that carry their rules: a value that exists is a valid one.
//! Serde goes through the same parse, so a malformed value cannot be deserialized.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Characters a free-text field accepts: anything but control characters.
pub(crate) fn prose(c: char) -> bool {
    !c.is_control()
}

/// Characters of codes that also appear in stream names and URLs.
pub(crate) fn code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.".contains(c)
}

/// Characters of lowercase slugs (tags, checklist items, custom kinds, region keys).
pub(crate) fn slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c)
}

/// Trims, then checks length and characters; the one parse behind every text newtype.
pub(crate) fn parse_text(
    field: &'static str,
    raw: String,
    max_chars: usize,
    allowed: fn(char) -> bool,
) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
        return Err(DomainError::invalid(
            field,
            format!("must not contain {bad:?}"),
        ));
    }
    Ok(text.to_owned())
}

text_newtype!(
    /// A display name (team, depot, facility, item, incident title).
    Name, field = "name", max = 120, chars = prose,
    pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$", example = "万州区人民医院"
);
text_newtype!(
    /// Why something was done; kept in the log for audit.
    Reason, field = "reason", max = 500, chars = prose,
    pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$", example = "万州区暴雨山洪，转运伤员"
);
text_newtype!(
    /// Who issued a command (a user or service id from authentication).
    Actor, field = "actor", max = 128, chars = prose,
    pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$", example = "dispatcher-500101-01"
);
text_newtype!(
    /// A unit of issue for a catalogue item, e.g. `box`, `支`, `套`.
    Unit, field = "unit", max = 16, chars = prose,
    pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]+$", example = "盒"
);
text_newtype!(
    /// What a team can do, as a lowercase tag, e.g. `ecmo`, `decontamination`.
    CapabilityTag, field = "capability", max = 64, chars = slug_char,
    pattern = "^[a-z0-9_-]+$", example = "ecmo"
);
text_newtype!(
    /// One item of a convertible facility's readiness checklist, e.g. `ventilation_zoning`.
    ChecklistItem, field = "checklist_item", max = 64, chars = slug_char,
    pattern = "^[a-z0-9_-]+$", example = "ventilation_zoning"
);

/// A count of units of stock. Never negative; arithmetic is checked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
// u32 on the wire: format int64, since OpenAPI's int32 is signed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = i64, minimum = 0, maximum = 4294967295u32, example = 200))]
pub struct Quantity(u32);

impl Quantity {
    pub const ZERO: Self = Self(0);

    pub const fn new(units: u32) -> Self {
        Self(units)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `None` where the result would be negative.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// Refuses zero where a command must move at least one unit.
    pub(crate) fn positive(self, field: &'static str) -> Result<Self, DomainError> {
        if self.is_zero() {
            Err(DomainError::invalid(field, "must be at least 1"))
        } else {
            Ok(self)
        }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::iter::Sum for Quantity {
    /// Exact. Quantities are only summed within one item at one depot, which the depot
    /// decider keeps within `u32::MAX`; totals across items use u64
    /// (`DepotState::total_on_hand`). Past that bound the stream is corrupt.
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        let total: u64 = iter.map(|q| u64::from(q.0)).sum();
        Self(u32::try_from(total).unwrap_or_else(|_| {
            crate::decider::corrupt_stream(format_args!("{total} units overflow a Quantity"));
            u32::MAX
        }))
    }
}

/// How many people a team fields; at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(minimum = 1, maximum = 10000, example = 12)
)]
pub struct Headcount(u32);

impl Headcount {
    /// Teams above this size are a data error, not a team.
    pub const MAX: u32 = 10_000;

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Headcount {
    type Error = DomainError;
    fn try_from(people: u32) -> Result<Self, Self::Error> {
        match people {
            0 => Err(DomainError::invalid("headcount", "must be at least 1")),
            n if n > Self::MAX => Err(DomainError::invalid(
                "headcount",
                format!("must be at most {}", Self::MAX),
            )),
            n => Ok(Self(n)),
        }
    }
}

impl From<Headcount> for u32 {
    fn from(h: Headcount) -> u32 {
        h.0
    }
}

/// Adds minutes to a time, refusing results beyond chrono's range.
pub(crate) fn after_minutes(
    at: chrono::DateTime<chrono::Utc>,
    minutes: u32,
    field: &'static str,
) -> Result<chrono::DateTime<chrono::Utc>, DomainError> {
    at.checked_add_signed(chrono::TimeDelta::minutes(i64::from(minutes)))
        .ok_or_else(|| DomainError::invalid(field, "lead time reaches past the calendar"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_never_empty() {
        assert_eq!(
            Name::parse("  万州区人民医院 ").unwrap().as_str(),
            "万州区人民医院"
        );
        assert_eq!(Name::parse("   ").unwrap_err().field(), Some("name"));
    }

    #[test]
    fn a_name_refuses_control_characters_and_excess_length() {
        assert!(Name::parse("a\u{7}b").is_err());
        assert!(Name::parse("x".repeat(121)).is_err());
        assert!(Name::parse("x".repeat(120)).is_ok());
    }

    #[test]
    fn a_capability_tag_is_a_lowercase_slug() {
        assert!(CapabilityTag::parse("ecmo").is_ok());
        assert!(CapabilityTag::parse("ECMO").is_err());
        assert!(CapabilityTag::parse("two words").is_err());
    }

    #[test]
    fn text_newtypes_deserialize_only_through_the_parse() {
        assert!(serde_json::from_str::<Name>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<Name>("\" ok \"").unwrap().as_str(),
            "ok"
        );
    }

    #[test]
    fn a_quantity_never_goes_negative() {
        assert_eq!(Quantity::new(3).checked_sub(Quantity::new(4)), None);
        assert!(serde_json::from_str::<Quantity>("-1").is_err());
        assert_eq!(
            Quantity::new(3).saturating_sub(Quantity::new(4)),
            Quantity::ZERO
        );
    }

    #[test]
    fn a_headcount_is_at_least_one() {
        assert!(serde_json::from_str::<Headcount>("0").is_err());
        assert!(serde_json::from_str::<Headcount>("10001").is_err());
        assert_eq!(serde_json::from_str::<Headcount>("12").unwrap().get(), 12);
    }
}
