//! Hosted drills (演练): each drill is a network of its own — its own sandbox
//! log `DATA/drills/<id>/events.db`, view, feed and command path, built by the
//! same [`ercs_network::Network::start`] as the live one — where trainees play on
//! the same endpoints under `/api/v1/drills/{drill}/…` while the drill's
//! script runs on its own clock. Nothing a drill does is written to the live
//! log: a drill started from the live network copies the live log's events
//! into its sandbox once, and from then on reads and writes the sandbox only.
//!
//! A drill's record (`drill.json`: its script, clock and progress) is written
//! after every step and every change of its clock, so drills survive a
//! restart of the service: they come back paused at the drill time they had.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use ercs_drill::{DrillClock, Progress, Session, Speed, Start};
use ercs_eventlog::{
    Direction, EventLog, Filter, Pages, Position, ReadFrom, RecordClock, RecordedEvent,
    SqliteEventLog, SqliteImport, SqliteOptions,
};
use ercs_seed::drill_script::{DrillScript, SHIPPED};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::problem::Problem;

mod replay;

use crate::startup::Shared;
use crate::state::{AppState, Clock};
pub use replay::Cursor;
use replay::{Engine, Replay};

/// Free injects one drill keeps (its record is rewritten after each).
const MAX_FREE_INJECTS: usize = 1000;

/// Events copied per page when a drill starts from the live network.
const COPY_PAGE: usize = 1024;

/// Where a drill's network starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// The script's seed alone, loaded into the empty sandbox.
    #[default]
    Seed,
    /// A copy of the live network as of `position` of the live log (its
    /// head when not given).
    Live {
        #[serde(default)]
        position: Option<u64>,
    },
}

/// What starting a drill takes.
pub struct Starting {
    pub script: DrillScript,
    /// The script's text, kept beside the sandbox.
    pub text: String,
    pub from: StartFrom,
    pub speed: Speed,
    pub paused: bool,
    pub participants: Vec<String>,
    pub started_by: String,
    /// A recorded range of the live log to replay (then `script` is made
    /// for it, and `from` is the live network just before the range).
    pub range: Option<Range>,
    pub(crate) cursor: Option<Cursor>,
}

impl Starting {
    pub fn new(script: DrillScript, text: String) -> Starting {
        Starting {
            script,
            text,
            from: StartFrom::Seed,
            speed: Speed::Factor(1.0),
            paused: false,
            participants: Vec::new(),
            started_by: String::new(),
            range: None,
            cursor: None,
        }
    }
}

/// A recorded range of the live log: after position `from` (or the events
/// recorded from `since`) through position `to` (or those recorded until
/// `until`); by default the whole log.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(default)]
    pub from: Option<u64>,
    #[serde(default)]
    pub to: Option<u64>,
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// A free inject (自由注入) the director added: a message to the players,
/// recorded in the drill's timeline at the drill time it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeInject {
    pub at: DateTime<Utc>,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    pub by: String,
}

/// What is stored of a drill beside its sandbox (`drill.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The script's own id and title.
    pub script: String,
    pub title: String,
    pub started_by: String,
    /// Wall time the drill was started.
    pub created_at: DateTime<Utc>,
    pub from: StartFrom,
    /// Subjects of live accounts let into the drill (live roles stay out of a
    /// drill unless granted).
    pub participants: Vec<String>,
    pub clock: DrillClock,
    pub progress: Progress,
    pub free_injects: Vec<FreeInject>,
    /// For a replay of the live log, where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<Cursor>,
    /// Wall time of this record: a drill restored after a restart resumes
    /// from the drill time its clock showed then.
    pub saved_at: DateTime<Utc>,
}

/// One hosted drill.
pub struct Hosted {
    pub id: String,
    /// The script's id: what every event of the drill names as its drill
    /// (`drill_id`), the same in every run of the script.
    pub script: String,
    pub network: web::Data<AppState>,
    dir: PathBuf,
    clock: Arc<Mutex<DrillClock>>,
    session: tokio::sync::Mutex<Engine>,
    record: Mutex<Record>,
    /// Saves of `drill.json` take turns: they share one temporary file, and the
    /// drill's own task may save (a step it ran) while a request does.
    saving: Mutex<()>,
    wake: Notify,
    stopped: AtomicBool,
}

/// Every hosted drill of the service.
pub struct Drills {
    root: PathBuf,
    shared: Shared,
    live: web::Data<AppState>,
    hosted: RwLock<BTreeMap<String, Arc<Hosted>>>,
    /// At most this many drills at once (`--max-drills`).
    most: usize,
    /// Starts and deletions take turns, so two never pick one id.
    turns: tokio::sync::Mutex<()>,
}

/// The 404 for a drill id no drill has.
pub fn unknown_drill(id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "unknown-drill",
        "No such drill",
        format!("no drill `{id}` is hosted here; `GET /api/v1/drills` lists them"),
    )
    .with_field("drill")
}

/// The path of the network `request` acts on: `/api/v1`, or its drill's
/// `/api/v1/drills/<id>`.
pub fn base_of(request: &HttpRequest) -> String {
    match request.match_info().get("drill") {
        Some(drill) => format!("/api/v1/drills/{drill}"),
        None => "/api/v1".to_owned(),
    }
}

