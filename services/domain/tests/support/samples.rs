//! One sample of every event type, with every optional field set so nested
//! messages are exercised too.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
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

use super::Sample;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).single().unwrap()
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn point() -> GeoPoint {
    GeoPoint::new(108.38, 30.81).unwrap()
}

fn name() -> Name {
    Name::parse("万州").unwrap()
}

fn reason() -> Reason {
    Reason::parse("why").unwrap()
}

fn actor() -> Actor {
    Actor::parse("dispatcher-01").unwrap()
}

fn code() -> DivisionCode {
    DivisionCode::parse("500101001").unwrap()
}

fn item() -> ItemCode {
    ItemCode::parse("N95-1860").unwrap()
}

fn lot() -> LotNumber {
    LotNumber::parse("L1").unwrap()
}

fn picks() -> Vec<LotPick> {
    vec![LotPick {
        lot_number: lot(),
        quantity: Quantity::new(3),
        expiry: Some(at()),
    }]
}

fn tags() -> BTreeSet<CapabilityTag> {
    BTreeSet::from([CapabilityTag::parse("ecmo").unwrap()])
}

fn details() -> ItemDetails {
    ItemDetails {
        name: name(),
        unit: Unit::parse("box").unwrap(),
        category: SupplyCategory::ProtectiveEquipment,
        shelf_life_days: Some(ShelfLife::try_from(365).unwrap()),
    }
}

pub fn all() -> Vec<Sample> {
    let mut samples = team();
    samples.extend(supply());
    samples.extend(beds());
    samples.extend(convertible());
    samples.extend(incident());
    samples
}

fn team() -> Vec<Sample> {
    let team_id = TeamId::from_uuid(uuid(1));
    let incident = IncidentId::from_uuid(uuid(2));
    let headcount = Headcount::try_from(12).unwrap();
    let events: Vec<TeamEvent> = vec![
        TeamRegistered {
            team_id,
            name: name(),
            kind: TeamKind::MedicalRescue,
            tier: Tier::District,
            home_area: AreaCode::parse("500101").unwrap(),
            base: point(),
            headcount,
            capabilities: tags(),
            at: at(),
        }
        .into(),
        TeamMobilised {
            team_id,
            incident,
            at: at(),
            destination: Some(point()),
            expected_arrival: Some(at() + chrono::Duration::minutes(40)),
        }
        .into(),
        TeamDeployed {
            team_id,
            incident,
            area: code(),
            location: point(),
            at: at(),
        }
        .into(),
        TeamDemobilised {
            team_id,
            incident,
            at: at(),
        }
        .into(),
        TeamArrivedAtBase { team_id, at: at() }.into(),
        TeamBackOnStandby { team_id, at: at() }.into(),
        TeamMarkedUnavailable {
            team_id,
            reason: reason(),
            at: at(),
        }
        .into(),
        TeamMarkedAvailable { team_id, at: at() }.into(),
        TeamRosterUpdated {
            team_id,
            headcount,
            capabilities: tags(),
            at: at(),
        }
        .into(),
    ];
    events.into_iter().map(Sample::of).collect()
}

