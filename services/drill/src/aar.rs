//! The after-action report (演练评估报告): what a drill did, read off its
//! sandbox log after the seed. Who did what when (the script's steps, the
//! injects and why they fired, the trainees' actions), how fast each recorded
//! demand was planned, approved and met, how much demand stood unmet over drill
//! time, how much of what was dispatched arrived within its service standard,
//! which tiers the resources came from, and the judged expectations.
//!
//! Everything is derived from the record, so two runs of one script compare
//! figure by figure ([`compare`]), and the report prints as one self-contained
//! page ([`AfterAction::html`]). Where the log cannot tell (an arrival nobody
//! reported), the figure is `None`, not a guess.

mod compare;
mod html;
mod plans;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_eventlog::{EventLog, Position};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use compare::{Comparison, DemandPair, ExpectationPair, KindPair, compare};

use crate::evaluate::Outcome;
use crate::run::{Logged, RunError, Session, read_after, stream_of};
use plans::Plans;

/// The report reads at most this many events of the sandbox after the seed.
pub const READ_LIMIT: usize = 200_000;

/// The after-action report of one drill, as its record stood at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterAction {
    pub drill: String,
    pub title: String,
    pub started_at: DateTime<Utc>,
    /// Drill time the report was made at.
    pub now: DateTime<Utc>,
    /// Events read after the seed.
    pub events: usize,
    /// The log held more than [`READ_LIMIT`] events after the seed; the
    /// figures cover the first ones only.
    pub truncated: bool,
    pub timeline: Vec<Entry>,
    pub demands: Vec<DemandResponse>,
    pub unmet: Vec<UnmetPoint>,
    pub within_standard: Vec<WithinStandard>,
    pub drawn_by_tier: Vec<Drawn>,
    pub expectations: Vec<Outcome>,
}

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A step of the script (导演部脚本).
    Step,
    /// An inject the director fired.
    ScriptedInject,
    /// An inject fired because an expectation was missed.
    ContingencyInject,
    /// A trainee's action: an event nobody but a player sent.
    Action,
}

/// One line of the timeline, in drill time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// The actor: `drill:<id>` for the script, else the trainee.
    pub who: String,
    /// The step's or inject's label, or the event type.
    pub what: String,
    /// In Chinese: the narrative, or what the event did.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Why an inject fired; why a step was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Beds, supplies or teams: the three kinds of demand an incident records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Beds,
    Supplies,
    Teams,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Beds, Kind::Supplies, Kind::Teams];

    /// The kind of a routing commodity (`bed:…`, `supply:…`, `team:…`).
    pub fn of_commodity(commodity: &str) -> Option<Kind> {
        match commodity.split(':').next()? {
            "bed" => Some(Kind::Beds),
            "supply" => Some(Kind::Supplies),
            "team" => Some(Kind::Teams),
            _ => None,
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Kind::Beds => "床位",
            Kind::Supplies => "物资",
            Kind::Teams => "队伍",
        }
    }
}

/// One demand an incident recorded, and how the drill answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandResponse {
    pub kind: Kind,
    pub incident: String,
    /// The routing commodity, e.g. `bed:general_isolation`.
    pub commodity: String,
    /// The township or area it is for; `None` for teams (they go to the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The level the demand was set to.
    pub quantity: u64,
    pub recorded_at: DateTime<Utc>,
    pub by: String,
    /// The first plan proposed after it for its incident with an assignment
    /// of its commodity to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Minutes from the demand to that plan's proposal, approval, and the
    /// first arrival of what its approval dispatched for this demand
    /// (TeamDeployed, PatientsAdmitted, DeliverySigned), when the log shows it.
    pub minutes_to_plan: Option<f64>,
    pub minutes_to_approval: Option<f64>,
    pub minutes_to_arrival: Option<f64>,
}

impl DemandResponse {
    /// What a demand is for: its commodity and where.
    pub fn key(&self) -> String {
        match &self.area {
            Some(area) => format!("{} @ {area}", self.commodity),
            None => self.commodity.clone(),
        }
    }
}

/// Demand against what approved plans dispatched for it, of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The sum of the levels the incidents' demands stand at.
    pub demanded: u64,
    /// Units the approved (not cancelled, not superseded) plans dispatched to them.
    pub approved: u64,
    /// Per demand, what it wants beyond what was dispatched to it, summed.
    pub unmet: u64,
}