/// What a drill's own endpoints are called after `/api/v1/drills/{drill}/`;
/// any other path there is one of the network's endpoints.
const CONTROL: [&str; 3] = ["clock", "injects", "report"];

/// `Some((drill, path))` when `path` is a network endpoint inside a drill:
/// the drill's id and the live path it mirrors (`/api/v1/drills/d/teams` →
/// `("d", "/api/v1/teams")`).
pub fn split(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix("/api/v1/drills/")?;
    let (drill, inner) = rest.split_once('/')?;
    let first = inner.split('/').next().unwrap_or_default();
    if drill.is_empty() || inner.is_empty() || CONTROL.contains(&first) {
        return None;
    }
    Some((drill, format!("/api/v1/{inner}")))
}

impl Drills {
    pub fn new(data_dir: &Path, shared: Shared, live: web::Data<AppState>, most: u16) -> Drills {
        Drills {
            root: data_dir.join("drills"),
            shared,
            live,
            hosted: RwLock::default(),
            most: usize::from(most),
            turns: tokio::sync::Mutex::new(()),
        }
    }

    /// The network of drill `id`, if it is hosted.
    pub fn network(&self, id: &str) -> Option<web::Data<AppState>> {
        self.get(id).map(|hosted| hosted.network.clone())
    }

    pub fn get(&self, id: &str) -> Option<Arc<Hosted>> {
        self.read().get(id).cloned()
    }

    /// Every hosted drill, by id.
    pub fn all(&self) -> Vec<Arc<Hosted>> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Hosted>>> {
        self.hosted.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new drill: its sandbox made (seeded, or copied from the live
    /// log), its network following the sandbox, its script's steps (and, for
    /// a replay, the recorded events) run on its clock.
    pub async fn start(&self, starting: Starting) -> Result<Arc<Hosted>, Problem> {
        let _turn = self.turns.lock().await;
        let hosting = self.read().len();
        if hosting >= self.most {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "too-many-drills",
                "Too many drills",
                format!(
                    "this service hosts {hosting} drills, its most (--max-drills {}); delete one that \
                     is over first",
                    self.most
                ),
            ));
        }
        let starting = self.resolve(starting).await?;
        let id = self.fresh_id(&starting.script.id);
        let dir = self.root.join(&id);
        self.shared
            .access
            .create_dir_all(&dir)
            .map_err(|e| Problem::unavailable(format!("cannot create {}: {e}", dir.display())))?;
        match self.make(starting, &id, &dir).await {
            Ok(hosted) => Ok(hosted),
            Err(problem) => {
                // Nothing half-made is left behind to be restored.
                let _ = std::fs::remove_dir_all(&dir);
                Err(problem)
            }
        }
    }

