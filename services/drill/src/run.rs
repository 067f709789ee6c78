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
use ercs_eventlog::{EventLog, Pages, Position};
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
    #[error("the drill has no inject {0:?}")]
    UnknownInject(String),
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
    let (report, _) = run_with_after_action(script, log, speed, progress).await?;
    Ok(report)
}

/// As [`run`], with the after-action report of the run beside its report.
pub async fn run_with_after_action(
    script: &DrillScript,
    log: Arc<dyn EventLog>,
    speed: Speed,
    progress: &ProgressBar,
) -> Result<(RunReport, crate::aar::AfterAction), RunError> {
    let started = Instant::now();
    let aggregates = Aggregates::new(Arc::clone(&log));
    let script = Arc::new(script.clone());
    let mut session = Session::start(
        Arc::clone(&script),
        Arc::clone(&log),
        aggregates,
        Start::Seed,
    )
    .await?;
    let mut clock = DrillClock::start(script.start, Utc::now(), speed);
    progress.set_length(script.steps().len() as u64);
    while let Some(at) = session.next_at() {
        wait_for(&mut clock, at).await;
        session.step().await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    let ended = session.ended_at();
    session.contingencies(ended).await?;
    let mut report = session.report(ended).await?;
    let after_action = crate::aar::after_action(log.as_ref(), &session, ended).await?;
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok((report, after_action))
}

/// What the sandbox starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Load the script's seed into the (empty) sandbox first.
    Seed,
    /// The sandbox already holds the network the drill starts from (a copy
    /// of the live log up to a point).
    Loaded,
}

/// When a step (by label) or an inject (by name) happened, in drill time.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Anchored {
    pub key: AnchorKey,
    pub at: DateTime<Utc>,
}

/// How far a drill has got: what a host stores beside the sandbox, so that a
/// drill resumes where it stood after a restart. A step is keyed in the
/// sandbox (`drill/<id>/step/<n>`), so one run again after a crash between its
/// append and this record's is answered from the log, not applied twice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Progress {
    /// The head once the starting network was in the sandbox: what the drill
    /// did comes after it.
    pub seeded: u64,
    /// The index of the next step to run.
    pub next_step: usize,
    pub anchors: Vec<Anchored>,
    pub refused: Vec<Refused>,
    pub fired: Vec<Fired>,
}

/// A drill in progress on its sandbox: the script, the command path on the
/// sandbox log, and how far it has got. A host (the CLI's headless run, the
/// service's hosted drills) decides when each step is due; the session runs it.
pub struct Session {
    script: Arc<DrillScript>,
    log: Arc<dyn EventLog>,
    aggregates: Aggregates,
    actor: Actor,
    progress: Progress,
}

impl Session {
    /// A new session of `script` on `log`, which `aggregates` serves. With
    /// [`Start::Seed`] the script's seed is loaded first (idempotently).
    pub async fn start(
        script: Arc<DrillScript>,
        log: Arc<dyn EventLog>,
        aggregates: Aggregates,
        start: Start,
    ) -> Result<Session, RunError> {
        if script.seed != "chongqing" {
            return Err(RunError::UnknownSeed(script.seed.clone()));
        }
        if start == Start::Seed {
            seeding::load(
                Arc::clone(&log),
                SeedName::Chongqing,
                &ProgressBar::hidden(),
            )
            .await?;
        }
        let seeded = log.head().await?.0;
        let progress = Progress {
            seeded,
            ..Progress::default()
        };
        Ok(Session::resume(script, log, aggregates, progress))
    }

    /// A session that goes on from `progress` (stored by its host).
    pub fn resume(
        script: Arc<DrillScript>,
        log: Arc<dyn EventLog>,
        aggregates: Aggregates,
        progress: Progress,
    ) -> Session {
        let actor =
            Actor::parse(format!("drill:{}", script.id)).expect("a drill id is a valid actor");
        Session {
            script,
            log,
            aggregates,
            actor,
            progress,
        }
    }

    pub fn script(&self) -> &DrillScript {
        &self.script
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The drill time of the next step, `None` once every step has run.
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        let step = self.script.steps().get(self.progress.next_step)?;
        Some(self.script.time_of(step))
    }

