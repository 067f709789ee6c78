//! The one-network view against the real path: commands through
//! `Aggregates::execute` into a SQLite log, and a `Projector` following it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration as Wait;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ercs_commands::{Aggregates, Expect, Metadata};
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::{
    BedClass, BedCommand, BedCounts, BedType, Facility, FacilityCommand, FacilityKind,
};
use ercs_domain::convertible::{ConvertibleCommand, ConvertibleFacility, PeacetimeUse};
use ercs_domain::decider::CommandContext;
use ercs_domain::geo::GeoPoint;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, PlanId, TeamId};
use ercs_domain::incident::{Incident, IncidentCommand, IncidentKind, ResponseLevel};
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{Depot, DepotCommand, LotNumber, ReserveTier};
use ercs_domain::team::{Team, TeamCommand, TeamKind};
use ercs_domain::values::{Actor, ChecklistItem, Headcount, Name, Quantity, Reason};
use ercs_domain::{Decider, DomainEvent, Stamped};
use ercs_eventlog::{EventData, EventLog, ExpectedRevision, Position, SqliteEventLog, StreamName};
use ercs_projections::one_network::{
    AreaRollup, BedAvailability, BedKey, ConvertibleCapacity, ConvertiblePhase, SupplyKey,
    TeamCount, TeamKey, beds, convertibles, roll_up, supplies,
};
use ercs_projections::{OneNetwork, Projector, ProjectorOptions, rebuild};
use uuid::Uuid;

const SOON: Wait = Wait::from_secs(10);

struct Fixture {
    dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
    aggregates: Aggregates,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> =
        Arc::new(SqliteEventLog::open(dir.path().join("events.db")).unwrap());
    Fixture {
        aggregates: Aggregates::new(Arc::clone(&log)),
        log,
        dir,
    }
}

impl Fixture {
    /// Runs `command` at `at` and returns the position it reached.
    async fn run<D, C>(&self, id: &D::Id, at: DateTime<Utc>, command: C) -> Position
    where
        D: Decider<Command = Stamped<C>>,
        D::Event: DomainEvent,
        D::Error: std::fmt::Debug,
        C: Clone,
    {
        let actor = Actor::parse("dispatcher-01").unwrap();
        let stamped = CommandContext::new(actor, at).stamp(command);
        self.aggregates
            .execute::<D>(id, Expect::Latest, stamped, &Metadata::new("dispatcher-01"))
            .await
            .unwrap()
            .position
            .expect("the command decided events")
    }

    fn live(&self) -> Projector<OneNetwork> {
        Projector::start(Arc::clone(&self.log), ProjectorOptions::default())
    }

    fn with_snapshots(&self) -> Projector<OneNetwork> {
        let options = ProjectorOptions {
            snapshot_dir: Some(self.dir.path().join("projections")),
            snapshot_every: 3,
            ..Default::default()
        };
        Projector::start(Arc::clone(&self.log), options)
    }

    /// The view once it has read everything in the log.
    async fn caught_up(&self, projector: &Projector<OneNetwork>) -> OneNetwork {
        let head = self.log.head().await.unwrap();
        projector.wait_for(head, SOON).await.unwrap();
        projector.read(Clone::clone).0
    }

    async fn rebuilt(&self) -> OneNetwork {
        let head = self.log.head().await.unwrap();
        rebuild::<OneNetwork>(self.log.as_ref(), head)
            .await
            .unwrap()
    }
}

// ---- the world: Wanzhou, 2026-11-23 08:00 UTC ----

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
}

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

