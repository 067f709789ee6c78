//! Scripted drills run headless on a sandbox log: the 万州 seed drill as fast
//! as possible, its commands stamped with drill time and judged at the end; the
//! same script at two speeds gives the same record; nothing touches any other
//! log.

use std::sync::Arc;

use ercs_drill::{RunReport, Speed, Status, run};
use ercs_eventlog::sqlite::SqliteEventLog;
use ercs_eventlog::{Direction, EventLog, Filter, ReadFrom};
use ercs_seed::drill_script::DrillScript;
use indicatif::ProgressBar;
use serde_json::{Value, json};

const WANZHOU: &str = include_str!("../../../seeds/drills/wanzhou-respiratory-outbreak.json");

async fn run_in(
    dir: &std::path::Path,
    script: &DrillScript,
    speed: Speed,
) -> (RunReport, Vec<Value>) {
    let log: Arc<dyn EventLog> = Arc::new(SqliteEventLog::open(dir.join("events.db")).unwrap());
    let report = run(script, Arc::clone(&log), speed, &ProgressBar::hidden())
        .await
        .expect("the drill runs");
    let events = log
        .read_all(
            ReadFrom::Start,
            Direction::Forwards,
            &Filter::all(),
            100_000,
        )
        .await
        .unwrap();
    // What the drill wrote, apart from the store's own ids and clock.
    let written = events
        .iter()
        .filter(|e| e.metadata.deserialize::<Value>().unwrap()["actor"] != "seed")
        .map(|e| {
            json!({"stream": e.stream.to_string(), "type": e.event_type.to_string(),
                   "data": e.data.deserialize::<Value>().unwrap()})
        })
        .collect();
    (report, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wanzhou_drill_runs_as_fast_as_possible_and_is_judged_from_its_record() {
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A live log beside the sandbox: the run never opens it.
    let live = dir.path().join("live.db");
    std::fs::write(&live, b"the live log").unwrap();
    let sandbox = dir.path().join("drills").join("wanzhou");
    std::fs::create_dir_all(&sandbox).unwrap();
    let (report, written) = run_in(&sandbox, &script, Speed::AsFastAsPossible).await;
    assert_eq!(std::fs::read(&live).unwrap(), b"the live log");

    assert_eq!(report.steps, script.steps().len());
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(report.events >= script.steps().len() as u64);
    assert_eq!(report.events as usize, written.len());
    assert_eq!(
        (report.ended_at - report.started_at).num_hours(),
        72,
        "a 72-hour drill"
    );
    // Every command was stamped with its step's drill time, not the wall clock.
    let declared = &written[0];
    assert_eq!(declared["type"], "IncidentDeclared", "{declared}");
    assert_eq!(declared["data"]["at"], json!(script.start));
    assert!(
        written.iter().all(|e| e["data"]["at"]
            .as_str()
            .is_none_or(|at| at.starts_with("2026-"))),
        "drill times only"
    );
    // Nobody played: the team was sent but never reported on scene, so that
    // expectation is missed and names its contingency; the inject the other
    // counts from was never fired.
    let judged: Vec<(&str, Status)> = report
        .expectations
        .iter()
        .map(|o| (o.name.as_str(), o.status))
        .collect();
    assert_eq!(
        judged,
        [
            ("negative-beds-planned", Status::NotStarted),
            ("team-on-scene", Status::Missed)
        ]
    );
    assert_eq!(
        report.expectations[1].contingency.as_deref(),
        Some("team-delayed")
    );
    // So the run fired that contingency at the drill time the action fell due,
    // once, and its command is in the sandbox stamped with that time.
    let due = report.expectations[1].due_at.unwrap();
    let fired: Vec<(&str, _)> = report
        .fired
        .iter()
        .map(|f| (f.inject.as_str(), f.at))
        .collect();
    assert_eq!(fired, [("team-delayed", due)]);
    let recorded = written
        .iter()
        .filter(|e| e["type"] == "TeamDemandRecorded" && e["data"]["teams"] == 2)
        .filter(|e| e["data"]["at"] == json!(due))
        .count();
    assert_eq!(recorded, 1, "the inject's command at its drill time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_gives_the_same_record_at_any_speed() {
    let mut script: Value = serde_json::from_str(WANZHOU).unwrap();
    // The first three steps, two seconds apart, so that 1,800× takes about 4 s.
    let steps = script["steps"].as_array_mut().unwrap();
    steps.truncate(3);
    for (n, step) in steps.iter_mut().enumerate() {
        step["at"] = json!(format!("+{}:00:00", n));
    }
    script["expectations"] = json!([]);
    let script = DrillScript::parse(&script.to_string()).unwrap();
    let (fast, slow) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, at_once) = run_in(fast.path(), &script, Speed::AsFastAsPossible).await;
    let (report, timed) = run_in(slow.path(), &script, Speed::factor(1800.0).unwrap()).await;
    assert_eq!(at_once, timed);
    assert!(
        report.wall_seconds >= 3.9,
        "two hours of drill at 1,800× take four seconds, not {}",
        report.wall_seconds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_changshou_drill_runs_without_a_refused_step() {
    const CHANGSHOU: &str = include_str!("../../../seeds/drills/changshou-chemical-poisoning.json");
    let script = DrillScript::parse(CHANGSHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = run_in(dir.path(), &script, Speed::AsFastAsPossible).await;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!((report.ended_at - report.started_at).num_hours(), 12);
}
