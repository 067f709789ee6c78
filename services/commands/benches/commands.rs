//! What one command costs as its aggregate's stream grows, with the state cache
//! on and off. The aggregate is a facility whose stream is its registration and
//! then bed reports (EMResource-style polling); the command is one more report.
//!
//!     cargo bench -p ercs-commands --bench commands
//!
//! - `execute`: a durable bed report (`Aggregates::execute`, synced append).
//!   Each one grows its stream, so every size is spread over many facilities,
//!   taken in turn; the bench prints how much each grew.
//! - `load`: the state a command is decided on (`Aggregates::load`), nothing
//!   appended.
//!
//! The log is SQLite in a temporary directory, synced as in production.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ercs_commands::{Aggregates, Expect, Metadata, encode};
use ercs_domain::area::{DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedCommand, BedCounts, BedType};
use ercs_domain::beds::{Facility, FacilityCommand, FacilityKind};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::FacilityId;
use ercs_domain::values::{Actor, Name};
use ercs_domain::{CommandContext, Decider, Stamped};
use ercs_eventlog::{EventLog, ExpectedRevision, SqliteEventLog, StreamName};
use tokio::runtime::Runtime;
use uuid::Uuid;

/// Events per append while the streams are built.
const BATCH: usize = 1000;

fn stamped(command: FacilityCommand) -> Stamped<FacilityCommand> {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).single();
    let actor = Actor::parse("dispatcher-500101-01").expect("an actor");
    CommandContext::new(actor, at.unwrap_or_default()).stamp(command)
}

fn register(facility_id: FacilityId) -> FacilityCommand {
    FacilityCommand::Register {
        facility_id,
        name: Name::parse("重庆大学附属三峡医院").expect("a name"),
        kind: FacilityKind::Hospital,
        tier: Tier::Region,
        area: DivisionCode::parse("500101").expect("a division"),
        location: GeoPoint::new(108.39, 30.81).expect("a point"),
    }
}

/// The `n`-th bed report: the counts change, so every report is an event.
fn report(n: usize) -> FacilityCommand {
    let staffed = 20 + (n % 17) as u32;
    FacilityCommand::Beds(BedCommand::Report {
        bed_type: BedType::AdultIcu,
        class: BedClass::Designated,
        counts: BedCounts::new(40, staffed, 10).expect("counts"),
        lead_time_minutes: 0,
    })
}

/// Appends a facility of `events` events (decided in memory, written in batches).
async fn build(log: &Arc<dyn EventLog>, facility: FacilityId, events: usize) {
    let stream = StreamName::new(Facility::stream_name(&facility)).expect("a stream");
    let metadata = Metadata::new("bench");
    let mut state = <Facility as Decider>::State::default();
    let mut decided = Vec::new();
    for n in 0..events {
        let command = if n == 0 {
            register(facility)
        } else {
            report(n)
        };
        let events = Facility::decide(&state, stamped(command)).expect("a decision");
        state = events.iter().fold(state, Facility::evolve);
        decided.extend(events);
    }
    let mut expected = ExpectedRevision::NoStream;
    for batch in decided.chunks(BATCH) {
        let data = batch.iter().enumerate();
        let data = data.map(|(i, e)| encode(&stream, i, e, &metadata).expect("an event"));
        let written = log.append(&stream, expected, data.collect()).await;
        expected = ExpectedRevision::Exact(written.expect("an append").next_expected_revision);
    }
}

/// A log holding `count` facilities of `events` events each.
fn facilities(
    rt: &Runtime,
    events: usize,
    count: usize,
) -> (tempfile::TempDir, Arc<dyn EventLog>, Vec<FacilityId>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log: Arc<dyn EventLog> =
        Arc::new(SqliteEventLog::open(dir.path().join("events.db")).expect("a log"));
    let ids: Vec<_> = (0..count)
        .map(|_| FacilityId::from_uuid(Uuid::new_v4()))
        .collect();
    for id in &ids {
        rt.block_on(build(&log, *id, events));
    }
    (dir, log, ids)
}

/// Facilities per size: `execute` takes them in turn, so each grows by a
/// fraction of its size over a run (the bench prints by how much).
fn spread(events: usize) -> usize {
    match events {
        0..=10 => 1000,
        11..=1000 => 100,
        _ => 10,
    }
}

fn commands(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("command");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for events in [10, 1_000, 10_000] {
        let (_dir, log, ids) = facilities(&rt, events, spread(events));
        // Shared by both runs: the second meets the streams the first grew.
        let next = AtomicUsize::new(0);
        for (cache, entries) in [("cached", 2048), ("uncached", 0)] {
            let aggregates = Aggregates::with_cache(Arc::clone(&log), entries);
            // As after the first command on each: the cache holds them.
            for id in &ids {
                rt.block_on(aggregates.load::<Facility>(id))
                    .expect("a load");
            }
            let metadata = Metadata::new("bench");
            group.bench_function(BenchmarkId::new(format!("execute/{cache}"), events), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let command = stamped(report(n));
                        let done = aggregates.execute::<Facility>(
                            &ids[n % ids.len()],
                            Expect::Latest,
                            command,
                            &metadata,
                        );
                        rt.block_on(done).expect("a report");
                    }
                    start.elapsed()
                })
            });
            let grown = next.load(Ordering::Relaxed) / ids.len();
            eprintln!("execute/{cache}/{events}: each stream grew by {grown} events");
            group.bench_function(BenchmarkId::new(format!("load/{cache}"), events), |b| {
                b.iter(|| {
                    rt.block_on(aggregates.load::<Facility>(&ids[0]))
                        .expect("a load")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, commands);
criterion_main!(benches);
