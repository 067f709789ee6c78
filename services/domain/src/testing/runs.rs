//! For each aggregate, a run of commands that its decider accepts in order and
//! that together decide every event type of its stream, each command with the
//! minutes since the one before. The REST samples (`tests/support/wire.rs`) and
//! the command path's cache tests (`ercs-commands`) both drive the deciders
//! through these.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::area::{AreaCode, DivisionCode, Tier};
use crate::beds::*;
use crate::convertible::*;
use crate::geo::GeoPoint;
use crate::ids::*;
use crate::incident::*;
use crate::supply::*;
use crate::team::*;
use crate::values::*;

/// A command and the minutes since the one before.
pub type Run<C> = Vec<(i64, C)>;

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x7f3c_2a9e_4b1d_4e8a_9c2f_0000_0000_0000 + n)
}

fn point(lon: f64, lat: f64) -> GeoPoint {
    GeoPoint::new(lon, lat).unwrap()
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

fn division(code: &str) -> DivisionCode {
    DivisionCode::parse(code).unwrap()
}

fn tag(text: &str) -> CapabilityTag {
    CapabilityTag::parse(text).unwrap()
}

fn item(code: &str) -> ItemCode {
    ItemCode::parse(code).unwrap()
}

fn lot(number: &str) -> LotNumber {
    LotNumber::parse(number).unwrap()
}

fn checklist(text: &str) -> ChecklistItem {
    ChecklistItem::parse(text).unwrap()
}

fn far_future() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn n95_expiry() -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap())
}

/// The incident teams, stock and beds are committed to.
pub fn incident_id() -> IncidentId {
    IncidentId::from_uuid(uuid(0x10))
}

/// The surge plan that reserves stock and beds.
pub fn plan() -> PlanId {
    PlanId::from_uuid(uuid(0x20))
}

/// The plan that supersedes [`plan`] and takes over part of what it holds.
pub fn later_plan() -> PlanId {
    PlanId::from_uuid(uuid(0x21))
}

/// A district team through its whole status lifecycle.
pub fn team(team_id: TeamId) -> Run<TeamCommand> {
    vec![
        (
            0,
            TeamCommand::Register {
                team_id,
                name: name("万州区紧急医学救援队"),
                kind: TeamKind::MedicalRescue,
                tier: Tier::District,
                home_area: AreaCode::from(division("500101")),
                base: point(108.38, 30.81),
                headcount: Headcount::try_from(24).unwrap(),
                capabilities: BTreeSet::from([tag("ecmo"), tag("triage")]),
            },
        ),
        (
            10,
            TeamCommand::Mobilise {
                incident: incident_id(),
                destination: None,
                expected_arrival: None,
            },
        ),
        (
            90,
            TeamCommand::Deploy {
                area: division("500101001"),
                location: point(108.41, 30.79),
            },
        ),
        (600, TeamCommand::Demobilise),
        (120, TeamCommand::ArriveAtBase),
        (720, TeamCommand::ResumeStandby),
        (
            60,
            TeamCommand::MarkUnavailable {
                reason: reason("设备检修"),
            },
        ),
        (1440, TeamCommand::MarkAvailable),
        (
            10,
            TeamCommand::UpdateRoster {
                headcount: Headcount::try_from(30).unwrap(),
                capabilities: BTreeSet::from([tag("ecmo")]),
            },
        ),
    ]
}

/// A regional team of a custom kind: the other branches of `AreaCode` and `TeamKind`.
pub fn regional_team(team_id: TeamId) -> Run<TeamCommand> {
    vec![(
        0,
        TeamCommand::Register {
            team_id,
            name: name("渝东北核与辐射卫生应急队"),
            kind: TeamKind::parse("custom:nuclear_radiation").unwrap(),
            tier: Tier::Region,
            home_area: AreaCode::parse("wanzhou-sanxia").unwrap(),
            base: point(108.40, 30.82),
            headcount: Headcount::try_from(8).unwrap(),
            capabilities: BTreeSet::new(),
        },
    )]
}

/// The N95 item every supply run moves.
pub fn n95() -> ItemCode {
    item("N95-1860")
}

/// The N95 lot every supply run moves.
pub fn n95_lot() -> LotNumber {
    lot("20250601A")
}

fn issue(quantity: u32, plan: Option<PlanId>, delivery: Option<Delivery>) -> DepotCommand {
    DepotCommand::Issue {
        item: n95(),
        quantity: Quantity::new(quantity),
        plan,
        reason: reason("万州区暴雨山洪，物资调度"),
        incident: plan.map(|_| IncidentId::from_uuid(Uuid::from_u128(0xe1))),
        delivery,
    }
}

