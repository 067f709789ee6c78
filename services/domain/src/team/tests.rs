use std::collections::BTreeSet;

use uuid::Uuid;

use super::*;
use crate::area::{AreaCode, DivisionCode, Tier};
use crate::decider::{Decider, is_valid_stream_name};
use crate::geo::GeoPoint;
use crate::ids::{IncidentId, TeamId};
use crate::lifecycle::Lifecycle;
use crate::test_support::{reason, stamp, stamp_at, t, t0, wanzhou};
use crate::testing::given;
use crate::values::{CapabilityTag, Headcount, Name};

fn team_id() -> TeamId {
    TeamId::from_uuid(Uuid::from_u128(1))
}

fn incident() -> IncidentId {
    IncidentId::from_uuid(Uuid::from_u128(2))
}

fn township() -> DivisionCode {
    DivisionCode::parse("500101001").unwrap()
}

fn capabilities() -> BTreeSet<CapabilityTag> {
    ["triage", "ecmo"]
        .into_iter()
        .map(|c| CapabilityTag::parse(c).unwrap())
        .collect()
}

fn register() -> TeamCommand {
    TeamCommand::Register {
        team_id: team_id(),
        name: Name::parse("重庆市紧急医学救援队").unwrap(),
        kind: TeamKind::MedicalRescue,
        tier: Tier::City,
        home_area: AreaCode::parse("500101").unwrap(),
        base: wanzhou(),
        headcount: Headcount::try_from(30).unwrap(),
        capabilities: capabilities(),
    }
}

fn registered() -> TeamEvent {
    TeamRegistered {
        team_id: team_id(),
        name: Name::parse("重庆市紧急医学救援队").unwrap(),
        kind: TeamKind::MedicalRescue,
        tier: Tier::City,
        home_area: AreaCode::parse("500101").unwrap(),
        base: wanzhou(),
        headcount: Headcount::try_from(30).unwrap(),
        capabilities: capabilities(),
        at: t0(),
    }
    .into()
}

fn mobilised() -> TeamEvent {
    TeamMobilised {
        team_id: team_id(),
        incident: incident(),
        at: t0(),
        destination: None,
        expected_arrival: None,
    }
    .into()
}

fn deployed() -> TeamEvent {
    TeamDeployed {
        team_id: team_id(),
        incident: incident(),
        area: township(),
        location: wanzhou(),
        at: t0(),
    }
    .into()
}

fn demobilised() -> TeamEvent {
    TeamDemobilised {
        team_id: team_id(),
        incident: incident(),
        at: t0(),
    }
    .into()
}

#[test]
fn a_team_is_registered_on_standby() {
    let state = given::<Team>([])
        .when(stamp(register()))
        .then([registered()]);
    assert_eq!(state.map(|t| t.status), Some(TeamStatus::Standby));
}

#[test]
fn a_team_is_registered_once() {
    given::<Team>([registered()])
        .when(stamp(register()))
        .then_err_code("already-exists");
}

#[test]
fn a_team_en_route_says_where_it_goes_and_when_it_is_expected_there() {
    let scene = GeoPoint::new(108.69, 30.95).unwrap();
    let state = given::<Team>([registered()])
        .when(stamp_at(
            t(5),
            TeamCommand::Mobilise {
                incident: incident(),
                destination: Some(scene),
                expected_arrival: Some(t(45)),
            },
        ))
        .then_ok()
        .1;
    assert_eq!(
        state.map(|t| t.status),
        Some(TeamStatus::Mobilising {
            incident: incident(),
            destination: Some(scene),
            expected_arrival: Some(t(45)),
        })
    );
    let err = given::<Team>([registered()])
        .when(stamp_at(
            t(5),
            TeamCommand::Mobilise {
                incident: incident(),
                destination: Some(scene),
                expected_arrival: Some(t(4)),
            },
        ))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("expected_arrival"));
}

#[test]
fn a_command_for_an_unregistered_team_is_refused() {
    given::<Team>([])
        .when(stamp(TeamCommand::Mobilise {
            incident: incident(),
            destination: None,
            expected_arrival: None,
        }))
        .then_err_code("not-found");
}

#[test]
fn a_standby_team_is_mobilised_to_an_incident() {
    let state = given::<Team>([registered()])
        .when(stamp(TeamCommand::Mobilise {
            incident: incident(),
            destination: None,
            expected_arrival: None,
        }))
        .then([mobilised()]);
    assert_eq!(
        state.map(|t| t.status),
        Some(TeamStatus::Mobilising {
            incident: incident(),
            destination: None,
            expected_arrival: None,
        })
    );
}

#[test]
fn a_mobilising_team_is_deployed_to_its_incident_and_destination() {
    let state = given::<Team>([registered(), mobilised()])
        .when(stamp(TeamCommand::Deploy {
            area: township(),
            location: wanzhou(),
        }))
        .then([deployed()]);
    let status = state.map(|t| t.status);
    assert_eq!(
        status,
        Some(TeamStatus::Deployed {
            incident: incident(),
            area: township(),
            location: wanzhou()
        })
    );
}

