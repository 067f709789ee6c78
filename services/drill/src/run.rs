//! A scripted drill run headless (no trainees): its sandbox log is seeded, the
//! script's steps run at their drill times through the command path, each
//! stamped with its drill time, and the expectations are judged from the
//! sandbox's record at the end. The live log is never opened.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ercs_commands::{Aggregates, CommandError, Expect, Metadata};
use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::decider::{CommandContext, Decider, Stamped};
use ercs_domain::event::DomainEvent;
use ercs_domain::ids::{DepotId, FacilityId, IncidentId, TeamId};
use ercs_domain::incident::Incident;
use ercs_domain::supply::depot::Depot;
use ercs_domain::team::Team;
use ercs_domain::values::Actor;
use ercs_eventlog::{Direction, EventLog, Filter, Position, ReadFrom};
use ercs_network::seeding::{self, SeedName};
use ercs_seed::drill_script::{DrillCommand, DrillScript, Reference, Target};
use ercs_seed::inventory::seed_id;
use indicatif::ProgressBar;
use serde::Serialize;
use uuid::Uuid;

use crate::clock::{DrillClock, Speed};
use crate::evaluate::{AnchorKey, Observed, Outcome, Status, evaluate};

/// Events read from the sandbox per page when judging.
const PAGE: usize = 4096;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the drill expects the seed {0:?}, which ERCS does not have")]
    UnknownSeed(String),
    #[error("seeding the sandbox: {0}")]
    Seed(#[from] seeding::SeedLoadError),
    #[error("the sandbox log failed: {0}")]
    Log(#[from] ercs_eventlog::Error),
    #[error("{label}: {message}")]
    Step { label: String, message: String },
}

/// A step the domain refused: the sandbox shows what happened, and the run goes on.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Refused {
    /// The step's index; `None` for an inject.
    pub step: Option<usize>,
    pub label: Option<String>,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// What a headless run did.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunReport {
    pub drill: String,
    pub title: String,
    pub started_at: DateTime<Utc>,
    /// Drill time of the last step: where the drill ends.
    pub ended_at: DateTime<Utc>,
    pub steps: usize,
    pub refused: Vec<Refused>,
    /// Contingency injects fired for missed expectations, in drill-time order.
    pub fired: Vec<Fired>,
    /// Events the steps appended to the sandbox (the seed's not counted).
    pub events: u64,
    pub expectations: Vec<Outcome>,
    pub wall_seconds: f64,
}

/// A contingency inject the run fired because an expectation was missed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Fired {
    pub inject: String,
    pub label: String,
    /// Drill time: when the expectation that asked for it fell due.
    pub at: DateTime<Utc>,
    /// The expectation that was missed.
    pub because: String,
}

