use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::TeamKind;
use crate::area::{AreaCode, DivisionCode, Tier};
use crate::geo::GeoPoint;
use crate::ids::{IncidentId, TeamId};
use crate::values::{CapabilityTag, Headcount, Name, Reason};
use chrono::{DateTime, Utc};

/// What a dispatcher can ask of a team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TeamCommand {
    /// Enter a team into the one network.
    Register {
        team_id: TeamId,
        name: Name,
        kind: TeamKind,
        tier: Tier,
        home_area: AreaCode,
        base: GeoPoint,
        headcount: Headcount,
        capabilities: BTreeSet<CapabilityTag>,
    },
    /// 调派 — commit a standby team to an incident, optionally saying where it
    /// goes and when it is expected there.
    Mobilise {
        incident: IncidentId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination: Option<GeoPoint>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T09:30:00Z"))]
        expected_arrival: Option<DateTime<Utc>>,
    },
    /// The team has arrived at its destination.
    Deploy {
        area: DivisionCode,
        location: GeoPoint,
    },
    /// Release the team from its incident.
    Demobilise,
    ArriveAtBase,
    ResumeStandby,
    MarkUnavailable {
        reason: Reason,
    },
    MarkAvailable,
    /// Change who and what the team fields; allowed in any status.
    UpdateRoster {
        headcount: Headcount,
        capabilities: BTreeSet<CapabilityTag>,
    },
}

impl TeamCommand {
    /// The lifecycle action this command takes, for those that change status.
    pub(super) fn action(&self) -> Option<&'static str> {
        Some(match self {
            Self::Mobilise { .. } => "mobilise",
            Self::Deploy { .. } => "deploy",
            Self::Demobilise => "demobilise",
            Self::ArriveAtBase => "arrive_at_base",
            Self::ResumeStandby => "resume_standby",
            Self::MarkUnavailable { .. } => "mark_unavailable",
            Self::MarkAvailable => "mark_available",
            Self::Register { .. } | Self::UpdateRoster { .. } => return None,
        })
    }
}