    /// A replay's range as live positions, its script (one with no step,
    /// starting when the range does) and its start: the live network just
    /// before the range.
    async fn resolve(&self, mut starting: Starting) -> Result<Starting, Problem> {
        let Some(range) = starting.range.take() else {
            return Ok(starting);
        };
        let live = self.live.log.as_ref();
        let failed =
            |e: ercs_eventlog::Error| Problem::unavailable(format!("reading the live log: {e}"));
        let head = live.head().await.map_err(failed)?.0;
        let bad = |field: &str, detail: String| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-replay-range",
                "Invalid replay range",
                detail,
            )
            .with_field(format!("replay.{field}"))
        };
        let from = match (range.from, range.since) {
            (Some(from), None) => from,
            // The events recorded from `since` on: after the last one before it.
            (None, Some(since)) => {
                let just_before = since - chrono::TimeDelta::microseconds(1);
                replay::first_after(live, just_before, (1, head))
                    .await
                    .map_err(failed)?
                    - 1
            }
            (None, None) => 0,
            (Some(_), Some(_)) => {
                return Err(bad("since", "give `from` or `since`, not both".into()));
            }
        };
        let to = match (range.to, range.until) {
            (Some(to), None) => to,
            (None, Some(until)) => {
                replay::first_after(live, until, (1, head))
                    .await
                    .map_err(failed)?
                    - 1
            }
            (None, None) => head,
            (Some(_), Some(_)) => {
                return Err(bad("until", "give `to` or `until`, not both".into()));
            }
        };
        if to > head {
            return Err(bad(
                "to",
                format!("position {to} is beyond the live log's head at {head}"),
            ));
        }
        if from >= to {
            return Err(bad(
                "from",
                format!("the range ({from}, {to}] of the live log holds no event"),
            ));
        }
        let first = live
            .read_all(
                ReadFrom::At(Position(from + 1)),
                Direction::Forwards,
                &Filter::all(),
                1,
            )
            .await
            .map_err(failed)?;
        let start = first.first().map_or_else(Utc::now, |e| e.recorded_at);
        let text = serde_json::json!({
            "id": "replay",
            "title": {"zh": format!("回放：实时日志第 {} 至 {to} 条事件", from + 1), "en": "Replay of the live log"},
            "description": format!("The live log's events {} to {to}, as they happened.", from + 1),
            "seed": "chongqing",
            "start": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "steps": [],
        })
        .to_string();
        let script = DrillScript::parse(&text)
            .map_err(|e| Problem::unavailable(format!("cannot make the replay's script: {e}")))?;
        Ok(Starting {
            script,
            text,
            from: StartFrom::Live {
                position: Some(from),
            },
            cursor: Some(Cursor {
                from,
                to,
                next: from + 1,
            }),
            ..starting
        })
    }

    async fn make(&self, starting: Starting, id: &str, dir: &Path) -> Result<Arc<Hosted>, Problem> {
        let Starting {
            script,
            text,
            from,
            speed,
            paused,
            participants,
            started_by,
            cursor,
            ..
        } = starting;
        let start = match &from {
            StartFrom::Seed => Start::Seed,
            StartFrom::Live { position } => {
                let live = Arc::clone(&self.live.log);
                let (target, access) = (dir.join("events.db"), self.shared.access);
                let position = *position;
                self.shared
                    .background
                    .run(async move { copy_live(live, &target, access, position).await })
                    .await??;
                Start::Loaded
            }
        };
        std::fs::write(dir.join("script.json"), text)
            .map_err(|e| Problem::unavailable(format!("cannot keep the drill's script: {e}")))?;
        let now = Utc::now();
        // Stopped at the drill's start while the sandbox is made, so the seed
        // is recorded at that drill time whatever the wall clock does.
        let mut clock = DrillClock::start(script.start, now, speed);
        clock.pause(now);
        let script = Arc::new(script);
        let (network, clock) = self.open_network(id, dir, clock)?;
        // The seed is a fixed amount of work, whatever the live log holds.
        let session = Session::start(
            Arc::clone(&script),
            Arc::clone(&network.log),
            network.aggregates.clone(),
            start,
        )
        .await
        .map_err(|e| Problem::unavailable(format!("cannot prepare the drill: {e}")))?;
        // Answered once the drill's view holds its starting network.
        let head = network
            .log
            .head()
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's sandbox failed: {e}")))?;
        network
            .view
            .wait_for(head, std::time::Duration::from_secs(120))
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's view: {e}")))?;
        network.ready.store(true, Ordering::Release);
        // Drill time starts now that the drill is ready, not while its
        // sandbox was being made.
        {
            let now = Utc::now();
            let mut fresh = DrillClock::start(script.start, now, speed);
            if paused {
                fresh.pause(now);
            }
            *clock.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
        }
        let record = Record {
            id: id.to_owned(),
            script: script.id.clone(),
            title: script.title.zh.clone(),
            started_by,
            created_at: now,
            from,
            participants,
            clock: clock.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            progress: session.progress().clone(),
            free_injects: Vec::new(),
            replay: cursor,
            saved_at: now,
        };
        let hosted = self.host(id, dir, network, clock, session, record);
        hosted.save()?;
        Ok(hosted)
    }

    /// The sandbox's network, with the drill's clock.
    fn open_network(
        &self,
        id: &str,
        dir: &Path,
        clock: DrillClock,
    ) -> Result<(web::Data<AppState>, Arc<Mutex<DrillClock>>), Problem> {
        let clock = Arc::new(Mutex::new(clock));
        // The sandbox records drill time, so two runs of a drill record alike.
        let recorded = Arc::clone(&clock);
        let options = SqliteOptions {
            access: self.shared.access,
            clock: RecordClock::of(move || {
                recorded
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .now(Utc::now())
            }),
            ..SqliteOptions::default()
        };
        let log = SqliteEventLog::open_with(dir.join("events.db"), options)
            .map_err(|e| Problem::unavailable(format!("cannot open the drill's sandbox: {e}")))?;
        let network = AppState::start(
            &self.shared,
            Arc::new(log),
            dir.to_path_buf(),
            Some((Arc::from(id), Clock::Drill(Arc::clone(&clock)))),
        )
        .map_err(crate::startup::StartError::Background)
        .map_err(|e| Problem::unavailable(format!("cannot start the drill's network: {e}")))?;
        Ok((web::Data::new(network), clock))
    }

    fn host(
        &self,
        id: &str,
        dir: &Path,
        network: web::Data<AppState>,
        clock: Arc<Mutex<DrillClock>>,
        session: Session,
        record: Record,
    ) -> Arc<Hosted> {
        let engine = Engine {
            session,
            replay: record
                .replay
                .clone()
                .map(|cursor| Replay::new(Arc::clone(&self.live.log), cursor)),
            drill: record.script.clone(),
            sandbox: Arc::clone(&network.log),
        };
        let hosted = Arc::new(Hosted {
            id: id.to_owned(),
            script: record.script.clone(),
            network,
            dir: dir.to_path_buf(),
            clock,
            session: tokio::sync::Mutex::new(engine),
            record: Mutex::new(record),
            saving: Mutex::new(()),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
        });
        (self.hosted.write().unwrap_or_else(PoisonError::into_inner))
            .insert(id.to_owned(), Arc::clone(&hosted));
        if let Some(runtime) = self.shared.background.handle() {
            runtime.spawn(drive(Arc::clone(&hosted)));
        }
        hosted
    }

    /// Hosts again every drill whose record is under the data directory,
    /// paused at the drill time its clock showed when the record was saved.
    pub async fn restore(&self) {
        self.recover_rewinds();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if entry.file_name().to_string_lossy().contains('.') {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(dir.join("drill.json")) else {
                continue;
            };
            match self.restore_one(&dir, &text) {
                Ok(id) => tracing::info!(drill = %id, "drill restored, paused"),
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "cannot restore a drill");
                }
            }
        }
    }

    /// A rewind's new or old sandbox (`<id>.rewinding`, `<id>.retired`) left
    /// by a crash is not a drill (ids have no dot): the old one comes back if
    /// the crash left no `<id>`, the rest goes.
    fn recover_rewinds(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let (dir, name) = (
                entry.path(),
                entry.file_name().to_string_lossy().into_owned(),
            );
            let Some((id, _)) = name.split_once('.') else {
                continue;
            };
            let home = self.root.join(id);
            if name.ends_with(".retired") && !home.exists() && std::fs::rename(&dir, &home).is_ok()
            {
                tracing::warn!(
                    drill = id,
                    "a rewind was cut short; the drill is back as it was before it"
                );
            } else {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }

    fn restore_one(&self, dir: &Path, text: &str) -> Result<String, String> {
        let mut record: Record = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let script = std::fs::read_to_string(dir.join("script.json")).map_err(|e| e.to_string())?;
        let script = Arc::new(DrillScript::parse(&script).map_err(|e| e.to_string())?);
        let mut clock = record.clock.clone();
        if !clock.is_paused() {
            let at = clock.now(record.saved_at);
            clock.pause(record.saved_at);
            clock.seek(record.saved_at, at);
        }
        record.clock = clock.clone();
        let (network, clock) = self
            .open_network(&record.id, dir, clock)
            .map_err(|p| p.detail.clone())?;
        let session = Session::resume(
            script,
            Arc::clone(&network.log),
            network.aggregates.clone(),
            record.progress.clone(),
        );
        let id = record.id.clone();
        let hosted = self.host(&id, dir, network, clock, session, record);
        if let Some(runtime) = self.shared.background.handle() {
            runtime.spawn(async move {
                let network = &hosted.network;
                if let Ok(head) = network.log.head().await
                    && network
                        .view
                        .wait_for(head, std::time::Duration::from_secs(24 * 3600))
                        .await
                        .is_ok()
                {
                    network.ready.store(true, Ordering::Release);
                }
            });
        }
        Ok(id)
    }

    /// Moves drill `id` back to drill time `to`: its sandbox is rebuilt to that
    /// point (every event recorded at a drill time after it left out), and the
    /// script goes on from the first step after it. What players did after
    /// `to` is gone, as it never happened; the drill keeps its id.
    pub async fn rewind(&self, id: &str, to: DateTime<Utc>) -> Result<Arc<Hosted>, Problem> {
        let _turn = self.turns.lock().await;
        let old = self.get(id).ok_or_else(|| unknown_drill(id))?;
        let mut clock = old.lock_clock().clone();
        if to < start_of(&old).await {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "seek-before-start",
                "Before the drill's start",
                format!("drill time {to} is before the drill's start"),
            )
            .with_field("to"));
        }
        old.stopped.store(true, Ordering::Release);
        old.wake.notify_one();
        let session = old.session.lock().await;
        let failed =
            |e: ercs_eventlog::Error| Problem::unavailable(format!("rebuilding the drill: {e}"));
        let progress = session.progress().clone();
        let script = Arc::new(session.script().clone());
        // Everything up to the first event of the drill recorded after `to`.
        let events = Pages::new(
            old.network.log.as_ref(),
            Position(0),
            Position(u64::MAX),
            COPY_PAGE,
        )
        .all()
        .await
        .map_err(failed)?;
        let cut = events
            .iter()
            .find(|e| {
                e.position.0 > progress.seeded
                    && ercs_drill::drill_time(e).is_some_and(|at| at > to)
            })
            .map_or(u64::MAX, |e| e.position.0);
        let kept: Vec<RecordedEvent> = events.into_iter().filter(|e| e.position.0 < cut).collect();
        let fresh = self.root.join(format!("{id}.rewinding"));
        let _ = std::fs::remove_dir_all(&fresh);
        self.shared
            .access
            .create_dir_all(&fresh)
            .map_err(|e| Problem::unavailable(format!("cannot create {}: {e}", fresh.display())))?;
        let mut import =
            SqliteImport::open(&fresh.join("events.db"), self.shared.access).map_err(failed)?;
        for chunk in kept.chunks(COPY_PAGE) {
            import.events(chunk).map_err(failed)?;
        }
        drop(import);
        std::fs::copy(old.dir.join("script.json"), fresh.join("script.json"))
            .map_err(|e| Problem::unavailable(format!("cannot keep the drill's script: {e}")))?;
        let mut record = old.record();
        let before = |at: &DateTime<Utc>| *at <= to;
        let steps_before = (script.steps().iter())
            .filter(|step| script.time_of(step) <= to)
            .count();
        let progress = Progress {
            seeded: progress.seeded,
            next_step: progress.next_step.min(steps_before),
            anchors: progress
                .anchors
                .into_iter()
                .filter(|a| before(&a.at))
                .collect(),
            refused: progress
                .refused
                .into_iter()
                .filter(|r| before(&r.at))
                .collect(),
            fired: progress
                .fired
                .into_iter()
                .filter(|f| before(&f.at))
                .collect(),
        };
        record.progress = progress.clone();
        record.free_injects.retain(|f| before(&f.at));
        if let Some(cursor) = record.replay.clone() {
            let mut replay = Replay::new(Arc::clone(&self.live.log), cursor);
            replay.rewind_to(to).await.map_err(failed)?;
            record.replay = Some(replay.cursor);
        }
        clock.seek(Utc::now(), to);
        record.clock = clock.clone();
        // The old sandbox goes; the rebuilt one takes its place.
        (self.hosted.write().unwrap_or_else(PoisonError::into_inner)).remove(id);
        drop(session);
        old.network.stop_saving().await;
        let retired = self.root.join(format!("{id}.retired"));
        let _ = std::fs::remove_dir_all(&retired);
        std::fs::rename(&old.dir, &retired)
            .and_then(|()| std::fs::rename(&fresh, &old.dir))
            .map_err(|e| {
                Problem::unavailable(format!("cannot replace the drill's sandbox: {e}"))
            })?;
        let _ = std::fs::remove_dir_all(&retired);
        let dir = old.dir.clone();
        drop(old);
        let (network, clock) = self.open_network(id, &dir, clock)?;
        let session = Session::resume(
            script,
            Arc::clone(&network.log),
            network.aggregates.clone(),
            progress,
        );
        let head = network.log.head().await.map_err(failed)?;
        network
            .view
            .wait_for(head, std::time::Duration::from_secs(120))
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's view: {e}")))?;
        network.ready.store(true, Ordering::Release);
        let hosted = self.host(id, &dir, network, clock, session, record);
        hosted.save()?;
        Ok(hosted)
    }

    /// Stops drill `id` and deletes its sandbox.
    pub async fn delete(&self, id: &str) -> Result<(), Problem> {
        let _turn = self.turns.lock().await;
        let hosted = (self.hosted.write().unwrap_or_else(PoisonError::into_inner))
            .remove(id)
            .ok_or_else(|| unknown_drill(id))?;
        hosted.stopped.store(true, Ordering::Release);
        hosted.wake.notify_one();
        // Waits for a step in progress, so nothing writes into a deleted sandbox.
        let _session = hosted.session.lock().await;
        hosted.network.stop_saving().await;
        std::fs::remove_dir_all(&hosted.dir).map_err(|e| {
            Problem::unavailable(format!("cannot delete {}: {e}", hosted.dir.display()))
        })
    }

    /// `<script>-<UTC time>`, as `ercs drill run` names its runs, with a
    /// counter when that is taken.
    fn fresh_id(&self, script: &str) -> String {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let base = format!("{script}-{stamp}");
        (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            })
            .find(|id| self.get(id).is_none() && !self.root.join(id).exists())
            .expect("some counter is free")
    }
}

