//! What the REST API reads and writes, built through the deciders: for each aggregate
//! a run of commands that takes every command variant, and the state after each step.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::*;
use ercs_domain::convertible::*;
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::*;
use ercs_domain::incident::*;
use ercs_domain::supply::*;
use ercs_domain::team::*;
use ercs_domain::values::*;
use ercs_domain::{CommandContext, Decider, DomainError, Stamped};

/// One value as serde writes it, with the name of the schema that must describe it.
pub struct Wire {
    pub schema: String,
    pub json: Value,
}

pub fn wire<T: Serialize + ToSchema>(value: &T) -> Wire {
    Wire {
        schema: T::name().into_owned(),
        json: serde_json::to_value(value).unwrap(),
    }
}

/// Every command sample, then every state the runs passed through.
pub fn all() -> Vec<Wire> {
    let mut out = Vec::new();
    out.extend(teams());
    out.extend(depots());
    out.extend(catalogue());
    out.extend(facility());
    out.extend(convertible());
    out.extend(incident());
    out
}

/// Feeds `commands` (each after `minutes`) through `D`, keeping each command and the
/// state it leaves.
fn run<D, C, S>(commands: Vec<(i64, C)>) -> Vec<Wire>
where
    D: Decider<Command = Stamped<C>, State = Option<S>, Error = DomainError>,
    C: Serialize + ToSchema + Clone + Debug,
    S: Serialize + ToSchema + Clone,
{
    let (commands, states) = steps::<D, C, S>(commands);
    let mut out: Vec<Wire> = commands.iter().map(wire).collect();
    out.extend(states.iter().map(wire));
    out
}

/// The commands and the states they left.
fn steps<D, C, S>(commands: Vec<(i64, C)>) -> (Vec<C>, Vec<S>)
where
    D: Decider<Command = Stamped<C>, State = Option<S>, Error = DomainError>,
    C: Clone + Debug,
    S: Clone,
{
    let mut at = t0();
    let mut state: Option<S> = None;
    let mut states = Vec::new();
    let mut kept = Vec::new();
    for (minutes, command) in commands {
        at += TimeDelta::minutes(minutes);
        let context = CommandContext::new(Actor::parse("dispatcher-500101-01").unwrap(), at);
        let events = D::decide(&state, context.stamp(command.clone()))
            .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        state = events.iter().fold(state, D::evolve);
        states.extend(state.clone());
        kept.push(command);
    }
    (kept, states)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).single().unwrap()
}

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

fn incident_id() -> IncidentId {
    IncidentId::from_uuid(uuid(0x10))
}

fn plan() -> PlanId {
    PlanId::from_uuid(uuid(0x20))
}

fn teams() -> Vec<Wire> {
    let team_id = TeamId::from_uuid(uuid(1));
    let mut out = run::<Team, _, _>(vec![
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
    ]);
    // A regional team of a custom kind: the other branches of `AreaCode` and `TeamKind`.
    out.extend(run::<Team, _, _>(vec![(
        0,
        TeamCommand::Register {
            team_id: TeamId::from_uuid(uuid(2)),
            name: name("渝东北核与辐射卫生应急队"),
            kind: TeamKind::parse("custom:nuclear_radiation").unwrap(),
            tier: Tier::Region,
            home_area: AreaCode::parse("wanzhou-sanxia").unwrap(),
            base: point(108.40, 30.82),
            headcount: Headcount::try_from(8).unwrap(),
            capabilities: BTreeSet::new(),
        },
    )]));
    out
}

