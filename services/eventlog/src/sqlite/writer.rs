//! The single writer. It owns the only writing connection and takes every append
//! waiting at that moment into one transaction and one sync: group commit. Because
//! one thread assigns positions and commits in order, a position becomes visible
//! only after every position before it, so subscribers can never skip one.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use tokio::sync::{oneshot, watch};

use super::recent::{Placed, RecentIds};
use super::schema::storage;
use crate::Error;
use crate::model::{
    AppendOnce, AppendResult, CommandKey, EventData, ExpectedRevision, KeyedAppend, Position,
    Revision, StreamName, StreamTip,
};

pub(super) struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedRevision,
    pub events: Vec<EventData>,
    /// With `append_once`: the command this append is the one effect of.
    pub key: Option<CommandKey>,
    pub reply: oneshot::Sender<Outcome>,
}

/// The answer to one request inside a batch that committed: its own result, which
/// may be a rejection (wrong revision, conflict) that leaves the others unharmed.
pub(super) type Outcome = Result<AppendOnce, Error>;

/// How many streams' tips the writer keeps in memory before it starts afresh.
const MAX_KNOWN_STREAMS: usize = 100_000;

pub(super) struct Writer {
    conn: Connection,
    checkpointer: JoinHandle<()>,
    state: State,
    head: watch::Sender<Position>,
    max_batch: usize,
}

/// The last event of each stream this writer committed since it started (or
/// since it last forgot them all: at [`MAX_KNOWN_STREAMS`], and when a commit
/// fails), shared with the log's readers. This writer is the file's only one
/// (the lock beside it), so what it committed is the stream's tip until it
/// commits the next: the writer decides each append's revision by it (a query
/// only for a stream it does not know), and publishes a batch's tips after the
/// commit and before anyone hears of it.
#[derive(Default)]
pub(super) struct Tips(Mutex<HashMap<StreamName, StreamTip>>);

impl Tips {
    pub fn get(&self, stream: &StreamName) -> Option<StreamTip> {
        self.lock().get(stream).copied()
    }

    fn publish(&self, written: HashMap<StreamName, StreamTip>) {
        let mut tips = self.lock();
        for (stream, tip) in written {
            if tips.len() >= MAX_KNOWN_STREAMS && !tips.contains_key(&stream) {
                tips.clear();
            }
            tips.insert(stream, tip);
        }
    }

    fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<StreamName, StreamTip>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the writer knows beyond the database, kept in step with each transaction.
struct State {
    /// The next free position: one past the last committed event.
    next_position: u64,
    recent: RecentIds,
    /// The committed tips, shared with the log's readers.
    tips: Arc<Tips>,
    /// Ids remembered by the transaction in progress, to forget if it rolls back.
    remembered: usize,
    /// The tips the transaction in progress wrote, published if it commits.
    pending: HashMap<StreamName, StreamTip>,
    /// What appends are recorded at.
    clock: super::RecordClock,
}

impl Writer {
    pub fn new(
        conn: Connection,
        checkpointer: JoinHandle<()>,
        head: watch::Sender<Position>,
        tips: Arc<Tips>,
        max_batch: usize,
        recent_ids: usize,
        clock: super::RecordClock,
    ) -> Result<Self, Error> {
        let last = last_position(&conn)?;
        let recent = RecentIds::load(&conn, recent_ids)?;
        head.send_replace(Position(last));
        Ok(Self {
            conn,
            checkpointer,
            state: State {
                next_position: last + 1,
                recent,
                tips,
                remembered: 0,
                pending: HashMap::new(),
                clock,
            },
            head,
            max_batch,
        })
    }

    /// Runs until every sender is gone.
    pub fn run(mut self, requests: Receiver<AppendRequest>) {
        while let Ok(first) = requests.recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
        // Closing the connection drops its WAL hook, which stops the checkpointer.
        drop(self.conn);
        let _ = self.checkpointer.join();
    }

    fn commit(&mut self, batch: Vec<AppendRequest>) {
        let first_free = self.state.next_position;
        self.state.remembered = 0;
        self.state.pending.clear();
        // A bug that panics mid-batch must not take the only writer down with it: the
        // unwinding drops the transaction (a rollback) and only this batch fails.
        let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
            write_batch(&mut self.conn, &batch, &mut self.state)
        }))
        .unwrap_or_else(|_| {
            Err(Error::Storage(
                "the writer failed on this batch; it was rolled back".into(),
            ))
        });
        let outcomes = match written {
            Ok(outcomes) => {
                let pending = std::mem::take(&mut self.state.pending);
                self.state.tips.publish(pending);
                outcomes
            }
            Err(error) => {
                tracing::error!(%error, appends = batch.len(), "event log commit failed");
                self.state.next_position = first_free;
                self.state.recent.forget_newest(self.state.remembered);
                // A commit that failed may still be on disk (an error after the
                // sync): what the streams end with is for the store to say.
                self.state.tips.forget();
                batch.iter().map(|_| Err(error.clone())).collect()
            }
        };
        if self.state.next_position != first_free {
            self.head
                .send_replace(Position(self.state.next_position - 1));
        }
        for (request, outcome) in batch.into_iter().zip(outcomes) {
            // The caller may have given up waiting; the append stands all the same.
            let _ = request.reply.send(outcome);
        }
    }
}

