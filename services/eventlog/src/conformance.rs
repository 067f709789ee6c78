//! The conformance suite: what every [`EventLog`] backend must do, written once.
//!
//! A backend's test target runs it with [`conformance_tests!`], naming an async
//! factory that returns `Some(TestLog)`, or `None` (after saying why) when the
//! backend is not reachable here. Each check works in streams of its own prefix, so
//! the suite also runs against a shared, non-empty log such as a KurrentDB cluster.

use std::any::Any;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::{
    AppendOnce, CommandKey, Direction, Error, EventData, EventLog, EventType, ExpectedRevision,
    Filter, JsonObject, MAX_EVENT_SIZE, ReadFrom, RecordedEvent, SqliteEventLog, StreamName,
    SubscribeFrom, Subscription, SubscriptionMessage,
};

/// A log under test, and whatever must live as long as it (a temporary directory).
pub struct TestLog {
    pub log: Arc<dyn EventLog>,
    pub _guard: Box<dyn Any + Send + Sync>,
}

/// A fresh SQLite log in a temporary directory.
pub async fn sqlite() -> Option<TestLog> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = SqliteEventLog::open(dir.path().join("events.db")).expect("a new log opens");
    Some(TestLog {
        log: Arc::new(log),
        _guard: Box::new(dir),
    })
}

/// Declares one `#[tokio::test]` per conformance check, each on a log from `$factory`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@each $factory;
            a_new_stream_starts_at_revision_zero,
            no_stream_is_refused_once_the_stream_exists,
            stream_exists_is_refused_for_a_missing_stream,
            an_exact_revision_must_match_the_stream,
            any_appends_whatever_the_revision,
            an_impossible_expected_revision_is_refused_not_a_crash,
            a_retried_append_writes_nothing_and_returns_the_original_result,
            a_retry_is_recognised_after_later_appends,
            reusing_some_ids_in_a_new_append_is_a_conflict,
            of_concurrent_writers_at_one_revision_exactly_one_wins,
            read_stream_goes_both_ways_from_any_revision,
            read_all_keeps_the_global_order_and_filters,
            bad_appends_are_refused_and_write_nothing,
            a_subscription_catches_up_then_goes_live,
            a_subscription_from_the_end_sees_only_new_events,
            a_subscription_resumes_after_a_position_exactly,
            a_filtered_subscription_reports_checkpoints_while_it_skips,
            a_subscriber_under_concurrent_writers_sees_every_event_once_in_order,
            a_keyed_append_retried_at_a_newer_revision_appends_nothing,
            a_refused_keyed_append_keeps_no_key,
            of_concurrent_appends_with_one_key_exactly_one_is_applied,
            a_key_names_one_append_across_streams,
        );
    };
    (@each $factory:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                if let Some(log) = $factory().await {
                    $crate::conformance::$check(log).await;
                }
            }
        )*
    };
}

/// A stream name unique to one check.
fn stream(prefix: &str, name: &str) -> StreamName {
    StreamName::new(format!("{prefix}{name}")).expect("a valid stream name")
}

fn unique_prefix() -> String {
    format!("t{}-", &Uuid::new_v4().simple().to_string()[..12])
}

fn event(event_type: &str, data: serde_json::Value) -> EventData {
    let data = JsonObject::from_serialize(&data).expect("an object");
    EventData::new(
        Uuid::new_v4(),
        EventType::new(event_type).expect("a valid type"),
        data,
    )
    .expect("a valid event")
}

fn events(n: usize) -> Vec<EventData> {
    (0..n)
        .map(|i| event("BedsReported", json!({ "i": i })))
        .collect()
}

async fn read_forwards(log: &dyn EventLog, stream: &StreamName) -> Vec<RecordedEvent> {
    log.read_stream(stream, ReadFrom::Start, Direction::Forwards, usize::MAX)
        .await
        .expect("a read")
}

fn revisions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.revision).collect()
}

async fn next_message(subscription: &mut Subscription) -> SubscriptionMessage {
    match tokio::time::timeout(Duration::from_secs(10), subscription.next()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(error))) => panic!("the subscription failed: {error}"),
        Ok(None) => panic!("the subscription ended"),
        Err(_) => panic!("no message within 10 s"),
    }
}

