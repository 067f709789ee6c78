//! Decided states kept in memory: a command on a long stream reads only what the
//! stream gained since, and decides on exactly the state a full replay gives.
//! Against the real SQLite log, counting the events it returns.

mod support;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ercs_commands::{Aggregates, CommandError, Expect, Metadata};
use ercs_domain::beds::{BedClass, BedCommand, BedType, Facility, FacilityCommand, FacilityEvent};
use ercs_domain::convertible::{ConvertibleEvent, ConvertibleFacility};
use ercs_domain::event::DomainEvent;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, TeamId, TransferId};
use ercs_domain::incident::{Incident, IncidentEvent};
use ercs_domain::supply::{CatalogueItem, Depot, DepotCommand, DepotEvent, ItemEvent};
use ercs_domain::team::{Team, TeamCommand, TeamEvent};
use ercs_domain::testing::runs;
use ercs_domain::values::{Actor, Quantity, Reason};
use ercs_domain::{CommandContext, Decider, Stamped};
use ercs_eventlog::{EventLog, FileAccess, StreamName};
use support::counting::{Counter, CountingLog, Tips};
use uuid::Uuid;

struct Fixture {
    dir: tempfile::TempDir,
    log: Arc<CountingLog>,
    /// The command path under test, with its cache.
    cached: Aggregates,
    /// Folds every stream from its start: the reference.
    replayed: Aggregates,
}

fn fixture(entries: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log = Counter::open(&dir);
    let shared: Arc<dyn EventLog> = log.clone();
    Fixture {
        cached: Aggregates::with_cache(Arc::clone(&shared), entries),
        replayed: Aggregates::with_cache(shared, 0),
        log,
        dir,
    }
}

impl Fixture {
    /// The cache's states saved to a file and restored into a command path
    /// of their own, over the same log.
    fn restarted(&self) -> Aggregates {
        self.carried_to(&self.log)
    }

    /// The cache's states saved to a file and restored into a command path
    /// over `log`, as a data directory's file would be if carried elsewhere.
    fn carried_to(&self, log: &Arc<CountingLog>) -> Aggregates {
        let path = self.dir.path().join("states.json");
        self.cached.save_states(&path, FileAccess::Owner).unwrap();
        let restored = Aggregates::with_cache(log.clone(), 16);
        restored.restore_states(&path).unwrap();
        restored
    }
}

/// `minutes` into the run, at a nanosecond as a clock gives it, so a state that
/// keeps a time must keep it exactly through the log's JSON.
fn at(minutes: i64) -> DateTime<Utc> {
    let start = Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).unwrap();
    start + TimeDelta::minutes(minutes) + TimeDelta::nanoseconds(123_456_789)
}

fn stamped<C>(minutes: i64, command: C) -> Stamped<C> {
    CommandContext::new(Actor::parse("dispatcher-500101-01").unwrap(), at(minutes)).stamp(command)
}

fn metadata() -> Metadata {
    Metadata::new("dispatcher-500101-01")
}

/// Runs each command (after the minutes it names) through the cache and, after
/// each, checks that the state the cache decides on is the full replay's, and
/// so is the state saved and restored from a file (without folding an event).
/// Returns the event types the run decided.
async fn run<D, C>(f: &Fixture, id: &D::Id, commands: Vec<(i64, C)>) -> BTreeSet<&'static str>
where
    D: Decider<Command = Stamped<C>>,
    D::Event: DomainEvent,
    D::State: PartialEq + Debug,
    D::Error: Debug,
    C: Clone + Debug,
{
    let mut minutes = 0;
    let mut decided = BTreeSet::new();
    for (after, command) in commands {
        minutes += after;
        let done = f
            .cached
            .execute::<D>(
                id,
                Expect::Latest,
                stamped(minutes, command.clone()),
                &metadata(),
            )
            .await
            .unwrap_or_else(|e| panic!("{command:?} refused: {e:?}"));
        decided.extend(done.events.iter().map(DomainEvent::event_type));
        let cached = f.cached.load::<D>(id).await.unwrap();
        let replayed = f.replayed.load::<D>(id).await.unwrap();
        assert_eq!(cached.state, replayed.state, "after {command:?}");
        assert_eq!(cached.revision, replayed.revision, "after {command:?}");
        if f.cached.cached() > 0 {
            let restarted = f.restarted();
            let restored = restarted.load::<D>(id).await.unwrap();
            assert_eq!(restored.state, replayed.state, "restored after {command:?}");
            assert_eq!(restored.revision, replayed.revision, "after {command:?}");
            assert_eq!(restarted.events_folded(), 0, "restored after {command:?}");
        }
    }
    decided
}