fn days(n: i64) -> DateTime<Utc> {
    t0() + Duration::days(n)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn wanzhou() -> DivisionCode {
    DivisionCode::parse("500101").unwrap()
}

fn here() -> GeoPoint {
    GeoPoint::new(108.38, 30.81).unwrap()
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

fn n95() -> ItemCode {
    ItemCode::parse("N95-1860").unwrap()
}

fn register_team(team: TeamId, kind: TeamKind, headcount: u32) -> TeamCommand {
    TeamCommand::Register {
        team_id: team,
        name: name("万州区紧急医学救援队"),
        kind,
        tier: Tier::District,
        home_area: AreaCode::Division(wanzhou()),
        base: here(),
        headcount: Headcount::try_from(headcount).unwrap(),
        capabilities: BTreeSet::new(),
    }
}

/// 调派 to `incident`, with no destination or arrival said.
fn mobilise(incident: IncidentId) -> TeamCommand {
    TeamCommand::Mobilise {
        incident,
        destination: None,
        expected_arrival: None,
    }
}

fn register_facility(facility: FacilityId) -> FacilityCommand {
    FacilityCommand::Register {
        facility_id: facility,
        name: name("重庆大学附属三峡医院"),
        kind: FacilityKind::Hospital,
        tier: Tier::District,
        area: wanzhou(),
        location: here(),
    }
}

fn report(
    bed_type: BedType,
    class: BedClass,
    counts: (u32, u32, u32),
    lead: u32,
) -> FacilityCommand {
    FacilityCommand::Beds(BedCommand::Report {
        bed_type,
        class,
        counts: BedCounts::new(counts.0, counts.1, counts.2).unwrap(),
        lead_time_minutes: lead,
    })
}

fn register_depot(depot: DepotId) -> DepotCommand {
    DepotCommand::Register {
        depot_id: depot,
        name: name("万州区应急物资储备库"),
        tier: ReserveTier::District,
        area: AreaCode::Division(wanzhou()),
        location: here(),
    }
}

fn receive(lot: &str, units: u32, expiry: Option<DateTime<Utc>>) -> DepotCommand {
    DepotCommand::ReceiveLot {
        item: n95(),
        lot_number: LotNumber::parse(lot).unwrap(),
        quantity: Quantity::new(units),
        expiry,
        reason: reason("年度储备采购"),
    }
}

fn norm(units: u32) -> DepotCommand {
    DepotCommand::SetReserveNorm {
        item: n95(),
        minimum: Quantity::new(units),
        reason: reason("储备定额"),
    }
}

fn register_convertible(facility: FacilityId) -> ConvertibleCommand {
    ConvertibleCommand::Register {
        facility_id: facility,
        name: name("万州体育馆"),
        peacetime_use: PeacetimeUse::Gymnasium,
        area: wanzhou(),
        location: here(),
        planned_beds: BTreeMap::from([(BedType::GeneralIsolation, 500)]),
        lead_time_minutes: 48 * 60,
    }
}

fn start_conversion() -> ConvertibleCommand {
    ConvertibleCommand::StartConversion {
        lead_time_minutes: 48 * 60,
        target_beds: BTreeMap::from([(BedType::GeneralIsolation, 300)]),
        checklist: BTreeSet::from([ChecklistItem::parse("ventilation_zoning").unwrap()]),
    }
}

fn declare(incident: IncidentId) -> IncidentCommand {
    IncidentCommand::Declare {
        incident_id: incident,
        kind: IncidentKind::InfectiousDisease,
        level: ResponseLevel::IV,
        title: name("万州区聚集性疫情"),
        affected_areas: BTreeSet::from([wanzhou()]),
        location: None,
    }
}

fn bed_key(bed_type: BedType, class: BedClass) -> BedKey {
    BedKey {
        tier: Tier::District,
        area: wanzhou(),
        bed_type,
        class,
    }
}

fn supply_key() -> SupplyKey {
    SupplyKey {
        tier: ReserveTier::District,
        area: AreaCode::Division(wanzhou()),
        item: n95(),
    }
}

// ---- teams ----

#[tokio::test]
async fn a_registered_team_shows_in_the_rollup_by_status_and_kind() {
    let f = fixture();
    let projector = f.live();
    let (rescue, squad) = (TeamId::from_uuid(id(1)), TeamId::from_uuid(id(2)));
    f.run::<Team, _>(
        &rescue,
        t0(),
        register_team(rescue, TeamKind::MedicalRescue, 24),
    )
    .await;
    f.run::<Team, _>(
        &squad,
        t0(),
        register_team(squad, TeamKind::BackpackRapidResponse, 6),
    )
    .await;
    let mobilise = mobilise(IncidentId::from_uuid(id(9)));
    f.run::<Team, _>(&squad, minutes(5), mobilise).await;

    let teams = f.caught_up(&projector).await.teams_by_status_and_kind();
    let key = |kind, status| TeamKey {
        tier: Tier::District,
        area: AreaCode::Division(wanzhou()),
        kind,
        status,
    };
    assert_eq!(
        teams,
        BTreeMap::from([
            (
                key(TeamKind::MedicalRescue, "standby"),
                TeamCount {
                    teams: 1,
                    headcount: 24
                }
            ),
            (
                key(TeamKind::BackpackRapidResponse, "mobilising"),
                TeamCount {
                    teams: 1,
                    headcount: 6
                }
            ),
        ])
    );
    let by_tier = roll_up(&teams, |k| k.tier);
    assert_eq!(
        by_tier[&Tier::District],
        TeamCount {
            teams: 2,
            headcount: 30
        }
    );
}

// ---- beds ----

#[tokio::test]
async fn beds_available_now_exclude_expansion_beds_not_yet_activated() {
    let f = fixture();
    let projector = f.live();
    let hospital = FacilityId::from_uuid(id(3));
    f.run::<Facility, _>(&hospital, t0(), register_facility(hospital))
        .await;
    let isolation = BedType::GeneralIsolation;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(isolation, BedClass::Designated, (50, 40, 10), 0),
    )
    .await;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(isolation, BedClass::RapidExpansion, (100, 80, 0), 120),
    )
    .await;

    let view = f.caught_up(&projector).await;
    let expansion =
        view.beds_by_type_and_class(minutes(1))[&bed_key(isolation, BedClass::RapidExpansion)];
    assert_eq!(
        (expansion.available_now, expansion.within_lead_time),
        (0, 80)
    );
    let designated =
        view.beds_by_type_and_class(minutes(1))[&bed_key(isolation, BedClass::Designated)];
    assert_eq!(
        (designated.available_now, designated.within_lead_time),
        (30, 30)
    );

    let activate = FacilityCommand::Beds(BedCommand::ActivateExpansion {
        bed_type: isolation,
    });
    f.run::<Facility, _>(&hospital, minutes(10), activate).await;
    let view = f.caught_up(&projector).await;
    let during =
        view.beds_by_type_and_class(minutes(60))[&bed_key(isolation, BedClass::RapidExpansion)];
    let after =
        view.beds_by_type_and_class(minutes(130))[&bed_key(isolation, BedClass::RapidExpansion)];
    assert_eq!(
        during.available_now, 0,
        "still within the activation lead time"
    );
    assert_eq!(after.available_now, 80, "usable once the lead time has run");
}