fn supply() -> Vec<Sample> {
    let items: Vec<ItemEvent> = vec![
        ItemCatalogued {
            item: item(),
            details: details(),
            at: at(),
        }
        .into(),
        ItemRevised {
            item: item(),
            details: details(),
            at: at(),
        }
        .into(),
        ItemRetired {
            item: item(),
            reason: reason(),
            at: at(),
        }
        .into(),
    ];
    let depot_id = DepotId::from_uuid(uuid(3));
    let other = DepotId::from_uuid(uuid(4));
    let plan = PlanId::from_uuid(uuid(5));
    let transfer = TransferId::from_uuid(uuid(6));
    let q = Quantity::new(3);
    let depots: Vec<DepotEvent> = vec![
        DepotRegistered {
            depot_id,
            name: name(),
            tier: ReserveTier::City,
            area: AreaCode::parse("wanzhou-sanxia").unwrap(),
            location: point(),
            at: at(),
        }
        .into(),
        LotReceived {
            depot_id,
            item: item(),
            lot_number: lot(),
            quantity: q,
            expiry: Some(at()),
            reason: reason(),
            at: at(),
        }
        .into(),
        StockIssued {
            depot_id,
            item: item(),
            plan: Some(plan),
            picks: picks(),
            reason: reason(),
            at: at(),
            incident: Some(IncidentId::from_uuid(uuid(40))),
            delivery: Some(Delivery {
                shipment: ShipmentId::from_uuid(uuid(41)),
                area: DivisionCode::parse("500101001").unwrap().into(),
                facility: Some(FacilityId::from_uuid(uuid(42))),
                location: Some(point()),
                expected_arrival: at(),
            }),
        }
        .into(),
        DeliverySigned {
            depot_id,
            shipment: ShipmentId::from_uuid(uuid(41)),
            received_by: name(),
            at: at(),
        }
        .into(),
        DeliveryReturned {
            depot_id,
            shipment: ShipmentId::from_uuid(uuid(41)),
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
        }
        .into(),
        StockReserved {
            incident: Some(IncidentId::from_uuid(uuid(40))),
            depot_id,
            plan,
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
        }
        .into(),
        StockReservationReleased {
            depot_id,
            plan,
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
        }
        .into(),
        StockReservationMoved {
            depot_id,
            from: plan,
            to: PlanId::from_uuid(uuid(81)),
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
            incident: Some(IncidentId::from_uuid(uuid(40))),
        }
        .into(),
        TransferDispatched {
            depot_id,
            transfer,
            to: other,
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
            expected_arrival: Some(at()),
            incident: Some(IncidentId::from_uuid(uuid(40))),
        }
        .into(),
        TransferReceived {
            depot_id,
            transfer,
            from: other,
            item: item(),
            lots: picks(),
            at: at(),
            reason: reason(),
        }
        .into(),
        TransferReturned {
            depot_id,
            transfer,
            item: item(),
            picks: picks(),
            reason: reason(),
            at: at(),
            incident: Some(IncidentId::from_uuid(uuid(40))),
            to: Some(other),
        }
        .into(),
        TransferCompleted {
            depot_id,
            transfer,
            to: other,
            at: at(),
            incident: Some(IncidentId::from_uuid(uuid(40))),
        }
        .into(),
        StockWrittenOff {
            depot_id,
            item: item(),
            lot_number: lot(),
            quantity: q,
            cause: WriteOffCause::Damaged,
            reason: reason(),
            at: at(),
        }
        .into(),
        StockCounted {
            depot_id,
            item: item(),
            lot_number: lot(),
            previous: q,
            counted: q,
            reason: reason(),
            at: at(),
        }
        .into(),
        ReserveNormSet {
            depot_id,
            item: item(),
            minimum: q,
            reason: reason(),
            at: at(),
        }
        .into(),
    ];
    items
        .into_iter()
        .map(Sample::of)
        .chain(depots.into_iter().map(Sample::of))
        .collect()
}

fn bed_events(facility_id: FacilityId) -> Vec<BedEvent> {
    let plan = Some(PlanId::from_uuid(uuid(8)));
    let (bed_type, class) = (BedType::AdultIcu, BedClass::Designated);
    let counts = BedCounts::new(10, 8, 2).unwrap();
    vec![
        BedsReported {
            facility_id,
            bed_type,
            class,
            counts,
            lead_time_minutes: 30,
            at: at(),
        }
        .into(),
        ExpansionActivated {
            facility_id,
            bed_type,
            ready_at: at(),
            at: at(),
        }
        .into(),
        ExpansionStoodDown {
            facility_id,
            bed_type,
            at: at(),
        }
        .into(),
        BedsVacated {
            facility_id,
            bed_type,
            beds: 2,
            ready_at: at(),
            at: at(),
        }
        .into(),
        PatientsAdmitted {
            facility_id,
            bed_type,
            class,
            patients: 2,
            plan,
            at: at(),
        }
        .into(),
        PatientsDischarged {
            facility_id,
            bed_type,
            class,
            patients: 1,
            at: at(),
            plan: Some(PlanId::from_uuid(uuid(8))),
        }
        .into(),
        BedsReserved {
            incident: Some(IncidentId::from_uuid(uuid(40))),
            facility_id,
            plan: PlanId::from_uuid(uuid(8)),
            bed_type,
            class,
            beds: 2,
            at: at(),
        }
        .into(),
        BedReservationReleased {
            facility_id,
            plan: PlanId::from_uuid(uuid(8)),
            bed_type,
            class,
            beds: 2,
            at: at(),
        }
        .into(),
        BedReservationMoved {
            facility_id,
            from: PlanId::from_uuid(uuid(8)),
            to: PlanId::from_uuid(uuid(81)),
            bed_type,
            class,
            beds: 2,
            at: at(),
            incident: Some(IncidentId::from_uuid(uuid(40))),
        }
        .into(),
        ReservationsOverCommitted {
            facility_id,
            bed_type,
            class,
            reserved: 9,
            free: 6,
            short_by: 3,
            at: at(),
        }
        .into(),
    ]
}