fn assert_covers<E: DomainEvent>(decided: &BTreeSet<&'static str>) {
    let missing: Vec<_> = E::versions()
        .into_iter()
        .map(|(event_type, _)| event_type)
        .filter(|event_type| !decided.contains(event_type))
        .collect();
    assert!(missing.is_empty(), "no command decided {missing:?}");
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x5e1d_0000_0000_4000_8000_0000_0000_0000 + n)
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

fn team_id(n: u128) -> TeamId {
    TeamId::from_uuid(uuid(n))
}

/// The first command of `run`: the one that creates the aggregate.
fn creation<C>(run: runs::Run<C>) -> C {
    run.into_iter().next().unwrap().1
}

#[tokio::test]
async fn a_cached_team_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let id = team_id(1);
    let decided = run::<Team, _>(&f, &id, runs::team(id)).await;
    assert_covers::<TeamEvent>(&decided);
}

#[tokio::test]
async fn a_cached_depot_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let (wanzhou, city) = (DepotId::from_uuid(uuid(3)), DepotId::from_uuid(uuid(4)));
    let (out, back) = (
        TransferId::from_uuid(uuid(5)),
        TransferId::from_uuid(uuid(6)),
    );
    let mut decided = run::<Depot, _>(&f, &wanzhou, runs::depot(wanzhou, city, out)).await;
    let receiving = runs::receiving_depot(city, wanzhou, back);
    decided.extend(run::<Depot, _>(&f, &city, receiving).await);
    assert_covers::<DepotEvent>(&decided);
}

#[tokio::test]
async fn a_cached_catalogue_item_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let item = runs::n95();
    let decided = run::<CatalogueItem, _>(&f, &item, runs::catalogue_item(item.clone())).await;
    assert_covers::<ItemEvent>(&decided);
}

#[tokio::test]
async fn a_cached_facility_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let id = FacilityId::from_uuid(uuid(7));
    let decided = run::<Facility, _>(&f, &id, runs::facility(id)).await;
    assert_covers::<FacilityEvent>(&decided);
}

#[tokio::test]
async fn a_cached_convertible_facility_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let id = FacilityId::from_uuid(uuid(8));
    let decided = run::<ConvertibleFacility, _>(&f, &id, runs::convertible(id)).await;
    assert_covers::<ConvertibleEvent>(&decided);
}

#[tokio::test]
async fn a_cached_incident_is_its_replay_after_every_event_kind() {
    let f = fixture(16);
    let id = IncidentId::from_uuid(uuid(0x10));
    let decided = run::<Incident, _>(&f, &id, runs::incident(id)).await;
    assert_covers::<IncidentEvent>(&decided);
}

fn receive(quantity: u32) -> DepotCommand {
    DepotCommand::ReceiveLot {
        item: runs::n95(),
        lot_number: runs::n95_lot(),
        quantity: Quantity::new(quantity),
        expiry: None,
        reason: reason("市级调拨入库"),
    }
}

fn issue(quantity: u32) -> DepotCommand {
    DepotCommand::Issue {
        item: runs::n95(),
        quantity: Quantity::new(quantity),
        plan: None,
        reason: reason("万州区暴雨山洪，物资调度"),
        incident: None,
        delivery: None,
    }
}

async fn on_depot(
    aggregates: &Aggregates,
    depot: DepotId,
    expect: Expect,
    command: DepotCommand,
) -> Result<Option<u64>, CommandError<ercs_domain::DomainError>> {
    aggregates
        .execute::<Depot>(&depot, expect, stamped(10, command), &metadata())
        .await
        .map(|done| done.revision)
}

/// A depot registered through `aggregates` with 100 N95 on its shelves.
async fn stocked_depot(aggregates: &Aggregates) -> DepotId {
    let depot = DepotId::from_uuid(uuid(3));
    let city = DepotId::from_uuid(uuid(4));
    let register = creation(runs::depot(depot, city, TransferId::from_uuid(uuid(5))));
    for command in [register, receive(100)] {
        on_depot(aggregates, depot, Expect::Latest, command)
            .await
            .unwrap();
    }
    depot
}

