//! What a team is for. The five kinds of the seeds, plus custom kinds for anything
//! a district fields that they do not name.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::values::slug_char;

text_newtype!(
    /// The slug of a custom team kind, e.g. `nuclear_radiation`.
    CustomKind, field = "kind", max = 64, chars = slug_char,
    pattern = "^[a-z0-9_-]+$", example = "nuclear_radiation"
);

/// A team's kind; on the wire a snake_case name, or `custom:<slug>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TeamKind {
    /// 紧急医学救援 — emergency medical rescue.
    MedicalRescue,
    /// 突发急性传染病防控 — acute infectious disease prevention and control.
    AcuteInfectiousDisease,
    /// 突发中毒事件处置 — poisoning incident response.
    Poisoning,
    /// 中医疫病防治 — traditional Chinese medicine epidemic prevention and treatment.
    TcmEpidemic,
    /// 背囊化快速反应小分队 — backpack rapid-response squad.
    BackpackRapidResponse,
    /// A kind the seeds do not name; the prefix keeps a typo from becoming one silently.
    Custom(CustomKind),
}

const CUSTOM_PREFIX: &str = "custom:";

const NAMED: [(&str, TeamKind); 5] = [
    ("medical_rescue", TeamKind::MedicalRescue),
    ("acute_infectious_disease", TeamKind::AcuteInfectiousDisease),
    ("poisoning", TeamKind::Poisoning),
    ("tcm_epidemic", TeamKind::TcmEpidemic),
    ("backpack_rapid_response", TeamKind::BackpackRapidResponse),
];

/// The named kinds, for the schema registry.
pub(crate) fn kind_names() -> Vec<TeamKind> {
    NAMED.iter().map(|(_, kind)| kind.clone()).collect()
}

/// What every custom kind starts with.
pub(crate) fn kind_custom_prefix() -> &'static str {
    CUSTOM_PREFIX
}

impl TeamKind {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if let Some(slug) = raw.strip_prefix(CUSTOM_PREFIX) {
            return CustomKind::parse(slug).map(Self::Custom);
        }
        NAMED
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(_, kind)| kind.clone())
            .ok_or_else(|| {
                DomainError::invalid(
                    "kind",
                    format!("{raw:?} is not a team kind; use one of the five or custom:<slug>"),
                )
            })
    }
}

impl std::fmt::Display for TeamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Custom(slug) => write!(f, "{CUSTOM_PREFIX}{slug}"),
            named => {
                let name = NAMED
                    .iter()
                    .find(|(_, kind)| kind == named)
                    .map_or("", |(name, _)| name);
                f.write_str(name)
            }
        }
    }
}

impl TryFrom<String> for TeamKind {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<TeamKind> for String {
    fn from(kind: TeamKind) -> String {
        kind.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_kind_round_trips_through_its_name() {
        for (name, kind) in NAMED {
            assert_eq!(TeamKind::parse(name).unwrap(), kind);
            assert_eq!(kind.to_string(), name);
        }
        let custom = TeamKind::parse("custom:nuclear_radiation").unwrap();
        assert_eq!(custom.to_string(), "custom:nuclear_radiation");
    }

    #[test]
    fn an_unknown_team_kind_is_refused_unless_marked_custom() {
        assert_eq!(
            TeamKind::parse("medical_rescu").unwrap_err().field(),
            Some("kind")
        );
        assert!(TeamKind::parse("custom:").is_err());
    }
}
