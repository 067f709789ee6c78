use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::ResponseLevel;
use crate::area::DivisionCode;
use crate::beds::BedType;
use crate::geo::GeoPoint;
use crate::ids::IncidentId;
use crate::supply::ItemCode;
use crate::team::TeamKind;
use crate::values::{Name, Quantity, Reason};

/// 突发事件类别 — what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "mass_casualty")
)]
pub enum IncidentKind {
    /// 突发急性传染病
    InfectiousDisease,
    /// 突发事件紧急医学救援 (accidents, mass casualties)
    MassCasualty,
    /// 突发中毒事件
    Poisoning,
    /// 自然灾害
    NaturalDisaster,
    Other,
}

all_values!(IncidentKind {
    InfectiousDisease,
    MassCasualty,
    Poisoning,
    NaturalDisaster,
    Other
});

/// What a command centre can do with an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IncidentCommand {
    Declare {
        incident_id: IncidentId,
        kind: IncidentKind,
        level: ResponseLevel,
        title: Name,
        affected_areas: BTreeSet<DivisionCode>,
        /// Where it happened (WGS-84), for the map; optional.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<GeoPoint>,
    },
    RaiseLevel {
        level: ResponseLevel,
        reason: Reason,
    },
    LowerLevel {
        level: ResponseLevel,
        reason: Reason,
    },
    ExtendAffectedAreas {
        areas: BTreeSet<DivisionCode>,
    },
    /// Beds of a type needed in a township (zero withdraws the demand).
    RecordBedDemand {
        bed_type: BedType,
        township: DivisionCode,
        beds: u32,
    },
    /// Units of an item needed in an area (zero withdraws the demand).
    RecordSupplyDemand {
        item: ItemCode,
        area: DivisionCode,
        quantity: Quantity,
    },
    /// Teams of a kind needed (zero withdraws the demand).
    RecordTeamDemand {
        kind: TeamKind,
        teams: u32,
    },
    Close {
        reason: Reason,
        /// Release everything still held for the incident first (reservations of
        /// its plans, teams mobilised or on scene), as one process. Without it, an
        /// incident that still holds something is not closed, and the refusal
        /// names what it holds.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        release_all: bool,
    },
}

impl IncidentCommand {
    pub(super) fn action(&self) -> Option<&'static str> {
        Some(match self {
            Self::Declare { .. } => return None,
            Self::RaiseLevel { .. } => "raise_level",
            Self::LowerLevel { .. } => "lower_level",
            Self::ExtendAffectedAreas { .. } => "extend_affected_areas",
            Self::RecordBedDemand { .. } => "record_bed_demand",
            Self::RecordSupplyDemand { .. } => "record_supply_demand",
            Self::RecordTeamDemand { .. } => "record_team_demand",
            Self::Close { .. } => "close",
        })
    }
}
