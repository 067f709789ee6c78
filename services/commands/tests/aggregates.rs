//! The command path against the real SQLite log, with the team aggregate.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ercs_commands::{Aggregates, CommandError, Expect, Metadata};
use ercs_domain::area::{AreaCode, Tier};
use ercs_domain::decider::{CommandContext, Stamped};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::{IncidentId, TeamId};
use ercs_domain::team::{Team, TeamCommand, TeamEvent, TeamKind};
use ercs_domain::values::{Actor, Headcount, Name};
use ercs_eventlog::{Direction, EventLog, ReadFrom, SqliteEventLog, StreamName};
use uuid::Uuid;

struct Fixture {
    _dir: tempfile::TempDir,
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
        _dir: dir,
    }
}

fn team() -> TeamId {
    TeamId::from_uuid(Uuid::from_u128(7))
}

fn stamped(command: TeamCommand) -> Stamped<TeamCommand> {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
    CommandContext::new(Actor::parse("dispatcher-wanzhou").unwrap(), at).stamp(command)
}

fn register() -> Stamped<TeamCommand> {
    stamped(TeamCommand::Register {
        team_id: team(),
        name: Name::parse("万州区紧急医学救援队").unwrap(),
        kind: TeamKind::MedicalRescue,
        tier: Tier::District,
        home_area: AreaCode::parse("500101").unwrap(),
        base: GeoPoint::new(108.38, 30.81).unwrap(),
        headcount: Headcount::try_from(24).unwrap(),
        capabilities: BTreeSet::new(),
    })
}

fn mobilise() -> Stamped<TeamCommand> {
    stamped(TeamCommand::Mobilise {
        incident: IncidentId::from_uuid(Uuid::from_u128(9)),
        destination: None,
        expected_arrival: None,
    })
}

async fn stream_len(f: &Fixture) -> usize {
    let stream = StreamName::new(format!("team-{}", team())).unwrap();
    f.log
        .read_stream(&stream, ReadFrom::Start, Direction::Forwards, 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_command_appends_its_events_and_reports_the_revision_and_position() {
    let f = fixture();
    let done = f
        .aggregates
        .execute::<Team>(
            &team(),
            Expect::Revision(None),
            register(),
            &Metadata::new("d1"),
        )
        .await
        .unwrap();
    assert!(matches!(done.events[..], [TeamEvent::TeamRegistered(_)]));
    assert_eq!(done.revision, Some(0));
    assert_eq!(done.position, Some(f.log.head().await.unwrap()));
    let loaded = f.aggregates.load::<Team>(&team()).await.unwrap();
    assert_eq!(loaded.revision, Some(0));
    assert!(loaded.state.is_some());
}

#[tokio::test]
async fn every_event_records_who_why_and_its_schema_version() {
    let f = fixture();
    let metadata = Metadata {
        drill_id: Some("drill-7".into()),
        ..Metadata::new("dispatcher-7")
    };
    f.aggregates
        .execute::<Team>(&team(), Expect::Latest, register(), &metadata)
        .await
        .unwrap();
    let stream = StreamName::new(format!("team-{}", team())).unwrap();
    let stored = f
        .log
        .read_stream(&stream, ReadFrom::Start, Direction::Forwards, 1)
        .await
        .unwrap();
    let recorded: Metadata = stored[0].metadata.deserialize().unwrap();
    assert_eq!(recorded, metadata);
    assert_eq!(stored[0].event_type.as_str(), "TeamRegistered");
}

#[tokio::test]
async fn a_refused_command_writes_nothing() {
    let f = fixture();
    let refused = f
        .aggregates
        .execute::<Team>(&team(), Expect::Latest, mobilise(), &Metadata::new("d1"))
        .await;
    assert!(
        matches!(&refused, Err(CommandError::Rejected(e)) if e.code() == "not-found"),
        "{refused:?}"
    );
    assert_eq!(stream_len(&f).await, 0);
}

#[tokio::test]
async fn a_stale_expected_revision_is_a_conflict_and_writes_nothing() {
    let f = fixture();
    let meta = Metadata::new("d1");
    f.aggregates
        .execute::<Team>(&team(), Expect::Revision(None), register(), &meta)
        .await
        .unwrap();
    f.aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(0)), mobilise(), &meta)
        .await
        .unwrap();
    let stale = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(0)), mobilise(), &meta)
        .await;
    assert!(
        matches!(
            stale,
            Err(CommandError::Conflict {
                expected: Some(0),
                actual: Some(1),
                ..
            })
        ),
        "{stale:?}"
    );
    let ahead = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(5)), mobilise(), &meta)
        .await;
    assert!(
        matches!(
            ahead,
            Err(CommandError::Conflict {
                expected: Some(5),
                actual: Some(1),
                ..
            })
        ),
        "{ahead:?}"
    );
    assert_eq!(stream_len(&f).await, 2);
}

#[tokio::test]
async fn a_retried_step_with_its_idempotency_key_appends_nothing_new() {
    let f = fixture();
    let step = |n| Metadata::new("process").with_idempotency_key(format!("plan-42/step-{n}"));
    let first = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(None), register(), &step(1))
        .await
        .unwrap();
    let retry = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(None), register(), &step(1))
        .await
        .unwrap();
    assert_eq!(
        (retry.position, retry.replayed),
        (first.position, true),
        "the log recognised the retry"
    );
    let next = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(0)), mobilise(), &step(2))
        .await
        .unwrap();
    let retry = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(0)), mobilise(), &step(2))
        .await
        .unwrap();
    assert_eq!(retry.position, next.position);
    assert_eq!(
        retry.events, next.events,
        "the retry answers the first events"
    );
    assert_eq!(stream_len(&f).await, 2);
}

