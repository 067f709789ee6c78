//! The writer task: group commit, and positions that become visible in order.
//!
//! Every append of this process goes through one task, which takes all the appends
//! waiting at that moment into one transaction (two round trips, pipelined, whatever
//! the batch's size). That transaction first locks the single row of `ercs.log`
//! (`SELECT … FOR UPDATE`), which holds the last position handed out, and moves
//! it in the same transaction as the events. So across every process writing to
//! the database, appends take positions one transaction after another: the next
//! one cannot read the row until the previous one has committed (PostgreSQL makes a
//! transaction visible before it releases its locks). A reader therefore never sees
//! position 6 while 5 is still to commit, and the committed `head` names a position
//! below which nothing is missing.
//!
//! All checks (command key, expected revision, retry by event id) are made under
//! that lock, so they see every other process's committed appends.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Error, EventData, ExpectedRevision, KeyedAppend,
    Position, Revision, StreamName,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config};

type Params<'a> = [&'a (dyn ToSql + Sync); 1];
use uuid::Uuid;

use crate::pool::Conn;
use crate::reader::{key_hash, keyed_append};
use crate::schema::{from_sql, storage, to_sql};

/// The channel the log's `NOTIFY` goes out on after each commit.
pub(crate) const CHANNEL: &str = "ercs_log";

/// Most bytes of event data taken into one transaction.
const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct AppendRequest {
    pub stream: StreamName,
    pub expected: ExpectedRevision,
    pub events: Vec<EventData>,
    /// With `append_once`: the command this append is the one effect of.
    pub key: Option<CommandKey>,
    pub reply: oneshot::Sender<Outcome>,
}

/// One request's answer: its own rejection (wrong revision, conflict) leaves the
/// rest of its batch unharmed.
pub(crate) type Outcome = Result<AppendOnce, Error>;

pub(crate) struct Writer {
    pub config: Config,
    pub conn: Option<Conn>,
    pub head: watch::Sender<Position>,
    pub max_batch: usize,
}

impl Writer {
    /// Runs until every sender is gone.
    pub async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<AppendRequest>) {
        while let Some(first) = inbox.recv().await {
            let mut bytes = size(&first);
            let mut batch = vec![first];
            while batch.len() < self.max_batch && bytes < MAX_BATCH_BYTES {
                match inbox.try_recv() {
                    Ok(request) => {
                        bytes += size(&request);
                        batch.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch).await;
        }
    }

    async fn commit(&mut self, batch: Vec<AppendRequest>) {
        let outcomes = match self.write(&batch).await {
            Ok((outcomes, head)) => {
                crate::listener::raise(&self.head, head);
                outcomes
            }
            Err(error) => {
                // The connection may be what failed: open a new one for the next
                // batch. If the failure hid a commit, a retry with the same event
                // ids or key is recognised and appends nothing.
                tracing::error!(%error, appends = batch.len(), "event log commit failed");
                self.conn = None;
                batch.iter().map(|_| Err(error.clone())).collect()
            }
        };
        for (request, outcome) in batch.into_iter().zip(outcomes) {
            // The caller may have given up waiting; the append stands all the same.
            let _ = request.reply.send(outcome);
        }
    }

    async fn write(&mut self, batch: &[AppendRequest]) -> Result<(Vec<Outcome>, Position), Error> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = Some(Conn::open(&self.config).await?);
        }
        let conn = self.conn.as_mut().expect("a connection was just opened");
        let statements = Statements::prepare(conn).await?;
        let client = &conn.client;
        // Round trip one: begin, take the log row's lock, read what the batch's
        // decisions depend on. PostgreSQL runs pipelined statements one after
        // another and each read takes its snapshot as it starts, so the reads see
        // every append committed before the lock was granted.
        let ((), row, mut known) = futures::try_join!(
            async { client.batch_execute("BEGIN").await.map_err(storage) },
            async {
                client
                    .query_one(&statements.lock_head, &[])
                    .await
                    .map_err(storage)
            },
            Known::load(client, &statements, batch),
        )?;
        let (head, now): (i64, DateTime<Utc>) = (row.get(0), row.get(1));
        let mut rows = Rows::new(from_sql(head) + 1, now);
        let outcomes: Vec<Outcome> = batch
            .iter()
            .map(|request| decide(request, &mut known, &mut rows))
            .collect();
        let new_head = Position(rows.next_position - 1);
        // Round trip two: the rows, the head, and the commit. A failed statement
        // fails the batch (the connection is then dropped, which rolls it back).
        rows.insert_and_commit(client, &statements, new_head)
            .await?;
        Ok((outcomes, new_head))
    }
}

fn size(request: &AppendRequest) -> usize {
    request
        .events
        .iter()
        .map(|e| e.data().len() + e.metadata().len())
        .sum()
}