/// A shipped script by name.
pub fn shipped(name: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Copies the live log's events up to `position` (its head if `None`) into a
/// new sandbox file, numbered afresh from 1. API tokens and feed tickets stay
/// behind: they are the service's, not the network's.
async fn copy_live(
    live: Arc<dyn EventLog>,
    target: &Path,
    access: ercs_eventlog::FileAccess,
    position: Option<u64>,
) -> Result<(), Problem> {
    let failed =
        |e: ercs_eventlog::Error| Problem::unavailable(format!("copying the live log: {e}"));
    let head = live.head().await.map_err(failed)?;
    let through = match position {
        Some(p) if p > head.0 => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "position-beyond-head",
                "Position beyond the log's head",
                format!(
                    "`from.live.position` {p} is beyond the live log's head at {}",
                    head.0
                ),
            )
            .with_field("from.live.position"));
        }
        Some(p) => p,
        None => head.0,
    };
    let mut import = SqliteImport::open(target, access).map_err(failed)?;
    let mut pages = Pages::new(live.as_ref(), Position(0), Position(through), COPY_PAGE);
    let mut numbered = 0u64;
    while let Some(page) = pages.next().await.map_err(failed)? {
        let kept: Vec<RecordedEvent> = page
            .into_iter()
            .filter(replay::of_the_network)
            .map(|mut e| {
                numbered += 1;
                e.position = Position(numbered);
                e
            })
            .collect();
        import.events(&kept).map_err(failed)?;
    }
    Ok(())
}