/// The next `n` events, skipping checkpoints and the caught-up marker.
async fn next_events(subscription: &mut Subscription, n: usize) -> Vec<RecordedEvent> {
    let mut found = Vec::with_capacity(n);
    while found.len() < n {
        if let SubscriptionMessage::Event(event) = next_message(subscription).await {
            found.push(event);
        }
    }
    found
}

fn assert_wrong_revision(result: Result<crate::AppendResult, Error>, expected_actual: Option<u64>) {
    match result {
        Err(Error::WrongExpectedRevision { actual, .. }) => assert_eq!(actual, expected_actual),
        other => panic!("expected a wrong-expected-revision error, got {other:?}"),
    }
}

pub async fn a_new_stream_starts_at_revision_zero(t: TestLog) {
    let s = stream(&unique_prefix(), "team-1");
    let written = events(3);
    let result = t
        .log
        .append(&s, ExpectedRevision::NoStream, written.clone())
        .await
        .expect("the append");
    assert_eq!(result.next_expected_revision, 2);

    let read = read_forwards(&*t.log, &s).await;
    assert_eq!(revisions(&read), [0, 1, 2]);
    assert_eq!(read[2].position, result.position);
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    for (recorded, original) in read.iter().zip(&written) {
        assert_eq!(recorded.id, original.id());
        assert_eq!(&recorded.stream, &s);
        assert_eq!(&recorded.event_type, original.event_type());
        assert_eq!(
            recorded.data.deserialize::<serde_json::Value>().ok(),
            original.data().deserialize().ok()
        );
        assert_eq!(recorded.metadata.as_str(), "{}");
        assert!(
            (chrono::Utc::now() - recorded.recorded_at)
                .num_seconds()
                .abs()
                < 60
        );
    }
}

pub async fn no_stream_is_refused_once_the_stream_exists(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(1))
        .await
        .expect("the first append");
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::NoStream, events(1))
            .await,
        Some(0),
    );
    assert_eq!(
        read_forwards(&*t.log, &s).await.len(),
        1,
        "the refused append wrote nothing"
    );
}

pub async fn stream_exists_is_refused_for_a_missing_stream(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::StreamExists, events(1))
            .await,
        None,
    );
    assert!(read_forwards(&*t.log, &s).await.is_empty());
    t.log
        .append(&s, ExpectedRevision::Any, events(1))
        .await
        .expect("an append");
    t.log
        .append(&s, ExpectedRevision::StreamExists, events(1))
        .await
        .expect("the stream now exists");
}

pub async fn an_exact_revision_must_match_the_stream(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::Exact(0), events(1))
            .await,
        None,
    );
    t.log
        .append(&s, ExpectedRevision::NoStream, events(1))
        .await
        .expect("the first append");
    let second = t
        .log
        .append(&s, ExpectedRevision::Exact(0), events(2))
        .await
        .expect("at revision 0");
    assert_eq!(second.next_expected_revision, 2);
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::Exact(0), events(1))
            .await,
        Some(2),
    );
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::Exact(7), events(1))
            .await,
        Some(2),
    );
    assert_eq!(revisions(&read_forwards(&*t.log, &s).await), [0, 1, 2]);
}

pub async fn any_appends_whatever_the_revision(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    for expected_next in 0..3 {
        let result = t
            .log
            .append(&s, ExpectedRevision::Any, events(1))
            .await
            .expect("an append");
        assert_eq!(result.next_expected_revision, expected_next);
    }
}

pub async fn an_impossible_expected_revision_is_refused_not_a_crash(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(1))
        .await
        .expect("the first append");
    assert_wrong_revision(
        t.log
            .append(&s, ExpectedRevision::Exact(u64::MAX), events(1))
            .await,
        Some(0),
    );
    assert_eq!(read_forwards(&*t.log, &s).await.len(), 1);
}

pub async fn a_retried_append_writes_nothing_and_returns_the_original_result(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    let batch = events(2);
    let first = t
        .log
        .append(&s, ExpectedRevision::NoStream, batch.clone())
        .await
        .expect("the append");
    let retry = t
        .log
        .append(&s, ExpectedRevision::NoStream, batch)
        .await
        .expect("the retry succeeds");
    assert_eq!(retry, first);
    assert_eq!(read_forwards(&*t.log, &s).await.len(), 2);
}

