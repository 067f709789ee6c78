//! Expected player actions judged from a drill's record: met, late, missed (with
//! its contingency), open, and not started, and a plan rule read from the
//! plan's own events.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use ercs_drill::{AnchorKey, Observed, Status, evaluate};
use ercs_seed::drill_script::{DrillScript, Reference, Target};
use serde_json::{Value, json};

const INCIDENT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88";
const TEAM: &str = "team-5e0b4a57-2f3c-4f07-9b3a-0c1d2e3f4a5b";

fn script() -> DrillScript {
    let text = json!({
        "id": "judged",
        "title": {"zh": "评估演练", "en": "A judged drill"},
        "description": "Four expectations.",
        "seed": "chongqing",
        "start": "2026-03-02T00:00:00Z",
        "aggregates": [{"name": "outbreak", "kind": "incident", "id": INCIDENT}],
        "steps": [
            {"at": "+00:00:00", "label": "declare",
             "target": {"kind": "incident", "declared": "outbreak"},
             "command": {"declare": {"incident_id": "${outbreak}", "kind": "infectious_disease",
                 "level": "IV", "title": "万州区聚集性疫情", "affected_areas": ["500101001"]}}},
            {"at": "+00:30:00", "label": "send the team",
             "target": {"kind": "team", "seed": "team/500101/acute_infectious_disease"},
             "command": {"mobilise": {"incident": "${outbreak}"}}}
        ],
        "injects": [
            {"name": "cluster", "label": "院内感染",
             "target": {"kind": "incident", "declared": "outbreak"},
             "command": {"record_bed_demand": {"bed_type": "negative_flow_isolation",
                 "township": "500101001", "beds": 30}}},
            {"name": "spare-team", "label": "调派备用队伍",
             "target": {"kind": "incident", "declared": "outbreak"},
             "command": {"record_team_demand": {"kind": "acute_infectious_disease", "teams": 2}}}
        ],
        "expectations": [
            {"name": "on-scene", "label": "2 小时内到达现场", "after": {"step": "send the team"},
             "within": "+02:00:00",
             "when": {"event": {"type": "TeamDeployed",
                 "target": {"kind": "team", "seed": "team/500101/acute_infectious_disease"}}}},
            {"name": "beds-planned", "label": "30 分钟内批准红色床位方案", "after": {"inject": "cluster"},
             "within": "+00:30:00",
             "when": {"plan_approved": {"incident": "${outbreak}", "kind": "bed", "priority": "red", "share": 0.9}}},
            {"name": "closed", "label": "4 小时内结束响应", "after": "start", "within": "+04:00:00",
             "when": {"event": {"type": "IncidentClosed", "where": {"incident_id": "${outbreak}"}}},
             "contingency": "spare-team"},
            {"name": "stood-down", "label": "发布后 1 小时内撤回备用队", "after": {"inject": "spare-team"},
             "within": "+01:00:00", "when": {"event": {"type": "TeamDemobilised"}}},
            {"name": "still-open", "label": "12 小时内结束响应", "after": "start", "within": "+12:00:00",
             "when": {"event": {"type": "IncidentClosed"}}}
        ]
    });
    DrillScript::parse(&text.to_string()).expect("the script parses")
}

fn at(script: &DrillScript, minutes: i64) -> DateTime<Utc> {
    script.start + TimeDelta::minutes(minutes)
}

fn event(at: DateTime<Utc>, stream: &str, event_type: &str, data: Value) -> Observed {
    Observed {
        at,
        stream: stream.into(),
        event_type: event_type.into(),
        data,
    }
}

/// The engine resolves seed keys; here one team.
fn stream_of(target: &Target) -> Option<String> {
    match &target.reference {
        Reference::Seed(key) if key == "team/500101/acute_infectious_disease" => Some(TEAM.into()),
        _ => None,
    }
}

/// A plan for the incident: 30 red beds planned in two assignments, 25 dispatched.
fn plan_events(script: &DrillScript, approved_at: i64, dispatched: &[usize]) -> Vec<Observed> {
    let stream = "plan-0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44";
    let proposed = json!({
        "request": {"incident": INCIDENT},
        "plan": {"assignments": [
            {"commodity": "bed:negative_flow_isolation", "priority": "red", "quantity": 25},
            {"commodity": "bed:negative_flow_isolation", "priority": "red", "quantity": 5}
        ], "shortfalls": []}
    });
    let dispatches: Vec<Value> = dispatched
        .iter()
        .map(|i| json!({"assignment": i, "outcome": "dispatched"}))
        .collect();
    vec![
        event(
            at(script, approved_at - 5),
            stream,
            "PlanProposed",
            proposed,
        ),
        event(
            at(script, approved_at),
            stream,
            "PlanApproved",
            json!({"dispatches": dispatches}),
        ),
    ]
}

#[test]
fn each_expectation_is_met_late_missed_or_open_from_the_record() {
    let script = script();
    let anchors = BTreeMap::from([
        (AnchorKey::Step("declare".into()), at(&script, 0)),
        (AnchorKey::Step("send the team".into()), at(&script, 30)),
        (AnchorKey::Inject("cluster".into()), at(&script, 60)),
    ]);
    let mut events = vec![
        // Another team arrives first: it is not the one the rule names.
        event(at(&script, 100), "team-other", "TeamDeployed", json!({})),
        event(at(&script, 140), TEAM, "TeamDeployed", json!({})),
    ];
    events.extend(plan_events(&script, 150, &[0, 1]));
    let now = at(&script, 300);
    let outcomes = evaluate(
        script.expectations(),
        (script.start, &anchors),
        &events,
        now,
        &stream_of,
    );
    let status: Vec<(&str, Status)> = outcomes
        .iter()
        .map(|o| (o.name.as_str(), o.status))
        .collect();
    assert_eq!(
        status,
        [
            ("on-scene", Status::Met),
            ("beds-planned", Status::Late),
            ("closed", Status::Missed),
            ("stood-down", Status::NotStarted),
            ("still-open", Status::Open),
        ]
    );
    assert_eq!(
        outcomes[0].minutes_taken,
        Some(110.0),
        "from the step at 30 to 140"
    );
    assert_eq!(
        outcomes[1].minutes_taken,
        Some(90.0),
        "approved 90 min after the inject"
    );
    assert_eq!(outcomes[1].due_at, Some(at(&script, 90)));
    assert_eq!(outcomes[2].contingency.as_deref(), Some("spare-team"));
    assert_eq!(outcomes[0].contingency, None);
}

#[test]
fn a_plan_that_dispatched_too_little_does_not_meet_a_share_rule() {
    let script = script();
    let anchors = BTreeMap::from([(AnchorKey::Inject("cluster".into()), at(&script, 60))]);
    let judge = |dispatched: &[usize]| {
        let events = plan_events(&script, 70, dispatched);
        let outcomes = evaluate(
            script.expectations(),
            (script.start, &anchors),
            &events,
            at(&script, 100),
            &stream_of,
        );
        outcomes[1].status
    };
    // 25 of 30 red beds is 83 %: short of 90 %.
    assert_eq!(judge(&[0]), Status::Missed);
    assert_eq!(judge(&[0, 1]), Status::Met);
    // A plan approved before the inject does not count for it.
    let early = plan_events(&script, 50, &[0, 1]);
    let outcomes = evaluate(
        script.expectations(),
        (script.start, &anchors),
        &early,
        at(&script, 100),
        &stream_of,
    );
    assert_eq!(outcomes[1].status, Status::Missed);
}