/// Behind the cache's back, 80 of the depot's 100 leave through another
/// process; then 50 are refused from the 20 left. The revision after the 80.
async fn eighty_leave_elsewhere_and_fifty_are_refused(f: &Fixture, depot: DepotId) -> Option<u64> {
    let other = Aggregates::new(f.log.clone());
    let moved_on = on_depot(&other, depot, Expect::Latest, issue(80))
        .await
        .unwrap();
    let refused = on_depot(&f.cached, depot, Expect::Latest, issue(50)).await;
    assert!(
        matches!(refused, Err(CommandError::Rejected(_))),
        "50 issued from the 20 left: {refused:?}"
    );
    moved_on
}

#[tokio::test]
async fn a_write_from_another_process_is_decided_on_never_the_stale_copy() {
    let f = fixture(16);
    let depot = stocked_depot(&f.cached).await;
    let moved_on = eighty_leave_elsewhere_and_fifty_are_refused(&f, depot).await;
    let at_new = on_depot(&f.cached, depot, Expect::Revision(moved_on), issue(20)).await;
    assert_eq!(
        at_new.unwrap(),
        moved_on.map(|r| r + 1),
        "If-Match of the other write"
    );
    let cached = f.cached.load::<Depot>(&depot).await.unwrap();
    assert_eq!(
        cached.state,
        f.replayed.load::<Depot>(&depot).await.unwrap().state
    );
}

#[tokio::test]
async fn a_tip_a_moment_old_never_lands_a_decision_on_the_state_it_names() {
    let f = fixture(16);
    let depot = stocked_depot(&f.cached).await;
    // The log goes on naming the tip from before another write, as it would
    // for the instant between a commit and its publication. Decided on the 100
    // that tip vouches for, the 50's append is refused, and the retry reads the
    // store: the 50 are refused, not issued.
    let stream = StreamName::new(Depot::stream_name(&depot)).unwrap();
    let tip = f.log.last_known(&stream).expect("the depot's tip is known");
    f.log.say_tips(Tips::Pinned(tip));
    let moved_on = eighty_leave_elsewhere_and_fifty_are_refused(&f, depot).await;
    let issued = on_depot(&f.cached, depot, Expect::Latest, issue(20)).await;
    assert_eq!(
        issued.unwrap(),
        moved_on.map(|r| r + 1),
        "after the other write"
    );
    f.log.say_tips(Tips::Known);
    let cached = f.cached.load::<Depot>(&depot).await.unwrap();
    let replayed = f.replayed.load::<Depot>(&depot).await.unwrap();
    assert_eq!(
        (cached.state, cached.revision),
        (replayed.state, replayed.revision)
    );
}

#[tokio::test]
async fn a_refused_command_leaves_the_cached_state_as_the_log_has_it() {
    let f = fixture(16);
    let depot = stocked_depot(&f.cached).await;
    let refused = on_depot(&f.cached, depot, Expect::Latest, issue(500)).await;
    assert!(matches!(refused, Err(CommandError::Rejected(_))));
    let stale = on_depot(&f.cached, depot, Expect::Revision(Some(0)), receive(10)).await;
    assert!(matches!(stale, Err(CommandError::Conflict { .. })));

    let cached = f.cached.load::<Depot>(&depot).await.unwrap();
    let replayed = f.replayed.load::<Depot>(&depot).await.unwrap();
    assert_eq!(
        (cached.state, cached.revision),
        (replayed.state, replayed.revision)
    );
}

#[tokio::test]
async fn a_log_restored_behind_the_cache_is_decided_on_as_restored() {
    let f = fixture(16);
    let id = team_id(1);
    let mobilise = mobilised();
    let unavailable = out_of_service();
    run::<Team, _>(&f, &id, vec![(0, creation(runs::team(id))), (10, mobilise)]).await;
    // Another log where the team's revision 1 is another event.
    let restored = fixture(0);
    run::<Team, _>(
        &restored,
        &id,
        vec![(0, creation(runs::team(id))), (10, unavailable)],
    )
    .await;

    f.log.replace_with(&restored.log);
    let cached = f.cached.load::<Team>(&id).await.unwrap();
    let replayed = restored.replayed.load::<Team>(&id).await.unwrap();
    assert_eq!(
        (cached.state, cached.revision),
        (replayed.state, replayed.revision)
    );
}