fn beds() -> Vec<Sample> {
    let facility_id = FacilityId::from_uuid(uuid(7));
    let registered = FacilityRegistered {
        facility_id,
        name: name(),
        kind: FacilityKind::Fangcang,
        tier: Tier::Institution,
        area: code(),
        location: point(),
        at: at(),
    };
    let mut events: Vec<FacilityEvent> = vec![registered.into()];
    events.extend(bed_events(facility_id).into_iter().map(FacilityEvent::Beds));
    events.into_iter().map(Sample::of).collect()
}

fn convertible() -> Vec<Sample> {
    let facility_id = FacilityId::from_uuid(uuid(9));
    let target_beds = BTreeMap::from([(BedType::GeneralIsolation, 300)]);
    let item = ChecklistItem::parse("staff_rostered").unwrap();
    let events: Vec<ConvertibleEvent> = vec![
        ConvertibleFacilityRegistered {
            facility_id,
            name: name(),
            peacetime_use: PeacetimeUse::ExhibitionHall,
            area: code(),
            location: point(),
            at: at(),
            planned_beds: target_beds.clone(),
            lead_time_minutes: 72 * 60,
        }
        .into(),
        ConversionStarted {
            facility_id,
            ready_by: at(),
            target_beds: target_beds.clone(),
            checklist: BTreeSet::from([item.clone()]),
            at: at(),
        }
        .into(),
        ReadinessItemCompleted {
            facility_id,
            item,
            at: at(),
        }
        .into(),
        ConversionCancelled {
            facility_id,
            reason: reason(),
            at: at(),
        }
        .into(),
        EmergencyUseActivated {
            facility_id,
            target_beds,
            at: at(),
            early: Some(reason()),
        }
        .into(),
        RecoveryStarted {
            facility_id,
            at: at(),
        }
        .into(),
        RecoveryCompleted {
            facility_id,
            at: at(),
        }
        .into(),
    ];
    // Bed events on a convertible stream decode as the convertible's own.
    let beds = bed_events(facility_id)
        .into_iter()
        .map(ConvertibleEvent::Beds)
        .take(1);
    events.into_iter().chain(beds).map(Sample::of).collect()
}

fn incident() -> Vec<Sample> {
    let incident_id = IncidentId::from_uuid(uuid(10));
    let (from, to) = (ResponseLevel::III, ResponseLevel::II);
    let events: Vec<IncidentEvent> = vec![
        IncidentDeclared {
            incident_id,
            kind: IncidentKind::InfectiousDisease,
            level: from,
            title: name(),
            affected_areas: BTreeSet::from([code()]),
            by: actor(),
            at: at(),
            location: Some(point()),
        }
        .into(),
        ResponseLevelRaised {
            incident_id,
            from,
            to,
            reason: reason(),
            by: actor(),
            at: at(),
        }
        .into(),
        ResponseLevelLowered {
            incident_id,
            from: to,
            to: from,
            reason: reason(),
            by: actor(),
            at: at(),
        }
        .into(),
        AffectedAreasExtended {
            incident_id,
            areas: BTreeSet::from([code()]),
            at: at(),
        }
        .into(),
        BedDemandRecorded {
            incident_id,
            bed_type: BedType::NegativeFlowIsolation,
            township: code(),
            beds: 40,
            at: at(),
        }
        .into(),
        SupplyDemandRecorded {
            incident_id,
            item: item(),
            area: code(),
            quantity: Quantity::new(500),
            at: at(),
        }
        .into(),
        TeamDemandRecorded {
            incident_id,
            kind: TeamKind::Custom(CustomKind::parse("nuclear_radiation").unwrap()),
            teams: 2,
            at: at(),
        }
        .into(),
        IncidentClosed {
            incident_id,
            reason: reason(),
            by: actor(),
            at: at(),
        }
        .into(),
    ];
    events.into_iter().map(Sample::of).collect()
}
