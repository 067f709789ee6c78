//! Expected player actions (预期处置动作): what the trainees should do after a
//! step or an inject, and by when, as a small rule over the events the drill's
//! sandbox log records. The drill engine (`ercs-drill`) marks each one met,
//! late or missed from that log; this module only reads and checks them.
//!
//! ```json
//! "expectations": [{
//!   "name": "team-on-scene",
//!   "label": "区县医疗救援队 2 小时内到达现场",
//!   "after": { "inject": "nosocomial-cluster" },
//!   "within": "+02:00:00",
//!   "when": { "event": { "type": "TeamDeployed", "where": { "incident": "${outbreak}" } } },
//!   "contingency": "team-delayed"
//! }]
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use ercs_domain::event::DomainEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{At, Checker, DrillScriptError, Inject, Step, Target, entry, is_slug, parse_offset};

/// The events the server itself writes on a plan's stream (`plan-<uuid>`); the
/// rest are the domain's.
const PLAN_EVENTS: [&str; 4] = [
    "PlanProposed",
    "PlanApproved",
    "PlanCancelled",
    "PlanSuperseded",
];

/// When an expectation's clock starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The drill's start.
    Start,
    /// When the step with this label ran.
    Step(String),
    /// When the director fired this inject.
    Inject(String),
}

/// What has to be in the sandbox log for an expectation to be met.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `count` events of type `event_type` after the anchor, on the target's
    /// stream when one is named, whose data has each `where` field equal to
    /// the value given (a top-level field; `${name}` resolved to its id).
    Event {
        event_type: String,
        target: Option<Target>,
        matching: Map<String, Value>,
        count: u32,
    },
    /// An approval after the anchor of a plan for `incident` whose dispatched
    /// assignments serve at least `share` of the demand it planned of
    /// commodity `kind` (`bed`, `supply`, `team`), of `priority` if given.
    PlanApproved {
        incident: Uuid,
        kind: String,
        priority: Option<String>,
        share: f64,
    },
}

/// One expected player action.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub name: String,
    pub label: String,
    pub after: Anchor,
    /// How long after the anchor the action is due.
    pub within: Duration,
    pub when: Rule,
    /// The inject to fire when it is missed.
    pub contingency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectation {
    name: String,
    label: String,
    after: RawAnchor,
    within: String,
    when: RawRule,
    contingency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawAnchor {
    Start,
    Step(String),
    Inject(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawRule {
    Event(RawEventRule),
    PlanApproved(RawPlanRule),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventRule {
    #[serde(rename = "type")]
    event_type: String,
    target: Option<super::RawTarget>,
    #[serde(default, rename = "where")]
    matching: Map<String, Value>,
    count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlanRule {
    incident: String,
    kind: String,
    priority: Option<String>,
    share: f64,
}

/// Every event type a rule may name: the domain's and the plans'.
pub fn known_event_types() -> BTreeSet<&'static str> {
    use ercs_domain::beds::FacilityEvent;
    use ercs_domain::convertible::ConvertibleEvent;
    use ercs_domain::incident::IncidentEvent;
    use ercs_domain::supply::{DepotEvent, ItemEvent};
    use ercs_domain::team::TeamEvent;
    let mut types: BTreeSet<&'static str> = PLAN_EVENTS.into_iter().collect();
    for versions in [
        TeamEvent::versions(),
        IncidentEvent::versions(),
        FacilityEvent::versions(),
        ConvertibleEvent::versions(),
        DepotEvent::versions(),
        ItemEvent::versions(),
    ] {
        types.extend(versions.into_iter().map(|(name, _)| name));
    }
    types
}

impl Checker<'_> {
    pub(super) fn expectations(
        &self,
        raw: &[Value],
        (steps, injects): (&[Step], &[Inject]),
    ) -> Result<Vec<Expectation>, DrillScriptError> {
        let mut names = BTreeSet::new();
        let known = known_event_types();
        let mut found = Vec::with_capacity(raw.len());
        for (index, value) in raw.iter().enumerate() {
            let at = At {
                list: "expectations",
                index,
            };
            let raw: RawExpectation = entry(at, value)?;
            if !is_slug(&raw.name) || !names.insert(raw.name.clone()) {
                return Err(at.error("name", "must be a unique lowercase slug"));
            }
            if raw.label.trim().is_empty() {
                return Err(at.error("label", "must not be empty"));
            }
            let within = parse_offset(&raw.within)
                .ok_or_else(|| at.error("within", format!("{:?} is not +H:MM:SS", raw.within)))?;
            let inject_named = |name: &str| injects.iter().any(|i| i.name == name);
            let after = match raw.after {
                RawAnchor::Start => Anchor::Start,
                RawAnchor::Step(label)
                    if steps.iter().any(|s| s.label.as_ref() == Some(&label)) =>
                {
                    Anchor::Step(label)
                }
                RawAnchor::Inject(name) if inject_named(&name) => Anchor::Inject(name),
                RawAnchor::Step(label) => {
                    return Err(at.error("after.step", format!("no step is labelled {label:?}")));
                }
                RawAnchor::Inject(name) => {
                    return Err(at.error("after.inject", format!("no inject is named {name:?}")));
                }
            };
            if let Some(name) = raw.contingency.as_deref().filter(|n| !inject_named(n)) {
                return Err(at.error("contingency", format!("no inject is named {name:?}")));
            }
            let when = self.rule(at, raw.when, &known)?;
            found.push(Expectation {
                name: raw.name,
                label: raw.label,
                after,
                within,
                when,
                contingency: raw.contingency,
            });
        }
        Ok(found)
    }

    fn rule(&self, at: At, raw: RawRule, known: &BTreeSet<&str>) -> Result<Rule, DrillScriptError> {
        match raw {
            RawRule::Event(rule) => {
                if !known.contains(rule.event_type.as_str()) {
                    let reason = format!("{:?} is not an event type ERCS records", rule.event_type);
                    return Err(at.error("when.event.type", reason));
                }
                let target = rule.target.map(|t| self.target(at, t)).transpose()?;
                let mut matching = Value::Object(rule.matching);
                self.substitute(at, &mut matching, "when.event.where")?;
                let Value::Object(matching) = matching else {
                    unreachable!("an object stays an object")
                };
                let count = rule.count.unwrap_or(1);
                if count == 0 {
                    return Err(at.error("when.event.count", "must be at least 1"));
                }
                Ok(Rule::Event {
                    event_type: rule.event_type,
                    target,
                    matching,
                    count,
                })
            }
            RawRule::PlanApproved(rule) => {
                let mut incident = rule.incident;
                self.resolve(at, &mut incident, "when.plan_approved.incident")?;
                let incident = incident.parse().map_err(|_| {
                    at.error("when.plan_approved.incident", "must be a UUID or ${name}")
                })?;
                if !["bed", "supply", "team"].contains(&rule.kind.as_str()) {
                    return Err(at.error("when.plan_approved.kind", "must be bed, supply or team"));
                }
                let priorities = ["red", "orange", "yellow", "green"];
                if let Some(p) = rule.priority.as_deref().filter(|p| !priorities.contains(p)) {
                    let reason = format!("{p:?} is not red, orange, yellow or green");
                    return Err(at.error("when.plan_approved.priority", reason));
                }
                if !(rule.share > 0.0 && rule.share <= 1.0) {
                    return Err(at.error("when.plan_approved.share", "must be in (0, 1]"));
                }
                Ok(Rule::PlanApproved {
                    incident,
                    kind: rule.kind,
                    priority: rule.priority,
                    share: rule.share,
                })
            }
        }
    }
}