/// Runs `script` headless on `log` (a fresh sandbox) at `speed`, advancing
/// `progress` by one per step. An expectation missed during the run fires its
/// contingency inject at the drill time it fell due, once.
pub async fn run(
    script: &DrillScript,
    log: Arc<dyn EventLog>,
    speed: Speed,
    progress: &ProgressBar,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    if script.seed != "chongqing" {
        return Err(RunError::UnknownSeed(script.seed.clone()));
    }
    seeding::load(
        Arc::clone(&log),
        SeedName::Chongqing,
        &ProgressBar::hidden(),
    )
    .await?;
    let mut runner = Runner {
        script,
        seeded: log.head().await?,
        aggregates: Aggregates::new(Arc::clone(&log)),
        log,
        actor: Actor::parse(format!("drill:{}", script.id)).expect("a drill id is a valid actor"),
        anchors: BTreeMap::new(),
        refused: Vec::new(),
        fired: Vec::new(),
    };
    let mut clock = DrillClock::start(script.start, Utc::now(), speed);
    progress.set_length(script.steps().len() as u64);
    for (index, step) in script.steps().iter().enumerate() {
        let at = script.time_of(step);
        runner.contingencies(at).await?;
        wait_for(&mut clock, at).await;
        let key = format!("drill/{}/step/{index}", script.id);
        let what = (Some(index), step.label.clone());
        runner
            .send(what, (&step.target, &step.command), at, key)
            .await?;
        if let Some(label) = &step.label {
            let anchor = AnchorKey::Step(label.clone());
            runner.anchors.entry(anchor).or_insert(at);
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let ended = script
        .steps()
        .last()
        .map_or(script.start, |s| script.time_of(s));
    runner.contingencies(ended).await?;
    let expectations = runner.judge(ended).await?;
    Ok(RunReport {
        drill: script.id.clone(),
        title: script.title.zh.clone(),
        started_at: script.start,
        ended_at: ended,
        steps: script.steps().len(),
        events: runner.log.head().await?.0 - runner.seeded.0,
        refused: runner.refused,
        fired: runner.fired,
        expectations,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// A run in progress: the sandbox, and what has happened so far.
struct Runner<'a> {
    script: &'a DrillScript,
    log: Arc<dyn EventLog>,
    /// The head once the seed was loaded: what the drill wrote comes after.
    seeded: Position,
    aggregates: Aggregates,
    actor: Actor,
    anchors: BTreeMap<AnchorKey, DateTime<Utc>>,
    refused: Vec<Refused>,
    fired: Vec<Fired>,
}

impl Runner<'_> {
    /// Sends one step's or inject's command at drill time `at`, keyed by `key`.
    /// A refusal is noted and the run goes on.
    async fn send(
        &mut self,
        (step, label): (Option<usize>, Option<String>),
        (target, command): (&Target, &DrillCommand),
        at: DateTime<Utc>,
        key: String,
    ) -> Result<(), RunError> {
        let context = CommandContext::new(self.actor.clone(), at);
        let metadata = Metadata::new(self.actor.to_string()).with_idempotency_key(key);
        match execute(&self.aggregates, (target, command), context, &metadata).await {
            Ok(()) => Ok(()),
            Err(Failure::Refused(reason)) => {
                self.refused.push(Refused {
                    step,
                    label,
                    at,
                    reason,
                });
                Ok(())
            }
            Err(Failure::Failed(message)) => Err(RunError::Step {
                label: label.unwrap_or_default(),
                message,
            }),
        }
    }

    /// The expectations as the record stands at drill time `now`.
    async fn judge(&self, now: DateTime<Utc>) -> Result<Vec<Outcome>, RunError> {
        let observed = observed_after(self.log.as_ref(), self.seeded).await?;
        Ok(evaluate(
            self.script.expectations(),
            (self.script.start, &self.anchors),
            &observed,
            now,
            &stream_of,
        ))
    }

    /// Fires, at the drill time each fell due, the contingency of every
    /// expectation missed by `now` whose inject has not been fired yet.
    async fn contingencies(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
        if !self
            .script
            .expectations()
            .iter()
            .any(|e| e.contingency.is_some())
        {
            return Ok(());
        }
        let mut due: Vec<(DateTime<Utc>, String, String)> = (self.judge(now).await?.into_iter())
            .filter(|o| o.status == Status::Missed)
            .filter_map(|o| Some((o.due_at?, o.contingency?, o.name)))
            .filter(|(_, inject, _)| !self.fired.iter().any(|f| &f.inject == inject))
            .collect();
        due.sort();
        for (at, name, because) in due {
            let Some(inject) = self.script.injects().iter().find(|i| i.name == name) else {
                continue;
            };
            if self.fired.iter().any(|f| f.inject == name) {
                continue;
            }
            let key = format!("drill/{}/inject/{name}", self.script.id);
            let what = (None, Some(inject.label.clone()));
            self.send(what, (&inject.target, &inject.command), at, key)
                .await?;
            self.anchors.insert(AnchorKey::Inject(name.clone()), at);
            self.fired.push(Fired {
                inject: name,
                label: inject.label.clone(),
                at,
                because,
            });
        }
        Ok(())
    }
}

/// Waits until the clock shows `at`; as fast as possible, moves it there.
async fn wait_for(clock: &mut DrillClock, at: DateTime<Utc>) {
    if clock.speed() == Speed::AsFastAsPossible {
        clock.advance_to(Utc::now(), at);
        return;
    }
    while let Some(wait) = clock.wall_until(Utc::now(), at) {
        if wait.is_zero() {
            return;
        }
        tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    }
}

/// The stream a target's events are on (`team-<uuid>`, …).
pub fn stream_of(target: &Target) -> Option<String> {
    let prefix = match target.kind {
        ercs_seed::drill_script::AggregateKind::Incident => "incident",
        ercs_seed::drill_script::AggregateKind::Team => "team",
        ercs_seed::drill_script::AggregateKind::Facility => "facility",
        ercs_seed::drill_script::AggregateKind::Convertible => "convertible",
        ercs_seed::drill_script::AggregateKind::Depot => "depot",
    };
    Some(format!("{prefix}-{}", uuid_of(&target.reference)))
}

fn uuid_of(reference: &Reference) -> Uuid {
    match reference {
        Reference::Declared { id, .. } | Reference::Id(id) => *id,
        Reference::Seed(key) => seed_id(key),
    }
}

/// A step's command refused by the domain (the run goes on), or a failure of
/// the sandbox that stops the run.
enum Failure {
    Refused(String),
    Failed(String),
}

async fn execute(
    aggregates: &Aggregates,
    (target, command): (&Target, &DrillCommand),
    context: CommandContext,
    metadata: &Metadata,
) -> Result<(), Failure> {
    let id = uuid_of(&target.reference);
    match command.clone() {
        DrillCommand::Incident(c) => {
            send::<Incident, _>(aggregates, &IncidentId::from_uuid(id), context, c, metadata).await
        }
        DrillCommand::Team(c) => {
            send::<Team, _>(aggregates, &TeamId::from_uuid(id), context, c, metadata).await
        }
        DrillCommand::Facility(c) => {
            send::<Facility, _>(aggregates, &FacilityId::from_uuid(id), context, c, metadata).await
        }
        DrillCommand::Convertible(c) => {
            let id = FacilityId::from_uuid(id);
            send::<ConvertibleFacility, _>(aggregates, &id, context, c, metadata).await
        }
        DrillCommand::Depot(c) => {
            send::<Depot, _>(aggregates, &DepotId::from_uuid(id), context, c, metadata).await
        }
    }
}

async fn send<D, C>(
    aggregates: &Aggregates,
    id: &D::Id,
    context: CommandContext,
    command: C,
    metadata: &Metadata,
) -> Result<(), Failure>
where
    D: Decider<Command = Stamped<C>>,
    D::Event: DomainEvent,
    D::Error: std::fmt::Display,
    C: Clone,
{
    let stamped = Stamped { context, command };
    aggregates
        .execute::<D>(id, Expect::Latest, stamped, metadata)
        .await
        .map(|_| ())
        .map_err(|error| match error {
            CommandError::Rejected(refusal) => Failure::Refused(refusal.to_string()),
            other => Failure::Failed(other.to_string()),
        })
}

/// The sandbox's events after `from`, each at its drill time: the `at` its
/// command was stamped with (every domain event carries it), else when it
/// was recorded.
async fn observed_after(log: &dyn EventLog, from: Position) -> Result<Vec<Observed>, RunError> {
    let mut observed = Vec::new();
    let mut next = Position(from.0 + 1);
    loop {
        let page = log
            .read_all(
                ReadFrom::At(next),
                Direction::Forwards,
                &Filter::all(),
                PAGE,
            )
            .await?;
        let Some(last) = page.last() else { break };
        next = Position(last.position.0 + 1);
        for event in &page {
            let data: serde_json::Value = event.data.deserialize().unwrap_or_default();
            let at = data["at"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(event.recorded_at);
            observed.push(Observed {
                at,
                stream: event.stream.to_string(),
                event_type: event.event_type.to_string(),
                data,
            });
        }
    }
    Ok(observed)
}
