//! The drill scripts in `seeds/drills/` and the rules `DrillScript::parse` enforces.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use ercs_domain::area::DivisionCode;
use ercs_domain::incident::{IncidentCommand, ResponseLevel};
use ercs_seed::drill_script::{
    AggregateKind, Anchor, DrillCommand, DrillScript, DrillScriptError, Reference, Rule,
    declared_uuid,
};
use ercs_seed::{Geography, chongqing};
use serde_json::{Value, json};

const WANZHOU: &str = include_str!("../../../seeds/drills/wanzhou-respiratory-outbreak.json");
const CHANGSHOU: &str = include_str!("../../../seeds/drills/changshou-chemical-poisoning.json");

fn geography() -> &'static Geography {
    static GEOGRAPHY: OnceLock<Geography> = OnceLock::new();
    GEOGRAPHY.get_or_init(|| chongqing::geography().expect("the embedded seeds load"))
}

fn parse(text: &str) -> Result<DrillScript, DrillScriptError> {
    DrillScript::parse_with(text, geography())
}

fn parse_value(script: &Value) -> Result<DrillScript, DrillScriptError> {
    parse(&script.to_string())
}

/// A small valid script: declare, then raise the level.
fn minimal() -> Value {
    json!({
        "id": "tiny",
        "title": {"zh": "小演练", "en": "Tiny drill"},
        "description": "Two steps.",
        "seed": "chongqing",
        "start": "2026-01-01T00:00:00Z",
        "aggregates": [{"name": "event", "kind": "incident"}],
        "steps": [
            {
                "at": "+00:00:00",
                "target": {"kind": "incident", "declared": "event"},
                "command": {"declare": {
                    "incident_id": "${event}", "kind": "other", "level": "IV",
                    "title": "测试", "affected_areas": ["500101001"]
                }}
            },
            {
                "at": "+00:10:00",
                "label": "more beds",
                "target": {"kind": "incident", "declared": "event"},
                "command": {"record_bed_demand": {
                    "bed_type": "general_isolation", "township": "500101001", "beds": 5
                }}
            }
        ]
    })
}

/// The step, field and reason of a refusal of `steps[..]`.
fn refusal(script: &Value) -> (usize, String, String) {
    match parse_value(script) {
        Err(DrillScriptError::Entry {
            list: "steps",
            index,
            field,
            reason,
        }) => (index, field, reason),
        other => panic!("expected a step refusal, got {other:?}"),
    }
}

fn wanzhou() -> DrillScript {
    parse(WANZHOU).expect("the 万州 drill parses")
}

fn changshou() -> DrillScript {
    parse(CHANGSHOU).expect("the 长寿 drill parses")
}

fn incident_commands(script: &DrillScript) -> impl Iterator<Item = &IncidentCommand> {
    script
        .steps()
        .iter()
        .filter_map(|step| match &step.command {
            DrillCommand::Incident(command) => Some(command),
            _ => None,
        })
}

fn demand_townships(script: &DrillScript) -> BTreeSet<DivisionCode> {
    incident_commands(script)
        .filter_map(|command| match command {
            IncidentCommand::RecordBedDemand { township, .. } => Some(township.clone()),
            IncidentCommand::RecordSupplyDemand { area, .. } => Some(area.clone()),
            _ => None,
        })
        .collect()
}

fn levels(script: &DrillScript) -> Vec<ResponseLevel> {
    incident_commands(script)
        .filter_map(|command| match command {
            IncidentCommand::Declare { level, .. }
            | IncidentCommand::RaiseLevel { level, .. }
            | IncidentCommand::LowerLevel { level, .. } => Some(*level),
            _ => None,
        })
        .collect()
}

#[test]
fn both_shipped_drills_parse_and_validate() {
    for script in [wanzhou(), changshou()] {
        assert_eq!(script.seed, "chongqing");
        assert!(script.steps().len() >= 10, "{} has few steps", script.id);
        assert!(!script.injects().is_empty(), "{} has no injects", script.id);
    }
}

#[test]
fn the_embedded_geography_is_used_by_parse() {
    assert_eq!(DrillScript::parse(CHANGSHOU).unwrap(), changshou());
}

#[test]
fn shipped_steps_are_in_time_order() {
    for script in [wanzhou(), changshou()] {
        let offsets: Vec<_> = script.steps().iter().map(|s| s.offset).collect();
        assert!(offsets.is_sorted(), "{} is out of order", script.id);
    }
}

