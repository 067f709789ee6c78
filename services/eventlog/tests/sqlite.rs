//! What the SQLite backend promises beyond the conformance suite: the file.

use std::fs;
use std::path::Path;

use ercs_eventlog::{
    AppendOnce, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision, Filter,
    Position, ReadFrom, SqliteEventLog, StreamName, StreamTip,
};
use uuid::Uuid;

fn an_event() -> EventData {
    EventData::from_json(
        Uuid::new_v4(),
        "BedsReported",
        r#"{"staffed": 12}"#,
        r#"{"actor": "test"}"#,
    )
    .expect("a valid event")
}

fn assert_refused_untouched(path: &Path, expected_reason: &str) {
    let before = fs::read(path).unwrap();
    let error = SqliteEventLog::open(path)
        .err()
        .expect("the file is refused");
    assert!(matches!(error, Error::NotAnEventLog { .. }), "{error}");
    assert!(error.to_string().contains(expected_reason), "{error}");
    assert_eq!(
        fs::read(path).unwrap(),
        before,
        "the refused file was changed"
    );
}

#[tokio::test]
async fn a_reopened_log_has_every_event_and_continues_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let stream = StreamName::new("facility-1").unwrap();
    let first = {
        let log = SqliteEventLog::open(&path).unwrap();
        log.append(
            &stream,
            ExpectedRevision::NoStream,
            vec![an_event(), an_event()],
        )
        .await
        .unwrap()
    };
    let log = SqliteEventLog::open(&path).unwrap();
    assert_eq!(log.head().await.unwrap(), first.position);
    let next = log
        .append(&stream, ExpectedRevision::Exact(1), vec![an_event()])
        .await
        .unwrap();
    assert_eq!(next.position, Position(first.position.0 + 1));
    let all = log
        .read_all(ReadFrom::Start, Direction::Forwards, &Filter::all(), 10)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.position.0).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(all[0].metadata.as_str(), r#"{"actor": "test"}"#);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    fs::write(&path, b"a shopping list, not an event log\n".repeat(200)).unwrap();
    assert_refused_untouched(&path, "not a SQLite database");
}

#[test]
fn another_programs_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("his.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    drop(other);
    assert_refused_untouched(&path, "another program's SQLite database");
}

#[test]
fn a_log_with_a_damaged_header_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    drop(SqliteEventLog::open(&path).unwrap());
    // The closed log's threads may still be letting go of its WAL, from which
    // SQLite would restore the header; the damage is to a file with no WAL.
    for leftover in ["events.db-wal", "events.db-shm"] {
        let _ = fs::remove_file(dir.path().join(leftover));
    }
    let mut bytes = fs::read(&path).unwrap();
    bytes[..16].copy_from_slice(b"garbage garbage!");
    fs::write(&path, bytes).unwrap();
    assert_refused_untouched(&path, "not a SQLite database");
}

#[test]
fn a_log_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    drop(SqliteEventLog::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert_refused_untouched(&path, "schema version 99");
}

#[tokio::test]
async fn a_version_1_log_is_migrated_and_its_keys_outlive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let stream = StreamName::new("facility-1").unwrap();
    let old_key = EventData::from_json(
        Uuid::new_v4(),
        "BedsReported",
        r#"{"staffed": 12}"#,
        r#"{"actor": "test", "idempotency_key": "api/POST /api/v1/facilities/1/report/old"}"#,
    )
    .unwrap();
    {
        let log = SqliteEventLog::open(&path).unwrap();
        log.append(
            &stream,
            ExpectedRevision::NoStream,
            vec![an_event(), old_key],
        )
        .await
        .unwrap();
    }
    // What a version-1 file looked like: keys only in the events' metadata.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE command_keys; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let key = CommandKey::new("POST /api/v1/facilities/1/report k1").unwrap();
    let first = {
        let log = SqliteEventLog::open(&path).unwrap();
        let old = CommandKey::new("api/POST /api/v1/facilities/1/report/old").unwrap();
        let landed = log
            .find_key(&old)
            .await
            .unwrap()
            .expect("the old key is kept");
        assert_eq!(
            (landed.first_revision, landed.result.next_expected_revision),
            (1, 1)
        );
        log.append_once(&stream, ExpectedRevision::Exact(1), vec![an_event()], &key)
            .await
            .unwrap()
    };
    assert!(matches!(first, AppendOnce::Appended(_)), "{first:?}");
    let log = SqliteEventLog::open(&path).unwrap();
    let retry = log
        .append_once(&stream, ExpectedRevision::Exact(2), vec![an_event()], &key)
        .await
        .unwrap();
    assert!(matches!(retry, AppendOnce::AlreadyApplied(_)), "{retry:?}");
    let stored = log
        .read_stream(&stream, ReadFrom::Start, Direction::Forwards, 10)
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        3,
        "the retry after a restart appended nothing"
    );
}

