use uuid::Uuid;

use super::*;
use crate::DomainError;
use crate::area::{DivisionCode, Tier};
use crate::decider::{Decider, is_valid_stream_name};
use crate::ids::{FacilityId, PlanId};
use crate::test_support::{stamp, stamp_at, t, t0, wanzhou};
use crate::testing::given;
use crate::values::Name;

use BedClass::{Designated, RapidExpansion, RapidVacate};
use BedType::NegativeFlowIsolation as Nfi;

fn facility() -> FacilityId {
    FacilityId::from_uuid(Uuid::from_u128(40))
}

fn plan() -> PlanId {
    PlanId::from_uuid(Uuid::from_u128(41))
}

fn registered() -> FacilityEvent {
    FacilityRegistered {
        facility_id: facility(),
        name: Name::parse("重庆三峡中心医院").unwrap(),
        kind: FacilityKind::Hospital,
        tier: Tier::Region,
        area: DivisionCode::parse("500101").unwrap(),
        location: wanzhou(),
        at: t0(),
    }
    .into()
}

fn counts(total: u32, staffed: u32, occupied: u32) -> BedCounts {
    BedCounts::new(total, staffed, occupied).unwrap()
}

fn reported(class: BedClass, total: u32, staffed: u32, occupied: u32, lead: u32) -> FacilityEvent {
    let e = BedsReported {
        facility_id: facility(),
        bed_type: Nfi,
        class,
        counts: counts(total, staffed, occupied),
        lead_time_minutes: lead,
        at: t0(),
    };
    FacilityEvent::Beds(e.into())
}

fn beds(command: BedCommand) -> crate::Stamped<FacilityCommand> {
    stamp(FacilityCommand::Beds(command))
}

fn beds_at(minutes: i64, command: BedCommand) -> crate::Stamped<FacilityCommand> {
    stamp_at(t(minutes), FacilityCommand::Beds(command))
}

fn bed_event(e: impl Into<BedEvent>) -> FacilityEvent {
    FacilityEvent::Beds(e.into())
}

fn admit(class: BedClass, patients: u32, plan: Option<PlanId>) -> BedCommand {
    BedCommand::Admit {
        bed_type: Nfi,
        class,
        patients,
        plan,
    }
}

fn reserved(beds: u32) -> FacilityEvent {
    bed_event(BedsReserved {
        incident: None,
        facility_id: facility(),
        plan: plan(),
        bed_type: Nfi,
        class: Designated,
        beds,
        at: t0(),
    })
}

fn pool(state: &Option<FacilityState>, class: BedClass) -> BedPool {
    state
        .as_ref()
        .and_then(|f| f.pools.get(Nfi, class))
        .cloned()
        .unwrap()
}

#[test]
fn counts_keep_occupied_within_staffed_within_total() {
    assert_eq!(
        BedCounts::new(10, 11, 0).unwrap_err().field(),
        Some("staffed")
    );
    assert_eq!(
        BedCounts::new(10, 8, 9).unwrap_err().field(),
        Some("occupied")
    );
    assert!(serde_json::from_str::<BedCounts>(r#"{"total":1,"staffed":2,"occupied":0}"#).is_err());
}

#[test]
fn a_report_sets_the_counts_and_the_time_they_were_reported() {
    let command = BedCommand::Report {
        bed_type: Nfi,
        class: Designated,
        counts: counts(20, 16, 4),
        lead_time_minutes: 0,
    };
    let state = given::<Facility>([registered()])
        .when(beds_at(5, command))
        .then_ok()
        .1;
    let pool = pool(&state, Designated);
    assert_eq!((pool.counts, pool.reported_at), (counts(20, 16, 4), t(5)));
}

#[test]
fn only_a_report_moves_the_time_a_pool_was_reported() {
    let reserve = BedCommand::Reserve {
        incident: None,
        plan: plan(),
        bed_type: Nfi,
        class: Designated,
        beds: 2,
    };
    let state = given::<Facility>([registered(), reported(Designated, 20, 16, 4, 0)])
        .when(beds_at(30, reserve))
        .then_ok()
        .1;
    assert_eq!(
        pool(&state, Designated).reported_at,
        t0(),
        "a reservation is not a report"
    );
    let state = given::<Facility>([registered(), reported(Designated, 20, 16, 4, 0)])
        .when(beds_at(45, admit(Designated, 1, None)))
        .then_ok()
        .1;
    assert_eq!(
        pool(&state, Designated).reported_at,
        t0(),
        "an admission is not a report"
    );
}

#[test]
fn available_beds_are_staffed_minus_occupied_minus_reserved() {
    let state = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 4, 0),
        reserved(5),
    ])
    .when(beds(admit(Designated, 1, None)))
    .then_ok()
    .1;
    assert_eq!(pool(&state, Designated).available(), 16 - 5 - 5);
}