#[tokio::test]
async fn rapid_vacate_beds_count_occupied_beds_within_the_lead_time() {
    let f = fixture();
    let projector = f.live();
    let hospital = FacilityId::from_uuid(id(3));
    f.run::<Facility, _>(&hospital, t0(), register_facility(hospital))
        .await;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(
            BedType::MedicalSurgical,
            BedClass::RapidVacate,
            (60, 60, 45),
            240,
        ),
    )
    .await;

    let view = f.caught_up(&projector).await;
    let beds = view.beds_by_type_and_class(minutes(1))
        [&bed_key(BedType::MedicalSurgical, BedClass::RapidVacate)];
    assert_eq!(
        beds,
        BedAvailability {
            total: 60,
            staffed: 60,
            occupied: 45,
            reserved: 0,
            available_now: 0,
            within_lead_time: 60,
        }
    );
}

#[tokio::test]
async fn a_report_older_than_the_stale_age_is_flagged() {
    let f = fixture();
    let projector = f.live();
    let (old, fresh) = (FacilityId::from_uuid(id(3)), FacilityId::from_uuid(id(4)));
    for facility in [old, fresh] {
        f.run::<Facility, _>(&facility, t0(), register_facility(facility))
            .await;
    }
    let icu = |at| {
        (
            at,
            report(BedType::AdultIcu, BedClass::Designated, (20, 20, 5), 0),
        )
    };
    let (at, command) = icu(t0());
    f.run::<Facility, _>(&old, at, command).await;
    let (at, command) = icu(minutes(300));
    f.run::<Facility, _>(&fresh, at, command).await;

    let view = f.caught_up(&projector).await;
    let stale = view.stale_reports(minutes(360), Duration::hours(2));
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].facility, old);
    assert_eq!(stale[0].age, Duration::hours(6));
    assert!(
        view.stale_reports(minutes(360), Duration::hours(7))
            .is_empty()
    );
}

// ---- supplies ----