#[test]
fn a_log_opens_for_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let first = SqliteEventLog::open(&path).unwrap();
    let second = SqliteEventLog::open(&path)
        .err()
        .expect("the second open is refused");
    assert!(matches!(second, Error::Locked { .. }), "{second}");
    drop(first);
    SqliteEventLog::open(&path).expect("free again once the first is closed");
}

#[tokio::test]
async fn a_subscription_ends_when_the_log_closes() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
    let mut subscription = log.subscribe_all(ercs_eventlog::SubscribeFrom::Start, Filter::all());
    assert!(matches!(
        subscription.next().await,
        Some(Ok(ercs_eventlog::SubscriptionMessage::CaughtUp(_)))
    ));
    drop(log);
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), subscription.next()).await;
    assert!(matches!(end, Ok(None)), "{end:?}");
}

/// The writer remembers only recent ids; a retry that names the revision it
/// expected is recognised however long ago it was written, also after a reopen.
#[tokio::test]
async fn an_exact_retry_is_recognised_after_its_ids_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let options = ercs_eventlog::SqliteOptions {
        recent_ids: 2,
        ..Default::default()
    };
    let stream = StreamName::new("depot-7").unwrap();
    let original = vec![an_event(), an_event()];
    let first = {
        let log = SqliteEventLog::open_with(&path, options.clone()).unwrap();
        let first = log
            .append(&stream, ExpectedRevision::NoStream, original.clone())
            .await
            .unwrap();
        for revision in 1..6 {
            log.append(&stream, ExpectedRevision::Exact(revision), vec![an_event()])
                .await
                .unwrap();
        }
        first
    };
    let log = SqliteEventLog::open_with(&path, options).unwrap();
    let retry = log
        .append(&stream, ExpectedRevision::NoStream, original.clone())
        .await
        .unwrap();
    assert_eq!(retry, first);
    let conflict = log
        .append(
            &stream,
            ExpectedRevision::NoStream,
            vec![original[0].clone(), an_event()],
        )
        .await;
    assert!(
        matches!(conflict, Err(Error::IdempotencyConflict { .. })),
        "{conflict:?}"
    );
    let stale = log
        .append(&stream, ExpectedRevision::NoStream, vec![an_event()])
        .await;
    assert!(
        matches!(
            stale,
            Err(Error::WrongExpectedRevision {
                actual: Some(6),
                ..
            })
        ),
        "{stale:?}"
    );
    let all = log
        .read_stream(&stream, ReadFrom::Start, Direction::Forwards, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 7, "retries wrote nothing");
}