fn report(total: u32, staffed: u32, occupied: u32) -> BedCommand {
    BedCommand::Report {
        bed_type: Nfi,
        class: Designated,
        counts: counts(total, staffed, occupied),
        lead_time_minutes: 0,
    }
}

fn over_committed(reserved: u32, free: u32) -> FacilityEvent {
    bed_event(ReservationsOverCommitted {
        facility_id: facility(),
        bed_type: Nfi,
        class: Designated,
        reserved,
        free,
        short_by: reserved - free,
        at: t0(),
    })
}

/// 10 beds held for the plan, then staff fell ill: 12 staffed, 6 occupied, 6 free.
fn stranded() -> [FacilityEvent; 5] {
    [
        registered(),
        reported(Designated, 20, 16, 0, 0),
        reserved(10),
        reported(Designated, 20, 12, 6, 0),
        over_committed(10, 6),
    ]
}

#[test]
fn a_report_is_never_refused_for_the_reservations_it_strands() {
    let state = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 0, 0),
        reserved(10),
    ])
    .when(beds(report(20, 12, 6)))
    .then([reported(Designated, 20, 12, 6, 0), over_committed(10, 6)]);
    let pool = pool(&state, Designated);
    assert_eq!((pool.over_committed(), pool.available()), (4, 0));
    assert_eq!(state.unwrap().pools.over_committed(), 4);
}

#[test]
fn a_report_that_still_holds_every_reservation_raises_no_alarm() {
    let state = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 0, 0),
        reserved(10),
    ])
    .when(beds(report(20, 16, 6)))
    .then([reported(Designated, 20, 16, 6, 0)]);
    let pool = pool(&state, Designated);
    assert_eq!((pool.over_committed(), pool.available()), (0, 0));
}

#[test]
fn a_report_that_covers_the_reservations_again_raises_no_alarm() {
    let state = given::<Facility>(stranded())
        .when(beds(report(20, 16, 6)))
        .then([reported(Designated, 20, 16, 6, 0)]);
    assert_eq!(pool(&state, Designated).over_committed(), 0);
}

#[test]
fn an_over_committed_pool_admits_at_most_its_free_beds() {
    given::<Facility>(stranded())
        .when(beds(admit(Designated, 7, Some(plan()))))
        .then_err(DomainError::InsufficientBeds {
            pool: PoolKey {
                bed_type: Nfi,
                class: Designated,
            }
            .to_string(),
            field: "patients",
            requested: 7,
            available: 6,
        });
    let state = given::<Facility>(stranded())
        .when(beds(admit(Designated, 6, Some(plan()))))
        .then_ok()
        .1;
    let pool = pool(&state, Designated);
    assert_eq!(
        (
            pool.counts.occupied(),
            pool.reserved_total(),
            pool.over_committed()
        ),
        (12, 4, 4)
    );
}

#[test]
fn an_over_committed_pool_admits_nobody_outside_the_plans() {
    given::<Facility>(stranded())
        .when(beds(admit(Designated, 1, None)))
        .then_err_code("insufficient-beds");
}

#[test]
fn discharges_and_releases_reduce_the_over_commitment() {
    let discharge = BedCommand::Discharge {
        bed_type: Nfi,
        class: Designated,
        patients: 3,
        plan: None,
    };
    let state = given::<Facility>(stranded())
        .when(beds(discharge))
        .then_ok()
        .1;
    assert_eq!(pool(&state, Designated).over_committed(), 1);
    let release = BedCommand::Release {
        plan: plan(),
        bed_type: Nfi,
        class: Designated,
    };
    let state = given::<Facility>(stranded())
        .when(beds(release))
        .then_ok()
        .1;
    assert_eq!(pool(&state, Designated).over_committed(), 0);
}

