use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::TeamKind;
use crate::area::{AreaCode, DivisionCode, Tier};
use crate::geo::GeoPoint;
use crate::ids::{IncidentId, TeamId};
use crate::values::{CapabilityTag, Headcount, Name, Reason};

message!(
    /// A team joined the one network, on standby.
    TeamRegistered (version 1) {
        1 team_id: TeamId,
        2 name: Name,
        3 kind: TeamKind,
        4 tier: Tier,
        5 home_area: AreaCode,
        6 base: GeoPoint,
        7 headcount: Headcount,
        8 capabilities: BTreeSet<CapabilityTag>,
        9 at: DateTime<Utc>,
    }
);

message!(
    /// The team was committed to an incident and is assembling.
    TeamMobilised (version 1) {
        1 team_id: TeamId,
        2 incident: IncidentId,
        3 at: DateTime<Utc>,
        /// Where it is going, when the dispatcher said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        4 destination: Option<GeoPoint>,
        /// When it is expected there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        5 expected_arrival: Option<DateTime<Utc>>,
    }
);

message!(
    /// The team arrived at its destination for the incident.
    TeamDeployed (version 1) {
        1 team_id: TeamId,
        2 incident: IncidentId,
        3 area: DivisionCode,
        4 location: GeoPoint,
        5 at: DateTime<Utc>,
    }
);

message!(
    /// The team was released from the incident and is heading back.
    TeamDemobilised (version 1) {
        1 team_id: TeamId,
        2 incident: IncidentId,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// The team is back at base and resting.
    TeamArrivedAtBase (version 1) {
        1 team_id: TeamId,
        2 at: DateTime<Utc>,
    }
);

message!(
    /// The team has rested and is on standby again.
    TeamBackOnStandby (version 1) {
        1 team_id: TeamId,
        2 at: DateTime<Utc>,
    }
);

message!(
    /// The team was taken out of service.
    TeamMarkedUnavailable (version 1) {
        1 team_id: TeamId,
        2 reason: Reason,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// The team is back in service, on standby.
    TeamMarkedAvailable (version 1) {
        1 team_id: TeamId,
        2 at: DateTime<Utc>,
    }
);

message!(
    /// The team's headcount or capabilities changed.
    TeamRosterUpdated (version 1) {
        1 team_id: TeamId,
        2 headcount: Headcount,
        3 capabilities: BTreeSet<CapabilityTag>,
        4 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on a team's stream, `team-<uuid>`.
    pub enum TeamEvent {
        TeamRegistered,
        TeamMobilised,
        TeamDeployed,
        TeamDemobilised,
        TeamArrivedAtBase,
        TeamBackOnStandby,
        TeamMarkedUnavailable,
        TeamMarkedAvailable,
        TeamRosterUpdated,
    }
);