#[test]
fn the_wanzhou_drill_runs_72_hours_and_the_changshou_drill_12() {
    let last = |s: &DrillScript| s.steps().last().unwrap().offset.as_secs() / 3600;
    assert_eq!(last(&wanzhou()), 72);
    assert_eq!(last(&changshou()), 12);
}

#[test]
fn the_wanzhou_level_goes_iv_then_iii_then_ii() {
    use ResponseLevel::{II, III, IV};
    assert_eq!(levels(&wanzhou()), vec![IV, III, II]);
}

#[test]
fn the_wanzhou_demand_reaches_townships_in_at_least_three_yudongbei_districts() {
    let g = geography();
    let yudongbei = g.regions.iter().find(|r| r.slug.as_str() == "yudongbei");
    let yudongbei: BTreeSet<_> = yudongbei.unwrap().districts.iter().cloned().collect();
    let townships = demand_townships(&wanzhou());
    assert!(townships.iter().all(|t| t.is_township()));
    let districts: BTreeSet<_> = townships.iter().map(|t| t.county()).collect();
    assert!(districts.is_subset(&yudongbei), "{districts:?}");
    assert!(districts.len() >= 3, "{districts:?}");
}

#[test]
fn the_changshou_drill_rises_from_iii_to_ii_in_changshou_townships() {
    use ResponseLevel::{II, III};
    let script = changshou();
    assert_eq!(levels(&script), vec![III, II]);
    let changshou = DivisionCode::parse("500115").unwrap();
    let townships = demand_townships(&script);
    assert!(!townships.is_empty());
    assert!(
        townships
            .iter()
            .all(|t| t.is_township() && t.county() == changshou)
    );
}

#[test]
fn declared_ids_are_uuid_v5_of_the_drill_and_the_name() {
    let script = wanzhou();
    let id = declared_uuid("wanzhou-respiratory-outbreak", "outbreak");
    assert_eq!(script.declared_id("outbreak"), Some(id));
    assert_eq!(id.get_version_num(), 5);
    let first = &script.steps()[0];
    assert_eq!(first.target.kind, AggregateKind::Incident);
    assert!(matches!(&first.target.reference, Reference::Declared { id: i, .. } if *i == id));
}

#[test]
fn seed_references_are_kept_for_the_engine_to_resolve() {
    let script = changshou();
    let seeded = script
        .steps()
        .iter()
        .filter_map(|s| match &s.target.reference {
            Reference::Seed(name) => Some((s.target.kind, name.as_str())),
            _ => None,
        });
    let seeded: Vec<_> = seeded.collect();
    assert!(seeded.contains(&(AggregateKind::Team, "team/500115/poisoning")));
}

#[test]
fn a_minimal_script_parses_and_times_its_steps() {
    let script = parse_value(&minimal()).unwrap();
    let at = script.time_of(&script.steps()[1]);
    assert_eq!(at.to_rfc3339(), "2026-01-01T00:10:00+00:00");
}

#[test]
fn an_unknown_field_in_a_step_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][1]["colour"] = json!("red");
    let (index, field, reason) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "colour"));
    assert!(reason.contains("unknown field"), "{reason}");
}

#[test]
fn an_unknown_field_in_a_command_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][1]["command"]["record_bed_demand"]["wards"] = json!(2);
    let (index, field, reason) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "command.record_bed_demand"));
    assert!(reason.contains("`wards`"), "{reason}");
}

#[test]
fn an_unknown_field_in_the_header_is_refused() {
    let mut script = minimal();
    script["speed"] = json!(10);
    let error = parse_value(&script).unwrap_err();
    assert!(
        error.to_string().contains("unknown field `speed`"),
        "{error}"
    );
}

#[test]
fn a_malformed_command_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][1]["command"] = json!({"record_bed_demand": {
        "bed_type": "hammock", "township": "500101001", "beds": 5
    }});
    let (index, field, reason) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "command.record_bed_demand"));
    assert!(reason.contains("hammock"), "{reason}");
}

#[test]
fn a_command_of_another_aggregate_kind_is_refused() {
    let mut script = minimal();
    script["steps"][1]["command"] = json!({"mobilise": {"incident": "${event}"}});
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "command.mobilise"));
}

