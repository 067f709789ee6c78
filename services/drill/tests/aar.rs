//! The after-action report (演练评估报告) of the 万州 drill, read off its
//! sandbox: the script's steps, a contingency and a trainee's action on the
//! timeline; each scripted demand with when it was recorded and, where a
//! trainee planned it, how fast it was planned, approved and met; the page in
//! Chinese with every string escaped; a run compared with itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use ercs_commands::{Aggregates, Expect, Metadata};
use ercs_domain::area::DivisionCode;
use ercs_domain::decider::{CommandContext, Stamped};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::TeamId;
use ercs_domain::team::{Team, TeamCommand};
use ercs_domain::values::Actor;
use ercs_drill::aar::{AfterAction, EntryKind, Kind};
use ercs_drill::{Session, Start, Status, after_action, compare};
use ercs_eventlog::sqlite::SqliteEventLog;
use ercs_eventlog::{EventData, EventLog, EventType, ExpectedRevision, JsonObject, StreamName};
use ercs_seed::drill_script::DrillScript;
use ercs_seed::inventory::seed_id;
use serde_json::{Value, json};
use uuid::Uuid;

const WANZHOU: &str = include_str!("../../../seeds/drills/wanzhou-respiratory-outbreak.json");
const TEAM: &str = "team/500101/acute_infectious_disease";
const TRAINEE: &str = "学员 张伟";

/// A drill of `script` on a fresh sandbox in `dir`, and the trainee's own
/// command path on it.
async fn start(
    dir: &std::path::Path,
    script: DrillScript,
) -> (Arc<dyn EventLog>, Session, Aggregates) {
    let log: Arc<dyn EventLog> = Arc::new(SqliteEventLog::open(dir.join("events.db")).unwrap());
    let aggregates = Aggregates::new(Arc::clone(&log));
    let session = Session::start(
        Arc::new(script),
        Arc::clone(&log),
        aggregates.clone(),
        Start::Seed,
    )
    .await
    .expect("the drill starts");
    (log, session, aggregates)
}

/// Runs the steps due by `until`.
async fn step_until(session: &mut Session, until: DateTime<Utc>) {
    while session.next_at().is_some_and(|at| at <= until) {
        session.step().await.expect("the step runs");
    }
}

fn trainee(drill: &str) -> Metadata {
    let mut metadata = Metadata::new(TRAINEE);
    metadata.drill_id = Some(drill.to_owned());
    metadata
}

/// The trainee reports the 万州 team on scene at drill time `at`.
async fn deploy(aggregates: &Aggregates, drill: &str, at: DateTime<Utc>) {
    let command = Stamped {
        context: CommandContext::new(Actor::parse(TRAINEE).unwrap(), at),
        command: TeamCommand::Deploy {
            area: DivisionCode::parse("500101001").unwrap(),
            location: GeoPoint::new(108.38, 30.81).unwrap(),
        },
    };
    let team = TeamId::from_uuid(seed_id(TEAM));
    aggregates
        .execute::<Team>(&team, Expect::Latest, command, &trainee(drill))
        .await
        .expect("the team is deployed");
}

fn minutes(script: &DrillScript, m: i64) -> DateTime<Utc> {
    script.start + TimeDelta::minutes(m)
}

/// A demand as the test expects it listed: kind, commodity, place, level, drill time.
type Listed = (Kind, String, Option<String>, u64, DateTime<Utc>);