pub async fn a_retry_is_recognised_after_later_appends(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    let batch = events(2);
    let first = t
        .log
        .append(&s, ExpectedRevision::Any, batch.clone())
        .await
        .expect("the append");
    t.log
        .append(&s, ExpectedRevision::Any, events(3))
        .await
        .expect("a later append");
    let retry = t
        .log
        .append(&s, ExpectedRevision::Any, batch)
        .await
        .expect("the retry succeeds");
    assert_eq!(retry, first);
    assert_eq!(read_forwards(&*t.log, &s).await.len(), 5);
}

pub async fn reusing_some_ids_in_a_new_append_is_a_conflict(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    let batch = events(2);
    t.log
        .append(&s, ExpectedRevision::Any, batch.clone())
        .await
        .expect("the append");
    let mixed = vec![batch[1].clone(), event("BedsReported", json!({}))];
    let result = t.log.append(&s, ExpectedRevision::Any, mixed).await;
    assert!(
        matches!(result, Err(Error::IdempotencyConflict { id, .. }) if id == batch[1].id()),
        "{result:?}"
    );
    assert_eq!(
        read_forwards(&*t.log, &s).await.len(),
        2,
        "the conflicting append wrote nothing"
    );
}

pub async fn of_concurrent_writers_at_one_revision_exactly_one_wins(t: TestLog) {
    let s = stream(&unique_prefix(), "contested");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(1))
        .await
        .expect("the first append");
    let racers = (0..16).map(|_| {
        let (log, s) = (Arc::clone(&t.log), s.clone());
        tokio::spawn(async move { log.append(&s, ExpectedRevision::Exact(0), events(2)).await })
    });
    let results = futures::future::join_all(racers).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(Error::WrongExpectedRevision { .. }))))
        .count();
    assert_eq!((wins, conflicts), (1, 15));
    assert_eq!(revisions(&read_forwards(&*t.log, &s).await), [0, 1, 2]);
}

pub async fn read_stream_goes_both_ways_from_any_revision(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "a");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(10))
        .await
        .expect("the append");
    let read = |from, direction, limit| {
        let (log, s) = (Arc::clone(&t.log), s.clone());
        async move {
            revisions(
                &log.read_stream(&s, from, direction, limit)
                    .await
                    .expect("a read"),
            )
        }
    };
    assert_eq!(
        read(ReadFrom::At(3), Direction::Forwards, 4).await,
        [3, 4, 5, 6]
    );
    assert_eq!(
        read(ReadFrom::End, Direction::Backwards, 3).await,
        [9, 8, 7]
    );
    assert_eq!(
        read(ReadFrom::At(2), Direction::Backwards, 10).await,
        [2, 1, 0]
    );
    assert_eq!(read(ReadFrom::Start, Direction::Forwards, 2).await, [0, 1]);
    assert!(read(ReadFrom::End, Direction::Forwards, 5).await.is_empty());
    assert!(
        read(ReadFrom::At(10), Direction::Forwards, 5)
            .await
            .is_empty()
    );
    let missing = stream(&prefix, "missing");
    let none = t
        .log
        .read_stream(&missing, ReadFrom::Start, Direction::Forwards, 10)
        .await
        .expect("a read");
    assert!(none.is_empty());
}

