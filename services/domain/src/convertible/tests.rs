use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::*;
use crate::area::DivisionCode;
use crate::beds::{BedClass, BedCommand, BedCounts, BedType, BedsReported, PatientsAdmitted};
use crate::decider::Decider;
use crate::ids::FacilityId;
use crate::test_support::{reason, stamp, stamp_at, t, t0, wanzhou};
use crate::testing::given;
use crate::values::{ChecklistItem, Name};

fn facility() -> FacilityId {
    FacilityId::from_uuid(Uuid::from_u128(50))
}

fn item(name: &str) -> ChecklistItem {
    ChecklistItem::parse(name).unwrap()
}

fn targets() -> BTreeMap<BedType, u32> {
    BTreeMap::from([(BedType::GeneralIsolation, 300)])
}

/// The registered plan; deliberately not `targets()`, as a conversion may aim elsewhere.
fn plan() -> BTreeMap<BedType, u32> {
    BTreeMap::from([(BedType::GeneralIsolation, 500)])
}

fn register(planned_beds: BTreeMap<BedType, u32>, lead_time_minutes: u32) -> ConvertibleCommand {
    ConvertibleCommand::Register {
        facility_id: facility(),
        name: Name::parse("万州体育馆").unwrap(),
        peacetime_use: PeacetimeUse::Gymnasium,
        area: DivisionCode::parse("500101").unwrap(),
        location: wanzhou(),
        planned_beds,
        lead_time_minutes,
    }
}

fn checklist() -> BTreeSet<ChecklistItem> {
    BTreeSet::from([item("ventilation_zoning"), item("staff_rostered")])
}

fn registered() -> ConvertibleEvent {
    ConvertibleFacilityRegistered {
        facility_id: facility(),
        name: Name::parse("万州体育馆").unwrap(),
        peacetime_use: PeacetimeUse::Gymnasium,
        area: DivisionCode::parse("500101").unwrap(),
        location: wanzhou(),
        at: t0(),
        planned_beds: plan(),
        lead_time_minutes: 48 * 60,
    }
    .into()
}

fn started() -> ConvertibleEvent {
    ConversionStarted {
        facility_id: facility(),
        ready_by: t(48 * 60),
        target_beds: targets(),
        checklist: checklist(),
        at: t0(),
    }
    .into()
}

fn completed(name: &str) -> ConvertibleEvent {
    ReadinessItemCompleted {
        facility_id: facility(),
        item: item(name),
        at: t0(),
    }
    .into()
}

fn activated() -> ConvertibleEvent {
    EmergencyUseActivated {
        facility_id: facility(),
        target_beds: targets(),
        at: t(48 * 60),
        early: None,
    }
    .into()
}

fn activate(early: Option<&str>) -> ConvertibleCommand {
    ConvertibleCommand::ActivateEmergencyUse {
        early: early.map(reason),
    }
}

fn active() -> Vec<ConvertibleEvent> {
    vec![
        registered(),
        started(),
        completed("ventilation_zoning"),
        completed("staff_rostered"),
        activated(),
    ]
}

fn staffed(occupied: u32) -> ConvertibleEvent {
    let counts = BedCounts::new(300, 120, occupied).unwrap();
    let bed_type = BedType::GeneralIsolation;
    let e = BedsReported {
        facility_id: facility(),
        bed_type,
        class: BedClass::Designated,
        counts,
        lead_time_minutes: 0,
        at: t0(),
    };
    ConvertibleEvent::Beds(e.into())
}

#[test]
fn a_convertible_facility_is_registered_with_its_planned_capacity_and_lead_time() {
    let state = given::<ConvertibleFacility>([])
        .when(stamp(register(plan(), 48 * 60)))
        .then([registered()])
        .unwrap();
    assert_eq!(
        (state.planned_beds, state.lead_time_minutes),
        (plan(), 48 * 60)
    );
}