#[test]
fn an_admission_takes_available_beds() {
    let admitted = PatientsAdmitted {
        facility_id: facility(),
        bed_type: Nfi,
        class: Designated,
        patients: 3,
        plan: None,
        at: t0(),
    };
    let state = given::<Facility>([registered(), reported(Designated, 20, 16, 4, 0)])
        .when(beds(admit(Designated, 3, None)))
        .then([bed_event(admitted)]);
    assert_eq!(pool(&state, Designated).counts, counts(20, 16, 7));
}

#[test]
fn an_admission_beyond_the_available_beds_is_refused() {
    let err = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 4, 0),
        reserved(10),
    ])
    .when(beds(admit(Designated, 3, None)))
    .then_err_code("insufficient-beds");
    // The admission asked for patients: that is the field at fault.
    assert_eq!(err.field(), Some("patients"));
}

#[test]
fn an_admission_under_a_plan_uses_the_beds_it_holds() {
    let state = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 4, 0),
        reserved(12),
    ])
    .when(beds(admit(Designated, 12, Some(plan()))))
    .then_ok()
    .1;
    let pool = pool(&state, Designated);
    assert_eq!(
        (
            pool.counts.occupied(),
            pool.reserved_total(),
            pool.available()
        ),
        (16, 0, 0)
    );
    assert_eq!(pool.admitted.get(&plan()), Some(&12), "in use for the plan");
}

#[test]
fn a_discharge_under_a_plan_frees_what_it_admitted_and_no_more() {
    let history = [
        registered(),
        reported(Designated, 20, 16, 4, 0),
        reserved(6),
        bed_event(PatientsAdmitted {
            facility_id: facility(),
            bed_type: Nfi,
            class: Designated,
            patients: 5,
            plan: Some(plan()),
            at: t0(),
        }),
    ];
    let discharge = |patients| BedCommand::Discharge {
        bed_type: Nfi,
        class: Designated,
        patients,
        plan: Some(plan()),
    };
    let state = given::<Facility>(history.clone())
        .when(beds(discharge(5)))
        .then_ok()
        .1;
    let freed = pool(&state, Designated);
    assert_eq!(
        (freed.counts.occupied(), freed.admitted.get(&plan())),
        (4, None)
    );
    let err = given::<Facility>(history)
        .when(beds(discharge(6)))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("patients"));
}

#[test]
fn a_discharge_cannot_exceed_the_occupied_beds() {
    let err = given::<Facility>([registered(), reported(Designated, 20, 16, 4, 0)])
        .when(beds(BedCommand::Discharge {
            bed_type: Nfi,
            class: Designated,
            patients: 5,
            plan: None,
        }))
        .then_err_code("invalid-field");
    assert_eq!(err.field(), Some("patients"));
}

#[test]
fn rapid_expansion_beds_are_unusable_until_activated() {
    given::<Facility>([registered(), reported(RapidExpansion, 50, 50, 0, 120)])
        .when(beds(admit(RapidExpansion, 1, None)))
        .then_err_code("not-ready");
}

#[test]
fn activated_expansion_beds_are_usable_after_the_lead_time() {
    let activated = ExpansionActivated {
        facility_id: facility(),
        bed_type: Nfi,
        ready_at: t(120),
        at: t0(),
    };
    let state = given::<Facility>([registered(), reported(RapidExpansion, 50, 50, 0, 120)])
        .when(beds(BedCommand::ActivateExpansion { bed_type: Nfi }))
        .then([bed_event(activated.clone())]);
    let pool = pool(&state, RapidExpansion);
    assert_eq!(
        (pool.available_at(t(119)), pool.available_at(t(120))),
        (0, 50)
    );
    let history = [
        registered(),
        reported(RapidExpansion, 50, 50, 0, 120),
        bed_event(activated),
    ];
    given::<Facility>(history.clone())
        .when(beds_at(60, admit(RapidExpansion, 1, None)))
        .then_err_code("not-ready");
    given::<Facility>(history)
        .when(beds_at(120, admit(RapidExpansion, 1, None)))
        .then_ok();
}