fn depots() -> Vec<Wire> {
    let wanzhou = DepotId::from_uuid(uuid(3));
    let city = DepotId::from_uuid(uuid(4));
    let n95 = || item("N95-1860");
    let gloves = || item("GLOVE-M");
    let n95_lot = || lot("20250601A");
    let glove_lot = || lot("G-2025/07");
    let why = || reason("万州区暴雨山洪，物资调度");
    let (out_transfer, in_transfer) = (
        TransferId::from_uuid(uuid(5)),
        TransferId::from_uuid(uuid(6)),
    );
    let mut out = run::<Depot, _, _>(vec![
        (
            0,
            DepotCommand::Register {
                depot_id: wanzhou,
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
                expiry: Some(Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap()),
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
        (
            10,
            DepotCommand::Issue {
                item: n95(),
                quantity: Quantity::new(200),
                plan: None,
                reason: why(),
                incident: None,
                delivery: None,
            },
        ),
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
        (
            10,
            DepotCommand::Issue {
                item: n95(),
                quantity: Quantity::new(100),
                plan: Some(plan()),
                reason: why(),
                incident: Some(IncidentId::from_uuid(Uuid::from_u128(0xe1))),
                delivery: Some(Delivery {
                    shipment: ShipmentId::from_uuid(Uuid::from_u128(0x51)),
                    area: AreaCode::parse("500101001").unwrap(),
                    facility: Some(FacilityId::from_uuid(Uuid::from_u128(0xf1))),
                    location: Some(GeoPoint::new(108.41, 30.81).unwrap()),
                    expected_arrival: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
                }),
            },
        ),
        (
            10,
            DepotCommand::SignDelivery {
                shipment: ShipmentId::from_uuid(Uuid::from_u128(0x51)),
                received_by: Name::parse("高笋塘街道社区卫生服务中心 药房").unwrap(),
            },
        ),
        (
            10,
            DepotCommand::Issue {
                item: n95(),
                quantity: Quantity::new(50),
                plan: None,
                reason: why(),
                incident: None,
                delivery: Some(Delivery {
                    shipment: ShipmentId::from_uuid(Uuid::from_u128(0x52)),
                    area: AreaCode::parse("500101001").unwrap(),
                    facility: None,
                    location: None,
                    expected_arrival: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
                }),
            },
        ),
        (
            10,
            DepotCommand::RefuseDelivery {
                shipment: ShipmentId::from_uuid(Uuid::from_u128(0x52)),
                reason: reason("包装破损，拒收"),
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
                transfer: out_transfer,
                to: city,
                item: gloves(),
                quantity: Quantity::new(500),
                reason: why(),
                expected_arrival: Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()),
                incident: None,
            },
        ),
        (
            10,
            DepotCommand::ReturnTransfer {
                transfer: out_transfer,
                reason: reason("市级库无法接收"),
            },
        ),
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
    ]);
    // Signing for or refusing a transfer is the transfer process's (the server
    // turns them into ReceiveTransfer or ReturnTransfer), so no depot decides them.
    out.push(wire(&DepotCommand::SignTransfer {
        transfer: in_transfer,
        from: city,
        received_by: name("万州区应急物资储备库 库管员"),
    }));
    out.push(wire(&DepotCommand::RefuseTransfer {
        transfer: in_transfer,
        from: city,
        reason: reason("批号与随货单不符"),
    }));
    out.extend(run::<Depot, _, _>(vec![
        (
            0,
            DepotCommand::Register {
                depot_id: city,
                name: name("重庆市医药储备库"),
                tier: ReserveTier::City,
                area: AreaCode::from(division("500000")),
                location: point(106.55, 29.56),
            },
        ),
        (
            60,
            DepotCommand::ReceiveTransfer {
                transfer: in_transfer,
                from: wanzhou,
                item: n95(),
                lots: vec![LotPick {
                    lot_number: n95_lot(),
                    quantity: Quantity::new(300),
                    expiry: Some(Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap()),
                }],
                reason: why(),
            },
        ),
    ]));
    out
}

fn details(shelf_life_days: Option<u32>) -> ItemDetails {
    ItemDetails {
        name: name("N95 医用防护口罩"),
        unit: Unit::parse("只").unwrap(),
        category: SupplyCategory::ProtectiveEquipment,
        shelf_life_days: shelf_life_days.map(|d| ShelfLife::try_from(d).unwrap()),
    }
}

fn catalogue() -> Vec<Wire> {
    run::<CatalogueItem, _, _>(vec![
        (
            0,
            ItemCommand::Catalogue {
                item: item("N95-1860"),
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
    ])
}

/// Bed commands, sent to a facility and also checked against `BedCommand` alone.
fn facility() -> Vec<Wire> {
    let designated = |bed_type| (bed_type, BedClass::Designated);
    let (icu, icu_class) = designated(BedType::AdultIcu);
    let beds: Vec<(i64, BedCommand)> = vec![
        (
            10,
            BedCommand::Report {
                bed_type: icu,
                class: icu_class,
                counts: counts(40, 36, 21),
                lead_time_minutes: 0,
            },
        ),
        (
            10,
            BedCommand::Report {
                bed_type: BedType::GeneralIsolation,
                class: BedClass::RapidExpansion,
                counts: counts(100, 80, 0),
                lead_time_minutes: 120,
            },
        ),
        (
            10,
            BedCommand::ActivateExpansion {
                bed_type: BedType::GeneralIsolation,
            },
        ),
        (
            10,
            BedCommand::Reserve {
                incident: Some(IncidentId::from_uuid(Uuid::from_u128(0xe1))),
                plan: plan(),
                bed_type: icu,
                class: icu_class,
                beds: 5,
            },
        ),
        (
            10,
            BedCommand::Admit {
                bed_type: icu,
                class: icu_class,
                patients: 2,
                plan: Some(plan()),
            },
        ),
        (
            10,
            BedCommand::Discharge {
                bed_type: icu,
                class: icu_class,
                patients: 1,
                plan: Some(plan()),
            },
        ),
        (
            10,
            BedCommand::Release {
                plan: plan(),
                bed_type: icu,
                class: icu_class,
            },
        ),
        (
            10,
            BedCommand::Report {
                bed_type: BedType::MedicalSurgical,
                class: BedClass::RapidVacate,
                counts: counts(60, 60, 50),
                lead_time_minutes: 240,
            },
        ),
        (
            10,
            BedCommand::Vacate {
                bed_type: BedType::MedicalSurgical,
                beds: 20,
            },
        ),
        (
            10,
            BedCommand::StandDownExpansion {
                bed_type: BedType::GeneralIsolation,
            },
        ),
    ];
    let mut out: Vec<Wire> = beds.iter().map(|(_, c)| wire(c)).collect();
    let mut commands = vec![(
        0,
        FacilityCommand::Register {
            facility_id: FacilityId::from_uuid(uuid(7)),
            name: name("重庆大学附属三峡医院"),
            kind: FacilityKind::Hospital,
            tier: Tier::Region,
            area: division("500101"),
            location: point(108.39, 30.81),
        },
    )];
    commands.extend(beds.into_iter().map(|(m, c)| (m, FacilityCommand::Beds(c))));
    out.extend(run::<Facility, _, _>(commands));
    out
}

fn counts(total: u32, staffed: u32, occupied: u32) -> BedCounts {
    BedCounts::new(total, staffed, occupied).unwrap()
}

fn convertible() -> Vec<Wire> {
    let isolation = || BTreeMap::from([(BedType::GeneralIsolation, 600)]);
    let items = || BTreeSet::from([checklist("ventilation_zoning"), checklist("oxygen_supply")]);
    let start = || ConvertibleCommand::StartConversion {
        lead_time_minutes: 720,
        target_beds: isolation(),
        checklist: items(),
    };
    let beds = |command| ConvertibleCommand::Beds(command);
    run::<ConvertibleFacility, _, _>(vec![
        (
            0,
            ConvertibleCommand::Register {
                facility_id: FacilityId::from_uuid(uuid(8)),
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
        (
            60,
            ConvertibleCommand::CompleteReadinessItem {
                item: checklist("ventilation_zoning"),
            },
        ),
        (
            60,
            ConvertibleCommand::CompleteReadinessItem {
                item: checklist("oxygen_supply"),
            },
        ),
        (
            10,
            ConvertibleCommand::ActivateEmergencyUse {
                early: Some(reason("病例陡增，提前启用")),
            },
        ),
        (
            10,
            beds(BedCommand::Report {
                bed_type: BedType::GeneralIsolation,
                class: BedClass::Designated,
                counts: counts(600, 400, 120),
                lead_time_minutes: 0,
            }),
        ),
        (
            10,
            beds(BedCommand::Discharge {
                bed_type: BedType::GeneralIsolation,
                class: BedClass::Designated,
                patients: 120,
                plan: None,
            }),
        ),
        (10, ConvertibleCommand::StartRecovery),
        (1440, ConvertibleCommand::CompleteRecovery),
    ])
}

/// Incident states are no wire type (yet): only the commands.
fn incident() -> Vec<Wire> {
    let areas = |codes: &[&str]| codes.iter().map(|c| division(c)).collect::<BTreeSet<_>>();
    let (commands, _) = steps::<Incident, _, _>(vec![
        (
            0,
            IncidentCommand::Declare {
                incident_id: incident_id(),
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
                item: item("N95-1860"),
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
    ]);
    commands.iter().map(wire).collect()
}