    /// Drill time of the last step: where the scripted part of the drill ends.
    pub fn ended_at(&self) -> DateTime<Utc> {
        self.script
            .steps()
            .last()
            .map_or(self.script.start, |s| self.script.time_of(s))
    }

    /// Runs the next step at its drill time, after firing the contingencies
    /// that fell due before it. `false` when no step is left.
    pub async fn step(&mut self) -> Result<bool, RunError> {
        let index = self.progress.next_step;
        let Some(step) = self.script.steps().get(index).cloned() else {
            return Ok(false);
        };
        let at = self.script.time_of(&step);
        self.contingencies(at).await?;
        let key = format!("drill/{}/step/{index}", self.script.id);
        let what = (Some(index), step.label.clone());
        self.send(what, (&step.target, &step.command), at, key)
            .await?;
        if let Some(label) = &step.label {
            self.anchor(AnchorKey::Step(label.clone()), at);
        }
        self.progress.next_step = index + 1;
        Ok(true)
    }

    /// Fires the script's inject `name` at drill time `at`, as the director
    /// asks (a scripted or a contingency inject). An inject fires once: a
    /// second time is `Ok(false)`.
    pub async fn inject(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        because: &str,
    ) -> Result<bool, RunError> {
        let Some(inject) = self
            .script
            .injects()
            .iter()
            .find(|i| i.name == name)
            .cloned()
        else {
            return Err(RunError::UnknownInject(name.to_owned()));
        };
        if self.progress.fired.iter().any(|f| f.inject == name) {
            return Ok(false);
        }
        let key = format!("drill/{}/inject/{name}", self.script.id);
        let what = (None, Some(inject.label.clone()));
        self.send(what, (&inject.target, &inject.command), at, key)
            .await?;
        self.anchor(AnchorKey::Inject(name.to_owned()), at);
        self.progress.fired.push(Fired {
            inject: name.to_owned(),
            label: inject.label.clone(),
            at,
            because: because.to_owned(),
        });
        Ok(true)
    }

    /// What the drill did as its record stands at drill time `now`.
    pub async fn report(&self, now: DateTime<Utc>) -> Result<RunReport, RunError> {
        Ok(RunReport {
            drill: self.script.id.clone(),
            title: self.script.title.zh.clone(),
            started_at: self.script.start,
            ended_at: self.ended_at(),
            steps: self.progress.next_step,
            events: self.log.head().await?.0 - self.progress.seeded,
            refused: self.progress.refused.clone(),
            fired: self.progress.fired.clone(),
            expectations: self.judge(now).await?,
            wall_seconds: 0.0,
        })
    }

    fn anchor(&mut self, key: AnchorKey, at: DateTime<Utc>) {
        if !self.progress.anchors.iter().any(|a| a.key == key) {
            self.progress.anchors.push(Anchored { key, at });
        }
    }

