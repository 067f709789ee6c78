//! `ercs seed chongqing` against the real path: the seed through `Aggregates` into a
//! SQLite log, and the one-network view projected from it compared with the files.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedType, FacilityKind};
use ercs_domain::ids::FacilityId;
use ercs_domain::supply::ItemCode;
use ercs_domain::team::TeamKind;
use ercs_eventlog::{EventLog, SqliteEventLog};
use ercs_projections::one_network::{ConvertibleCapacity, ConvertiblePhase, roll_up};
use ercs_projections::{OneNetwork, Projector, ProjectorOptions};
use ercs_seed::inventory::{Inventory, seed_id};
use ercs_server::seeding::{self, SeedName, SeedSummary};
use indicatif::ProgressBar;

struct Seeded {
    _dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
    first: SeedSummary,
}

async fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> =
        Arc::new(SqliteEventLog::open(dir.path().join("events.db")).unwrap());
    let first = seed(&log).await;
    Seeded {
        _dir: dir,
        log,
        first,
    }
}

async fn seed(log: &Arc<dyn EventLog>) -> SeedSummary {
    seeding::load(Arc::clone(log), SeedName::Chongqing, &ProgressBar::hidden())
        .await
        .expect("the seed loads")
}

fn inventory() -> Inventory {
    ercs_seed::chongqing::inventory().unwrap()
}

async fn view(log: &Arc<dyn EventLog>) -> OneNetwork {
    let projector = Projector::<OneNetwork>::start(Arc::clone(log), ProjectorOptions::default());
    let head = log.head().await.unwrap();
    projector
        .wait_for(head, Duration::from_secs(60))
        .await
        .unwrap();
    projector.read(Clone::clone).0
}

#[tokio::test]
async fn seeding_twice_appends_nothing_the_second_time() {
    let seeded = seeded().await;
    assert!(seeded.first.appended > 0);
    assert_eq!(seeded.first.created, seeded.first.resources);
    let head = seeded.log.head().await.unwrap();

    let second = seed(&seeded.log).await;

    assert_eq!(seeded.log.head().await.unwrap(), head, "the log head moved");
    assert_eq!((second.appended, second.created, second.skipped), (0, 0, 0));
}

#[tokio::test]
async fn the_seeded_one_network_holds_exactly_the_beds_teams_stock_and_convertibles_of_the_files() {
    let seeded = seeded().await;
    let view = view(&seeded.log).await;
    let inventory = inventory();
    assert_eq!(view.skipped, 0);

    // Beds: fixed (designated) and temporary (rapid-expansion) per facility.
    let beds_of = |pools: Vec<(BedClass, u32)>| -> (u32, u32) {
        let sum = |class| {
            pools
                .iter()
                .filter(|p| p.0 == class)
                .map(|p| p.1)
                .sum::<u32>()
        };
        (sum(BedClass::Designated), sum(BedClass::RapidExpansion))
    };
    let mut lead = (0, 0);
    for f in &inventory.facilities {
        let expected = beds_of(f.pools.iter().map(|p| (p.class, p.total)).collect());
        let state = &view.facilities[&FacilityId::from_uuid(seed_id(&f.key))];
        let seen = beds_of(
            state
                .pools
                .iter()
                .map(|(k, p)| (k.class, p.counts.total()))
                .collect(),
        );
        assert_eq!(seen, expected, "{}", f.key);
        if f.lead {
            lead = (lead.0 + seen.0, lead.1 + seen.1);
        }
    }
    assert_eq!(view.facilities.len(), inventory.facilities.len());
    assert_eq!(lead, (1_250, 3_850));

    // Teams per kind and tier.
    let mut expected_teams: BTreeMap<(Tier, TeamKind), u32> = BTreeMap::new();
    for t in &inventory.teams {
        *expected_teams.entry((t.tier, t.kind.clone())).or_default() += 1;
    }
    let teams = roll_up(&view.teams_by_status_and_kind(), |k| {
        (k.tier, k.kind.clone())
    });
    let teams: BTreeMap<_, _> = teams.into_iter().map(|(k, c)| (k, c.teams)).collect();
    assert_eq!(teams, expected_teams);

    // Stock on hand and reserve norms per item.
    let mut expected_stock: BTreeMap<ItemCode, (u64, u64)> = BTreeMap::new();
    for d in &inventory.depots {
        for lot in &d.lots {
            expected_stock.entry(lot.item.clone()).or_default().0 += u64::from(lot.quantity.get());
        }
        for norm in &d.norms {
            expected_stock.entry(norm.item.clone()).or_default().1 += u64::from(norm.minimum.get());
        }
    }
    let stock = roll_up(&view.supplies_by_item(inventory.seed_date), |k| {
        k.item.clone()
    });
    let stock: BTreeMap<_, _> = stock
        .into_iter()
        .map(|(item, s)| (item, (s.on_hand, s.norm)))
        .collect();
    assert_eq!(stock, expected_stock);

    // Convertibles: all in peacetime, per district as the file places them.
    let mut expected_convertibles: BTreeMap<(DivisionCode, ConvertiblePhase), u32> =
        BTreeMap::new();
    for c in &inventory.convertibles {
        *expected_convertibles
            .entry((c.area.clone(), ConvertiblePhase::Peacetime))
            .or_default() += 1;
    }
    assert_eq!(view.convertibles_by_phase(), expected_convertibles);

    // Convertibles: each registered with the file's plan, and the planned beds
    // (per district and bed type, and in total) and longest lead time per district
    // summed from the file. In peacetime every planned bed is reachable, none open.
    for c in &inventory.convertibles {
        let record = &view.convertibles[&FacilityId::from_uuid(seed_id(&c.key))];
        let plan = (&record.state.planned_beds, record.state.lead_time_minutes);
        assert_eq!(plan, (&c.emergency_beds, c.lead_time_minutes), "{}", c.key);
    }
    let mut expected_capacity: BTreeMap<(DivisionCode, BedType), ConvertibleCapacity> =
        BTreeMap::new();
    for c in &inventory.convertibles {
        for (&bed_type, &beds) in &c.emergency_beds {
            *expected_capacity
                .entry((c.area.clone(), bed_type))
                .or_default() += ConvertibleCapacity {
                planned: beds,
                available_now: 0,
                within_lead_time: beds,
                lead_time_minutes: c.lead_time_minutes,
            };
        }
    }
    let capacity = view.convertible_capacity(inventory.seed_date);
    assert_eq!(capacity, expected_capacity);
    let total = |rollup: &BTreeMap<_, ConvertibleCapacity>| roll_up(rollup, |_| ());
    assert_eq!(total(&capacity), total(&expected_capacity));
    let planned: u32 = inventory
        .convertibles
        .iter()
        .flat_map(|c| c.emergency_beds.values())
        .sum();
    assert_eq!(total(&capacity)[&()].planned, planned);
    let longest = inventory
        .convertibles
        .iter()
        .map(|c| c.lead_time_minutes)
        .max();
    assert_eq!(Some(total(&capacity)[&()].lead_time_minutes), longest);
}