struct Statements {
    lock_head: tokio_postgres::Statement,
    keys: tokio_postgres::Statement,
    revisions: tokio_postgres::Statement,
    placed: tokio_postgres::Statement,
    insert_events: tokio_postgres::Statement,
    insert_keys: tokio_postgres::Statement,
    move_head: tokio_postgres::Statement,
}

impl Statements {
    async fn prepare(conn: &mut Conn) -> Result<Self, Error> {
        Ok(Self {
            lock_head: conn
                .prepare("SELECT head, now() FROM ercs.log FOR UPDATE")
                .await?,
            keys: conn
                .prepare(
                    "SELECT stream, first_revision, last_revision, position, key_hash
                     FROM ercs.command_keys WHERE key_hash = ANY($1)",
                )
                .await?,
            // One index probe per stream (not a scan of its revisions).
            revisions: conn
                .prepare(
                    "SELECT s, (SELECT max(revision) FROM ercs.events WHERE stream = s)
                     FROM unnest($1::text[]) AS s",
                )
                .await?,
            placed: conn
                .prepare(
                    "SELECT stream, event_id, revision, position
                     FROM ercs.events WHERE event_id = ANY($1)",
                )
                .await?,
            insert_events: conn.prepare(crate::INSERT_EVENTS).await?,
            insert_keys: conn.prepare(crate::INSERT_KEYS).await?,
            move_head: conn
                .prepare(&format!(
                    "WITH moved AS (UPDATE ercs.log SET head = $1)
                     SELECT pg_notify('{CHANNEL}', $1::text)"
                ))
                .await?,
        })
    }
}

/// What the database holds that this batch's decisions depend on, kept up to date
/// as the batch's own appends are decided.
struct Known {
    keys: HashMap<Uuid, KeyedAppend>,
    revisions: HashMap<StreamName, Option<Revision>>,
    placed: HashMap<(StreamName, Uuid), (Revision, Position)>,
}

impl Known {
    async fn load(
        tx: &Client,
        statements: &Statements,
        batch: &[AppendRequest],
    ) -> Result<Self, Error> {
        let keys: Vec<Uuid> = batch
            .iter()
            .filter_map(|r| r.key.as_ref())
            .map(key_hash)
            .collect();
        let streams: Vec<&str> = batch.iter().map(|r| r.stream.as_str()).collect();
        let ids: Vec<Uuid> = batch
            .iter()
            .flat_map(|r| r.events.iter().map(EventData::id))
            .collect();
        // Sent together: the three queries share one round trip.
        let (keys, streams, ids): (Params, Params, Params) = ([&keys], [&streams], [&ids]);
        let (key_rows, revision_rows, placed_rows) = futures::try_join!(
            tx.query(&statements.keys, &keys),
            tx.query(&statements.revisions, &streams),
            tx.query(&statements.placed, &ids),
        )
        .map_err(storage)?;
        let mut known = Known {
            keys: HashMap::with_capacity(key_rows.len()),
            revisions: HashMap::with_capacity(revision_rows.len()),
            placed: HashMap::with_capacity(placed_rows.len()),
        };
        for row in &key_rows {
            known.keys.insert(row.get(4), keyed_append(row)?);
        }
        for row in &revision_rows {
            let revision: Option<i64> = row.get(1);
            known
                .revisions
                .insert(name(row.get(0))?, revision.map(from_sql));
        }
        for row in &placed_rows {
            let placed = (from_sql(row.get(2)), Position(from_sql(row.get(3))));
            known.placed.insert((name(row.get(0))?, row.get(1)), placed);
        }
        Ok(known)
    }
}

fn name(stored: String) -> Result<StreamName, Error> {
    StreamName::new(stored).map_err(|e| Error::Corrupt(format!("a stored stream name is bad: {e}")))
}

/// Decides one append against what is known, and queues its rows if it is made.
fn decide(request: &AppendRequest, known: &mut Known, rows: &mut Rows) -> Outcome {
    let stream = &request.stream;
    // The key first: a command already applied is answered with where it landed,
    // whatever revision the stream has reached since.
    if let Some(landed) = request
        .key
        .as_ref()
        .and_then(|k| known.keys.get(&key_hash(k)))
    {
        return Ok(AppendOnce::AlreadyApplied(landed.clone()));
    }
    let current = known.revisions.get(stream).copied().flatten();
    if let Some(retry) = find_retry(request, known) {
        return retry.map(AppendOnce::Appended);
    }
    if !request.expected.is_met_by(current) {
        return Err(Error::WrongExpectedRevision {
            stream: stream.clone(),
            expected: request.expected,
            actual: current,
        });
    }
    let first_revision = current.map_or(0, |r| r + 1);
    for (i, event) in request.events.iter().enumerate() {
        let revision = first_revision + i as u64;
        let position = rows.push(stream, revision, event);
        known
            .placed
            .insert((stream.clone(), event.id()), (revision, position));
    }
    let result = AppendResult {
        next_expected_revision: first_revision + request.events.len() as u64 - 1,
        position: Position(rows.next_position - 1),
    };
    known
        .revisions
        .insert(stream.clone(), Some(result.next_expected_revision));
    if let Some(key) = &request.key {
        let landed = KeyedAppend {
            stream: stream.clone(),
            first_revision,
            result,
        };
        rows.keys.push((key_hash(key), landed.clone()));
        known.keys.insert(key_hash(key), landed);
    }
    Ok(AppendOnce::Appended(result))
}

