//! Builds a large event log for the load scenarios: the Chongqing seed, then bed
//! reports (`BedsReported`, a fact from the field) round-robin over every
//! facility's pools until the log holds `--events` events.
//!
//! Reports are decided by the domain's own `Facility::decide` on the state kept
//! here, encoded by the command path's codec and appended at the exact revision,
//! in batches per facility, so the log is what a busy reporting day would leave.
//! Then every facility's state is folded by the command path and saved beside
//! the log (`aggregates.states.json`), as the service that took these reports
//! would have saved it; `--cold` leaves that out, as a replica starting on this
//! log for the first time finds it.
//!
//! cargo run --release -p ercs-server --example build-log -- --data-dir /tmp/ercs-150k --events 150000

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use clap::Parser;
use ercs_commands::{Aggregates, Metadata, encode};
use ercs_domain::Decider;
use ercs_domain::beds::{BedCommand, BedCounts, Facility, FacilityCommand, FacilityState};
use ercs_domain::decider::CommandContext;
use ercs_domain::ids::FacilityId;
use ercs_domain::values::Actor;
use ercs_eventlog::{EventData, EventLog, ExpectedRevision, FileAccess, StreamName};
use ercs_network::STATES_FILE;
use ercs_projections::{OneNetwork, rebuild};
use ercs_server::seeding::{self, SeedName};
use ercs_server::startup::open_log;

#[derive(Parser)]
struct Args {
    /// The data directory (created, seeded if need be, then grown).
    #[arg(long)]
    data_dir: std::path::PathBuf,
    /// Stop once the log holds this many events.
    #[arg(long, default_value_t = 150_000)]
    events: u64,
    /// Reports per append.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Save no command-path states (each facility's first command after a start
    /// then folds its whole stream).
    #[arg(long)]
    cold: bool,
}

/// One facility as the builder tracks it.
struct Reporter {
    id: FacilityId,
    stream: StreamName,
    state: Option<FacilityState>,
    revision: u64,
    round: u32,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    actix_web::rt::System::new().block_on(build(args))
}

async fn build(args: Args) -> Result<(), String> {
    let log: Arc<dyn EventLog> = Arc::new(open_log(&args.data_dir).map_err(|e| e.to_string())?);
    let seeded = seeding::load(
        Arc::clone(&log),
        SeedName::Chongqing,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("seed: {seeded}");
    let mut reporters = reporters(&*log).await?;
    let started = Instant::now();
    let mut head = log.head().await.map_err(|e| e.to_string())?.0;
    let from = head;
    while head < args.events {
        // Sixteen facilities' batches in flight at once, for the writer to group.
        let appends = reporters
            .iter_mut()
            .take(16)
            .map(|reporter| report(&*log, reporter, args.batch));
        for position in futures::future::join_all(appends).await {
            head = head.max(position?);
        }
        reporters.rotate_left(16);
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "log at {head} events: appended {} in {took:.1} s ({:.0} events/s)",
        head - from,
        (head - from) as f64 / took
    );
    if !args.cold {
        save_states(log, &reporters, &args.data_dir).await?;
    }
    Ok(())
}

/// Folds every facility through the command path and saves the states, as a
/// service that decided these reports would have.
async fn save_states(
    log: Arc<dyn EventLog>,
    reporters: &[Reporter],
    data_dir: &std::path::Path,
) -> Result<(), String> {
    let started = Instant::now();
    let aggregates = Aggregates::new(log);
    for reporter in reporters {
        let loaded = aggregates.load::<Facility>(&reporter.id).await;
        loaded.map_err(|e| e.to_string())?;
    }
    let path = data_dir.join(STATES_FILE);
    let saved = aggregates
        .save_states(&path, FileAccess::Owner)
        .map_err(|e| e.to_string())?;
    println!(
        "saved {saved} facilities' states ({} events folded) to {} in {:.1} s",
        aggregates.events_folded(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Every facility with a bed pool, at its current state and revision.
async fn reporters(log: &dyn EventLog) -> Result<Vec<Reporter>, String> {
    let head = log.head().await.map_err(|e| e.to_string())?;
    let view: OneNetwork = rebuild(log, head).await.map_err(|e| e.to_string())?;
    let marks: BTreeMap<_, _> = view
        .marks
        .iter()
        .map(|(s, m)| (s.clone(), m.revision))
        .collect();
    let reporters: Vec<Reporter> = view
        .facilities
        .iter()
        .filter(|(_, state)| !state.pools.is_empty())
        .filter_map(|(id, state)| {
            let name = format!("facility-{id}");
            Some(Reporter {
                id: *id,
                revision: *marks.get(&name)?,
                stream: StreamName::new(&name).ok()?,
                state: Some(state.clone()),
                round: 0,
            })
        })
        .collect();
    if reporters.is_empty() {
        return Err("no facility with a bed pool in the log".into());
    }
    Ok(reporters)
}

/// Appends `batch` reports for one facility; gives the position reached.
async fn report(log: &dyn EventLog, reporter: &mut Reporter, batch: usize) -> Result<u64, String> {
    let metadata = Metadata::new("load-test");
    let actor = Actor::parse("load-test").map_err(|e| e.to_string())?;
    let expected = reporter.revision;
    let mut events: Vec<EventData> = Vec::with_capacity(batch);
    for _ in 0..batch {
        let command = next_report(reporter).ok_or("a facility lost its pools")?;
        let stamped = CommandContext::new(actor.clone(), Utc::now()).stamp(command);
        let decided = Facility::decide(&reporter.state, stamped).map_err(|e| e.to_string())?;
        for event in decided {
            reporter.revision += 1;
            events.push(
                // No idempotency key: the ordinal only matters for keyed ids.
                encode(&reporter.stream, events.len(), &event, &metadata)
                    .map_err(|e| e.to_string())?,
            );
            reporter.state = Facility::evolve(reporter.state.take(), &event);
        }
    }
    let appended = log
        .append(&reporter.stream, ExpectedRevision::Exact(expected), events)
        .await
        .map_err(|e| e.to_string())?;
    Ok(appended.position.0)
}

/// The next report of one of the facility's pools: occupancy drifting within
/// the staffed beds, as a day of admissions and discharges would move it.
fn next_report(reporter: &mut Reporter) -> Option<FacilityCommand> {
    let pools: Vec<_> = reporter
        .state
        .as_ref()?
        .pools
        .iter()
        .map(|(k, p)| (*k, p.counts))
        .collect();
    let (key, counts) = pools.get(reporter.round as usize % pools.len())?;
    reporter.round = reporter.round.wrapping_add(1);
    let staffed = counts.staffed();
    let occupied = (counts.occupied() + 1 + reporter.round % 3) % (staffed + 1);
    Some(FacilityCommand::Beds(BedCommand::Report {
        bed_type: key.bed_type,
        class: key.class,
        counts: BedCounts::new(counts.total(), staffed, occupied).ok()?,
        lead_time_minutes: 0,
    }))
}