#[tokio::test]
async fn an_expired_lot_counts_as_expired_not_available() {
    let f = fixture();
    let projector = f.live();
    let depot = DepotId::from_uuid(id(5));
    f.run::<Depot, _>(&depot, t0(), register_depot(depot)).await;
    f.run::<Depot, _>(&depot, t0(), receive("A-10", 100, Some(days(10))))
        .await;
    f.run::<Depot, _>(&depot, t0(), receive("B-45", 50, Some(days(45))))
        .await;
    f.run::<Depot, _>(&depot, t0(), receive("C-100", 30, Some(days(100))))
        .await;
    f.run::<Depot, _>(&depot, t0(), receive("D-200", 20, Some(days(200))))
        .await;
    f.run::<Depot, _>(&depot, t0(), receive("E-NONE", 7, None))
        .await;

    let view = f.caught_up(&projector).await;
    let n95 = view.supplies_by_item(days(20))[&supply_key()];
    assert_eq!(n95.on_hand, 207);
    assert_eq!(n95.expired, 100);
    assert_eq!(n95.usable, 107, "the expired lot is not usable");
    assert_eq!(
        (
            n95.within_30_days,
            n95.within_90_days,
            n95.beyond_90_days,
            n95.no_expiry
        ),
        (50, 30, 20, 7)
    );
}

#[tokio::test]
async fn a_depot_below_its_reserve_norm_shows_the_shortfall() {
    let f = fixture();
    let projector = f.live();
    let depot = DepotId::from_uuid(id(5));
    f.run::<Depot, _>(&depot, t0(), register_depot(depot)).await;
    f.run::<Depot, _>(&depot, t0(), norm(500)).await;
    f.run::<Depot, _>(&depot, t0(), receive("A-1", 200, Some(days(365))))
        .await;
    let reserve = DepotCommand::Reserve {
        incident: None,
        plan: PlanId::from_uuid(id(20)),
        item: n95(),
        quantity: Quantity::new(50),
        reason: reason("调配方案"),
        expiry_margin_days: None,
    };
    f.run::<Depot, _>(&depot, minutes(5), reserve).await;

    let n95 = f.caught_up(&projector).await.supplies_by_item(minutes(10))[&supply_key()];
    assert_eq!((n95.norm, n95.usable, n95.shortfall), (500, 150, 350));
}

/// A transfer for an incident is on the road until its destination receives it,
/// and not after, though the source's record of it stays open until the
/// completion: the view keeps the received-but-not-completed few itself (a
/// depot keeps no ids of what it received), and forgets each at its completion.
#[tokio::test]
async fn a_received_transfer_is_off_the_road_before_its_completion() {
    use ercs_domain::ids::TransferId;
    use ercs_domain::supply::depot::LotPick;
    let f = fixture();
    let projector = f.live();
    let (source, destination) = (DepotId::from_uuid(id(5)), DepotId::from_uuid(id(6)));
    let incident = IncidentId::from_uuid(id(30));
    let transfer = TransferId::from_uuid(id(40));
    f.run::<Depot, _>(&source, t0(), register_depot(source))
        .await;
    f.run::<Depot, _>(&destination, t0(), register_depot(destination))
        .await;
    f.run::<Depot, _>(&source, t0(), receive("A-1", 200, None))
        .await;
    let dispatch = DepotCommand::DispatchTransfer {
        transfer,
        to: destination,
        item: n95(),
        quantity: Quantity::new(80),
        reason: reason("支援"),
        expected_arrival: Some(minutes(90)),
        incident: Some(incident),
    };
    f.run::<Depot, _>(&source, minutes(1), dispatch).await;
    let on_road = |view: &OneNetwork| view.holdings(incident).in_transit.len();
    assert_eq!(on_road(&f.caught_up(&projector).await), 1);

    let receive = DepotCommand::ReceiveTransfer {
        transfer,
        from: source,
        item: n95(),
        lots: vec![LotPick {
            lot_number: LotNumber::parse("A-1").unwrap(),
            quantity: Quantity::new(80),
            expiry: None,
        }],
        reason: reason("签收"),
    };
    f.run::<Depot, _>(&destination, minutes(60), receive).await;
    let received = f.caught_up(&projector).await;
    assert_eq!(on_road(&received), 0);
    assert!(received.depots[&source].outbound.contains_key(&transfer));
    assert_eq!(received.received_transfers, BTreeSet::from([transfer]));
    assert_eq!(f.rebuilt().await, received);

    let complete = DepotCommand::CompleteTransfer { transfer };
    f.run::<Depot, _>(&source, minutes(61), complete).await;
    let completed = f.caught_up(&projector).await;
    assert_eq!(on_road(&completed), 0);
    assert!(completed.received_transfers.is_empty());
    assert!(completed.depots[&source].outbound.is_empty());
}

