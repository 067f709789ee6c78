//! The event log's throughput benchmarks, written once for every backend: each
//! backend's bench target hands them a way to open a fresh log (feature `bench`).

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::{
    CommandKey, Direction, EventData, EventLog, EventType, ExpectedRevision, Filter, JsonObject,
    Position, ReadFrom, StreamName, SubscribeFrom, SubscriptionMessage,
};

/// A payload the size of a typical domain event (~200 bytes).
fn event() -> EventData {
    let data = JsonObject::from_serialize(&serde_json::json!({
        "facility_id": "3f1e4c2a-0d7b-4c1e-9a55-2b6f0e8d9c41",
        "bed_type": "NegativeFlowIsolation",
        "ladder": "designated",
        "total": 40, "staffed": 36, "occupied": 21,
        "reported_at": "2026-11-23T08:00:00Z"
    }))
    .expect("an object");
    EventData::new(
        Uuid::new_v4(),
        EventType::new("BedsReported").expect("a type"),
        data,
    )
    .expect("an event")
}

/// The runtime the benchmarks drive the log on.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A fresh, empty log for one group, and whatever must live as long as it.
pub type Open<'a> = &'a dyn Fn(&Runtime) -> (Box<dyn Any>, Arc<dyn EventLog>);

/// `appends` appends of `size` events each, spread over `writers` tasks, each on
/// its own stream with `Any` expected; with `keyed`, each append carries a fresh
/// command key (`append_once`, as every HTTP command with an `Idempotency-Key`
/// and every process step does); returns the wall time.
async fn append_concurrently(
    log: &Arc<dyn EventLog>,
    writers: usize,
    appends: u64,
    size: usize,
    keyed: bool,
) -> Duration {
    let per_writer = appends.div_ceil(writers as u64);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let log = Arc::clone(log);
            let stream =
                StreamName::new(format!("bench-{}", Uuid::new_v4().simple())).expect("a name");
            tokio::spawn(async move {
                for _ in 0..per_writer {
                    let events = (0..size).map(|_| event()).collect();
                    if keyed {
                        let key = CommandKey::new(Uuid::new_v4().to_string()).expect("a key");
                        log.append_once(&stream, ExpectedRevision::Any, events, &key)
                            .await
                            .expect("an append");
                    } else {
                        log.append(&stream, ExpectedRevision::Any, events)
                            .await
                            .expect("an append");
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer");
    }
    start.elapsed()
}

/// Appends of one event (plain and keyed) from 1, 8 and 64 writers, and of 100.
pub fn appends(c: &mut Criterion, open: Open) {
    let rt = runtime();
    let (_guard, log) = open(&rt);
    let mut group = c.benchmark_group("append");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for writers in [1, 8, 64] {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("single_event", writers),
            &writers,
            |b, &writers| {
                b.iter_custom(|iters| {
                    rt.block_on(append_concurrently(&log, writers, iters, 1, false))
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("single_event_keyed", writers),
            &writers,
            |b, &writers| {
                b.iter_custom(|iters| {
                    rt.block_on(append_concurrently(&log, writers, iters, 1, true))
                })
            },
        );
    }
    for writers in [1, 8] {
        group.throughput(Throughput::Elements(100));
        group.bench_with_input(
            BenchmarkId::new("batch_of_100", writers),
            &writers,
            |b, &writers| {
                b.iter_custom(|iters| {
                    rt.block_on(append_concurrently(&log, writers, iters, 100, false))
                })
            },
        );
    }
    group.finish();
}

const PREFILLED: u64 = 200_000;

/// Pages of `read_all` and a subscription's catch-up, over 200,000 events.
pub fn reads(c: &mut Criterion, open: Open) {
    let rt = runtime();
    let (_guard, log) = open(&rt);
    rt.block_on(append_concurrently(&log, 8, PREFILLED / 100, 100, false));
    let mut group = c.benchmark_group("read");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));

    const PAGE: usize = 10_000;
    group.throughput(Throughput::Elements(PAGE as u64));
    let mut from = 1;
    group.bench_function("read_all_page_of_10000", |b| {
        b.iter(|| {
            from = (from + PAGE as u64) % (PREFILLED - PAGE as u64);
            let page = rt.block_on(log.read_all(
                ReadFrom::At(Position(from)),
                Direction::Forwards,
                &Filter::all(),
                PAGE,
            ));
            assert_eq!(page.expect("a read").len(), PAGE);
        })
    });

    group.throughput(Throughput::Elements(PREFILLED));
    group.bench_function("subscription_catch_up_200000", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut subscription = log.subscribe_all(SubscribeFrom::Start, Filter::all());
                let mut seen = 0u64;
                while let Some(message) = subscription.next().await {
                    match message.expect("a message") {
                        SubscriptionMessage::Event(_) => seen += 1,
                        SubscriptionMessage::CaughtUp(_) => break,
                        SubscriptionMessage::Checkpoint(_) => {}
                    }
                }
                assert_eq!(seen, PREFILLED);
            })
        })
    });
    group.finish();
}