/// Unmet demand at a drill time where it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnmetPoint {
    pub at: DateTime<Utc>,
    pub beds: Tally,
    pub supplies: Tally,
    pub teams: Tally,
}

impl UnmetPoint {
    pub fn of(&self, kind: Kind) -> Tally {
        match kind {
            Kind::Beds => self.beds,
            Kind::Supplies => self.supplies,
            Kind::Teams => self.teams,
        }
    }
}

/// Of the units approved plans dispatched of one kind, those whose planned
/// arrival was within the service standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithinStandard {
    pub kind: Kind,
    pub units: u64,
    pub within: u64,
    /// `within / units`; `None` when nothing was dispatched.
    pub share: Option<f64>,
}

/// Units approved plans dispatched of one kind from sources of one tier: the
/// tier the demand's area shares with the source (township, district,
/// region, city, beyond).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawn {
    pub tier: String,
    pub kind: Kind,
    pub units: u64,
}

/// The after-action report of `session`, whose sandbox is `log`, as the
/// record stands at drill time `now`.
pub async fn after_action(
    log: &dyn EventLog,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<AfterAction, RunError> {
    let seeded = Position(session.progress().seeded);
    let (events, truncated) = read_after(log, seeded, READ_LIMIT).await?;
    let plans = Plans::read(&events);
    let demands = demands(&events);
    Ok(AfterAction {
        drill: session.script().id.clone(),
        title: session.script().title.zh.clone(),
        started_at: session.script().start,
        now,
        events: events.len(),
        truncated,
        timeline: timeline(session, &events),
        demands: demands.iter().map(|d| plans.response(d, &events)).collect(),
        unmet: plans.unmet(&events),
        within_standard: plans.within_standard(),
        drawn_by_tier: plans.drawn_by_tier(),
        expectations: session.judge(now).await?,
    })
}

/// Whether an actor is a trainee: neither the seed nor a drill's script.
fn is_player(actor: &str) -> bool {
    actor != "seed" && !actor.starts_with("drill:")
}

fn timeline(session: &Session, events: &[Logged]) -> Vec<Entry> {
    let script = session.script();
    let progress = session.progress();
    let who = format!("drill:{}", script.id);
    let steps = script.steps().iter().take(progress.next_step).enumerate();
    let mut entries: Vec<Entry> = steps
        .map(|(index, step)| Entry {
            at: script.time_of(step),
            kind: EntryKind::Step,
            who: who.clone(),
            what: step
                .label
                .clone()
                .unwrap_or_else(|| format!("第 {} 步", index + 1)),
            description: step.narrative.clone().unwrap_or_default(),
            stream: stream_of(&step.target),
            why: (progress.refused.iter())
                .find(|r| r.step == Some(index))
                .map(|r| format!("被拒绝：{}", r.reason)),
        })
        .collect();
    for fired in &progress.fired {
        let inject = script.injects().iter().find(|i| i.name == fired.inject);
        let contingency = script.expectations().iter().any(|e| {
            e.name == fired.because && e.contingency.as_deref() == Some(fired.inject.as_str())
        });
        entries.push(Entry {
            at: fired.at,
            kind: if contingency {
                EntryKind::ContingencyInject
            } else {
                EntryKind::ScriptedInject
            },
            who: who.clone(),
            what: fired.label.clone(),
            description: inject.and_then(|i| i.narrative.clone()).unwrap_or_default(),
            stream: inject.and_then(|i| stream_of(&i.target)),
            why: Some(if contingency {
                let label = script
                    .expectations()
                    .iter()
                    .find(|e| e.name == fired.because);
                format!(
                    "未达成预期：{}",
                    label.map_or(fired.because.as_str(), |e| e.label.as_str())
                )
            } else {
                fired.because.clone()
            }),
        });
    }
    entries.extend(
        events
            .iter()
            .filter(|e| is_player(&e.actor))
            .map(|e| Entry {
                at: e.observed.at,
                kind: EntryKind::Action,
                who: e.actor.clone(),
                what: e.observed.event_type.clone(),
                description: describe(&e.observed.event_type, &e.observed.data),
                stream: Some(e.observed.stream.clone()),
                why: None,
            }),
    );
    // Stable: at one drill time the script's steps come before what players did.
    entries.sort_by_key(|e| e.at);
    entries
}

/// A demand event read: which incident, commodity, demand (as plans name it:
/// `area/<code>` or `site`) and level.
#[derive(Debug, Clone)]
pub(crate) struct Demand {
    pub kind: Kind,
    pub incident: String,
    pub commodity: String,
    pub area: Option<String>,
    pub quantity: u64,
    pub at: DateTime<Utc>,
    pub by: String,
}

impl Demand {
    /// The routing core's name for the demand point (`area/<code>`, `site`).
    pub fn point(&self) -> String {
        self.area
            .as_ref()
            .map_or_else(|| "site".to_owned(), |a| format!("area/{a}"))
    }

    pub fn read(event: &Logged) -> Option<Demand> {
        let data = &event.observed.data;
        let text = |field: &str| data[field].as_str().map(str::to_owned);
        let (kind, commodity, area, quantity) = match event.observed.event_type.as_str() {
            "BedDemandRecorded" => (
                Kind::Beds,
                format!("bed:{}", text("bed_type")?),
                text("township"),
                &data["beds"],
            ),
            "SupplyDemandRecorded" => (
                Kind::Supplies,
                format!("supply:{}", text("item")?),
                text("area"),
                &data["quantity"],
            ),
            "TeamDemandRecorded" => (
                Kind::Teams,
                format!("team:{}", text("kind")?),
                None,
                &data["teams"],
            ),
            _ => return None,
        };
        Some(Demand {
            kind,
            incident: text("incident_id")?,
            commodity,
            area,
            quantity: quantity.as_u64()?,
            at: event.observed.at,
            by: event.actor.clone(),
        })
    }
}

fn demands(events: &[Logged]) -> Vec<Demand> {
    events.iter().filter_map(Demand::read).collect()
}

/// A short Chinese description of what an event did, where one is easy.
fn describe(event_type: &str, data: &Value) -> String {
    let n = |field: &str| {
        data[field]
            .as_u64()
            .map_or(String::new(), |n| n.to_string())
    };
    let s = |field: &str| data[field].as_str().unwrap_or_default().to_owned();
    match event_type {
        "IncidentDeclared" => format!("宣布事件：{}", s("title")),
        "ResponseLevelRaised" => format!("响应级别提升至 {}", s("level")),
        "AffectedAreasExtended" => "扩大受影响区域".to_owned(),
        "BedDemandRecorded" => format!("登记床位需求 {} {} 张", s("bed_type"), n("beds")),
        "SupplyDemandRecorded" => format!("登记物资需求 {} {}", s("item"), n("quantity")),
        "TeamDemandRecorded" => format!("登记队伍需求 {} {} 支", s("kind"), n("teams")),
        "IncidentClosed" => "结束响应".to_owned(),
        "TeamMobilised" => "队伍出动".to_owned(),
        "TeamDeployed" => format!("队伍到达现场（{}）", s("area")),
        "TeamDemobilised" => "队伍撤离".to_owned(),
        "BedsReserved" => format!("预留床位 {} {} 张", s("bed_type"), n("beds")),
        "PatientsAdmitted" => format!("收治患者 {} 人", n("patients")),
        "StockReserved" => format!("预留物资 {}", s("item")),
        "StockIssued" => format!("物资出库 {}", s("item")),
        "DeliverySigned" => format!("物资签收（{}）", s("received_by")),
        "PlanProposed" => "提出调度方案".to_owned(),
        "PlanApproved" => "批准调度方案".to_owned(),
        "PlanCancelled" => "取消调度方案".to_owned(),
        "PlanSuperseded" => "调度方案被替代".to_owned(),
        _ => String::new(),
    }
}

/// Minutes from `from` to `to`.
fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 60.0
}

/// Sums of units by a key, in key order.
fn tally<K: Ord>(items: impl IntoIterator<Item = (K, u64)>) -> BTreeMap<K, u64> {
    let mut sums = BTreeMap::new();
    for (key, units) in items {
        *sums.entry(key).or_insert(0) += units;
    }
    sums
}