#[test]
fn a_registration_without_capacity_is_refused() {
    for planned in [
        BTreeMap::new(),
        BTreeMap::from([(BedType::GeneralIsolation, 0)]),
    ] {
        let err = given::<ConvertibleFacility>([])
            .when(stamp(register(planned, 60)))
            .then_err_code("invalid-field");
        assert_eq!(err.field(), Some("planned_beds"));
    }
}

#[test]
fn a_registration_without_a_lead_time_is_refused() {
    let err = given::<ConvertibleFacility>([])
        .when(stamp(register(plan(), 0)))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("lead_time_minutes"));
}

#[test]
fn a_conversion_may_aim_at_another_capacity_than_the_plan() {
    let state = ConvertibleFacility::replay(&[registered(), started()]).unwrap();
    assert_eq!(state.planned_beds, plan());
    assert_eq!(state.conversion.map(|c| c.target_beds), Some(targets()));
}

#[test]
fn a_convertible_facility_starts_in_peacetime() {
    let state = ConvertibleFacility::replay(&[registered()]);
    assert_eq!(state.map(|f| f.phase), Some(ConversionPhase::Peacetime));
}

#[test]
fn a_conversion_is_ready_by_its_lead_time() {
    let command = ConvertibleCommand::StartConversion {
        lead_time_minutes: 48 * 60,
        target_beds: targets(),
        checklist: checklist(),
    };
    let state = given::<ConvertibleFacility>([registered()])
        .when(stamp(command))
        .then([started()]);
    assert_eq!(
        state.and_then(|f| f.conversion).map(|c| c.ready_by),
        Some(t(48 * 60))
    );
}

#[test]
fn a_conversion_names_a_target_capacity() {
    let command = ConvertibleCommand::StartConversion {
        lead_time_minutes: 60,
        target_beds: BTreeMap::new(),
        checklist: checklist(),
    };
    let err = given::<ConvertibleFacility>([registered()])
        .when(stamp(command))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("target_beds"));
}

#[test]
fn peacetime_cannot_jump_to_emergency_use() {
    let err = given::<ConvertibleFacility>([registered()])
        .when(stamp(activate(None)))
        .then_err_code("illegal-transition");
    assert!(
        err.to_string()
            .contains("peacetime; allowed now: start_conversion"),
        "{err}"
    );
}

#[test]
fn emergency_use_waits_for_the_whole_readiness_checklist() {
    let err = given::<ConvertibleFacility>([registered(), started(), completed("staff_rostered")])
        .when(stamp(activate(None)))
        .then_err_code("not-ready");
    assert!(err.to_string().contains("ventilation_zoning"), "{err}");
}

#[test]
fn a_readiness_item_not_on_the_checklist_is_refused() {
    given::<ConvertibleFacility>([registered(), started()])
        .when(stamp(ConvertibleCommand::CompleteReadinessItem {
            item: item("helipad"),
        }))
        .then_err_code("not-found");
}

#[test]
fn an_activated_facility_holds_bed_pools_of_the_target_size() {
    let history = &active()[..4];
    let state = given::<ConvertibleFacility>(history.to_vec())
        .when(stamp_at(t(48 * 60), activate(None)))
        .then([activated()]);
    let facility = state.unwrap();
    assert_eq!(facility.phase, ConversionPhase::EmergencyActive);
    let pool = facility
        .pools
        .get(BedType::GeneralIsolation, BedClass::Designated)
        .unwrap();
    assert_eq!(
        (pool.counts.total(), pool.counts.staffed(), pool.available()),
        (300, 0, 0)
    );
}

#[test]
fn an_active_facility_admits_patients_like_any_facility() {
    let command = BedCommand::Admit {
        bed_type: BedType::GeneralIsolation,
        class: BedClass::Designated,
        patients: 20,
        plan: None,
    };
    let admitted = PatientsAdmitted {
        facility_id: facility(),
        bed_type: BedType::GeneralIsolation,
        class: BedClass::Designated,
        patients: 20,
        plan: None,
        at: t0(),
    };
    let history = active().into_iter().chain([staffed(0)]);
    given::<ConvertibleFacility>(history)
        .when(stamp(ConvertibleCommand::Beds(command)))
        .then([ConvertibleEvent::Beds(admitted.into())]);
}

