use std::collections::BTreeSet;

use uuid::Uuid;

use super::*;
use crate::area::{DivisionCode, Tier};
use crate::beds::BedType;
use crate::decider::Decider;
use crate::ids::IncidentId;
use crate::supply::ItemCode;
use crate::team::TeamKind;
use crate::test_support::{reason, stamp, t0};
use crate::testing::given;
use crate::values::{Actor, Name, Quantity};

fn incident() -> IncidentId {
    IncidentId::from_uuid(Uuid::from_u128(60))
}

fn code(raw: &str) -> DivisionCode {
    DivisionCode::parse(raw).unwrap()
}

fn by() -> Actor {
    Actor::parse("dispatcher-01").unwrap()
}

fn declared(level: ResponseLevel) -> IncidentEvent {
    IncidentDeclared {
        incident_id: incident(),
        kind: IncidentKind::InfectiousDisease,
        level,
        title: Name::parse("万州区聚集性疫情").unwrap(),
        affected_areas: BTreeSet::from([code("500101")]),
        by: by(),
        at: t0(),
        location: None,
    }
    .into()
}

fn closed() -> IncidentEvent {
    IncidentClosed {
        incident_id: incident(),
        reason: reason("contained"),
        by: by(),
        at: t0(),
    }
    .into()
}

#[test]
fn an_incident_is_declared_with_its_level_and_areas() {
    let command = IncidentCommand::Declare {
        incident_id: incident(),
        kind: IncidentKind::InfectiousDisease,
        level: ResponseLevel::III,
        title: Name::parse("万州区聚集性疫情").unwrap(),
        affected_areas: BTreeSet::from([code("500101")]),
        location: None,
    };
    given::<Incident>([])
        .when(stamp(command))
        .then([declared(ResponseLevel::III)]);
}

#[test]
fn an_incident_affects_at_least_one_area() {
    let command = IncidentCommand::Declare {
        incident_id: incident(),
        kind: IncidentKind::Poisoning,
        level: ResponseLevel::IV,
        title: Name::parse("x").unwrap(),
        affected_areas: BTreeSet::new(),
        location: None,
    };
    assert_eq!(
        given::<Incident>([])
            .when(stamp(command))
            .then_err_code("invalid-field")
            .field(),
        Some("affected_areas")
    );
}

#[test]
fn raising_the_level_moves_towards_level_one() {
    let raised = ResponseLevelRaised {
        incident_id: incident(),
        from: ResponseLevel::III,
        to: ResponseLevel::II,
        reason: reason("spread"),
        by: by(),
        at: t0(),
    };
    let state = given::<Incident>([declared(ResponseLevel::III)])
        .when(stamp(IncidentCommand::RaiseLevel {
            level: ResponseLevel::II,
            reason: reason("spread"),
        }))
        .then([raised.into()]);
    assert_eq!(state.map(|i| i.level), Some(ResponseLevel::II));
}

#[test]
fn a_raise_that_does_not_raise_is_refused() {
    let err = given::<Incident>([declared(ResponseLevel::II)])
        .when(stamp(IncidentCommand::RaiseLevel {
            level: ResponseLevel::III,
            reason: reason("x"),
        }))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("level"));
}

#[test]
fn lowering_the_level_moves_towards_level_four() {
    given::<Incident>([declared(ResponseLevel::II)])
        .when(stamp(IncidentCommand::LowerLevel {
            level: ResponseLevel::IV,
            reason: reason("contained"),
        }))
        .then_ok();
    given::<Incident>([declared(ResponseLevel::II)])
        .when(stamp(IncidentCommand::LowerLevel {
            level: ResponseLevel::I,
            reason: reason("x"),
        }))
        .then_err_code("invalid-field");
}

#[test]
fn level_one_is_the_most_severe_and_draws_on_every_tier() {
    assert!(ResponseLevel::I.is_more_severe_than(ResponseLevel::IV));
    assert!(ResponseLevel::I.may_draw_on(Tier::City));
    assert!(!ResponseLevel::IV.may_draw_on(Tier::Region));
    assert!(ResponseLevel::IV.may_draw_on(Tier::Township));
}

#[test]
fn bed_demand_is_recorded_per_township_and_updated_in_place() {
    let command = |beds| IncidentCommand::RecordBedDemand {
        bed_type: BedType::NegativeFlowIsolation,
        township: code("500101001"),
        beds,
    };
    let first = BedDemandRecorded {
        incident_id: incident(),
        bed_type: BedType::NegativeFlowIsolation,
        township: code("500101001"),
        beds: 40,
        at: t0(),
    };
    let state = given::<Incident>([declared(ResponseLevel::III)])
        .when(stamp(command(40)))
        .then([first.clone().into()]);
    assert_eq!(state.map(|i| i.bed_demand.len()), Some(1));
    let state = given::<Incident>([declared(ResponseLevel::III), first.into()])
        .when(stamp(command(0)))
        .then_ok()
        .1;
    assert_eq!(state.map(|i| i.bed_demand.is_empty()), Some(true));
}

#[test]
fn bed_demand_names_a_township() {
    let command = IncidentCommand::RecordBedDemand {
        bed_type: BedType::AdultIcu,
        township: code("500101"),
        beds: 4,
    };
    let err = given::<Incident>([declared(ResponseLevel::III)])
        .when(stamp(command))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("township"));
}

#[test]
fn demand_outside_the_affected_areas_is_refused() {
    let command = IncidentCommand::RecordSupplyDemand {
        item: ItemCode::parse("N95-1860").unwrap(),
        area: code("500102"),
        quantity: Quantity::new(10),
    };
    given::<Incident>([declared(ResponseLevel::III)])
        .when(stamp(command))
        .then_err_code("invalid-field");
}

#[test]
fn extended_areas_accept_demand() {
    let extended = AffectedAreasExtended {
        incident_id: incident(),
        areas: BTreeSet::from([code("500102")]),
        at: t0(),
    };
    let command = IncidentCommand::RecordSupplyDemand {
        item: ItemCode::parse("N95-1860").unwrap(),
        area: code("500102"),
        quantity: Quantity::new(10),
    };
    given::<Incident>([declared(ResponseLevel::III), extended.into()])
        .when(stamp(command))
        .then_ok();
}

#[test]
fn team_demand_is_recorded_by_kind() {
    let command = IncidentCommand::RecordTeamDemand {
        kind: TeamKind::AcuteInfectiousDisease,
        teams: 3,
    };
    let state = given::<Incident>([declared(ResponseLevel::III)])
        .when(stamp(command))
        .then_ok()
        .1;
    assert_eq!(
        state.and_then(|i| i
            .team_demand
            .get(&TeamKind::AcuteInfectiousDisease)
            .copied()),
        Some(3)
    );
}

#[test]
fn a_closed_incident_takes_no_more_commands() {
    let err = given::<Incident>([declared(ResponseLevel::III), closed()])
        .when(stamp(IncidentCommand::RecordTeamDemand {
            kind: TeamKind::Poisoning,
            teams: 1,
        }))
        .then_err_code("illegal-transition");
    assert!(
        err.to_string().contains("closed; allowed now: nothing"),
        "{err}"
    );
}

#[test]
fn an_incident_stream_is_named_incident_and_its_uuid() {
    assert!(Incident::stream_name(&incident()).starts_with("incident-"));
}