pub async fn read_all_keeps_the_global_order_and_filters(t: TestLog) {
    let prefix = unique_prefix();
    let (a, b) = (stream(&prefix, "team-a"), stream(&prefix, "depot-b"));
    let mut ids = Vec::new();
    for i in 0..6 {
        let (s, event_type) = if i % 2 == 0 {
            (&a, "TeamMobilised")
        } else {
            (&b, "LotReceived")
        };
        let e = event(event_type, json!({ "i": i }));
        ids.push(e.id());
        t.log
            .append(s, ExpectedRevision::Any, vec![e])
            .await
            .expect("an append");
    }
    let first = read_forwards(&*t.log, &a).await[0].position;
    let all = |filter: Filter, direction, from| {
        let log = Arc::clone(&t.log);
        async move {
            log.read_all(from, direction, &filter, 100)
                .await
                .expect("a read")
        }
    };
    let ours = all(
        Filter::stream_prefix(&prefix),
        Direction::Forwards,
        ReadFrom::At(first),
    )
    .await;
    assert_eq!(ours.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert!(ours.windows(2).all(|w| w[0].position < w[1].position));

    let teams = all(
        Filter::stream_prefix(format!("{prefix}team-")),
        Direction::Forwards,
        ReadFrom::Start,
    )
    .await;
    assert_eq!(
        teams.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[0], ids[2], ids[4]]
    );

    let lots = Filter::stream_prefix(&prefix)
        .and_event_types([EventType::new("LotReceived").expect("a type")]);
    let lots = all(lots, Direction::Backwards, ReadFrom::End).await;
    assert_eq!(
        lots.iter().map(|e| e.id).collect::<Vec<_>>(),
        [ids[5], ids[3], ids[1]]
    );

    let from_third = all(
        Filter::stream_prefix(&prefix),
        Direction::Forwards,
        ReadFrom::At(ours[2].position),
    )
    .await;
    assert_eq!(from_third.len(), 4, "a read from a position includes it");
}

pub async fn bad_appends_are_refused_and_write_nothing(t: TestLog) {
    let s = stream(&unique_prefix(), "a");
    let refused = t.log.append(&s, ExpectedRevision::Any, Vec::new()).await;
    assert!(
        matches!(refused, Err(Error::InvalidAppend { .. })),
        "{refused:?}"
    );

    let twice = event("BedsReported", json!({}));
    let refused = t
        .log
        .append(&s, ExpectedRevision::Any, vec![twice.clone(), twice])
        .await;
    assert!(
        matches!(refused, Err(Error::DuplicateEventId { .. })),
        "{refused:?}"
    );

    let near_limit = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_EVENT_SIZE - 16));
    let big = |_| {
        EventData::from_json(Uuid::new_v4(), "Padded", &near_limit, "{}")
            .expect("under the event limit")
    };
    let refused = t
        .log
        .append(&s, ExpectedRevision::Any, (0..17).map(big).collect())
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidAppend { .. })),
        "{refused:?}"
    );

    assert!(
        read_forwards(&*t.log, &s).await.is_empty(),
        "nothing was written"
    );
}

pub async fn a_subscription_catches_up_then_goes_live(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "a");
    let before = events(5);
    t.log
        .append(&s, ExpectedRevision::NoStream, before.clone())
        .await
        .expect("an append");
    let mut subscription = t
        .log
        .subscribe_all(SubscribeFrom::Start, Filter::stream_prefix(&prefix));
    let caught_up = next_events(&mut subscription, 5).await;
    assert_eq!(
        caught_up.iter().map(|e| e.id).collect::<Vec<_>>(),
        before.iter().map(|e| e.id()).collect::<Vec<_>>()
    );
    loop {
        if let SubscriptionMessage::CaughtUp(position) = next_message(&mut subscription).await {
            assert!(position >= caught_up[4].position);
            break;
        }
    }
    let after = events(3);
    t.log
        .append(&s, ExpectedRevision::Exact(4), after.clone())
        .await
        .expect("an append");
    let live = next_events(&mut subscription, 3).await;
    assert_eq!(
        live.iter().map(|e| e.id).collect::<Vec<_>>(),
        after.iter().map(|e| e.id()).collect::<Vec<_>>()
    );
}

pub async fn a_subscription_from_the_end_sees_only_new_events(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "a");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(3))
        .await
        .expect("an append");
    let mut subscription = t
        .log
        .subscribe_all(SubscribeFrom::End, Filter::stream_prefix(&prefix));
    // Everything before the subscription is skipped.
    assert!(matches!(
        next_message(&mut subscription).await,
        SubscriptionMessage::CaughtUp(_)
    ));
    let new = event("BedsReported", json!({ "new": true }));
    t.log
        .append(&s, ExpectedRevision::Exact(2), vec![new.clone()])
        .await
        .expect("an append");
    assert_eq!(next_events(&mut subscription, 1).await[0].id, new.id());
}

