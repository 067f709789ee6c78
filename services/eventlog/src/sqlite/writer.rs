//! The single writer. It owns the only writing connection and takes every append
//! waiting at that moment into one transaction and one sync: group commit. Because
//! one thread assigns positions and commits in order, a position becomes visible
//! only after every position before it, so subscribers can never skip one.

use std::sync::mpsc::Receiver;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::{oneshot, watch};

use super::schema::storage;
use crate::model::{AppendResult, EventData, ExpectedRevision, Position, Revision, StreamName};
use crate::Error;

pub(super) struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedRevision,
    pub events: Vec<EventData>,
    pub reply: oneshot::Sender<Result<AppendResult, Error>>,
}

/// The answer to one request inside a batch that committed: its own result, which
/// may be a rejection (wrong revision, conflict) that leaves the others unharmed.
type Outcome = Result<AppendResult, Error>;

pub(super) struct Writer {
    conn: Connection,
    /// The next free position: one past the last committed event.
    next_position: u64,
    head: watch::Sender<Position>,
    max_batch: usize,
}

impl Writer {
    pub fn new(conn: Connection, head: watch::Sender<Position>, max_batch: usize) -> Result<Self, Error> {
        let last = last_position(&conn)?;
        head.send_replace(Position(last));
        Ok(Self { conn, next_position: last + 1, head, max_batch })
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
    }

    fn commit(&mut self, batch: Vec<AppendRequest>) {
        let first_free = self.next_position;
        let outcomes = match write_batch(&mut self.conn, &batch, &mut self.next_position) {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::error!(%error, appends = batch.len(), "event log commit failed");
                self.next_position = first_free;
                batch.iter().map(|_| Err(error.clone())).collect()
            }
        };
        if self.next_position != first_free {
            self.head.send_replace(Position(self.next_position - 1));
        }
        for (request, outcome) in batch.into_iter().zip(outcomes) {
            // The caller may have given up waiting; the append stands all the same.
            let _ = request.reply.send(outcome);
        }
    }
}

/// Writes a batch in one transaction. The outer error is the storage failing, which
/// fails the whole batch; per-request rejections are the inner outcomes.
fn write_batch(conn: &mut Connection, batch: &[AppendRequest], next: &mut u64) -> Result<Vec<Outcome>, Error> {
    let now = now_micros();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
    let outcomes = batch
        .iter()
        .map(|request| append_one(&tx, request, next, now))
        .collect::<Result<Vec<_>, _>>()?;
    tx.commit().map_err(storage)?;
    Ok(outcomes)
}

fn append_one(tx: &Transaction, request: &AppendRequest, next: &mut u64, now: i64) -> Result<Outcome, Error> {
    let stream = &request.stream;
    if let Some(outcome) = find_retry(tx, stream, &request.events)? {
        return Ok(outcome);
    }
    let current = current_revision(tx, stream)?;
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
        insert
            .execute(params![
                to_sql(*next),
                stream.as_str(),
                to_sql(revision),
                event.id().as_bytes(),
                event.event_type().as_str(),
                event.data().as_str(),
                event.metadata().as_str(),
                now,
            ])
            .map_err(storage)?;
        *next += 1;
        revision += 1;
    }
    Ok(Ok(AppendResult { next_expected_revision: revision - 1, position: Position(*next - 1) }))
}

/// An append whose event ids the stream already holds, in order and consecutively,
/// is a retry: answer with the original result. Some ids but not that: a conflict.
fn find_retry(tx: &Transaction, stream: &StreamName, events: &[EventData]) -> Result<Option<Outcome>, Error> {
    let mut lookup = tx
        .prepare_cached("SELECT revision, position FROM events WHERE event_id = ?1 AND stream = ?2")
        .map_err(storage)?;
    let mut found = Vec::with_capacity(events.len());
    for event in events {
        let hit: Option<(i64, i64)> = lookup
            .query_row(params![event.id().as_bytes(), stream.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(storage)?;
        found.push(hit);
    }
    if found.iter().all(Option::is_none) {
        return Ok(None);
    }
    let first_revision = found[0].map(|(revision, _)| revision);
    let is_same_append = found.iter().enumerate().all(|(i, hit)| {
        matches!((hit, first_revision), (Some((revision, _)), Some(first)) if *revision == first + i as i64)
    });
    let outcome = match (is_same_append, found.last()) {
        (true, Some(Some((revision, position)))) => {
            Ok(AppendResult { next_expected_revision: from_sql(*revision), position: Position(from_sql(*position)) })
        }
        _ => {
            let index = found.iter().position(Option::is_some).unwrap_or(0);
            Err(Error::IdempotencyConflict { stream: stream.clone(), id: events[index].id() })
        }
    };
    Ok(Some(outcome))
}

fn current_revision(tx: &Transaction, stream: &StreamName) -> Result<Option<Revision>, Error> {
    tx.prepare_cached("SELECT max(revision) FROM events WHERE stream = ?1")
        .and_then(|mut query| query.query_row([stream.as_str()], |row| row.get::<_, Option<i64>>(0)))
        .map(|revision| revision.map(from_sql))
        .map_err(storage)
}

fn last_position(conn: &Connection) -> Result<u64, Error> {
    conn.query_row("SELECT coalesce(max(position), 0) FROM events", [], |row| row.get::<_, i64>(0))
        .map(from_sql)
        .map_err(storage)
}

fn now_micros() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX)
}

/// SQLite integers are signed; positions and revisions stay far below `i64::MAX`.
pub(super) fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