#[tokio::test]
async fn a_keyed_retry_decided_after_the_stream_moved_on_is_not_applied_again() {
    let f = fixture();
    let key = Metadata::new("d1").with_idempotency_key("api/POST /teams/7/mobilise/k1");
    f.aggregates
        .execute::<Team>(&team(), Expect::Latest, register(), &Metadata::new("d1"))
        .await
        .unwrap();
    let first = f
        .aggregates
        .execute::<Team>(&team(), Expect::Latest, mobilise(), &key)
        .await
        .unwrap();
    // The state the retry meets would refuse a second mobilisation, and is at a
    // newer revision than the first attempt saw: neither matters, the key does.
    let retry = f
        .aggregates
        .execute::<Team>(&team(), Expect::Latest, mobilise(), &key)
        .await
        .unwrap();
    assert_eq!(
        (retry.revision, retry.position, retry.replayed),
        (first.revision, first.position, true)
    );
    let stale = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(Some(0)), mobilise(), &key)
        .await
        .unwrap();
    assert_eq!(stale.position, first.position, "an If-Match retry too");
    assert_eq!(stream_len(&f).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_commands_with_one_key_are_applied_once_and_all_answered_alike() {
    let f = fixture();
    f.aggregates
        .execute::<Team>(&team(), Expect::Latest, register(), &Metadata::new("d1"))
        .await
        .unwrap();
    let key = Metadata::new("d1").with_idempotency_key("api/POST /teams/7/mobilise/same");
    let twins: Vec<_> = (0..40)
        .map(|_| {
            let (aggregates, key) = (f.aggregates.clone(), key.clone());
            tokio::spawn(async move {
                aggregates
                    .execute::<Team>(&team(), Expect::Latest, mobilise(), &key)
                    .await
            })
        })
        .collect();
    let mut positions = BTreeSet::new();
    let mut applied = 0;
    for twin in twins {
        let executed = twin
            .await
            .unwrap()
            .expect("every twin is answered with success");
        applied += usize::from(!executed.replayed);
        positions.insert(executed.position);
    }
    assert_eq!(applied, 1);
    assert_eq!(positions.len(), 1, "all twins report the same position");
    assert_eq!(stream_len(&f).await, 2);
}

#[tokio::test]
async fn a_key_first_used_on_another_stream_is_refused() {
    let f = fixture();
    let key = Metadata::new("d1").with_idempotency_key("api/k");
    f.aggregates
        .execute::<Team>(&team(), Expect::Latest, register(), &key)
        .await
        .unwrap();
    let other = TeamId::from_uuid(Uuid::from_u128(8));
    let reused = f
        .aggregates
        .execute::<Team>(&other, Expect::Latest, register(), &key)
        .await;
    assert!(
        matches!(reused, Err(CommandError::KeyReused { .. })),
        "{reused:?}"
    );
}

#[tokio::test]
async fn the_same_command_without_a_key_after_it_succeeded_is_a_conflict() {
    let f = fixture();
    let meta = Metadata::new("d1");
    f.aggregates
        .execute::<Team>(&team(), Expect::Revision(None), register(), &meta)
        .await
        .unwrap();
    let again = f
        .aggregates
        .execute::<Team>(&team(), Expect::Revision(None), register(), &meta)
        .await;
    assert!(
        matches!(
            again,
            Err(CommandError::Conflict {
                expected: None,
                actual: Some(0),
                ..
            })
        ),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_on_the_latest_state_are_decided_one_after_the_other() {
    let f = fixture();
    f.aggregates
        .execute::<Team>(&team(), Expect::Latest, register(), &Metadata::new("d1"))
        .await
        .unwrap();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let aggregates = f.aggregates.clone();
            tokio::spawn(async move {
                aggregates
                    .execute::<Team>(&team(), Expect::Latest, mobilise(), &Metadata::new("d"))
                    .await
            })
        })
        .collect();
    let mut mobilised = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => mobilised += 1,
            // Decided again on the winner's state: a mobilising team cannot mobilise.
            Err(CommandError::Rejected(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(mobilised, 1);
    assert_eq!(stream_len(&f).await, 2);
}

#[tokio::test]
async fn an_event_of_a_newer_schema_is_reported_not_misread() {
    let f = fixture();
    let stream = StreamName::new(format!("team-{}", team())).unwrap();
    let future = ercs_eventlog::EventData::from_json(
        Uuid::new_v4(),
        "TeamRegistered",
        "{}",
        r#"{"schema_version": 99}"#,
    )
    .unwrap();
    f.log
        .append(
            &stream,
            ercs_eventlog::ExpectedRevision::NoStream,
            vec![future],
        )
        .await
        .unwrap();
    let loaded = f.aggregates.load::<Team>(&team()).await;
    assert!(
        matches!(loaded, Err(CommandError::Undecodable { revision: 0, .. })),
        "{:?}",
        loaded.err()
    );
}