/// What a drill shows its director and players.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub drill: String,
    pub script: String,
    pub title: String,
    pub started_by: String,
    pub created_at: DateTime<Utc>,
    pub from: StartFrom,
    /// 进行中 running, 已暂停 paused, 脚本已完成 finished (players may go on).
    pub state: &'static str,
    pub state_zh: &'static str,
    pub drill_time: DateTime<Utc>,
    pub speed: Speed,
    pub steps_run: usize,
    pub steps: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step_at: Option<DateTime<Utc>>,
    /// The script's injects the director may fire, and whether each has been.
    pub injects: Vec<InjectStatus>,
    pub fired: Vec<ercs_drill::run::Fired>,
    pub free_injects: Vec<FreeInject>,
    pub refused: Vec<ercs_drill::run::Refused>,
    pub participants: Vec<String>,
    /// For a replay of the live log: the range and the next live position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<Cursor>,
    /// The drill's network: `{base}/network`, `{base}/gis`, `{base}/feed`, …
    pub base: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InjectStatus {
    pub name: String,
    pub label: String,
    pub fired: bool,
}

/// A change of a drill's clock.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClockAction {
    Pause,
    Resume,
    /// Drill seconds per wall second, or `"max"`: as fast as possible.
    Speed {
        speed: SpeedArg,
    },
    /// Runs the next step now, at its drill time.
    Step,
    /// Moves drill time to `to` (forward: the steps before it run at once;
    /// backward: the sandbox is rebuilt to that point).
    Seek {
        to: DateTime<Utc>,
    },
    /// Moves drill time to the drill time of the sandbox's event at `position`.
    SeekPosition {
        position: u64,
    },
}