/// Whether this append was already made: every id in the stream, at consecutive
/// revisions in order, is a retry (answer with the original result); only some of
/// them is a conflict; none is a new append.
fn find_retry(request: &AppendRequest, known: &Known) -> Option<Result<AppendResult, Error>> {
    let found: Vec<Option<(Revision, Position)>> = request
        .events
        .iter()
        .map(|e| known.placed.get(&(request.stream.clone(), e.id())).copied())
        .collect();
    let first = found.iter().position(Option::is_some)?;
    let first_revision = found[0].map(|(revision, _)| revision);
    let same_append = found.iter().enumerate().all(|(i, placed)| {
        matches!((placed, first_revision), (Some((revision, _)), Some(r0)) if *revision == r0 + i as u64)
    });
    Some(match found.last() {
        Some(Some((revision, position))) if same_append => Ok(AppendResult {
            next_expected_revision: *revision,
            position: *position,
        }),
        _ => Err(Error::IdempotencyConflict {
            stream: request.stream.clone(),
            id: request.events[first].id(),
        }),
    })
}

/// The rows a batch writes, as the columns `unnest` takes.
struct Rows {
    next_position: u64,
    now: DateTime<Utc>,
    positions: Vec<i64>,
    streams: Vec<String>,
    revisions: Vec<i64>,
    ids: Vec<Uuid>,
    types: Vec<String>,
    data: Vec<String>,
    metadata: Vec<String>,
    keys: Vec<(Uuid, KeyedAppend)>,
}

impl Rows {
    fn new(next_position: u64, now: DateTime<Utc>) -> Self {
        Self {
            next_position,
            now,
            positions: Vec::new(),
            streams: Vec::new(),
            revisions: Vec::new(),
            ids: Vec::new(),
            types: Vec::new(),
            data: Vec::new(),
            metadata: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn push(&mut self, stream: &StreamName, revision: Revision, event: &EventData) -> Position {
        let position = self.next_position;
        self.next_position += 1;
        self.positions.push(to_sql(position));
        self.streams.push(stream.to_string());
        self.revisions.push(to_sql(revision));
        self.ids.push(event.id());
        self.types.push(event.event_type().to_string());
        self.data.push(event.data().as_str().to_owned());
        self.metadata.push(event.metadata().as_str().to_owned());
        Position(position)
    }

    async fn insert_and_commit(
        &self,
        tx: &Client,
        statements: &Statements,
        head: Position,
    ) -> Result<(), Error> {
        let times = vec![self.now; self.positions.len()];
        let key_hashes: Vec<Uuid> = self.keys.iter().map(|(hash, _)| *hash).collect();
        let key_streams: Vec<&str> = self.keys.iter().map(|(_, k)| k.stream.as_str()).collect();
        let firsts: Vec<i64> = self
            .keys
            .iter()
            .map(|(_, k)| to_sql(k.first_revision))
            .collect();
        let lasts: Vec<i64> = self
            .keys
            .iter()
            .map(|(_, k)| to_sql(k.result.next_expected_revision))
            .collect();
        let key_positions: Vec<i64> = self
            .keys
            .iter()
            .map(|(_, k)| to_sql(k.result.position.0))
            .collect();
        let head = to_sql(head.0);
        let events: [&(dyn ToSql + Sync); 8] = [
            &self.positions,
            &self.streams,
            &self.revisions,
            &self.ids,
            &self.types,
            &self.data,
            &self.metadata,
            &times,
        ];
        let keys: [&(dyn ToSql + Sync); 5] =
            [&key_hashes, &key_streams, &firsts, &lasts, &key_positions];
        let head: Params = [&head];
        if self.positions.is_empty() {
            return tx.batch_execute("COMMIT").await.map_err(storage);
        }
        // Sent together, in order, in one round trip.
        futures::try_join!(
            tx.execute(&statements.insert_events, &events),
            tx.execute(&statements.insert_keys, &keys),
            tx.execute(&statements.move_head, &head),
            tx.batch_execute("COMMIT"),
        )
        .map_err(storage)?;
        Ok(())
    }
}