// ---- convertible facilities and incidents ----

/// Two convertibles registered at `t0`; the gym starts converting 5 minutes later.
async fn a_hall_and_a_converting_gym(f: &Fixture) {
    let (gym, hall) = (FacilityId::from_uuid(id(6)), FacilityId::from_uuid(id(7)));
    for facility in [gym, hall] {
        f.run::<ConvertibleFacility, _>(&facility, t0(), register_convertible(facility))
            .await;
    }
    f.run::<ConvertibleFacility, _>(&gym, minutes(5), start_conversion())
        .await;
}

#[tokio::test]
async fn a_converting_facility_shows_in_its_phase() {
    let f = fixture();
    let projector = f.live();
    a_hall_and_a_converting_gym(&f).await;

    let phases = f.caught_up(&projector).await.convertibles_by_phase();
    assert_eq!(
        phases,
        BTreeMap::from([
            ((wanzhou(), ConvertiblePhase::Peacetime), 1),
            ((wanzhou(), ConvertiblePhase::Converting), 1),
        ])
    );
}

#[tokio::test]
async fn convertible_beds_count_planned_and_reachable_within_the_lead_time() {
    let f = fixture();
    let projector = f.live();
    a_hall_and_a_converting_gym(&f).await;

    let capacity = f
        .caught_up(&projector)
        .await
        .convertible_capacity(minutes(65));
    // The hall may give its planned 500 beds in 48 h; the gym converts for 300 of
    // its planned 500, ready 47 h from now. Nothing is open yet.
    assert_eq!(
        capacity,
        BTreeMap::from([(
            (wanzhou(), BedType::GeneralIsolation),
            ConvertibleCapacity {
                planned: 1000,
                available_now: 0,
                within_lead_time: 800,
                lead_time_minutes: 48 * 60,
            },
        )])
    );
}

#[tokio::test]
async fn an_incident_counts_at_its_current_response_level() {
    let f = fixture();
    let projector = f.live();
    let incident = IncidentId::from_uuid(id(8));
    f.run::<Incident, _>(&incident, t0(), declare(incident))
        .await;
    let raise = IncidentCommand::RaiseLevel {
        level: ResponseLevel::III,
        reason: reason("病例数上升"),
    };
    f.run::<Incident, _>(&incident, minutes(30), raise).await;

    let levels = f.caught_up(&projector).await.incidents_by_level();
    assert_eq!(levels, BTreeMap::from([(ResponseLevel::III, 1)]));
}

// ---- robustness ----

#[tokio::test]
async fn an_event_the_view_cannot_read_is_skipped_and_counted() {
    let f = fixture();
    let projector = f.live();
    let team = TeamId::from_uuid(id(1));
    f.run::<Team, _>(&team, t0(), register_team(team, TeamKind::Poisoning, 12))
        .await;
    let stream = StreamName::new(format!("team-{team}")).unwrap();
    let future = EventData::from_json(Uuid::new_v4(), "TeamTeleported", "{}", "{}").unwrap();
    f.log
        .append(&stream, ExpectedRevision::Any, vec![future])
        .await
        .unwrap();

    let view = f.caught_up(&projector).await;
    assert_eq!(view.skipped, 1);
    assert_eq!(view.teams.len(), 1, "the readable events still count");
}

// ---- rebuild and restart ----