#[test]
fn a_standby_team_cannot_be_deployed() {
    let err = given::<Team>([registered()])
        .when(stamp(TeamCommand::Deploy {
            area: township(),
            location: wanzhou(),
        }))
        .then_err_code("illegal-transition");
    assert_eq!(
        err,
        crate::DomainError::IllegalTransition {
            aggregate: "team",
            current: "standby",
            attempted: "deploy",
            allowed: vec!["mobilise", "mark_unavailable"],
        }
    );
}

#[test]
fn a_deployed_team_returns_rests_and_stands_by_again() {
    let state = given::<Team>([registered(), mobilised(), deployed()])
        .when(stamp(TeamCommand::Demobilise))
        .then([demobilised()]);
    assert_eq!(
        state.as_ref().map(|t| t.status.phase()),
        Some(TeamPhase::Returning)
    );
    let state = given::<Team>([registered(), mobilised(), deployed(), demobilised()])
        .when(stamp_at(t(60), TeamCommand::ArriveAtBase))
        .then([TeamArrivedAtBase {
            team_id: team_id(),
            at: t(60),
        }
        .into()]);
    assert_eq!(
        state.as_ref().map(|t| (t.status.phase(), t.since)),
        Some((TeamPhase::Resting, t(60)))
    );
    let rested = TeamArrivedAtBase {
        team_id: team_id(),
        at: t(60),
    }
    .into();
    given::<Team>([registered(), mobilised(), deployed(), demobilised(), rested])
        .when(stamp(TeamCommand::ResumeStandby))
        .then([TeamBackOnStandby {
            team_id: team_id(),
            at: t0(),
        }
        .into()]);
}

#[test]
fn a_mobilising_team_can_be_recalled_before_it_arrives() {
    given::<Team>([registered(), mobilised()])
        .when(stamp(TeamCommand::Demobilise))
        .then([demobilised()]);
}

#[test]
fn a_returning_team_cannot_be_mobilised_again_before_resting() {
    given::<Team>([registered(), mobilised(), demobilised()])
        .when(stamp(TeamCommand::Mobilise {
            incident: incident(),
            destination: None,
            expected_arrival: None,
        }))
        .then_err_code("illegal-transition");
}

#[test]
fn a_deployed_team_cannot_be_marked_unavailable() {
    given::<Team>([registered(), mobilised(), deployed()])
        .when(stamp(TeamCommand::MarkUnavailable {
            reason: reason("training"),
        }))
        .then_err_code("illegal-transition");
}

#[test]
fn an_unavailable_team_comes_back_on_standby() {
    let unavailable = TeamMarkedUnavailable {
        team_id: team_id(),
        reason: reason("equipment service"),
        at: t0(),
    };
    let state = given::<Team>([registered(), unavailable.into()])
        .when(stamp(TeamCommand::MarkAvailable))
        .then([TeamMarkedAvailable {
            team_id: team_id(),
            at: t0(),
        }
        .into()]);
    assert_eq!(state.map(|t| t.status), Some(TeamStatus::Standby));
}

#[test]
fn a_roster_update_is_allowed_while_deployed() {
    let headcount = Headcount::try_from(24).unwrap();
    let state = given::<Team>([registered(), mobilised(), deployed()])
        .when(stamp(TeamCommand::UpdateRoster {
            headcount,
            capabilities: BTreeSet::new(),
        }))
        .then([TeamRosterUpdated {
            team_id: team_id(),
            headcount,
            capabilities: BTreeSet::new(),
            at: t0(),
        }
        .into()]);
    let team = state.unwrap();
    assert_eq!(
        (team.headcount, team.status.phase()),
        (headcount, TeamPhase::Deployed)
    );
}

#[test]
fn every_phase_but_deployed_and_returning_leads_somewhere_by_its_own_name() {
    for phase in [
        TeamPhase::Standby,
        TeamPhase::Resting,
        TeamPhase::Unavailable,
    ] {
        assert!(
            !phase.allowed_actions().is_empty(),
            "{phase:?} is a dead end"
        );
    }
    assert!(TeamPhase::Resting.may_become(TeamPhase::Standby));
    assert!(!TeamPhase::Standby.may_become(TeamPhase::Deployed));
}

#[test]
fn a_team_stream_is_named_team_and_its_uuid() {
    let name = Team::stream_name(&team_id());
    assert_eq!(name, "team-00000000-0000-0000-0000-000000000001");
    assert!(is_valid_stream_name(&name));
}

#[test]
fn a_team_command_refuses_unknown_fields() {
    let ok = r#"{"mobilise":{"incident":"00000000-0000-0000-0000-000000000002"}}"#;
    assert_eq!(
        serde_json::from_str::<TeamCommand>(ok).unwrap(),
        TeamCommand::Mobilise {
            incident: incident(),
            destination: None,
            expected_arrival: None,
        }
    );
    let extra = r#"{"mobilise":{"incident":"00000000-0000-0000-0000-000000000002","eta":5}}"#;
    assert!(serde_json::from_str::<TeamCommand>(extra).is_err());
}