/// The demands the script's steps record, from the script itself: kind,
/// commodity, place, level and drill time.
fn scripted_demands(script: &DrillScript) -> Vec<Listed> {
    let raw: Value = serde_json::from_str(WANZHOU).unwrap();
    let commands = raw["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["command"]);
    script
        .steps()
        .iter()
        .zip(commands)
        .filter_map(|(step, command)| {
            let at = script.time_of(step);
            let text = |v: &Value| v.as_str().map(str::to_owned);
            let (name, c) = command.as_object()?.iter().next()?;
            match name.as_str() {
                "record_bed_demand" => Some((
                    Kind::Beds,
                    format!("bed:{}", c["bed_type"].as_str()?),
                    text(&c["township"]),
                    c["beds"].as_u64()?,
                    at,
                )),
                "record_supply_demand" => Some((
                    Kind::Supplies,
                    format!("supply:{}", c["item"].as_str()?),
                    text(&c["area"]),
                    c["quantity"].as_u64()?,
                    at,
                )),
                "record_team_demand" => Some((
                    Kind::Teams,
                    format!("team:{}", c["kind"].as_str()?),
                    None,
                    c["teams"].as_u64()?,
                    at,
                )),
                _ => None,
            }
        })
        .collect()
}

/// The whole 万州 drill with one trainee who reports the team on scene late,
/// after the director's contingency fired.
async fn late_team_run(dir: &std::path::Path, script: DrillScript) -> (Session, AfterAction) {
    let (log, mut session, aggregates) = start(dir, script.clone()).await;
    step_until(&mut session, minutes(&script, 6 * 60)).await;
    deploy(&aggregates, &script.id, minutes(&script, 6 * 60 + 10)).await;
    let ended = session.ended_at();
    step_until(&mut session, ended).await;
    session.contingencies(ended).await.unwrap();
    let report = after_action(log.as_ref(), &session, ended).await.unwrap();
    (session, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_holds_the_steps_in_order_the_contingency_with_its_reason_and_the_trainee() {
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (session, report) = late_team_run(dir.path(), script.clone()).await;

    assert!(!report.truncated);
    assert!(
        report.timeline.windows(2).all(|w| w[0].at <= w[1].at),
        "in drill-time order"
    );
    let steps: Vec<(&str, DateTime<Utc>)> = (report.timeline.iter())
        .filter(|e| e.kind == EntryKind::Step)
        .map(|e| (e.what.as_str(), e.at))
        .collect();
    let scripted: Vec<(&str, DateTime<Utc>)> = (script.steps().iter())
        .map(|s| (s.label.as_deref().unwrap(), script.time_of(s)))
        .collect();
    assert_eq!(steps, scripted);

    // The team was not on scene 2 hours after it was sent, so the director's
    // contingency fired when that fell due, and says why.
    let on_scene = &report.expectations[1];
    assert_eq!(on_scene.name, "team-on-scene");
    let contingency: Vec<_> = (report.timeline.iter())
        .filter(|e| e.kind == EntryKind::ContingencyInject)
        .collect();
    assert_eq!(contingency.len(), 1);
    let inject = script
        .injects()
        .iter()
        .find(|i| i.name == "team-delayed")
        .unwrap();
    assert_eq!(contingency[0].what, inject.label);
    assert_eq!(Some(contingency[0].at), on_scene.due_at);
    let why = contingency[0].why.as_deref().unwrap();
    assert!(why.contains(&on_scene.label), "{why}");

    // The trainee's report is the one player action, and late.
    let actions: Vec<_> = (report.timeline.iter())
        .filter(|e| e.kind == EntryKind::Action)
        .map(|e| (e.who.as_str(), e.what.as_str(), e.at, e.stream.clone()))
        .collect();
    let team_stream = format!("team-{}", seed_id(TEAM));
    assert_eq!(
        actions,
        [(
            TRAINEE,
            "TeamDeployed",
            minutes(&script, 370),
            Some(team_stream)
        )]
    );
    assert_eq!(on_scene.status, Status::Late);
    assert_eq!(
        report.expectations,
        session.judge(session.ended_at()).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_demand_is_listed_with_its_time_and_nothing_is_claimed_that_nobody_planned()
{
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (session, report) = late_team_run(dir.path(), script.clone()).await;

    let mut expected = scripted_demands(&script);
    // The contingency recorded the spare teams at the time it fired.
    let fired = &session.progress().fired[0];
    expected.push((
        Kind::Teams,
        "team:acute_infectious_disease".into(),
        None,
        2,
        fired.at,
    ));
    expected.sort_by_key(|d| d.4);
    let listed: Vec<_> = (report.demands.iter())
        .map(|d| {
            (
                d.kind,
                d.commodity.clone(),
                d.area.clone(),
                d.quantity,
                d.recorded_at,
            )
        })
        .collect();
    assert_eq!(listed, expected);

    // Nobody proposed a plan: no plan, approval or arrival is made up.
    assert!(report.demands.iter().all(|d| d.plan.is_none()
        && d.minutes_to_approval.is_none()
        && d.minutes_to_arrival.is_none()));
    assert!(report.drawn_by_tier.is_empty());
    assert!(
        report
            .within_standard
            .iter()
            .all(|w| w.units == 0 && w.share.is_none())
    );

    // So at the end all that stands demanded (the last level of each) is unmet.
    let mut last: BTreeMap<(String, Option<String>), (Kind, u64)> = BTreeMap::new();
    for (kind, commodity, area, quantity, _) in &expected {
        last.insert((commodity.clone(), area.clone()), (*kind, *quantity));
    }
    let end = report.unmet.last().unwrap();
    for kind in Kind::ALL {
        let demanded: u64 = last
            .values()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(end.of(kind).demanded, demanded, "{kind:?}");
        assert_eq!(end.of(kind).unmet, demanded, "{kind:?}");
        assert_eq!(end.of(kind).approved, 0);
    }
}

/// Appends a plan event as the trainee would through the service.
async fn append_plan(
    log: &dyn EventLog,
    plan: Uuid,
    revision: ExpectedRevision,
    event_type: &str,
    data: Value,
) {
    let metadata = json!({"actor": TRAINEE, "schema_version": 1, "correlation_id": Uuid::new_v4(),
                          "drill_id": "wanzhou-respiratory-outbreak"});
    let event = EventData::with_metadata(
        Uuid::new_v4(),
        EventType::new(event_type).unwrap(),
        JsonObject::from_serialize(&data).unwrap(),
        JsonObject::from_serialize(&metadata).unwrap(),
    )
    .unwrap();
    let stream = StreamName::new(format!("plan-{plan}")).unwrap();
    log.append(&stream, revision, vec![event]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_demand_shows_minutes_to_plan_approval_and_arrival_and_the_tier_it_drew_on() {
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, mut session, aggregates) = start(dir.path(), script.clone()).await;
    // Declared, and one team asked for at +00:20.
    step_until(&mut session, minutes(&script, 20)).await;
    let incident = report_of(&log, &session).await.demands[0].incident.clone();
    let plan = Uuid::new_v4();
    let team = seed_id(TEAM);
    let proposed = json!({
        "plan_id": plan, "request": {"incident": incident}, "proposed_at": minutes(&script, 25),
        "proposed_by": TRAINEE,
        "plan": {"assignments": [{
            "commodity": "team:acute_infectious_disease", "source": format!("team/{team}"),
            "source_kind": "team_base", "demand": "site", "priority": "yellow", "quantity": 1,
            "travel_minutes": 20.0, "lead_minutes": 0.0, "arrival_minutes": 20.0,
            "within_standard": true, "tier_path": ["township", "district"]}],
            "shortfalls": []}});
    append_plan(
        log.as_ref(),
        plan,
        ExpectedRevision::NoStream,
        "PlanProposed",
        proposed,
    )
    .await;
    let approved = json!({"approved_at": minutes(&script, 28), "approved_by": TRAINEE,
        "dispatches": [{"assignment": 0, "outcome": "dispatched"}]});
    append_plan(
        log.as_ref(),
        plan,
        ExpectedRevision::Any,
        "PlanApproved",
        approved,
    )
    .await;
    step_until(&mut session, minutes(&script, 30)).await;
    deploy(&aggregates, &script.id, minutes(&script, 50)).await;

    let report = report_of(&log, &session).await;
    let teams = &report.demands[0];
    assert_eq!(teams.plan.as_deref(), Some(plan.to_string().as_str()));
    assert_eq!(
        (
            teams.minutes_to_plan,
            teams.minutes_to_approval,
            teams.minutes_to_arrival
        ),
        (Some(5.0), Some(8.0), Some(30.0))
    );
    let within = report
        .within_standard
        .iter()
        .find(|w| w.kind == Kind::Teams)
        .unwrap();
    assert_eq!((within.units, within.share), (1, Some(1.0)));
    assert_eq!(report.drawn_by_tier.len(), 1);
    assert_eq!(report.drawn_by_tier[0].tier, "district");
    // Before the approval the team was unmet; after, it is not.
    let at = |m| {
        report
            .unmet
            .iter()
            .rev()
            .find(|p| p.at <= minutes(&script, m))
            .unwrap()
            .teams
    };
    assert_eq!((at(20).demanded, at(20).unmet), (1, 1));
    assert_eq!((at(28).approved, at(28).unmet), (1, 0));
    // A cancelled plan no longer counts: the team is unmet again.
    let cancelled =
        json!({"at": minutes(&script, 55), "by": TRAINEE, "reason": "改派", "released": 1});
    append_plan(
        log.as_ref(),
        plan,
        ExpectedRevision::Any,
        "PlanCancelled",
        cancelled,
    )
    .await;
    let report = report_of(&log, &session).await;
    let end = report.unmet.last().unwrap();
    assert_eq!(end.at, minutes(&script, 55));
    assert_eq!((end.teams.approved, end.teams.unmet), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directors_inject_is_on_the_timeline_and_a_plan_answering_it_is_judged_at_drill_time() {
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, mut session, _) = start(dir.path(), script.clone()).await;
    step_until(&mut session, minutes(&script, 40)).await;
    let at = minutes(&script, 45);
    session
        .inject("nosocomial-cluster", at, "导演部临时下达")
        .await
        .unwrap();
    let report = report_of(&log, &session).await;

    let fired: Vec<_> = (report.timeline.iter())
        .filter(|e| {
            matches!(
                e.kind,
                EntryKind::ScriptedInject | EntryKind::ContingencyInject
            )
        })
        .map(|e| (e.kind, e.at, e.why.as_deref()))
        .collect();
    assert_eq!(
        fired,
        [(EntryKind::ScriptedInject, at, Some("导演部临时下达"))]
    );
    let recorded = report.demands.last().unwrap();
    assert_eq!(
        (
            recorded.commodity.as_str(),
            recorded.quantity,
            recorded.recorded_at
        ),
        ("bed:negative_flow_isolation", 30, at)
    );
    let planned = report
        .expectations
        .iter()
        .find(|o| o.name == "negative-beds-planned")
        .unwrap();
    assert_eq!(
        (planned.status, planned.started_at),
        (Status::Open, Some(at))
    );

    // A trainee plans the 30 red beds and approves within the half hour of
    // drill time (the log records it at wall time, long after): met, and the
    // demand's response is read at drill time too; nobody was admitted yet.
    let plan = Uuid::new_v4();
    let proposed = json!({
        "plan_id": plan, "request": {"incident": recorded.incident}, "proposed_at": minutes(&script, 50),
        "proposed_by": TRAINEE,
        "plan": {"assignments": [{
            "commodity": "bed:negative_flow_isolation", "source": "facility/lead/500101/designated",
            "source_kind": "bed_pool", "demand": "area/500101001", "priority": "red", "quantity": 30,
            "travel_minutes": 10.0, "lead_minutes": 0.0, "arrival_minutes": 10.0,
            "within_standard": false, "tier_path": ["township"]}],
            "shortfalls": []}});
    append_plan(
        log.as_ref(),
        plan,
        ExpectedRevision::NoStream,
        "PlanProposed",
        proposed,
    )
    .await;
    let approved = json!({"approved_at": minutes(&script, 65), "approved_by": TRAINEE,
        "dispatches": [{"assignment": 0, "outcome": "dispatched"}]});
    append_plan(
        log.as_ref(),
        plan,
        ExpectedRevision::Any,
        "PlanApproved",
        approved,
    )
    .await;
    let report = report_of(&log, &session).await;
    let planned = report
        .expectations
        .iter()
        .find(|o| o.name == "negative-beds-planned")
        .unwrap();
    assert_eq!(
        (planned.status, planned.done_at),
        (Status::Met, Some(minutes(&script, 65)))
    );
    let beds = report.demands.last().unwrap();
    assert_eq!(
        (
            beds.minutes_to_plan,
            beds.minutes_to_approval,
            beds.minutes_to_arrival
        ),
        (Some(5.0), Some(20.0), None)
    );
    let within = report
        .within_standard
        .iter()
        .find(|w| w.kind == Kind::Beds)
        .unwrap();
    assert_eq!(
        (within.units, within.within, within.share),
        (30, 0, Some(0.0))
    );
}

async fn report_of(log: &Arc<dyn EventLog>, session: &Session) -> AfterAction {
    let now = session.next_at().unwrap_or(session.ended_at());
    after_action(log.as_ref(), session, now).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_in_chinese_self_contained_and_escapes_every_string() {
    let mut raw: Value = serde_json::from_str(WANZHOU).unwrap();
    raw["steps"][0]["label"] = json!("启动<Ⅳ级>响应 & 报告");
    raw["steps"].as_array_mut().unwrap().truncate(3);
    let script = DrillScript::parse(&raw.to_string()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, mut session, _) = start(dir.path(), script.clone()).await;
    let ended = session.ended_at();
    step_until(&mut session, ended).await;
    let report = report_of(&log, &session).await;

    let page = report.html("万州 <演练> 第一轮");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r#"<html lang="zh-CN">"#));
    assert!(page.contains("启动&lt;Ⅳ级&gt;响应 &amp; 报告"));
    assert!(page.contains("万州 &lt;演练&gt; 第一轮"));
    assert!(!page.contains("<Ⅳ级>") && !page.contains("<演练>"));
    for heading in [
        "演练评估报告",
        "时间线",
        "需求响应",
        "未满足需求",
        "服务标准达标率",
        "各层级调用资源",
        "预期动作",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(page.contains("@media print"));
    assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("<script"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_compared_with_itself_shows_the_same_figures_on_both_sides() {
    let script = DrillScript::parse(WANZHOU).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = late_team_run(dir.path(), script).await;
    let same = compare(&report, &report);

    assert_eq!(same.expectations.len(), report.expectations.len());
    assert!(
        same.expectations
            .iter()
            .all(|p| p.a.is_some() && p.a == p.b)
    );
    assert_eq!(same.demands.len(), report.demands.len());
    assert!(same.demands.iter().all(|p| p.a == p.b));
    assert!(same.unmet_at_end.iter().all(|p| p.a == p.b));
    assert!(
        same.unmet_at_end.iter().any(|p| p.a > 0),
        "the run left demand unmet"
    );
    assert!(same.within_standard.iter().all(|p| p.a == p.b));
    // And it survives being stored and read back.
    let stored: AfterAction =
        serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(stored, report);
}