#[test]
fn expansion_is_not_activated_twice() {
    let activated = ExpansionActivated {
        facility_id: facility(),
        bed_type: Nfi,
        ready_at: t(120),
        at: t0(),
    };
    let err = given::<Facility>([
        registered(),
        reported(RapidExpansion, 50, 50, 0, 120),
        bed_event(activated),
    ])
    .when(beds(BedCommand::ActivateExpansion { bed_type: Nfi }))
    .then_err_code("illegal-transition");
    assert!(err.to_string().contains("stand_down_expansion"), "{err}");
}

#[test]
fn expansion_is_not_stood_down_while_beds_are_occupied() {
    let activated = ExpansionActivated {
        facility_id: facility(),
        bed_type: Nfi,
        ready_at: t0(),
        at: t0(),
    };
    let admitted = PatientsAdmitted {
        facility_id: facility(),
        bed_type: Nfi,
        class: RapidExpansion,
        patients: 2,
        plan: None,
        at: t0(),
    };
    given::<Facility>([
        registered(),
        reported(RapidExpansion, 50, 50, 0, 0),
        bed_event(activated),
        bed_event(admitted),
    ])
    .when(beds(BedCommand::StandDownExpansion { bed_type: Nfi }))
    .then_err_code("beds-in-use");
}

#[test]
fn vacated_beds_are_free_after_the_lead_time() {
    let vacated = BedsVacated {
        facility_id: facility(),
        bed_type: Nfi,
        beds: 8,
        ready_at: t(240),
        at: t0(),
    };
    let state = given::<Facility>([registered(), reported(RapidVacate, 30, 30, 25, 240)])
        .when(beds(BedCommand::Vacate {
            bed_type: Nfi,
            beds: 8,
        }))
        .then([bed_event(vacated)]);
    let pool = pool(&state, RapidVacate);
    assert_eq!(pool.counts.occupied(), 17);
    assert_eq!(
        (pool.available_at(t(239)), pool.available_at(t(240))),
        (0, 13)
    );
}

#[test]
fn no_more_beds_are_vacated_than_are_occupied() {
    given::<Facility>([registered(), reported(RapidVacate, 30, 30, 5, 240)])
        .when(beds(BedCommand::Vacate {
            bed_type: Nfi,
            beds: 8,
        }))
        .then_err_code("invalid-field");
}

#[test]
fn a_reservation_is_released_whole() {
    let released = BedReservationReleased {
        facility_id: facility(),
        plan: plan(),
        bed_type: Nfi,
        class: Designated,
        beds: 5,
        at: t0(),
    };
    let state = given::<Facility>([
        registered(),
        reported(Designated, 20, 16, 0, 0),
        reserved(5),
    ])
    .when(beds(BedCommand::Release {
        plan: plan(),
        bed_type: Nfi,
        class: Designated,
    }))
    .then([bed_event(released)]);
    assert_eq!(pool(&state, Designated).available(), 16);
}

#[test]
fn releasing_an_unknown_reservation_is_refused() {
    given::<Facility>([registered(), reported(Designated, 20, 16, 0, 0)])
        .when(beds(BedCommand::Release {
            plan: plan(),
            bed_type: Nfi,
            class: Designated,
        }))
        .then_err_code("not-found");
}

#[test]
fn a_command_for_a_pool_never_reported_is_refused() {
    given::<Facility>([registered()])
        .when(beds(admit(Designated, 1, None)))
        .then_err_code("not-found");
}

#[test]
fn unstaffed_beds_are_not_available() {
    given::<Facility>([registered(), reported(Designated, 20, 0, 0, 0)])
        .when(beds(admit(Designated, 1, None)))
        .then_err_code("insufficient-beds");
}

#[test]
fn every_bed_type_maps_to_an_edxl_have_type() {
    let names: std::collections::BTreeSet<_> = BedType::ALL.iter().map(|t| t.edxl_have()).collect();
    assert_eq!(names.len(), 13);
    assert_eq!(BedType::GeneralIsolation.edxl_have(), "OtherIsolation");
}

#[test]
fn a_facility_stream_is_named_facility_and_its_uuid() {
    assert!(is_valid_stream_name(&Facility::stream_name(&facility())));
    assert!(Facility::stream_name(&facility()).starts_with("facility-"));
}