#[tokio::test]
async fn states_saved_from_another_log_are_folded_again_from_this_one() {
    let f = fixture(16);
    let id = team_id(1);
    let unavailable = out_of_service();
    let mobilise = mobilised();
    run::<Team, _>(&f, &id, vec![(0, creation(runs::team(id))), (10, mobilise)]).await;
    // The file is carried to a data directory whose log has another revision 1.
    let other = fixture(0);
    run::<Team, _>(
        &other,
        &id,
        vec![(0, creation(runs::team(id))), (10, unavailable)],
    )
    .await;
    decided_on_its_own_log(&f, &other, &id).await;
}

#[tokio::test]
async fn a_saved_state_whose_event_id_recurs_after_another_history_is_folded_again() {
    let keyed = |key: &str| metadata().with_idempotency_key(key);
    let id = team_id(1);
    let unavailable = out_of_service();
    let mobilise = mobilised();
    let f = fixture(16);
    for (key, command) in [
        ("create", creation(runs::team(id))),
        ("second", unavailable),
    ] {
        let metadata = keyed(key);
        let done = f
            .cached
            .execute::<Team>(&id, Expect::Latest, stamped(0, command), &metadata);
        done.await.unwrap();
    }
    // A log that went another way (as one restored from a backup and written
    // on): another team first, then the same keys, the second on another
    // command. Event ids derive from the stream, the key and the ordinal, so
    // revision 1 carries the same id in both; only its position differs.
    let other = fixture(0);
    three_events(&other.cached, 9).await;
    for (key, command) in [("create", creation(runs::team(id))), ("second", mobilise)] {
        let metadata = keyed(key);
        let done =
            other
                .cached
                .execute::<Team>(&id, Expect::Latest, stamped(0, command), &metadata);
        done.await.unwrap();
    }
    let stream = ercs_eventlog::StreamName::new(format!("team-{id}")).unwrap();
    let second = |log: Arc<CountingLog>| {
        let stream = stream.clone();
        async move {
            let read = log.read_stream(
                &stream,
                ercs_eventlog::ReadFrom::At(1),
                ercs_eventlog::Direction::Forwards,
                1,
            );
            let event = read.await.unwrap().remove(0);
            (event.id, event.position)
        }
    };
    let (here, there) = (second(f.log.clone()).await, second(other.log.clone()).await);
    assert_eq!(here.0, there.0, "the same event id at revision 1");
    assert_ne!(here.1, there.1, "at another position");

    decided_on_its_own_log(&f, &other, &id).await;
}

/// `from`'s saved states carried to `to`'s log: team `id` (two events there)
/// is decided on `to`'s history, folded from its start.
async fn decided_on_its_own_log(from: &Fixture, to: &Fixture, id: &TeamId) {
    let restored = from.carried_to(&to.log);
    assert_eq!(restored.cached(), 1, "the saved team");
    let loaded = restored.load::<Team>(id).await.unwrap();
    let replayed = to.replayed.load::<Team>(id).await.unwrap();
    assert_eq!(
        (loaded.state, loaded.revision),
        (replayed.state, replayed.revision),
        "decided on this log's history, not the saved one"
    );
    assert_eq!(restored.events_folded(), 2, "folded from the start");
}

fn out_of_service() -> TeamCommand {
    TeamCommand::MarkUnavailable {
        reason: reason("设备检修"),
    }
}

fn mobilised() -> TeamCommand {
    TeamCommand::Mobilise {
        incident: IncidentId::from_uuid(uuid(0x10)),
        destination: None,
        expected_arrival: None,
    }
}

/// Registers team `n` and takes it out of service and back: three events.
async fn three_events(aggregates: &Aggregates, n: u128) {
    let id = team_id(n);
    let unavailable = out_of_service();
    let metadata = metadata();
    for command in [
        creation(runs::team(id)),
        unavailable,
        TeamCommand::MarkAvailable,
    ] {
        let done = aggregates.execute::<Team>(&id, Expect::Latest, stamped(0, command), &metadata);
        done.await.unwrap();
    }
}