/// A speed as JSON: a number (drill seconds per wall second) or `"max"`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum SpeedArg {
    Factor(f64),
    Max(MaxSpeed),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxSpeed {
    Max,
}

impl SpeedArg {
    pub fn speed(self) -> Result<Speed, String> {
        match self {
            SpeedArg::Factor(factor) => Speed::factor(factor),
            SpeedArg::Max(_) => Ok(Speed::AsFastAsPossible),
        }
    }
}

impl Hosted {
    /// Drill time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock_clock().now(Utc::now())
    }

    fn lock_clock(&self) -> std::sync::MutexGuard<'_, DrillClock> {
        self.clock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record(&self) -> Record {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether `subject` was let into the drill.
    pub fn admits(&self, subject: &str) -> bool {
        (self.record.lock().unwrap_or_else(PoisonError::into_inner))
            .participants
            .iter()
            .any(|s| s == subject)
    }

    pub async fn status(&self) -> Status {
        let mut session = self.session.lock().await;
        let next = session.next_at().await.ok().flatten();
        let record = self.record();
        let clock = self.lock_clock().clone();
        let script = session.script();
        let progress = session.progress();
        let (state, state_zh) = match (next, clock.is_paused()) {
            (None, _) => ("finished", "脚本已完成"),
            (_, true) => ("paused", "已暂停"),
            (_, false) => ("running", "进行中"),
        };
        Status {
            drill: self.id.clone(),
            script: record.script.clone(),
            title: record.title.clone(),
            started_by: record.started_by.clone(),
            created_at: record.created_at,
            from: record.from.clone(),
            state,
            state_zh,
            drill_time: clock.now(Utc::now()),
            speed: clock.speed(),
            steps_run: progress.next_step,
            steps: script.steps().len(),
            next_step_at: next,
            injects: (script.injects().iter())
                .map(|i| InjectStatus {
                    name: i.name.clone(),
                    label: i.label.clone(),
                    fired: progress.fired.iter().any(|f| f.inject == i.name),
                })
                .collect(),
            fired: progress.fired.clone(),
            free_injects: record.free_injects.clone(),
            refused: progress.refused.clone(),
            participants: record.participants.clone(),
            replay: session.cursor(),
            base: format!("/api/v1/drills/{}", self.id),
        }
    }

    /// The drill time of the sandbox's event at `position`.
    pub async fn time_at(&self, position: u64) -> Result<DateTime<Utc>, Problem> {
        let not_there = || {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no-drill-time",
                "No drill time there",
                format!(
                    "the drill's log has no event at position {position} stamped with a drill time"
                ),
            )
            .with_field("position")
        };
        let page = self
            .network
            .log
            .read_all(
                ReadFrom::At(Position(position)),
                Direction::Forwards,
                &Filter::all(),
                1,
            )
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's sandbox failed: {e}")))?;
        page.first()
            .filter(|e| e.position.0 == position)
            .and_then(ercs_drill::drill_time)
            .ok_or_else(not_there)
    }

    /// Applies `action` to the clock (a step runs the next step at once).
    pub async fn control(&self, action: ClockAction) -> Result<(), Problem> {
        let wall = Utc::now();
        match action {
            ClockAction::SeekPosition { position } => {
                let to = self.time_at(position).await?;
                self.seek_forward(wall, to).await?;
            }
            ClockAction::Pause => self.lock_clock().pause(wall),
            ClockAction::Resume => self.lock_clock().resume(wall),
            ClockAction::Speed { speed } => {
                let speed = speed.speed().map_err(|e| {
                    Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid-speed",
                        "Invalid speed",
                        e,
                    )
                    .with_field("speed")
                })?;
                self.lock_clock().set_speed(wall, speed);
            }
            ClockAction::Step => {
                let mut session = self.session.lock().await;
                let Some(at) = session.next_at().await.map_err(sandbox_failed)? else {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        "drill-finished",
                        "No step left",
                        "every step of the script has run; players may go on, or delete the drill",
                    ));
                };
                {
                    let mut clock = self.lock_clock();
                    if clock.now(wall) < at {
                        clock.seek(wall, at);
                    }
                }
                self.run_step(&mut session).await?;
            }
            ClockAction::Seek { to } => self.seek_forward(wall, to).await?,
        }
        self.save()?;
        self.wake.notify_one();
        Ok(())
    }

    /// Moves drill time forward to `to` and runs what falls due before it,
    /// paused or not. Backwards is [`Drills::rewind`]'s.
    async fn seek_forward(&self, wall: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), Problem> {
        let now = self.lock_clock().now(wall);
        if to < now {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "seek-backwards",
                "Seek backwards through the drills",
                format!("drill time is {now}; going back to {to} rebuilds the sandbox"),
            )
            .with_field("to"));
        }
        self.lock_clock().seek(wall, to);
        let mut session = self.session.lock().await;
        while (session.next_at().await.map_err(sandbox_failed)?).is_some_and(|at| at <= to) {
            self.run_step(&mut session).await?;
        }
        Ok(())
    }

    /// Fires the script's inject `name` now, in drill time.
    pub async fn inject(&self, name: &str) -> Result<bool, Problem> {
        let mut session = self.session.lock().await;
        let at = self.now();
        let fired =
            session
                .session
                .inject(name, at, "director")
                .await
                .map_err(|error| match error {
                    ercs_drill::RunError::UnknownInject(_) => Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown-inject",
                        "No such inject",
                        error.to_string(),
                    )
                    .with_field("inject"),
                    other => Problem::unavailable(format!("the drill's sandbox failed: {other}")),
                })?;
        self.store_progress(session.progress());
        self.save()?;
        Ok(fired)
    }

    /// Adds a free inject at drill time now.
    pub fn free_inject(
        &self,
        label: String,
        narrative: Option<String>,
        by: String,
    ) -> Result<FreeInject, Problem> {
        let inject = FreeInject {
            at: self.now(),
            label,
            narrative,
            by,
        };
        {
            let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
            if record.free_injects.len() >= MAX_FREE_INJECTS {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "too-many-injects",
                    "Too many free injects",
                    format!("a drill keeps at most {MAX_FREE_INJECTS} free injects"),
                ));
            }
            record.free_injects.push(inject.clone());
        }
        self.save()?;
        Ok(inject)
    }

    /// The report as the drill stands now.
    pub async fn report(&self) -> Result<ercs_drill::RunReport, Problem> {
        let session = self.session.lock().await;
        session
            .report(self.now())
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's sandbox failed: {e}")))
    }

    /// The after-action report (演练评估报告) as the drill stands now.
    pub async fn after_action(&self) -> Result<ercs_drill::AfterAction, Problem> {
        let session = self.session.lock().await;
        ercs_drill::after_action(self.network.log.as_ref(), &session.session, self.now())
            .await
            .map_err(|e| Problem::unavailable(format!("the drill's sandbox failed: {e}")))
    }

    async fn run_step(&self, engine: &mut Engine) -> Result<(), Problem> {
        let ran = engine.step().await;
        self.store_progress(engine.progress());
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replay = engine.cursor();
        ran.map_err(|e| Problem::unavailable(format!("the drill's sandbox failed: {e}")))?;
        self.save()
    }

    fn store_progress(&self, progress: &Progress) {
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        record.progress = progress.clone();
    }

    /// Writes `drill.json` (to a temporary file, then renamed), one save at a
    /// time, each with the record as it stands when its turn comes: two at once
    /// wrote one temporary file and the second rename found it gone, which
    /// paused a drill whose first step ran while its start was being saved.
    fn save(&self) -> Result<(), Problem> {
        let _turn = self.saving.lock().unwrap_or_else(PoisonError::into_inner);
        let text = {
            let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
            record.clock = self.lock_clock().clone();
            record.saved_at = Utc::now();
            serde_json::to_vec_pretty(&*record).map_err(|e| Problem::unavailable(e.to_string()))?
        };
        if self.stopped.load(Ordering::Acquire) {
            return Ok(());
        }
        let (temporary, path) = (self.dir.join("drill.json.tmp"), self.dir.join("drill.json"));
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| Problem::unavailable(format!("cannot save the drill: {e}")))
    }

    /// How long until drill time `at`, on the wall: zero when it is due (as
    /// fast as possible, at once), `None` while paused.
    fn until(&self, at: DateTime<Utc>) -> Option<std::time::Duration> {
        let wall = Utc::now();
        let mut clock = self.lock_clock();
        if clock.is_paused() {
            return None;
        }
        if clock.speed() == Speed::AsFastAsPossible {
            clock.advance_to(wall, at);
            return Some(std::time::Duration::ZERO);
        }
        clock
            .wall_until(wall, at)
            .map(|wait| wait.to_std().unwrap_or_default())
    }
}

