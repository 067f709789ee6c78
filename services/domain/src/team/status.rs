//! Where a team is in its lifecycle, and which steps are legal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::area::DivisionCode;
use crate::geo::GeoPoint;
use crate::ids::IncidentId;
use crate::lifecycle::Lifecycle;
use crate::values::Reason;

/// A team's status, with what the dispatcher needs to know in each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TeamStatus {
    /// 待命 — ready to be mobilised.
    Standby,
    /// Assembling and en route to an incident: where to, and when it is
    /// expected there, when the dispatcher said.
    Mobilising {
        incident: IncidentId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination: Option<GeoPoint>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T09:30:00Z"))]
        expected_arrival: Option<DateTime<Utc>>,
    },
    /// On site at an incident.
    Deployed {
        incident: IncidentId,
        area: DivisionCode,
        location: GeoPoint,
    },
    /// Released from an incident, travelling back to base.
    Returning { incident: IncidentId },
    /// Back at base, recovering before standby.
    Resting,
    /// Out of service (training, leave, equipment), with why.
    Unavailable {
        reason: Reason,
        #[cfg_attr(feature = "openapi", schema(example = "2025-07-01T08:00:00Z"))]
        since: DateTime<Utc>,
    },
}

impl TeamStatus {
    pub fn phase(&self) -> TeamPhase {
        match self {
            Self::Standby => TeamPhase::Standby,
            Self::Mobilising { .. } => TeamPhase::Mobilising,
            Self::Deployed { .. } => TeamPhase::Deployed,
            Self::Returning { .. } => TeamPhase::Returning,
            Self::Resting => TeamPhase::Resting,
            Self::Unavailable { .. } => TeamPhase::Unavailable,
        }
    }

    /// The incident the team is committed to, if any.
    pub fn incident(&self) -> Option<IncidentId> {
        match self {
            Self::Mobilising { incident, .. }
            | Self::Deployed { incident, .. }
            | Self::Returning { incident } => Some(*incident),
            _ => None,
        }
    }
}

/// The dataless phase of [`TeamStatus`], the key of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeamPhase {
    Standby,
    Mobilising,
    Deployed,
    Returning,
    Resting,
    Unavailable,
}

impl Lifecycle for TeamPhase {
    const AGGREGATE: &'static str = "team";
    const TRANSITIONS: &'static [(Self, &'static str, Self)] = &[
        (Self::Standby, "mobilise", Self::Mobilising),
        (Self::Standby, "mark_unavailable", Self::Unavailable),
        (Self::Mobilising, "deploy", Self::Deployed),
        // Recalled before arrival: the team turns back.
        (Self::Mobilising, "demobilise", Self::Returning),
        (Self::Deployed, "demobilise", Self::Returning),
        (Self::Returning, "arrive_at_base", Self::Resting),
        (Self::Resting, "resume_standby", Self::Standby),
        (Self::Resting, "mark_unavailable", Self::Unavailable),
        (Self::Unavailable, "mark_available", Self::Standby),
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Standby => "standby",
            Self::Mobilising => "mobilising",
            Self::Deployed => "deployed",
            Self::Returning => "returning",
            Self::Resting => "resting",
            Self::Unavailable => "unavailable",
        }
    }
}
