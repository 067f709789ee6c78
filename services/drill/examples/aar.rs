//! Runs the shipped 万州 drill headless on a temporary sandbox, with one
//! trainee who reports the first team on scene late, and writes its
//! after-action report as `aar.json` and `aar.html` into the directory given
//! (default: the current one). Prints how long the report took to compute.
//!
//! `cargo run -p ercs-drill --example aar -- /tmp/aar`

use std::sync::Arc;
use std::time::Instant;

use chrono::TimeDelta;
use ercs_commands::{Aggregates, Expect, Metadata};
use ercs_domain::area::DivisionCode;
use ercs_domain::decider::{CommandContext, Stamped};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::TeamId;
use ercs_domain::team::{Team, TeamCommand};
use ercs_domain::values::Actor;
use ercs_drill::{Session, Start, after_action};
use ercs_eventlog::EventLog;
use ercs_eventlog::sqlite::SqliteEventLog;
use ercs_seed::drill_script::DrillScript;
use ercs_seed::inventory::seed_id;

const WANZHOU: &str = include_str!("../../../seeds/drills/wanzhou-respiratory-outbreak.json");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out)?;
    let script = Arc::new(DrillScript::parse(WANZHOU)?);
    let sandbox = tempfile::tempdir()?;
    let log: Arc<dyn EventLog> = Arc::new(SqliteEventLog::open(sandbox.path().join("events.db"))?);
    let aggregates = Aggregates::new(Arc::clone(&log));
    let mut session = Session::start(
        Arc::clone(&script),
        Arc::clone(&log),
        aggregates.clone(),
        Start::Seed,
    )
    .await?;
    let late = script.start + TimeDelta::minutes(6 * 60 + 10);
    while let Some(at) = session.next_at() {
        if at > late && session.progress().next_step > 0 {
            deploy(&aggregates, &script.id, late).await?;
            break;
        }
        session.step().await?;
    }
    while session.step().await? {}
    let ended = session.ended_at();
    session.contingencies(ended).await?;

    let started = Instant::now();
    let report = after_action(log.as_ref(), &session, ended).await?;
    let took = started.elapsed();
    std::fs::write(out.join("aar.json"), serde_json::to_string_pretty(&report)?)?;
    std::fs::write(out.join("aar.html"), report.html(&script.title.zh))?;
    println!(
        "after-action report of {} events ({} timeline entries, {} demands) in {:.1} ms; wrote {}",
        report.events,
        report.timeline.len(),
        report.demands.len(),
        took.as_secs_f64() * 1e3,
        out.join("aar.html").display()
    );
    Ok(())
}

/// A trainee reports the 万州 infectious-disease team on scene at `at`.
async fn deploy(
    aggregates: &Aggregates,
    drill: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let trainee = "学员 张伟";
    let mut metadata = Metadata::new(trainee);
    metadata.drill_id = Some(drill.to_owned());
    let command = Stamped {
        context: CommandContext::new(Actor::parse(trainee)?, at),
        command: TeamCommand::Deploy {
            area: DivisionCode::parse("500101001")?,
            location: GeoPoint::new(108.38, 30.81)?,
        },
    };
    let team = TeamId::from_uuid(seed_id("team/500101/acute_infectious_disease"));
    aggregates
        .execute::<Team>(&team, Expect::Latest, command, &metadata)
        .await?;
    Ok(())
}