#[test]
fn out_of_order_steps_are_refused_naming_the_step() {
    let mut script = minimal();
    script["steps"][0]["at"] = json!("+01:00:00");
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "at"));
}

#[test]
fn a_malformed_offset_is_refused() {
    for bad in [
        "00:10:00",
        "+0:10",
        "+00:60:00",
        "+00:1:00",
        "+x:00:00",
        "600",
    ] {
        let mut script = minimal();
        script["steps"][1]["at"] = json!(bad);
        let (index, field, _) = refusal(&script);
        assert_eq!((index, field.as_str()), (1, "at"), "{bad}");
    }
}

#[test]
fn an_unknown_township_code_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][1]["command"]["record_bed_demand"]["township"] = json!("500101999");
    let (index, field, reason) = refusal(&script);
    assert_eq!(
        (index, field.as_str()),
        (1, "command.record_bed_demand.township")
    );
    assert!(reason.contains("500101999"), "{reason}");
}

#[test]
fn an_unknown_affected_area_is_refused() {
    let mut script = minimal();
    script["steps"][0]["command"]["declare"]["affected_areas"] = json!(["500199"]);
    let (index, field, _) = refusal(&script);
    assert_eq!(
        (index, field.as_str()),
        (0, "command.declare.affected_areas")
    );
}

#[test]
fn an_undeclared_reference_in_a_command_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][0]["command"]["declare"]["incident_id"] = json!("${other}");
    let (index, field, reason) = refusal(&script);
    assert_eq!((index, field.as_str()), (0, "command.declare.incident_id"));
    assert!(reason.contains("${other} is not declared"), "{reason}");
}

#[test]
fn an_undeclared_target_is_refused_naming_the_step_and_field() {
    let mut script = minimal();
    script["steps"][1]["target"]["declared"] = json!("other");
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "target.declared"));
}

#[test]
fn a_target_needs_exactly_one_reference() {
    let mut script = minimal();
    script["steps"][1]["target"]["seed"] = json!("wanzhou-hospital");
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "target"));
}

#[test]
fn a_malformed_seed_key_is_refused() {
    for bad in ["Team/1", "team//1", "team/", "团队"] {
        let mut script = minimal();
        script["steps"][1]["target"] = json!({"kind": "team", "seed": bad});
        let (index, field, _) = refusal(&script);
        assert_eq!((index, field.as_str()), (1, "target.seed"), "{bad}");
    }
}

#[test]
fn a_step_before_its_incident_is_declared_is_refused() {
    let mut script = minimal();
    let steps = script["steps"].as_array_mut().unwrap();
    steps.swap(0, 1);
    steps[0]["at"] = json!("+00:00:00");
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (0, "command"));
}

#[test]
fn a_level_change_the_incident_would_refuse_is_refused() {
    let mut script = minimal();
    script["steps"][1]["command"] = json!({"raise_level": {"level": "IV", "reason": "同级"}});
    let (index, field, _) = refusal(&script);
    assert_eq!(index, 1);
    assert!(field.starts_with("command"), "{field}");
}

#[test]
fn demand_outside_the_affected_areas_is_refused() {
    let mut script = minimal();
    script["steps"][1]["command"]["record_bed_demand"]["township"] = json!("500115002");
    let (index, field, _) = refusal(&script);
    assert_eq!((index, field.as_str()), (1, "command.township"));
}

#[test]
fn a_script_for_another_seed_is_refused() {
    let mut script = minimal();
    script["seed"] = json!("chengdu");
    let error = parse_value(&script).unwrap_err();
    assert!(matches!(error, DrillScriptError::Header { ref field, .. } if field == "seed"));
}

#[test]
fn an_unknown_field_in_an_inject_is_refused_naming_the_inject() {
    let mut script = minimal();
    script["injects"] = json!([{
        "name": "late", "label": "Late", "when": "+01:00:00",
        "target": {"kind": "incident", "declared": "event"},
        "command": {"record_team_demand": {"kind": "poisoning", "teams": 1}}
    }]);
    let error = parse_value(&script).unwrap_err();
    let DrillScriptError::Entry {
        list, index, field, ..
    } = error
    else {
        panic!("expected an inject refusal, got {error:?}");
    };
    assert_eq!((list, index, field.as_str()), ("injects", 0, "when"));
}

