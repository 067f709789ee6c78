//! Expected player actions judged from the record. Every trainee action is an
//! event in the drill's log, so whether a script's expectation was met, and
//! when, is read off that log rather than ticked by an evaluator.
//!
//! An expectation's clock starts at its anchor (the drill's start, or when its
//! step ran or its inject was fired) and it is due `within` after that. It is
//! **met** when its rule holds by the due time, **late** when it holds only
//! after, **missed** when drill time has passed the due time without it, and
//! **open** before that; one whose anchor has not happened yet is **not
//! started** (an inject never fired). A missed expectation names its
//! contingency inject, for the engine or the director to fire.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use ercs_seed::drill_script::{Anchor, Expectation, Rule, Target};
use serde::Serialize;
use serde_json::{Map, Value};

/// One event of the drill's log, as the evaluation reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Drill time it was recorded at.
    pub at: DateTime<Utc>,
    pub stream: String,
    pub event_type: String,
    pub data: Value,
}

/// Where an expectation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    Late,
    Missed,
    Open,
    NotStarted,
}

/// One expectation's verdict, with its times.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub name: String,
    pub label: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// When the rule came to hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    /// Minutes from the anchor to `done_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_taken: Option<f64>,
    /// For a missed one: the inject to fire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contingency: Option<String>,
}

/// Judges each expectation at drill time `now`. `anchors` holds when each
/// step (by label) and inject (by name) happened, `start` the drill's start;
/// `events` is the drill's log in order; `stream_of` names the stream a rule's
/// target is on (the engine resolves seed keys against the loaded seed).
pub fn evaluate(
    expectations: &[Expectation],
    (start, anchors): (DateTime<Utc>, &BTreeMap<AnchorKey, DateTime<Utc>>),
    events: &[Observed],
    now: DateTime<Utc>,
    stream_of: &dyn Fn(&Target) -> Option<String>,
) -> Vec<Outcome> {
    expectations
        .iter()
        .map(|expectation| {
            let started = match &expectation.after {
                Anchor::Start => Some(start),
                Anchor::Step(label) => anchors.get(&AnchorKey::Step(label.clone())).copied(),
                Anchor::Inject(name) => anchors.get(&AnchorKey::Inject(name.clone())).copied(),
            };
            judge(expectation, started, events, now, stream_of)
        })
        .collect()
}

/// A step (by label) or inject (by name) that happened, as `anchors` keys it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum AnchorKey {
    Step(String),
    Inject(String),
}

fn judge(
    expectation: &Expectation,
    started: Option<DateTime<Utc>>,
    events: &[Observed],
    now: DateTime<Utc>,
    stream_of: &dyn Fn(&Target) -> Option<String>,
) -> Outcome {
    let mut outcome = Outcome {
        name: expectation.name.clone(),
        label: expectation.label.clone(),
        status: Status::NotStarted,
        started_at: started,
        due_at: None,
        done_at: None,
        minutes_taken: None,
        contingency: None,
    };
    let Some(started) = started else {
        return outcome;
    };
    let within = TimeDelta::from_std(expectation.within).unwrap_or(TimeDelta::MAX);
    let due = started
        .checked_add_signed(within)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    outcome.due_at = Some(due);
    let after: Vec<&Observed> = events.iter().filter(|e| e.at >= started).collect();
    let done = match &expectation.when {
        Rule::Event {
            event_type,
            target,
            matching,
            count,
        } => {
            let stream = target.as_ref().map(stream_of);
            if matches!(stream, Some(None)) {
                // A target the engine cannot place can never be acted on.
                None
            } else {
                let stream = stream.flatten();
                after
                    .iter()
                    .filter(|e| &e.event_type == event_type)
                    .filter(|e| stream.as_ref().is_none_or(|s| &e.stream == s))
                    .filter(|e| fields_match(&e.data, matching))
                    .nth(*count as usize - 1)
                    .map(|e| e.at)
            }
        }
        Rule::PlanApproved {
            incident,
            kind,
            priority,
            share,
        } => after
            .iter()
            .filter(|e| e.event_type == "PlanApproved")
            .find(|approved| {
                let proposed = events
                    .iter()
                    .find(|e| e.stream == approved.stream && e.event_type == "PlanProposed");
                proposed.is_some_and(|proposed| {
                    let wanted = PlanWanted {
                        incident: incident.hyphenated().to_string(),
                        kind,
                        priority: priority.as_deref(),
                    };
                    served_share(&proposed.data, &approved.data, &wanted)
                        .is_some_and(|served| served >= *share)
                })
            })
            .map(|e| e.at),
    };
    outcome.done_at = done;
    outcome.minutes_taken = done.map(|at| (at - started).num_seconds() as f64 / 60.0);
    outcome.status = match done {
        Some(at) if at <= due => Status::Met,
        Some(_) => Status::Late,
        None if now > due => Status::Missed,
        None => Status::Open,
    };
    if outcome.status == Status::Missed {
        outcome.contingency = expectation.contingency.clone();
    }
    outcome
}

/// Every field the rule names has the value it gives.
fn fields_match(data: &Value, matching: &Map<String, Value>) -> bool {
    matching
        .iter()
        .all(|(field, value)| data.get(field) == Some(value))
}

struct PlanWanted<'a> {
    incident: String,
    kind: &'a str,
    priority: Option<&'a str>,
}

/// The share of the demand of `wanted.kind` (and priority) a plan planned that
/// its approval dispatched: dispatched assignments over assignments and
/// shortfalls. `None` when the plan is for another incident or planned none.
fn served_share(proposed: &Value, approved: &Value, wanted: &PlanWanted) -> Option<f64> {
    if proposed["request"]["incident"].as_str() != Some(wanted.incident.as_str()) {
        return None;
    }
    let relevant = |entry: &Value| {
        let commodity = entry["commodity"].as_str().unwrap_or_default();
        commodity.split(':').next() == Some(wanted.kind)
            && wanted
                .priority
                .is_none_or(|p| entry["priority"].as_str() == Some(p))
    };
    let quantity = |entry: &Value| entry["quantity"].as_u64().unwrap_or(0);
    let plan = &proposed["plan"];
    let assignments = plan["assignments"].as_array()?;
    let shortfalls = plan["shortfalls"].as_array().map_or(&[][..], Vec::as_slice);
    let dispatched: Vec<usize> = approved["dispatches"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter(|d| d["outcome"] == "dispatched")
        .filter_map(|d| d["assignment"].as_u64().map(|i| i as usize))
        .collect();
    let served: u64 = dispatched
        .iter()
        .filter_map(|&i| assignments.get(i))
        .filter(|a| relevant(a))
        .map(quantity)
        .sum();
    let needed: u64 = assignments
        .iter()
        .chain(shortfalls)
        .filter(|e| relevant(e))
        .map(quantity)
        .sum();
    (needed > 0).then(|| served as f64 / needed as f64)
}