fn delivery(shipment: u128, facility: Option<FacilityId>) -> Delivery {
    Delivery {
        shipment: ShipmentId::from_uuid(Uuid::from_u128(shipment)),
        area: AreaCode::parse("500101001").unwrap(),
        facility,
        location: facility.map(|_| point(108.41, 30.81)),
        expected_arrival: far_future(),
    }
}

/// A district depot: receipts, issues (a consignment signed for, one refused),
/// a reservation and its release, a norm, a transfer to `to` that comes back and
/// one (`transfer`'s id + 1) that `to` received, a write-off and a stocktake.
pub fn depot(depot_id: DepotId, to: DepotId, transfer: TransferId) -> Run<DepotCommand> {
    let received = TransferId::from_uuid(Uuid::from_u128(transfer.as_uuid().as_u128() + 1));
    let gloves = || item("GLOVE-M");
    let glove_lot = || lot("G-2025/07");
    let why = || reason("万州区暴雨山洪，物资调度");
    let facility = Some(FacilityId::from_uuid(Uuid::from_u128(0xf1)));
    vec![
        (
            0,
            DepotCommand::Register {
                depot_id,
                name: name("万州区应急物资储备库"),
                tier: ReserveTier::District,
                area: AreaCode::from(division("500101")),
                location: point(108.39, 30.80),
            },
        ),
        (
            10,
            DepotCommand::ReceiveLot {
                item: n95(),
                lot_number: n95_lot(),
                quantity: Quantity::new(5000),
                expiry: n95_expiry(),
                reason: reason("市级调拨入库"),
            },
        ),
        (
            10,
            DepotCommand::ReceiveLot {
                item: gloves(),
                lot_number: glove_lot(),
                quantity: Quantity::new(2000),
                expiry: None,
                reason: reason("采购入库"),
            },
        ),
        (10, issue(200, None, None)),
        (
            10,
            DepotCommand::Reserve {
                incident: Some(IncidentId::from_uuid(Uuid::from_u128(0xe1))),
                plan: plan(),
                item: n95(),
                quantity: Quantity::new(1000),
                reason: why(),
                expiry_margin_days: None,
            },
        ),
        (10, issue(100, Some(plan()), Some(delivery(0x51, facility)))),
        (
            10,
            DepotCommand::SignDelivery {
                shipment: ShipmentId::from_uuid(Uuid::from_u128(0x51)),
                received_by: name("龙都街道社区卫生服务中心 药房"),
            },
        ),
        (10, issue(50, None, Some(delivery(0x52, None)))),
        (
            10,
            DepotCommand::RefuseDelivery {
                shipment: ShipmentId::from_uuid(Uuid::from_u128(0x52)),
                reason: reason("包装破损，拒收"),
            },
        ),
        (
            10,
            DepotCommand::MoveReservation {
                from: plan(),
                to: later_plan(),
                item: n95(),
                quantity: Quantity::new(20),
                reason: why(),
                incident: None,
            },
        ),
        (
            10,
            DepotCommand::Release {
                plan: plan(),
                item: n95(),
                reason: why(),
            },
        ),
        (
            10,
            DepotCommand::SetReserveNorm {
                item: n95(),
                minimum: Quantity::new(8000),
                reason: why(),
            },
        ),
        (
            10,
            DepotCommand::DispatchTransfer {
                transfer,
                to,
                item: gloves(),
                quantity: Quantity::new(500),
                reason: why(),
                expected_arrival: Some(far_future()),
                incident: None,
            },
        ),
        (
            10,
            DepotCommand::ReturnTransfer {
                transfer,
                reason: reason("市级库无法接收"),
            },
        ),
        (
            10,
            DepotCommand::DispatchTransfer {
                transfer: received,
                to,
                item: gloves(),
                quantity: Quantity::new(300),
                reason: why(),
                expected_arrival: Some(far_future()),
                incident: None,
            },
        ),
        // The destination signed for it: the transfer process completes it here.
        (10, DepotCommand::CompleteTransfer { transfer: received }),
        (
            10,
            DepotCommand::WriteOff {
                item: gloves(),
                lot_number: glove_lot(),
                quantity: Quantity::new(10),
                cause: WriteOffCause::Damaged,
                reason: reason("包装破损"),
            },
        ),
        (
            10,
            DepotCommand::AdjustCount {
                item: n95(),
                lot_number: n95_lot(),
                counted: Quantity::new(4650),
                reason: reason("季度盘点"),
            },
        ),
    ]
}