#[tokio::test]
async fn the_cache_keeps_within_its_bound_and_lets_the_least_recent_go() {
    let f = fixture(3);
    // Each cached state checked by a read, as on a shared store, so what is read
    // says what was cached.
    f.log.say_tips(Tips::Hidden);
    for n in 1..=5 {
        three_events(&f.cached, n).await;
        assert!(f.cached.cached() <= 3, "{} cached", f.cached.cached());
    }
    assert_eq!(f.cached.cached(), 3);
    f.log.take_read();
    f.cached.load::<Team>(&team_id(5)).await.unwrap();
    assert_eq!(
        f.log.take_read(),
        1,
        "a cached team reads only its last event"
    );
    f.cached.load::<Team>(&team_id(1)).await.unwrap();
    assert_eq!(
        f.log.take_read(),
        3,
        "an evicted team is read from its start"
    );
    assert_eq!(f.cached.cached(), 3, "loading it again kept the bound");
    f.cached.load::<Team>(&team_id(1)).await.unwrap();
    assert_eq!(f.log.take_read(), 1, "and is cached again");
}

fn bed_report(staffed: u32) -> Stamped<FacilityCommand> {
    let command = BedCommand::Report {
        bed_type: BedType::AdultIcu,
        class: BedClass::Designated,
        counts: runs::counts(40, staffed, 0),
        lead_time_minutes: 0,
    };
    stamped(10, FacilityCommand::Beds(command))
}

/// Events read by each of `reports` bed reports on one facility.
async fn reads_per_report(aggregates: &Aggregates, log: &CountingLog, reports: u32) -> Vec<usize> {
    let id = FacilityId::from_uuid(uuid(7));
    let register = stamped(0, creation(runs::facility(id)));
    let metadata = metadata();
    aggregates
        .execute::<Facility>(&id, Expect::Latest, register, &metadata)
        .await
        .unwrap();
    let mut reads = Vec::new();
    for n in 0..reports {
        log.take_read();
        let report = bed_report(20 + n % 10);
        let done = aggregates.execute::<Facility>(&id, Expect::Latest, report, &metadata);
        done.await.unwrap();
        reads.push(log.take_read());
    }
    reads
}

#[tokio::test]
async fn a_command_reads_as_much_on_a_long_stream_as_on_a_short_one() {
    // The log this process writes knows each stream's last event, which is the
    // check a cached state needs: nothing is read.
    let f = fixture(16);
    let reads = reads_per_report(&f.cached, &f.log, 300).await;
    assert!(
        reads.iter().all(|&read| read == 0),
        "reads per report: {reads:?}"
    );

    // A log shared with other writers knows no tip: the one event the state
    // is checked by, however long the stream.
    let shared = fixture(16);
    shared.log.say_tips(Tips::Hidden);
    let reads = reads_per_report(&shared.cached, &shared.log, 300).await;
    assert!(
        reads.iter().all(|&read| read == 1),
        "reads per report: {reads:?}"
    );

    // The same through an empty cache every time: the whole stream, growing.
    let g = fixture(0);
    let uncached = reads_per_report(&g.cached, &g.log, 300).await;
    assert_eq!((uncached[0], uncached[299]), (1, 300));
}

#[tokio::test]
async fn an_if_match_behind_the_stream_is_a_conflict_that_reads_no_history() {
    // A dispatcher's `If-Match` read a moment before another's write: the
    // answer is where the stream ends, found from the cached fold, however
    // long the stream and however old the revision named.
    for tips in [Tips::Known, Tips::Hidden] {
        let f = fixture(16);
        f.log.say_tips(tips);
        reads_per_report(&f.cached, &f.log, 300).await;
        let id = FacilityId::from_uuid(uuid(7));
        for stale in [0, 150, 299] {
            f.log.take_read();
            let report = bed_report(25);
            let done = f
                .cached
                .execute::<Facility>(&id, Expect::Revision(Some(stale)), report, &metadata())
                .await;
            assert!(
                matches!(
                    done,
                    Err(CommandError::Conflict {
                        expected: Some(e),
                        actual: Some(300),
                        ..
                    }) if e == stale
                ),
                "If-Match {stale}: {done:?}"
            );
            let checked = usize::from(matches!(tips, Tips::Hidden));
            assert_eq!(f.log.take_read(), checked, "If-Match {stale}");
        }
    }
}