/// Runs a drill's script: each step once its drill time comes, and each
/// contingency inject once the expectation that asks for it is missed. Wakes
/// at the next step, at least once a second, and whenever the director acts.
async fn drive(hosted: Arc<Hosted>) {
    const TICK: std::time::Duration = std::time::Duration::from_secs(1);
    while !hosted.stopped.load(Ordering::Acquire) {
        let woken = hosted.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let next = match hosted.session.lock().await.next_at().await {
            Ok(next) => next,
            Err(error) => {
                tracing::warn!(drill = %hosted.id, %error, "cannot read what the drill replays");
                None
            }
        };
        let wait = next.and_then(|at| hosted.until(at));
        match wait {
            Some(wait) if wait.is_zero() => {
                let mut session = hosted.session.lock().await;
                if hosted.stopped.load(Ordering::Acquire) {
                    return;
                }
                if let Err(problem) = hosted.run_step(&mut session).await {
                    tracing::warn!(drill = %hosted.id, detail = %problem.detail, "a drill step failed; drill paused");
                    hosted.lock_clock().pause(Utc::now());
                    let _ = hosted.save();
                }
                continue;
            }
            Some(wait) => {
                tokio::select! {
                    () = tokio::time::sleep(wait.min(TICK)) => {}
                    () = &mut woken => {}
                }
            }
            None => {
                tokio::select! {
                    () = tokio::time::sleep(TICK) => {}
                    () = &mut woken => {}
                }
            }
        }
        if hosted.stopped.load(Ordering::Acquire) || hosted.lock_clock().is_paused() {
            continue;
        }
        let mut session = hosted.session.lock().await;
        let before = session.progress().fired.len();
        if let Err(error) = session.session.contingencies(hosted.now()).await {
            tracing::warn!(drill = %hosted.id, %error, "cannot judge the drill's expectations");
        }
        if session.progress().fired.len() != before {
            hosted.store_progress(session.progress());
            let _ = hosted.save();
        }
    }
}