pub async fn a_subscription_resumes_after_a_position_exactly(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "a");
    t.log
        .append(&s, ExpectedRevision::NoStream, events(6))
        .await
        .expect("an append");
    let read = read_forwards(&*t.log, &s).await;
    let mut subscription = t.log.subscribe_all(
        SubscribeFrom::After(read[2].position),
        Filter::stream_prefix(&prefix),
    );
    let resumed = next_events(&mut subscription, 3).await;
    assert_eq!(revisions(&resumed), [3, 4, 5]);
    assert!(matches!(
        next_message(&mut subscription).await,
        SubscriptionMessage::CaughtUp(_)
    ));
}

pub async fn a_filtered_subscription_reports_checkpoints_while_it_skips(t: TestLog) {
    let prefix = unique_prefix();
    let start = t.log.head().await.expect("the head");
    let noise = stream(&prefix, "noise");
    for _ in 0..5 {
        t.log
            .append(&noise, ExpectedRevision::Any, events(1000))
            .await
            .expect("an append");
    }
    let wanted =
        Filter::stream_prefix(&prefix).and_event_types([EventType::new("Wanted").expect("a type")]);
    let mut subscription = t.log.subscribe_all(SubscribeFrom::After(start), wanted);
    // The first message must be a checkpoint: nothing matches, and 5,000 were skipped.
    match next_message(&mut subscription).await {
        SubscriptionMessage::Checkpoint(position) => assert!(position > start),
        SubscriptionMessage::Event(e) => panic!("{e:?} does not match the filter"),
        SubscriptionMessage::CaughtUp(_) => {
            panic!("caught up without a checkpoint across 5,000 skipped events")
        }
    }
}