    /// Sends one step's or inject's command at drill time `at`, keyed by `key`.
    /// A refusal is noted and the drill goes on.
    async fn send(
        &mut self,
        (step, label): (Option<usize>, Option<String>),
        (target, command): (&Target, &DrillCommand),
        at: DateTime<Utc>,
        key: String,
    ) -> Result<(), RunError> {
        let context = CommandContext::new(self.actor.clone(), at);
        // Correlated by its key, so two runs of the drill record alike.
        let correlation = Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes());
        let mut metadata = Metadata {
            correlation_id: correlation,
            ..Metadata::new(self.actor.to_string()).with_idempotency_key(key)
        };
        metadata.drill_id = Some(self.script.id.clone());
        match execute(&self.aggregates, (target, command), context, &metadata).await {
            Ok(()) => Ok(()),
            Err(Failure::Refused(reason)) => {
                self.progress.refused.push(Refused {
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
    pub async fn judge(&self, now: DateTime<Utc>) -> Result<Vec<Outcome>, RunError> {
        let observed = observed_after(self.log.as_ref(), Position(self.progress.seeded)).await?;
        let anchors: BTreeMap<AnchorKey, DateTime<Utc>> = (self.progress.anchors.iter())
            .map(|a| (a.key.clone(), a.at))
            .collect();
        Ok(evaluate(
            self.script.expectations(),
            (self.script.start, &anchors),
            &observed,
            now,
            &stream_of,
        ))
    }

    /// Fires, at the drill time each fell due, the contingency of every
    /// expectation missed by `now` whose inject has not been fired yet.
    pub async fn contingencies(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
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
            .filter(|(_, inject, _)| !self.progress.fired.iter().any(|f| &f.inject == inject))
            .collect();
        due.sort();
        for (at, name, because) in due {
            if self.script.injects().iter().any(|i| i.name == name) {
                self.inject(&name, at, &because).await?;
            }
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

/// The drill time an event's data says it happened at: the `at` its command
/// was stamped with (every domain event carries it; a plan's events carry
/// when it was proposed or approved instead).
pub fn stamped_at(data: &serde_json::Value) -> Option<DateTime<Utc>> {
    ["at", "proposed_at", "approved_at"]
        .iter()
        .find_map(|field| data[field].as_str()?.parse().ok())
}

/// The drill time `event` happened at, if its data says.
pub fn drill_time(event: &ercs_eventlog::RecordedEvent) -> Option<DateTime<Utc>> {
    stamped_at(&event.data.deserialize().ok()?)
}

/// One event of the sandbox as the drill's judges read it: who sent it, and
/// when in drill time.
#[derive(Debug, Clone)]
pub(crate) struct Logged {
    /// The metadata's actor: `seed`, `drill:<id>` or a trainee.
    pub actor: String,
    pub observed: Observed,
}

/// The sandbox's events after `from`, each at its drill time: the `at` its
/// command was stamped with (every domain event carries it; a plan's events
/// carry when it was proposed, approved, cancelled), else when it was
/// recorded. At most `limit` events; `true` when more were left unread.
pub(crate) async fn read_after(
    log: &dyn EventLog,
    from: Position,
    limit: usize,
) -> Result<(Vec<Logged>, bool), RunError> {
    let mut logged = Vec::new();
    let mut pages = Pages::new(log, from, Position(u64::MAX), PAGE);
    while let Some(page) = pages.next().await? {
        for event in &page {
            if logged.len() == limit {
                return Ok((logged, true));
            }
            let data: serde_json::Value = event.data.deserialize().unwrap_or_default();
            let metadata: serde_json::Value = event.metadata.deserialize().unwrap_or_default();
            let at = stamped_at(&data).unwrap_or(event.recorded_at);
            logged.push(Logged {
                actor: metadata["actor"].as_str().unwrap_or_default().to_owned(),
                observed: Observed {
                    at,
                    stream: event.stream.to_string(),
                    event_type: event.event_type.to_string(),
                    data,
                },
            });
        }
    }
    Ok((logged, false))
}

async fn observed_after(log: &dyn EventLog, from: Position) -> Result<Vec<Observed>, RunError> {
    let (logged, _) = read_after(log, from, usize::MAX).await?;
    Ok(logged.into_iter().map(|l| l.observed).collect())
}

#[cfg(test)]
mod tests {
    use ercs_eventlog::sqlite::SqliteEventLog;
    use ercs_eventlog::{EventData, EventType, ExpectedRevision, JsonObject, StreamName};

    use super::*;

    async fn log_of(events: usize) -> (tempfile::TempDir, SqliteEventLog) {
        let dir = tempfile::tempdir().unwrap();
        let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
        let stream = StreamName::new("incident-1").unwrap();
        let data = JsonObject::parse(r#"{"at":"2026-03-02T00:00:00Z"}"#).unwrap();
        let batch = (0..events)
            .map(|_| {
                EventData::new(
                    Uuid::new_v4(),
                    EventType::new("Noted").unwrap(),
                    data.clone(),
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        log.append(&stream, ExpectedRevision::Any, batch)
            .await
            .unwrap();
        (dir, log)
    }

    #[tokio::test]
    async fn a_bounded_read_stops_at_its_limit_and_says_more_were_left() {
        let (_dir, log) = log_of(5).await;
        let (read, more) = read_after(&log, Position(0), 3).await.unwrap();
        assert_eq!((read.len(), more), (3, true));
        let (read, more) = read_after(&log, Position(0), 5).await.unwrap();
        assert_eq!((read.len(), more), (5, false));
        let (read, more) = read_after(&log, Position(2), 5).await.unwrap();
        assert_eq!((read.len(), more), (3, false), "only what came after");
    }
}