/// While the log runs, the WAL is copied back into the database by the checkpoint
/// thread, well before the writer's own 64 MiB limit; else the WAL grows and every
/// read must search it.
#[tokio::test]
async fn the_wal_is_copied_into_the_database_while_the_log_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let log = SqliteEventLog::open(&path).unwrap();
    let stream = StreamName::new("facility-1").unwrap();
    // One commit per append: well over the 1,000 WAL pages that wake the checkpointer.
    for _ in 0..1500 {
        log.append(&stream, ExpectedRevision::Any, vec![an_event()])
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fs::metadata(&path).unwrap().len() <= 64 * 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was checkpointed into {}",
            path.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// What a killed writer left in its WAL is copied back when the log opens, not
/// inside the first commit that finds the WAL past its limit (up to 64 MiB
/// within one append), and nothing in it is lost.
#[tokio::test]
async fn a_wal_left_by_a_killed_writer_is_copied_back_when_the_log_opens() {
    let (running, killed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = SqliteEventLog::open(running.path().join("events.db")).unwrap();
    let stream = StreamName::new("facility-1").unwrap();
    // One commit each, well under the pages that wake the checkpointer: the
    // database file is as created, the events are all in the WAL.
    for _ in 0..200 {
        log.append(&stream, ExpectedRevision::Any, vec![an_event()])
            .await
            .unwrap();
    }
    // The files as a `kill -9` leaves them: copied while the log is open.
    for file in ["events.db", "events.db-wal"] {
        fs::copy(running.path().join(file), killed.path().join(file)).unwrap();
    }
    let wal = killed.path().join("events.db-wal");
    assert!(
        fs::metadata(&wal).unwrap().len() > 200 * 4096,
        "the events are in the WAL"
    );

    let reopened = SqliteEventLog::open(killed.path().join("events.db")).unwrap();
    assert_eq!(
        fs::metadata(&wal).unwrap().len(),
        0,
        "the WAL was copied back"
    );
    assert_eq!(reopened.head().await.unwrap(), Position(200));
    let all = reopened
        .read_all(ReadFrom::Start, Direction::Forwards, &Filter::all(), 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), 200);
}

/// The stream's last event as a read gives it.
async fn tip_read(log: &SqliteEventLog, stream: &StreamName) -> Option<StreamTip> {
    let last = log
        .read_stream(stream, ReadFrom::End, Direction::Backwards, 1)
        .await
        .unwrap();
    last.first().map(|event| StreamTip {
        revision: event.revision,
        id: event.id,
        position: event.position,
    })
}

#[tokio::test]
async fn the_log_knows_the_tip_of_every_stream_it_wrote_as_a_read_gives_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let (a, b) = (
        StreamName::new("facility-1").unwrap(),
        StreamName::new("facility-2").unwrap(),
    );
    {
        let log = SqliteEventLog::open(&path).unwrap();
        assert_eq!(log.last_known(&a), None, "nothing written yet");
        log.append(&a, ExpectedRevision::NoStream, vec![an_event(), an_event()])
            .await
            .unwrap();
        assert_eq!(log.last_known(&a), tip_read(&log, &a).await);
    }
    // Reopened: written before, not by this writer, so read to find out.
    let log = SqliteEventLog::open(&path).unwrap();
    assert_eq!(log.last_known(&a), None);
    let retried = an_event();
    log.append(&b, ExpectedRevision::Any, vec![retried.clone()])
        .await
        .unwrap();
    log.append(&a, ExpectedRevision::Exact(1), vec![an_event()])
        .await
        .unwrap();
    log.append(&b, ExpectedRevision::Any, vec![an_event()])
        .await
        .unwrap();
    let (tip_a, tip_b) = (tip_read(&log, &a).await, tip_read(&log, &b).await);
    assert_eq!(log.last_known(&a), tip_a);
    assert_eq!(log.last_known(&b), tip_b);
    // Neither a refused append nor a retry of an earlier one moves a tip back.
    let refused = log
        .append(&a, ExpectedRevision::Exact(0), vec![an_event()])
        .await;
    assert!(matches!(refused, Err(Error::WrongExpectedRevision { .. })));
    log.append(&b, ExpectedRevision::Any, vec![retried])
        .await
        .unwrap();
    assert_eq!(log.last_known(&a), tip_a);
    assert_eq!(log.last_known(&b), tip_b);
    assert_eq!(tip_b.map(|tip| tip.revision), Some(1));
}