/// 8 writers × 10,000 single-event appends; a subscriber that starts part-way (while
/// they write) sees each event exactly once, in position order, and so does one
/// that resumes from a position seen mid-way.
pub async fn a_subscriber_under_concurrent_writers_sees_every_event_once_in_order(t: TestLog) {
    const WRITERS: usize = 8;
    const PER_WRITER: usize = 10_000;
    let prefix = unique_prefix();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (log, s) = (Arc::clone(&t.log), stream(&prefix, &format!("w{w}")));
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    let expected = if i == 0 {
                        ExpectedRevision::NoStream
                    } else {
                        ExpectedRevision::Exact(i as u64 - 1)
                    };
                    log.append(&s, expected, vec![event("BedsReported", json!({ "i": i }))])
                        .await
                        .expect("an append");
                }
            })
        })
        .collect();

    let filter = Filter::stream_prefix(&prefix);
    // Start part-way: once some, but not all, events are in.
    let first = loop {
        let seen = t
            .log
            .read_all(ReadFrom::Start, Direction::Forwards, &filter, 2000)
            .await
            .expect("a read");
        if seen.len() >= 2000 {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let from_start = t.log.subscribe_all(SubscribeFrom::Start, filter.clone());
    let resume_after = first[999].position;
    let resumed = t
        .log
        .subscribe_all(SubscribeFrom::After(resume_after), filter.clone());
    let (from_start, resumed) = tokio::join!(
        collect_events(from_start, WRITERS * PER_WRITER),
        collect_events(resumed, WRITERS * PER_WRITER - 1000),
    );
    for writer in writers {
        writer.await.expect("a writer task");
    }

    let log = t
        .log
        .read_all(ReadFrom::Start, Direction::Forwards, &filter, usize::MAX)
        .await
        .expect("a read");
    assert_eq!(log.len(), WRITERS * PER_WRITER);
    assert_eq!(
        ids(&from_start),
        ids(&log),
        "the subscriber saw the log, exactly"
    );
    assert_eq!(
        ids(&resumed),
        ids(&log[1000..]),
        "the resumed subscriber saw the rest, exactly"
    );
    assert!(from_start.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(
        ids(&from_start).into_iter().collect::<HashSet<_>>().len(),
        log.len()
    );
}

async fn collect_events(mut subscription: Subscription, n: usize) -> Vec<RecordedEvent> {
    let mut found = Vec::with_capacity(n);
    while found.len() < n {
        match tokio::time::timeout(Duration::from_secs(60), subscription.next()).await {
            Ok(Some(Ok(SubscriptionMessage::Event(event)))) => found.push(event),
            Ok(Some(Ok(_))) => {}
            other => panic!("after {} of {n} events: {other:?}", found.len()),
        }
    }
    found
}

fn ids(events: &[RecordedEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

fn key(prefix: &str, name: &str) -> CommandKey {
    CommandKey::new(format!("{prefix}{name}")).expect("a valid key")
}

pub async fn a_keyed_append_retried_at_a_newer_revision_appends_nothing(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "facility-1");
    let k = key(&prefix, "POST /facilities/1/report #1");
    assert_eq!(t.log.find_key(&k).await.expect("a lookup"), None);
    let first = match t
        .log
        .append_once(&s, ExpectedRevision::NoStream, events(2), &k)
        .await
        .expect("the first append")
    {
        AppendOnce::Appended(result) => result,
        other => panic!("the first append must be applied, got {other:?}"),
    };
    // Someone else writes; then the retry, decided on the newer state, comes in.
    t.log
        .append(&s, ExpectedRevision::Exact(1), events(1))
        .await
        .expect("another writer");
    let retry = t
        .log
        .append_once(&s, ExpectedRevision::Exact(2), events(2), &k)
        .await
        .expect("the retry");
    let landed = crate::KeyedAppend {
        stream: s.clone(),
        first_revision: 0,
        result: first,
    };
    assert_eq!(retry, AppendOnce::AlreadyApplied(landed.clone()));
    // And a retry at the revision the first attempt expected: the key is checked
    // before the revision, so this is a replay, not a wrong revision.
    let stale = t
        .log
        .append_once(&s, ExpectedRevision::NoStream, events(2), &k)
        .await
        .expect("the stale retry");
    assert_eq!(stale, AppendOnce::AlreadyApplied(landed.clone()));
    assert_eq!(revisions(&read_forwards(&*t.log, &s).await), vec![0, 1, 2]);
    assert_eq!(t.log.find_key(&k).await.expect("a lookup"), Some(landed));
}

pub async fn a_refused_keyed_append_keeps_no_key(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "depot-1");
    let k = key(&prefix, "transfer/1/receive");
    let refused = t
        .log
        .append_once(&s, ExpectedRevision::Exact(4), events(1), &k)
        .await;
    assert!(
        matches!(refused, Err(Error::WrongExpectedRevision { .. })),
        "got {refused:?}"
    );
    assert_eq!(t.log.find_key(&k).await.expect("a lookup"), None);
    let applied = t
        .log
        .append_once(&s, ExpectedRevision::NoStream, events(1), &k)
        .await
        .expect("the append");
    assert!(
        matches!(applied, AppendOnce::Appended(_)),
        "got {applied:?}"
    );
}

pub async fn of_concurrent_appends_with_one_key_exactly_one_is_applied(t: TestLog) {
    let prefix = unique_prefix();
    let s = stream(&prefix, "facility-2");
    let k = key(&prefix, "POST /facilities/2/admit #same");
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (log, s, k) = (Arc::clone(&t.log), s.clone(), k.clone());
            tokio::spawn(async move {
                log.append_once(&s, ExpectedRevision::Any, events(3), &k)
                    .await
            })
        })
        .collect();
    let mut applied = 0;
    let mut landings = HashSet::new();
    for task in tasks {
        match task.await.expect("a task").expect("an append") {
            AppendOnce::Appended(result) => {
                applied += 1;
                landings.insert(result);
            }
            AppendOnce::AlreadyApplied(landed) => {
                landings.insert(landed.result);
            }
        }
    }
    assert_eq!(applied, 1, "exactly one of 40 twins appends");
    assert_eq!(landings.len(), 1, "every twin is told the same landing");
    assert_eq!(read_forwards(&*t.log, &s).await.len(), 3);
}

pub async fn a_key_names_one_append_across_streams(t: TestLog) {
    let prefix = unique_prefix();
    let (first, second) = (stream(&prefix, "team-a"), stream(&prefix, "team-b"));
    let k = key(&prefix, "plan/1/assignment/0");
    t.log
        .append_once(&first, ExpectedRevision::NoStream, events(1), &k)
        .await
        .expect("the first append");
    let again = t
        .log
        .append_once(&second, ExpectedRevision::NoStream, events(1), &k)
        .await
        .expect("the second append");
    match again {
        AppendOnce::AlreadyApplied(landed) => assert_eq!(landed.stream, first),
        other => panic!("a key already used must not append again, got {other:?}"),
    }
    assert!(read_forwards(&*t.log, &second).await.is_empty());
}