/// Writes a batch in one transaction. The outer error is the storage failing, which
/// fails the whole batch; per-request rejections are the inner outcomes.
fn write_batch(
    conn: &mut Connection,
    batch: &[AppendRequest],
    state: &mut State,
) -> Result<Vec<Outcome>, Error> {
    let now = state.clock.micros().unwrap_or_else(now_micros);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    let outcomes = batch
        .iter()
        .map(|request| append_one(&tx, request, state, now))
        .collect::<Result<Vec<_>, _>>()?;
    tx.commit().map_err(storage)?;
    Ok(outcomes)
}

fn append_one(
    tx: &Transaction,
    request: &AppendRequest,
    state: &mut State,
    now: i64,
) -> Result<Outcome, Error> {
    let stream = &request.stream;
    // The key first: a command already applied is answered with where it landed,
    // whatever revision the stream has reached since. Earlier appends of this
    // batch are visible here, so twins in one batch are caught too.
    if let Some(key) = &request.key
        && let Some(landed) = find_key(tx, key)?
    {
        return Ok(Ok(AppendOnce::AlreadyApplied(landed)));
    }
    // This batch's earlier appends first, then what was committed before.
    let known = state
        .pending
        .get(stream)
        .copied()
        .or_else(|| state.tips.get(stream));
    let current = match known {
        Some(tip) => Some(tip.revision),
        None => current_revision(tx, stream)?,
    };
    if let Some(outcome) = find_retry(tx, request, current, &state.recent)? {
        return Ok(outcome.map(AppendOnce::Appended));
    }
    if !request.expected.is_met_by(current) {
        return Ok(Err(Error::WrongExpectedRevision {
            stream: stream.clone(),
            expected: request.expected,
            actual: current,
        }));
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO events (position, stream, revision, event_id, event_type, data, metadata, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(storage)?;
    let mut revision = current.map_or(0, |r| r + 1);
    for event in &request.events {
        let position = state.next_position;
        insert
            .execute(params![
                to_sql(position),
                stream.as_str(),
                to_sql(revision),
                event.id().as_bytes(),
                event.event_type().as_str(),
                event.data().as_str(),
                event.metadata().as_str(),
                now,
            ])
            .map_err(storage)?;
        state.recent.remember(
            event.id(),
            Placed {
                stream: stream.clone(),
                revision,
                position: Position(position),
            },
        );
        state.remembered += 1;
        state.next_position += 1;
        revision += 1;
    }
    let result = AppendResult {
        next_expected_revision: revision - 1,
        position: Position(state.next_position - 1),
    };
    if let Some(last) = request.events.last() {
        let tip = StreamTip {
            revision: result.next_expected_revision,
            id: last.id(),
            position: result.position,
        };
        state.pending.insert(stream.clone(), tip);
    }
    if let Some(key) = &request.key {
        let first_revision = current.map_or(0, |r| r + 1);
        remember_key(tx, key, stream, first_revision, result)?;
    }
    Ok(Ok(AppendOnce::Appended(result)))
}

/// Where the append carrying `key` landed, read inside `conn`'s transaction.
pub(super) fn find_key(conn: &Connection, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
    let mut query = conn
        .prepare_cached(
            "SELECT stream, first_revision, last_revision, position
             FROM command_keys WHERE key_hash = ?1",
        )
        .map_err(storage)?;
    let mut rows = query
        .query(params![key_hash(key).as_bytes()])
        .map_err(storage)?;
    let Some(row) = rows.next().map_err(storage)? else {
        return Ok(None);
    };
    let stream: String = row.get(0).map_err(storage)?;
    Ok(Some(KeyedAppend {
        stream: StreamName::new(stream)
            .map_err(|e| Error::Corrupt(format!("command_keys holds a bad stream name: {e}")))?,
        first_revision: from_sql(row.get(1).map_err(storage)?),
        result: AppendResult {
            next_expected_revision: from_sql(row.get(2).map_err(storage)?),
            position: Position(from_sql(row.get(3).map_err(storage)?)),
        },
    }))
}

fn remember_key(
    tx: &Transaction,
    key: &CommandKey,
    stream: &StreamName,
    first_revision: Revision,
    result: AppendResult,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO command_keys (key_hash, stream, first_revision, last_revision, position)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            key_hash(key).as_bytes(),
            stream.as_str(),
            to_sql(first_revision),
            to_sql(result.next_expected_revision),
            to_sql(result.position.0),
        ])
    })
    .map(drop)
    .map_err(storage)
}