#[test]
fn beds_are_used_only_in_emergency_use() {
    let command = BedCommand::Admit {
        bed_type: BedType::GeneralIsolation,
        class: BedClass::Designated,
        patients: 1,
        plan: None,
    };
    given::<ConvertibleFacility>([registered(), started()])
        .when(stamp(ConvertibleCommand::Beds(command)))
        .then_err_code("illegal-transition");
}

#[test]
fn recovery_waits_until_no_bed_is_occupied() {
    let history = active().into_iter().chain([staffed(3)]);
    given::<ConvertibleFacility>(history)
        .when(stamp(ConvertibleCommand::StartRecovery))
        .then_err_code("beds-in-use");
}

#[test]
fn recovery_returns_the_facility_to_peacetime_without_beds() {
    let recovering = active().into_iter().chain([
        staffed(0),
        RecoveryStarted {
            facility_id: facility(),
            at: t0(),
        }
        .into(),
    ]);
    let state = given::<ConvertibleFacility>(recovering)
        .when(stamp(ConvertibleCommand::CompleteRecovery))
        .then([RecoveryCompleted {
            facility_id: facility(),
            at: t0(),
        }
        .into()]);
    let facility = state.unwrap();
    assert_eq!(
        (facility.phase, facility.pools.is_empty()),
        (ConversionPhase::Peacetime, true)
    );
}

#[test]
fn a_cancelled_conversion_returns_to_peacetime() {
    let cancelled = ConversionCancelled {
        facility_id: facility(),
        reason: reason("incident closed"),
        at: t0(),
    };
    let state = given::<ConvertibleFacility>([registered(), started()])
        .when(stamp(ConvertibleCommand::CancelConversion {
            reason: reason("incident closed"),
        }))
        .then([cancelled.into()]);
    assert_eq!(
        state.map(|f| (f.phase, f.conversion)),
        Some((ConversionPhase::Peacetime, None))
    );
}

#[test]
fn a_convertible_stream_is_named_convertible_and_its_uuid() {
    assert!(ConvertibleFacility::stream_name(&facility()).starts_with("convertible-"));
}

#[test]
fn emergency_use_waits_for_the_lead_time() {
    let history = active()[..4].to_vec();
    let err = given::<ConvertibleFacility>(history.clone())
        .when(stamp_at(t(48 * 60 - 1), activate(None)))
        .then_err_code("not-ready");
    assert!(err.to_string().contains("early"), "{err}");
    given::<ConvertibleFacility>(history)
        .when(stamp_at(t(48 * 60), activate(None)))
        .then([activated()]);
}

#[test]
fn a_dispatcher_may_open_early_with_a_reason_the_log_records() {
    let early = EmergencyUseActivated {
        facility_id: facility(),
        target_beds: targets(),
        at: t(60),
        early: Some(reason("surge at 万州, ward ready")),
    };
    given::<ConvertibleFacility>(active()[..4].to_vec())
        .when(stamp_at(t(60), activate(Some("surge at 万州, ward ready"))))
        .then([early.into()]);
}

#[test]
fn an_on_time_activation_is_not_recorded_as_early() {
    let err = given::<ConvertibleFacility>(active()[..4].to_vec())
        .when(stamp_at(t(48 * 60), activate(Some("hurry"))))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("early"));
}

#[test]
fn emergency_use_cannot_be_cancelled_without_recovery() {
    let err = given::<ConvertibleFacility>(active())
        .when(stamp(ConvertibleCommand::CancelConversion {
            reason: reason("incident closed"),
        }))
        .then_err_code("illegal-transition");
    assert!(err.to_string().contains("start_recovery"), "{err}");
}
