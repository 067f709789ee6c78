//! What the PostgreSQL backend promises beyond the conformance suite: a log shared
//! by several processes (here, several independent connections to one database,
//! each with its own writer) keeps one order that readers see without a hole.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ercs_eventlog::{
    Direction, EventData, EventLog, ExpectedRevision, Filter, Position, ReadFrom, StreamName,
    SubscribeFrom, SubscriptionMessage,
};
use ercs_eventlog_postgres::PostgresEventLog;
use ercs_eventlog_postgres::testing::cluster;
use futures::StreamExt;
use uuid::Uuid;

fn an_event(i: usize) -> EventData {
    EventData::from_json(
        Uuid::new_v4(),
        "BedsReported",
        &format!(r#"{{"i": {i}}}"#),
        r#"{"actor": "test"}"#,
    )
    .expect("a valid event")
}

const LOGS: usize = 4;
const WRITERS_PER_LOG: usize = 4;
const APPENDS: usize = 300;

/// Four log handles (four writers racing for positions, as four replicas would)
/// append concurrently; a reader that repeatedly asks for "everything after the
/// last position I saw" must always get the very next position first. If a
/// later position could commit before an earlier one, the reader would see the
/// jump, and the earlier event would appear behind it afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_never_sees_a_hole_that_is_filled_later() {
    let (url, _database) = cluster().fresh_database().await;
    let mut logs = Vec::new();
    for _ in 0..LOGS {
        logs.push(Arc::new(
            PostgresEventLog::connect(&url).await.expect("a log"),
        ));
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (log, done) = (Arc::clone(&logs[0]), Arc::clone(&done));
        tokio::spawn(async move { read_without_holes(&*log, &done).await })
    };
    let writers: Vec<_> = (0..LOGS * WRITERS_PER_LOG)
        .map(|w| {
            let log = Arc::clone(&logs[w % LOGS]);
            tokio::spawn(async move {
                let stream = StreamName::new(format!("facility-{w}")).expect("a name");
                for i in 0..APPENDS {
                    let events = (0..1 + i % 3).map(an_event).collect();
                    log.append(&stream, ExpectedRevision::Any, events)
                        .await
                        .expect("an append");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("a writer");
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.expect("the reader");
    let head = logs[1].head().await.expect("the head");
    assert_eq!(seen, head, "the reader saw every position up to the head");
    let per_writer: u64 = (0..APPENDS as u64).map(|i| 1 + i % 3).sum();
    assert_eq!(head.0, per_writer * (LOGS * WRITERS_PER_LOG) as u64);
}

/// Reads forwards after the last position seen until told to stop (and then once
/// more), checking that each page starts right after it and has no hole.
async fn read_without_holes(log: &dyn EventLog, done: &AtomicBool) -> Position {
    let mut last = Position::START;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = log
            .read_all(
                ReadFrom::At(Position(last.0 + 1)),
                Direction::Forwards,
                &Filter::all(),
                500,
            )
            .await
            .expect("a read");
        for event in &page {
            assert_eq!(
                event.position.0,
                last.0 + 1,
                "after position {last} the reader saw {} first",
                event.position
            );
            last = event.position;
        }
        if finished && page.is_empty() {
            return last;
        }
    }
}

/// A subscription on one handle wakes for appends made through another (the
/// NOTIFY each commit sends), promptly rather than on some polling period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hears_of_another_processes_append() {
    let (url, _database) = cluster().fresh_database().await;
    let (reader, writer) = (
        PostgresEventLog::connect(&url).await.expect("a log"),
        PostgresEventLog::connect(&url).await.expect("a second log"),
    );
    let mut subscription = reader.subscribe_all(SubscribeFrom::Start, Filter::all());
    let caught_up = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("a message");
    assert!(matches!(
        caught_up,
        Some(Ok(SubscriptionMessage::CaughtUp(_)))
    ));
    let event = an_event(0);
    let stream = StreamName::new("team-1").expect("a name");
    writer
        .append(&stream, ExpectedRevision::NoStream, vec![event.clone()])
        .await
        .expect("an append");
    let live = tokio::time::timeout(Duration::from_secs(2), subscription.next())
        .await
        .expect("woken within 2 s");
    match live {
        Some(Ok(SubscriptionMessage::Event(recorded))) => {
            assert_eq!(recorded.id, event.id());
            assert_eq!(recorded.metadata.as_str(), r#"{"actor": "test"}"#);
        }
        other => panic!("expected the event, got {other:?}"),
    }
}

/// Several processes opening a new database at once all get the one schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_opened_at_once_on_an_empty_database_share_one_schema() {
    let (url, _database) = cluster().fresh_database().await;
    let opened = futures::future::join_all((0..6).map(|_| PostgresEventLog::connect(&url))).await;
    for log in opened {
        log.expect("every handle opens");
    }
}

#[tokio::test]
async fn a_bad_connection_string_is_refused_with_the_reason() {
    let error = PostgresEventLog::connect("postgres://[::1")
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("connection string is not valid"),
        "{error}"
    );
}