fn key_hash(key: &CommandKey) -> uuid::Uuid {
    key_hash_of(key.as_str())
}

/// Command keys are stored as UUID v5 of their text in a namespace of their own.
pub(super) fn key_hash_of(key: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6572_6373_2d63_6f6d_6d61_6e64_2d6b_6579);
    uuid::Uuid::new_v5(&NAMESPACE, key.as_bytes())
}

/// Whether this append was already made: every id in the stream, in order and
/// consecutively, is a retry (answer with the original result); only some of them
/// is a conflict; none is a new append.
fn find_retry(
    tx: &Transaction,
    request: &AppendRequest,
    current: Option<Revision>,
    recent: &RecentIds,
) -> Result<Option<Result<AppendResult, Error>>, Error> {
    let stream = &request.stream;
    let mut found: Vec<Option<Placed>> = request
        .events
        .iter()
        .map(|e| recent.get(&e.id()).filter(|p| p.stream == *stream).cloned())
        .collect();
    let first_expected = match request.expected {
        // `checked_add`: the revision comes from the client (an HTTP If-Match).
        ExpectedRevision::Exact(revision) => revision.checked_add(1),
        ExpectedRevision::NoStream => Some(0),
        ExpectedRevision::Any | ExpectedRevision::StreamExists => None,
    };
    if let Some(first) = first_expected
        && found.iter().all(Option::is_none)
        && current.is_some_and(|current| current >= first)
    {
        found = placed_where_expected(tx, request, first)?;
    }
    if found.iter().all(Option::is_none) {
        return Ok(None);
    }
    let first_revision = found[0].as_ref().map(|placed| placed.revision);
    let is_same_append = found.iter().enumerate().all(|(i, placed)| {
        matches!((placed, first_revision), (Some(placed), Some(first)) if placed.revision == first + i as u64)
    });
    let outcome = match (is_same_append, found.last()) {
        (true, Some(Some(last))) => Ok(AppendResult {
            next_expected_revision: last.revision,
            position: last.position,
        }),
        _ => {
            let index = found.iter().position(Option::is_some).unwrap_or(0);
            Err(Error::IdempotencyConflict {
                stream: stream.clone(),
                id: request.events[index].id(),
            })
        }
    };
    Ok(Some(outcome))
}

/// For each event of the request, the stored event at the revision it would have
/// taken, if that stored event has its id.
fn placed_where_expected(
    tx: &Transaction,
    request: &AppendRequest,
    first: Revision,
) -> Result<Vec<Option<Placed>>, Error> {
    // `+?1`: prepared once, not on every bind (see `sqlite/reader.rs`).
    let mut query = tx
        .prepare_cached(
            "SELECT revision, position, event_id FROM events
             WHERE stream = +?1 AND revision BETWEEN ?2 AND ?3 ORDER BY revision",
        )
        .map_err(storage)?;
    let last = first + request.events.len() as u64 - 1;
    let stored = query
        .query_map(
            params![request.stream.as_str(), to_sql(first), to_sql(last)],
            |row| {
                Ok((
                    from_sql(row.get(0)?),
                    Position(from_sql(row.get(1)?)),
                    row.get::<_, [u8; 16]>(2)?,
                ))
            },
        )
        .map_err(storage)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(storage)?;
    Ok(request
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            stored
                .iter()
                .find(|(revision, _, id)| {
                    *revision == first + i as u64 && id == event.id().as_bytes()
                })
                .map(|(revision, position, _)| Placed {
                    stream: request.stream.clone(),
                    revision: *revision,
                    position: *position,
                })
        })
        .collect())
}

fn current_revision(tx: &Transaction, stream: &StreamName) -> Result<Option<Revision>, Error> {
    tx.prepare_cached("SELECT max(revision) FROM events WHERE stream = ?1")
        .and_then(|mut query| {
            query.query_row([stream.as_str()], |row| row.get::<_, Option<i64>>(0))
        })
        .map(|revision| revision.map(from_sql))
        .map_err(storage)
}

fn last_position(conn: &Connection) -> Result<u64, Error> {
    conn.query_row("SELECT coalesce(max(position), 0) FROM events", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(from_sql)
    .map_err(storage)
}

fn now_micros() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX)
}

/// SQLite integers are signed; positions and revisions stay far below `i64::MAX`.
pub(super) fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