#[test]
fn the_readme_example_parses() {
    let readme = include_str!("../../../seeds/drills/README.md");
    let example = readme.split("```json\n").nth(1).unwrap();
    let example = example.split("\n```").next().unwrap();
    let script = parse(example).expect("the documented example parses");
    assert_eq!(script.steps().len(), 3);
    assert_eq!(script.injects().len(), 1);
}

fn expecting(expectation: Value) -> Value {
    let mut script = minimal();
    script["injects"] = json!([{
        "name": "surge", "label": "床位需求骤增",
        "target": {"kind": "incident", "declared": "event"},
        "command": {"record_bed_demand": {
            "bed_type": "general_isolation", "township": "500101001", "beds": 50
        }}
    }]);
    script["expectations"] = json!([expectation]);
    script
}

/// The index, field and reason of a refusal of `expectations[..]`.
fn refused_expectation(expectation: Value) -> (usize, String, String) {
    match parse_value(&expecting(expectation)) {
        Err(DrillScriptError::Entry {
            list: "expectations",
            index,
            field,
            reason,
        }) => (index, field, reason),
        other => panic!("expected an expectations refusal, got {other:?}"),
    }
}

fn expectation(when: Value) -> Value {
    json!({
        "name": "beds-planned", "label": "30 分钟内批准床位方案",
        "after": {"inject": "surge"}, "within": "+00:30:00", "when": when
    })
}

#[test]
fn expectations_name_their_anchor_deadline_and_rule_with_ids_resolved() {
    let script = parse_value(&expecting(json!({
        "name": "on-scene", "label": "2 小时内到达现场",
        "after": {"step": "more beds"}, "within": "+02:00:00",
        "when": {"event": {"type": "TeamDeployed", "where": {"incident": "${event}"}, "count": 2}},
        "contingency": "surge"
    })))
    .unwrap();
    let [expected] = script.expectations() else {
        panic!("one expectation")
    };
    assert_eq!(expected.after, Anchor::Step("more beds".into()));
    assert_eq!(expected.within, std::time::Duration::from_secs(7200));
    assert_eq!(expected.contingency.as_deref(), Some("surge"));
    let Rule::Event {
        event_type,
        matching,
        count,
        ..
    } = &expected.when
    else {
        panic!("an event rule")
    };
    assert_eq!((event_type.as_str(), *count), ("TeamDeployed", 2));
    let id = script.declared_id("event").unwrap().to_string();
    assert_eq!(matching["incident"], json!(id));
    // The shipped Wanzhou drill has its own.
    assert_eq!(wanzhou().expectations().len(), 2);
}

#[test]
fn an_expectation_that_cannot_be_judged_is_refused_naming_the_field() {
    let cases = [
        (
            json!({"name": "x", "label": "x", "after": {"inject": "nowhere"}, "within": "+00:30:00",
                   "when": {"event": {"type": "TeamDeployed"}}}),
            "after.inject",
        ),
        (
            json!({"name": "x", "label": "x", "after": {"step": "no such label"}, "within": "+00:30:00",
                   "when": {"event": {"type": "TeamDeployed"}}}),
            "after.step",
        ),
        (
            json!({"name": "x", "label": "x", "after": "start", "within": "30 minutes",
                   "when": {"event": {"type": "TeamDeployed"}}}),
            "within",
        ),
        (
            expectation(json!({"event": {"type": "TeamTeleported"}})),
            "when.event.type",
        ),
        (
            expectation(json!({"event": {"type": "TeamDeployed", "count": 0}})),
            "when.event.count",
        ),
        (
            expectation(
                json!({"plan_approved": {"incident": "${event}", "kind": "bed", "share": 1.5}}),
            ),
            "when.plan_approved.share",
        ),
        (
            expectation(
                json!({"plan_approved": {"incident": "${event}", "kind": "beds", "share": 0.9}}),
            ),
            "when.plan_approved.kind",
        ),
        (
            expectation(
                json!({"plan_approved": {"incident": "${nobody}", "kind": "bed", "share": 0.9}}),
            ),
            "when.plan_approved.incident",
        ),
        (
            json!({"name": "x", "label": "x", "after": "start", "within": "+00:30:00",
                   "when": {"event": {"type": "TeamDeployed"}}, "contingency": "nowhere"}),
            "contingency",
        ),
    ];
    for (case, field) in cases {
        let (index, found, reason) = refused_expectation(case.clone());
        assert_eq!((index, found.as_str()), (0, field), "{case}: {reason}");
    }
}