/// Every answer inside a drill names it: the `ERCS-Drill` header, and a
/// `drill` member in each JSON object body (a page, a resource, a problem, a
/// GeoJSON collection). The feed's stream is left as it is: each of its
/// messages names the drill itself.
pub async fn tag(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let drill = request
        .path()
        .strip_prefix("/api/v1/drills/")
        .and_then(|rest| rest.split('/').next())
        .filter(|id| !id.is_empty())
        .and_then(|id| {
            let drills = request.app_data::<web::Data<Drills>>()?;
            drills.get(id).map(|hosted| hosted.id.clone())
        });
    let network = split(request.path()).is_some();
    let response = next.call(request).await?;
    let Some(drill) = drill else {
        return Ok(response.map_into_boxed_body());
    };
    let (request, mut response) = response.into_parts();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&drill) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("ercs-drill"),
            value,
        );
    }
    let json = response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if !json {
        let response = response.map_into_boxed_body();
        return Ok(actix_web::dev::ServiceResponse::new(request, response));
    }
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("cannot read the answer"))?;
    // A network's answers never have a `drill` of their own: the tag goes in
    // without reading the body (a network rollup is half a megabyte). The
    // director's own answers are small, and some name the drill already.
    let body = if network {
        insert_drill(bytes, &drill)
    } else {
        with_drill(bytes, &drill)
    };
    let mut response = head.set_body(actix_web::body::BoxBody::new(body));
    response
        .headers_mut()
        .remove(actix_web::http::header::CONTENT_LENGTH);
    Ok(actix_web::dev::ServiceResponse::new(request, response))
}

/// `body` with `"drill": drill` first in it, if it is a JSON object without
/// one; members keep their order (the object is not re-serialised).
fn with_drill(body: actix_web::web::Bytes, drill: &str) -> actix_web::web::Bytes {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(&body) else {
        return body;
    };
    if object.contains_key("drill") {
        return body;
    }
    insert_drill(body, drill)
}

/// `body` with `"drill": drill` first in it if it is a JSON object, its
/// members kept as they are (nothing is parsed or re-serialised).
fn insert_drill(body: actix_web::web::Bytes, drill: &str) -> actix_web::web::Bytes {
    let Some(open) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return body;
    };
    if body[open] != b'{' {
        return body;
    }
    let rest = &body[open + 1..];
    let empty = rest
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_none_or(|b| *b == b'}');
    let mut tagged = Vec::with_capacity(body.len() + drill.len() + 12);
    tagged.extend_from_slice(b"{\"drill\":");
    tagged.extend_from_slice(serde_json::Value::from(drill).to_string().as_bytes());
    if !empty {
        tagged.push(b',');
    }
    tagged.extend_from_slice(rest);
    actix_web::web::Bytes::from(tagged)
}

fn sandbox_failed(error: ercs_eventlog::Error) -> Problem {
    Problem::unavailable(format!("the drill's sandbox failed: {error}"))
}

/// Where a drill's time starts: its script's start.
async fn start_of(hosted: &Hosted) -> DateTime<Utc> {
    hosted.session.lock().await.script().start
}