/// The city depot, receiving N95 by `transfer` from `from`.
pub fn receiving_depot(
    depot_id: DepotId,
    from: DepotId,
    transfer: TransferId,
) -> Run<DepotCommand> {
    vec![
        (
            0,
            DepotCommand::Register {
                depot_id,
                name: name("重庆市医药储备库"),
                tier: ReserveTier::City,
                area: AreaCode::from(division("500000")),
                location: point(106.55, 29.56),
            },
        ),
        (
            60,
            DepotCommand::ReceiveTransfer {
                transfer,
                from,
                item: n95(),
                lots: vec![LotPick {
                    lot_number: n95_lot(),
                    quantity: Quantity::new(300),
                    expiry: n95_expiry(),
                }],
                reason: reason("万州区暴雨山洪，物资调度"),
            },
        ),
    ]
}

fn details(shelf_life_days: Option<u32>) -> ItemDetails {
    ItemDetails {
        name: name("N95 医用防护口罩"),
        unit: Unit::parse("只").unwrap(),
        category: SupplyCategory::ProtectiveEquipment,
        shelf_life_days: shelf_life_days.map(|d| ShelfLife::try_from(d).unwrap()),
    }
}

/// An item catalogued, revised and retired.
pub fn catalogue_item(item: ItemCode) -> Run<ItemCommand> {
    vec![
        (
            0,
            ItemCommand::Catalogue {
                item,
                details: details(Some(1825)),
            },
        ),
        (
            10,
            ItemCommand::Revise {
                details: details(None),
            },
        ),
        (
            10,
            ItemCommand::Retire {
                reason: reason("型号停产"),
            },
        ),
    ]
}

/// Bed counts; panics on counts that do not fit (a test's typo).
pub fn counts(total: u32, staffed: u32, occupied: u32) -> BedCounts {
    BedCounts::new(total, staffed, occupied).unwrap()
}

fn report(bed_type: BedType, class: BedClass, counts: BedCounts, lead: u32) -> BedCommand {
    BedCommand::Report {
        bed_type,
        class,
        counts,
        lead_time_minutes: lead,
    }
}

/// Every bed command over the three steps of the ladder, for a registered
/// facility: one report strands a reservation (`ReservationsOverCommitted`),
/// and the last ones leave every pool empty of patients.
pub fn beds() -> Run<BedCommand> {
    let (icu, designated) = (BedType::AdultIcu, BedClass::Designated);
    let (isolation, surgical) = (BedType::GeneralIsolation, BedType::MedicalSurgical);
    vec![
        (10, report(icu, designated, counts(40, 36, 21), 0)),
        (
            10,
            report(isolation, BedClass::RapidExpansion, counts(100, 80, 0), 120),
        ),
        (
            10,
            BedCommand::ActivateExpansion {
                bed_type: isolation,
            },
        ),
        (
            10,
            BedCommand::Reserve {
                incident: Some(IncidentId::from_uuid(Uuid::from_u128(0xe1))),
                plan: plan(),
                bed_type: icu,
                class: designated,
                beds: 5,
            },
        ),
        (
            10,
            BedCommand::Admit {
                bed_type: icu,
                class: designated,
                patients: 2,
                plan: Some(plan()),
            },
        ),
        (
            10,
            BedCommand::Discharge {
                bed_type: icu,
                class: designated,
                patients: 1,
                plan: Some(plan()),
            },
        ),
        (10, report(icu, designated, counts(40, 24, 22), 0)),
        (
            10,
            BedCommand::MoveReservation {
                from: plan(),
                to: later_plan(),
                bed_type: icu,
                class: designated,
                beds: 1,
                incident: Some(IncidentId::from_uuid(Uuid::from_u128(0xe1))),
            },
        ),
        (
            10,
            BedCommand::Release {
                plan: plan(),
                bed_type: icu,
                class: designated,
            },
        ),
        (
            10,
            BedCommand::Release {
                plan: later_plan(),
                bed_type: icu,
                class: designated,
            },
        ),
        (
            10,
            report(surgical, BedClass::RapidVacate, counts(60, 60, 50), 240),
        ),
        (
            10,
            BedCommand::Vacate {
                bed_type: surgical,
                beds: 20,
            },
        ),
        (
            10,
            BedCommand::StandDownExpansion {
                bed_type: isolation,
            },
        ),
        (10, report(icu, designated, counts(40, 24, 0), 0)),
        (
            10,
            report(surgical, BedClass::RapidVacate, counts(60, 60, 0), 240),
        ),
    ]
}