#[tokio::test]
async fn every_district_has_a_hospital_and_fields_three_standard_teams_and_two_squads() {
    let seeded = seeded().await;
    let view = view(&seeded.log).await;
    let geography = ercs_seed::chongqing::geography().unwrap();

    let mut hospitals: BTreeMap<DivisionCode, u32> = BTreeMap::new();
    for f in view.facilities.values() {
        if f.tier == Tier::District && f.kind == FacilityKind::Hospital {
            *hospitals.entry(f.area.clone()).or_default() += 1;
        }
    }
    let districts: Vec<DivisionCode> = geography.districts.iter().map(|d| d.code.clone()).collect();
    assert_eq!(hospitals.keys().cloned().collect::<Vec<_>>(), districts);
    assert!(hospitals.values().all(|&n| n == 1));

    let mut teams: BTreeMap<(AreaCode, TeamKind), u32> = BTreeMap::new();
    for t in view.teams.values().filter(|t| t.tier == Tier::District) {
        *teams
            .entry((t.home_area.clone(), t.kind.clone()))
            .or_default() += 1;
    }
    for district in districts {
        let count = |kind| {
            teams
                .get(&(AreaCode::from(district.clone()), kind))
                .copied()
        };
        assert_eq!(count(TeamKind::MedicalRescue), Some(1), "{district}");
        assert_eq!(
            count(TeamKind::AcuteInfectiousDisease),
            Some(1),
            "{district}"
        );
        assert_eq!(count(TeamKind::Poisoning), Some(1), "{district}");
        assert_eq!(
            count(TeamKind::BackpackRapidResponse),
            Some(2),
            "{district}"
        );
    }
}

#[test]
fn the_seed_command_prints_a_summary_and_a_second_run_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_ercs"))
            .env_remove("ERCS_DATA_DIR")
            .args(["seed", "chongqing", "--data-dir"])
            .arg(dir.path())
            .output()
            .expect("ercs runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let first = run();
    assert!(first.starts_with("seeded chongqing: "), "{first:?}");
    assert!(!first.contains(" 0 events appended"), "{first:?}");
    let second = run();
    assert!(second.contains("(0 new,"), "{second:?}");
    assert!(second.contains(" 0 events appended"), "{second:?}");
}

#[tokio::test]
async fn reseeding_leaves_a_resource_changed_since_as_it_is() {
    use ercs_commands::{Aggregates, Expect, Metadata};
    use ercs_domain::decider::CommandContext;
    use ercs_domain::ids::TeamId;
    use ercs_domain::team::{Team, TeamCommand};
    use ercs_domain::values::{Actor, Reason};

    let seeded = seeded().await;
    let team = TeamId::from_uuid(seed_id("team/500115/poisoning"));
    let later = inventory().seed_date + chrono::Duration::hours(1);
    let context = CommandContext::new(Actor::parse("dispatcher-01").unwrap(), later);
    let unavailable = TeamCommand::MarkUnavailable {
        reason: Reason::parse("vehicle in repair").unwrap(),
    };
    Aggregates::new(Arc::clone(&seeded.log))
        .execute::<Team>(
            &team,
            Expect::Latest,
            context.stamp(unavailable),
            &Metadata::new("dispatcher-01"),
        )
        .await
        .unwrap();
    let head = seeded.log.head().await.unwrap();

    let again = seed(&seeded.log).await;

    assert_eq!((again.appended, again.created), (0, 0));
    assert_eq!(seeded.log.head().await.unwrap(), head);
    let view = view(&seeded.log).await;
    assert!(matches!(
        view.teams[&team].status,
        ercs_domain::team::TeamStatus::Unavailable { .. }
    ));
}