/// A working morning across every kind of resource.
async fn a_morning(f: &Fixture, base: u128) {
    let incident = IncidentId::from_uuid(id(base + 1));
    let (rescue, squad) = (
        TeamId::from_uuid(id(base + 2)),
        TeamId::from_uuid(id(base + 3)),
    );
    let hospital = FacilityId::from_uuid(id(base + 4));
    let depot = DepotId::from_uuid(id(base + 5));
    let gym = FacilityId::from_uuid(id(base + 6));
    let plan = PlanId::from_uuid(id(base + 7));

    f.run::<Incident, _>(&incident, t0(), declare(incident))
        .await;
    f.run::<Team, _>(
        &rescue,
        t0(),
        register_team(rescue, TeamKind::MedicalRescue, 24),
    )
    .await;
    f.run::<Team, _>(
        &squad,
        t0(),
        register_team(squad, TeamKind::AcuteInfectiousDisease, 8),
    )
    .await;
    f.run::<Team, _>(&squad, minutes(5), mobilise(incident))
        .await;
    let deploy = TeamCommand::Deploy {
        area: wanzhou(),
        location: here(),
    };
    f.run::<Team, _>(&squad, minutes(40), deploy).await;

    f.run::<Facility, _>(&hospital, t0(), register_facility(hospital))
        .await;
    let isolation = BedType::NegativeFlowIsolation;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(isolation, BedClass::Designated, (30, 30, 4), 0),
    )
    .await;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(isolation, BedClass::RapidExpansion, (40, 20, 0), 90),
    )
    .await;
    f.run::<Facility, _>(
        &hospital,
        t0(),
        report(isolation, BedClass::RapidVacate, (50, 50, 35), 240),
    )
    .await;
    let reserve = BedCommand::Reserve {
        incident: None,
        plan,
        bed_type: isolation,
        class: BedClass::Designated,
        beds: 6,
    };
    f.run::<Facility, _>(&hospital, minutes(20), FacilityCommand::Beds(reserve))
        .await;
    let activate = BedCommand::ActivateExpansion {
        bed_type: isolation,
    };
    f.run::<Facility, _>(&hospital, minutes(25), FacilityCommand::Beds(activate))
        .await;
    let vacate = BedCommand::Vacate {
        bed_type: isolation,
        beds: 10,
    };
    f.run::<Facility, _>(&hospital, minutes(30), FacilityCommand::Beds(vacate))
        .await;

    f.run::<Depot, _>(&depot, t0(), register_depot(depot)).await;
    f.run::<Depot, _>(&depot, t0(), norm(1000)).await;
    f.run::<Depot, _>(&depot, t0(), receive("L-1", 400, Some(days(20))))
        .await;
    f.run::<Depot, _>(&depot, t0(), receive("L-2", 300, Some(days(400))))
        .await;
    let reserve = DepotCommand::Reserve {
        incident: None,
        plan,
        item: n95(),
        quantity: Quantity::new(120),
        reason: reason("调配方案"),
        expiry_margin_days: None,
    };
    f.run::<Depot, _>(&depot, minutes(20), reserve).await;
    let issue = DepotCommand::Issue {
        item: n95(),
        quantity: Quantity::new(50),
        plan: Some(plan),
        reason: reason("发往万州区"),
        incident: None,
        delivery: None,
    };
    f.run::<Depot, _>(&depot, minutes(50), issue).await;

    f.run::<ConvertibleFacility, _>(&gym, t0(), register_convertible(gym))
        .await;
    f.run::<ConvertibleFacility, _>(&gym, minutes(10), start_conversion())
        .await;
}

#[tokio::test]
async fn the_live_view_equals_a_rebuild_from_the_whole_log() {
    let f = fixture();
    let projector = f.live();
    a_morning(&f, 100).await;
    a_morning(&f, 200).await;

    let live = f.caught_up(&projector).await;
    assert_eq!(live, f.rebuilt().await);
    assert_eq!(live.teams.len(), 4);
    assert_eq!(live.facilities.len(), 2);
    assert_eq!(live.depots.len(), 2);
    assert_eq!(live.convertibles.len(), 2);
    assert_eq!(live.incidents.len(), 2);
    assert_eq!(live.skipped, 0);
}

#[tokio::test]
async fn the_view_comes_back_unchanged_from_its_json_snapshot() {
    let f = fixture();
    let projector = f.live();
    a_morning(&f, 100).await;

    let view = f.caught_up(&projector).await;
    let json = serde_json::to_string(&view).unwrap();
    let restored: OneNetwork = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, view);
    let now = minutes(200);
    assert_eq!(
        restored.beds_by_type_and_class(now),
        view.beds_by_type_and_class(now)
    );
}

#[tokio::test]
async fn a_restart_from_the_snapshot_gives_the_same_view() {
    let f = fixture();
    let first = f.with_snapshots();
    a_morning(&f, 100).await;
    f.caught_up(&first).await;
    let saved_at = first.position();
    first.stop().await.unwrap();
    let snapshot = f
        .dir
        .path()
        .join("projections")
        .join("one-network.snapshot.json");
    assert!(snapshot.exists(), "stopping writes the snapshot");

    a_morning(&f, 200).await;
    let second = f.with_snapshots();
    assert!(
        second.restored_position() >= saved_at,
        "the restart starts from the snapshot, not from the start of the log"
    );
    let restarted = f.caught_up(&second).await;
    assert_eq!(restarted, f.rebuilt().await);
}