/// A hospital registered, then every bed command.
pub fn facility(facility_id: FacilityId) -> Run<FacilityCommand> {
    let mut run = vec![(
        0,
        FacilityCommand::Register {
            facility_id,
            name: name("重庆大学附属三峡医院"),
            kind: FacilityKind::Hospital,
            tier: Tier::Region,
            area: division("500101"),
            location: point(108.39, 30.81),
        },
    )];
    run.extend(
        beds()
            .into_iter()
            .map(|(m, c)| (m, FacilityCommand::Beds(c))),
    );
    run
}

/// A gymnasium converted (once cancelled), activated early, running every bed
/// command, then disinfected and back to peacetime.
pub fn convertible(facility_id: FacilityId) -> Run<ConvertibleCommand> {
    let isolation = || BTreeMap::from([(BedType::GeneralIsolation, 600)]);
    let items = || BTreeSet::from([checklist("ventilation_zoning"), checklist("oxygen_supply")]);
    let start = || ConvertibleCommand::StartConversion {
        lead_time_minutes: 720,
        target_beds: isolation(),
        checklist: items(),
    };
    let ready = |text| ConvertibleCommand::CompleteReadinessItem {
        item: checklist(text),
    };
    let mut run = vec![
        (
            0,
            ConvertibleCommand::Register {
                facility_id,
                name: name("万州体育馆"),
                peacetime_use: PeacetimeUse::Gymnasium,
                area: division("500101"),
                location: point(108.40, 30.80),
                planned_beds: BTreeMap::from([(BedType::GeneralIsolation, 800)]),
                lead_time_minutes: 1440,
            },
        ),
        (10, start()),
        (
            10,
            ConvertibleCommand::CancelConversion {
                reason: reason("疫情缓和，暂停转换"),
            },
        ),
        (10, start()),
        (60, ready("ventilation_zoning")),
        (60, ready("oxygen_supply")),
        (
            10,
            ConvertibleCommand::ActivateEmergencyUse {
                early: Some(reason("病例陡增，提前启用")),
            },
        ),
        (
            10,
            ConvertibleCommand::Beds(report(
                BedType::GeneralIsolation,
                BedClass::Designated,
                counts(600, 400, 120),
                0,
            )),
        ),
        (
            10,
            ConvertibleCommand::Beds(BedCommand::Discharge {
                bed_type: BedType::GeneralIsolation,
                class: BedClass::Designated,
                patients: 120,
                plan: None,
            }),
        ),
    ];
    run.extend(
        beds()
            .into_iter()
            .map(|(m, c)| (m, ConvertibleCommand::Beds(c))),
    );
    run.push((10, ConvertibleCommand::StartRecovery));
    run.push((1440, ConvertibleCommand::CompleteRecovery));
    run
}

/// An incident declared, raised, extended, its demands recorded, lowered, closed.
pub fn incident(incident_id: IncidentId) -> Run<IncidentCommand> {
    let areas = |codes: &[&str]| codes.iter().map(|c| division(c)).collect::<BTreeSet<_>>();
    vec![
        (
            0,
            IncidentCommand::Declare {
                incident_id,
                kind: IncidentKind::NaturalDisaster,
                level: ResponseLevel::IV,
                title: name("万州区暴雨山洪灾害"),
                affected_areas: areas(&["500101"]),
                location: None,
            },
        ),
        (
            30,
            IncidentCommand::RaiseLevel {
                level: ResponseLevel::III,
                reason: reason("伤亡人数上升"),
            },
        ),
        (
            30,
            IncidentCommand::ExtendAffectedAreas {
                areas: areas(&["500102"]),
            },
        ),
        (
            10,
            IncidentCommand::RecordBedDemand {
                bed_type: BedType::AdultIcu,
                township: division("500101001"),
                beds: 12,
            },
        ),
        (
            10,
            IncidentCommand::RecordSupplyDemand {
                item: n95(),
                area: division("500101"),
                quantity: Quantity::new(3000),
            },
        ),
        (
            10,
            IncidentCommand::RecordTeamDemand {
                kind: TeamKind::MedicalRescue,
                teams: 2,
            },
        ),
        (
            600,
            IncidentCommand::LowerLevel {
                level: ResponseLevel::IV,
                reason: reason("险情缓解"),
            },
        ),
        (
            1440,
            IncidentCommand::Close {
                reason: reason("应急响应终止"),
                release_all: false,
            },
        ),
    ]
}
