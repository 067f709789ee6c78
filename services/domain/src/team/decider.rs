use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{TeamCommand, TeamEvent, TeamKind, TeamStatus, event::*};
use crate::DomainError;
use crate::area::{AreaCode, Tier};
use crate::decider::{Decider, Stamped, registered, unregistered};
use crate::geo::GeoPoint;
use crate::ids::TeamId;
use crate::lifecycle::Lifecycle;
use crate::values::{CapabilityTag, Headcount, Name};

/// The team aggregate; stream `team-<uuid>`.
pub struct Team;

/// A registered team as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamState {
    pub id: TeamId,
    pub name: Name,
    pub kind: TeamKind,
    pub tier: Tier,
    pub home_area: AreaCode,
    pub base: GeoPoint,
    pub headcount: Headcount,
    pub capabilities: BTreeSet<CapabilityTag>,
    pub status: TeamStatus,
    /// When the status last changed.
    #[cfg_attr(feature = "openapi", schema(example = "2025-07-01T08:00:00Z"))]
    pub since: DateTime<Utc>,
}

impl Decider for Team {
    type State = Option<TeamState>;
    type Command = Stamped<TeamCommand>;
    type Event = TeamEvent;
    type Error = DomainError;
    type Id = TeamId;
    const STREAM_PREFIX: &'static str = "team";

    fn decide(state: &Self::State, stamped: Self::Command) -> Result<Vec<TeamEvent>, DomainError> {
        let at = stamped.context.at;
        match stamped.command {
            TeamCommand::Register {
                team_id,
                name,
                kind,
                tier,
                home_area,
                base,
                headcount,
                capabilities,
            } => {
                unregistered(state, "team", team_id)?;
                let e = TeamRegistered {
                    team_id,
                    name,
                    kind,
                    tier,
                    home_area,
                    base,
                    headcount,
                    capabilities,
                    at,
                };
                Ok(vec![e.into()])
            }
            command => decide_for(registered(state, "team")?, command, at).map(|e| vec![e]),
        }
    }

    fn evolve(state: Self::State, event: &TeamEvent) -> Self::State {
        match (state, event) {
            (_, TeamEvent::TeamRegistered(e)) => Some(TeamState::registered(e)),
            (Some(team), event) => Some(team.apply(event)),
            (None, _) => None,
        }
    }
}

/// Decides a command for a registered team: first the lifecycle, then the facts.
fn decide_for(
    team: &TeamState,
    command: TeamCommand,
    at: DateTime<Utc>,
) -> Result<TeamEvent, DomainError> {
    let phase = team.status.phase();
    if let Some(action) = command.action() {
        phase.step(action)?;
    }
    let team_id = team.id;
    let committed = || {
        team.status
            .incident()
            .ok_or_else(|| phase.refuse("demobilise"))
    };
    Ok(match command {
        TeamCommand::Mobilise {
            incident,
            destination,
            expected_arrival,
        } => {
            if expected_arrival.is_some_and(|eta| eta < at) {
                return Err(DomainError::invalid(
                    "expected_arrival",
                    "must not be before the mobilisation",
                ));
            }
            TeamMobilised {
                team_id,
                incident,
                at,
                destination,
                expected_arrival,
            }
            .into()
        }
        TeamCommand::Deploy { area, location } => TeamDeployed {
            team_id,
            incident: committed()?,
            area,
            location,
            at,
        }
        .into(),
        TeamCommand::Demobilise => TeamDemobilised {
            team_id,
            incident: committed()?,
            at,
        }
        .into(),
        TeamCommand::ArriveAtBase => TeamArrivedAtBase { team_id, at }.into(),
        TeamCommand::ResumeStandby => TeamBackOnStandby { team_id, at }.into(),
        TeamCommand::MarkUnavailable { reason } => TeamMarkedUnavailable {
            team_id,
            reason,
            at,
        }
        .into(),
        TeamCommand::MarkAvailable => TeamMarkedAvailable { team_id, at }.into(),
        TeamCommand::UpdateRoster {
            headcount,
            capabilities,
        } => TeamRosterUpdated {
            team_id,
            headcount,
            capabilities,
            at,
        }
        .into(),
        TeamCommand::Register { team_id, .. } => {
            return Err(DomainError::already_exists("team", team_id));
        }
    })
}

impl TeamState {
    fn registered(e: &TeamRegistered) -> Self {
        Self {
            id: e.team_id,
            name: e.name.clone(),
            kind: e.kind.clone(),
            tier: e.tier,
            home_area: e.home_area.clone(),
            base: e.base,
            headcount: e.headcount,
            capabilities: e.capabilities.clone(),
            status: TeamStatus::Standby,
            since: e.at,
        }
    }

    fn apply(mut self, event: &TeamEvent) -> Self {
        let (status, at) = match event {
            TeamEvent::TeamRegistered(_) => return self,
            TeamEvent::TeamRosterUpdated(e) => {
                self.headcount = e.headcount;
                self.capabilities = e.capabilities.clone();
                return self;
            }
            TeamEvent::TeamMobilised(e) => (
                TeamStatus::Mobilising {
                    incident: e.incident,
                    destination: e.destination,
                    expected_arrival: e.expected_arrival,
                },
                e.at,
            ),
            TeamEvent::TeamDeployed(e) => (
                TeamStatus::Deployed {
                    incident: e.incident,
                    area: e.area.clone(),
                    location: e.location,
                },
                e.at,
            ),
            TeamEvent::TeamDemobilised(e) => (
                TeamStatus::Returning {
                    incident: e.incident,
                },
                e.at,
            ),
            TeamEvent::TeamArrivedAtBase(e) => (TeamStatus::Resting, e.at),
            TeamEvent::TeamBackOnStandby(e) => (TeamStatus::Standby, e.at),
            TeamEvent::TeamMarkedUnavailable(e) => (
                TeamStatus::Unavailable {
                    reason: e.reason.clone(),
                    since: e.at,
                },
                e.at,
            ),
            TeamEvent::TeamMarkedAvailable(e) => (TeamStatus::Standby, e.at),
        };
        self.status = status;
        self.since = at;
        self
    }
}