#[tokio::test]
async fn a_team_on_scene_is_shown_where_it_works_and_back_at_base_once_released() {
    let f = fixture();
    let team = TeamId::from_uuid(id(900));
    let incident = IncidentId::from_uuid(id(901));
    f.run::<Incident, _>(&incident, t0(), declare(incident))
        .await;
    f.run::<Team, _>(
        &team,
        t0(),
        register_team(team, TeamKind::MedicalRescue, 24),
    )
    .await;
    f.run::<Team, _>(&team, minutes(5), mobilise(incident))
        .await;
    // 34 km from its base in 万州, at a township clinic.
    let scene = GeoPoint::new(108.69, 30.95).unwrap();
    let deploy = TeamCommand::Deploy {
        area: wanzhou(),
        location: scene,
    };
    f.run::<Team, _>(&team, minutes(40), deploy).await;
    let point = |view: &OneNetwork| {
        view.resource_by_id(
            ercs_projections::one_network::ResourceKind::Teams,
            &team.to_string(),
        )
        .and_then(|r| r.point)
    };
    let live = f.live();
    assert_eq!(point(&f.caught_up(&live).await), Some(scene));
    f.run::<Team, _>(&team, minutes(300), TeamCommand::Demobilise)
        .await;
    assert_eq!(point(&f.caught_up(&live).await), Some(here()));
}

// ---- district rollups from the area index ----

/// The live feed rolls up one district per event from the area index. After
/// every event of every kind, in two districts and a township, that rollup
/// equals the district's share of the city's whole rollup, and the index kept
/// up to date by the folds equals one built afresh from the state.
#[tokio::test]
async fn a_districts_rollup_from_the_index_equals_the_citys_after_every_event() {
    let f = fixture();
    let areas = Arc::new(
        ercs_seed::chongqing::geography()
            .unwrap()
            .hierarchy()
            .unwrap(),
    );
    let mismatches = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let checked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let observer = {
        let (areas, mismatches, checked) = (
            Arc::clone(&areas),
            Arc::clone(&mismatches),
            Arc::clone(&checked),
        );
        Box::new(
            move |view: &OneNetwork, event: &ercs_eventlog::RecordedEvent, _live: bool| {
                let at = format!("{} at {}", event.event_type.as_str(), event.position.0);
                let mut found = mismatches.lock().unwrap();
                if *view.area_index() != view.indexed() {
                    found.push(format!("index after {at}"));
                }
                let whole_city = view.area_rollups(&areas, minutes(60));
                if whole_city != by_keys(view, &areas, minutes(60)) {
                    found.push(format!("the city's rollups after {at}"));
                }
                for (district, whole) in whole_city {
                    if view.area_rollup(&district, &areas, minutes(60)) != whole {
                        found.push(format!("{district} after {at}"));
                    }
                }
                checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
        )
    };
    let projector = Projector::start_observed(
        Arc::clone(&f.log),
        ProjectorOptions::default(),
        Some(observer),
    );

    a_morning(&f, 100).await;
    elsewhere_in_fuling(&f, 300).await;
    // The 涪陵 incident ends: it no longer counts in either district.
    let incident = IncidentId::from_uuid(id(303));
    let close = IncidentCommand::Close {
        reason: reason("疫情结束"),
        release_all: false,
    };
    f.run::<Incident, _>(&incident, minutes(55), close).await;

    let view = f.caught_up(&projector).await;
    assert_eq!(*mismatches.lock().unwrap(), Vec::<String>::new());
    let rollups = view.area_rollups(&areas, minutes(60));
    let districts: Vec<&str> = rollups.keys().map(DivisionCode::as_str).collect();
    assert_eq!(districts, ["500101", "500102"]);
    let fuling = view.area_rollup(&DivisionCode::parse("500102").unwrap(), &areas, minutes(60));
    assert_eq!(fuling.teams["standby"].teams, 1);
    assert_eq!(fuling.beds.total, 20);
    assert_eq!(fuling.open_incidents, 0);
    assert_eq!(rollups[&wanzhou()].open_incidents, 1);
    // What the comparison with `by_keys` covered.
    let wanzhou_rollup = &rollups[&wanzhou()];
    assert!(
        !wanzhou_rollup.supply_shortfall.is_empty(),
        "{wanzhou_rollup:?}"
    );
    assert!(
        !wanzhou_rollup.convertibles.is_empty(),
        "{wanzhou_rollup:?}"
    );
    assert!(wanzhou_rollup.beds.available_now > 0, "{wanzhou_rollup:?}");
    assert!(checked.load(std::sync::atomic::Ordering::Relaxed) >= 20);
}

/// The districts' rollups built another way: from the rollups by tier, area
/// and kind that `/network` serves, each key's area mapped to its district.
fn by_keys(
    view: &OneNetwork,
    areas: &AreaHierarchy,
    now: DateTime<Utc>,
) -> BTreeMap<DivisionCode, AreaRollup> {
    let district = |area: &AreaCode| {
        areas
            .district_of(area)
            .and_then(|record| record.code.as_division().cloned())
            .or_else(|| area.as_division().cloned())
            .unwrap()
    };
    let mut rollups: BTreeMap<DivisionCode, AreaRollup> = BTreeMap::new();
    for team in view.teams.values() {
        let count = TeamCount {
            teams: 1,
            headcount: team.headcount.get(),
        };
        *rollups
            .entry(district(&team.home_area))
            .or_default()
            .teams
            .entry(team.status.phase().name())
            .or_default() += count;
    }
    for (key, beds) in beds::by_type_and_class(view.facilities.values(), now) {
        let rollup = rollups
            .entry(district(&key.area.clone().into()))
            .or_default();
        rollup.beds += beds;
        *rollup.beds_by_type.entry(key.bed_type).or_default() += beds;
    }
    for ((area, phase), count) in convertibles::by_phase(view.convertibles.values()) {
        *rollups
            .entry(district(&area.into()))
            .or_default()
            .convertibles
            .entry(phase)
            .or_default() += count;
    }
    for ((area, _), capacity) in convertibles::capacity(view.convertibles.values(), now) {
        rollups
            .entry(district(&area.into()))
            .or_default()
            .convertible_beds += capacity;
    }
    for (key, stock) in supplies::by_item(view.depots.values(), now) {
        let rollup = rollups.entry(district(&key.area)).or_default();
        if stock.shortfall > 0 {
            *rollup.supply_shortfall.entry(key.item).or_default() += stock.shortfall;
        }
    }
    for incident in view.incidents.values().filter(|i| !i.closed) {
        for area in &incident.affected_areas {
            rollups
                .entry(district(&area.clone().into()))
                .or_default()
                .open_incidents += 1;
        }
    }
    rollups
}

/// 涪陵区: a team based in one of its townships, a hospital in another, and an
/// incident over it and 万州区 whose area grows.
async fn elsewhere_in_fuling(f: &Fixture, base: u128) {
    let fuling = DivisionCode::parse("500102").unwrap();
    let (team, hospital, incident) = (
        TeamId::from_uuid(id(base + 1)),
        FacilityId::from_uuid(id(base + 2)),
        IncidentId::from_uuid(id(base + 3)),
    );
    let mut register = register_team(team, TeamKind::Poisoning, 6);
    if let TeamCommand::Register { home_area, .. } = &mut register {
        *home_area = AreaCode::Division(DivisionCode::parse("500102103").unwrap());
    }
    f.run::<Team, _>(&team, t0(), register).await;
    let mut facility = register_facility(hospital);
    if let FacilityCommand::Register { area, .. } = &mut facility {
        *area = DivisionCode::parse("500102107").unwrap();
    }
    f.run::<Facility, _>(&hospital, t0(), facility).await;
    let beds = report(BedType::AdultIcu, BedClass::Designated, (20, 20, 5), 0);
    f.run::<Facility, _>(&hospital, minutes(1), beds).await;
    let mut declared = declare(incident);
    if let IncidentCommand::Declare { affected_areas, .. } = &mut declared {
        *affected_areas = BTreeSet::from([fuling.clone()]);
    }
    f.run::<Incident, _>(&incident, minutes(2), declared).await;
    let extend = IncidentCommand::ExtendAffectedAreas {
        areas: BTreeSet::from([wanzhou()]),
    };
    f.run::<Incident, _>(&incident, minutes(3), extend).await;
}
