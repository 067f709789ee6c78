//! The ERCS event log on PostgreSQL: the [`EventLog`] port on a store that several
//! `ercs serve` replicas can share, and the base of the PostgreSQL-compatible
//! databases many governments run. Pure SQL (no extension), PostgreSQL 12 or later.
//!
//! - Appends go through one writer task per process that group-commits ([`writer`]);
//!   positions are handed out under the lock of one row, so they become visible to
//!   readers strictly in order, across every process that writes.
//! - Reads run on a small pool of connections ([`pool`]).
//! - `subscribe_all` reads committed windows up to the head, and wakes on the
//!   `NOTIFY` each commit sends ([`listener`]).

mod listener;
mod pool;
mod reader;
mod schema;
mod transfer;
mod writer;

#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use ercs_eventlog::windowed::{self, read_range};
use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    Filter, KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, SubscribeFrom,
    Subscription, check_append,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_postgres::Config;

use crate::pool::{Conn, Pool};
use crate::reader::{Reader, Windows};
use crate::writer::{AppendRequest, Writer};

/// Inserts rows given as columns; shared by the writer and the import.
pub(crate) const INSERT_EVENTS: &str = "
    INSERT INTO ercs.events
      (position, stream, revision, event_id, event_type, data, metadata, recorded_at)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[],
                         $5::text[], $6::text[], $7::text[], $8::timestamptz[])";

/// Inserts command keys given as columns; shared by the writer and the import.
pub(crate) const INSERT_KEYS: &str = "
    INSERT INTO ercs.command_keys (key_hash, stream, first_revision, last_revision, position)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])";

/// Tuning for [`PostgresEventLog::connect_with`]; the defaults suit a service.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// Most appends committed in one transaction.
    pub max_batch: usize,
    /// Idle read connections kept open.
    pub readers: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            readers: 8,
        }
    }
}

/// The PostgreSQL event log. Cheap to clone; every clone is the same log. Its
/// tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct PostgresEventLog {
    inner: Arc<Inner>,
}

struct Inner {
    requests: mpsc::UnboundedSender<AppendRequest>,
    reader: Arc<Reader>,
    head: watch::Receiver<Position>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl PostgresEventLog {
    /// Connects to the database named by `url` (`postgres://user:password@host:port/db`
    /// or a `key=value` string), creating the log's tables if they are missing.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self, Error> {
        let config: Config = url.parse().map_err(|e| {
            Error::Storage(format!(
                "the PostgreSQL connection string is not valid: {e}"
            ))
        })?;
        let mut conn = Conn::open(&config).await?;
        schema::prepare(&mut conn.client).await?;
        let reader = Arc::new(Reader {
            pool: Pool::new(config.clone(), options.readers.max(1)),
        });
        let (head_tx, head) = watch::channel(reader.head().await?);
        let listener =
            listener::start(config.clone(), Arc::clone(&reader), head_tx.clone()).await?;
        let writer = Writer {
            config,
            conn: Some(conn),
            head: head_tx,
            max_batch: options.max_batch.max(1),
        };
        let (requests, inbox) = mpsc::unbounded_channel();
        let writer = tokio::spawn(writer.run(inbox));
        Ok(Self {
            inner: Arc::new(Inner {
                requests,
                reader,
                head,
                tasks: vec![writer, listener],
            }),
        })
    }

    /// Hands an append to the writer task and waits for its outcome.
    async fn send(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: Option<CommandKey>,
    ) -> Result<AppendOnce, Error> {
        check_append(&events)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            stream: stream.clone(),
            expected,
            events,
            key,
            reply,
        };
        self.inner
            .requests
            .send(request)
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

#[async_trait]
impl EventLog for PostgresEventLog {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        match self.send(stream, expected, events, None).await? {
            AppendOnce::Appended(result) => Ok(result),
            AppendOnce::AlreadyApplied(_) => unreachable!("an append without a key"),
        }
    }

    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error> {
        self.send(stream, expected, events, Some(key.clone())).await
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        self.inner.reader.find_key(key).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let Some(window) = read_range(from, direction, 0) else {
            return Ok(Vec::new());
        };
        self.inner
            .reader
            .stream_window(stream, window, direction, limit)
            .await
    }

    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let from = match from {
            ReadFrom::At(position) => ReadFrom::At(position.0),
            ReadFrom::Start => ReadFrom::Start,
            ReadFrom::End => ReadFrom::End,
        };
        let Some((lowest, highest)) = read_range(from, direction, 1) else {
            return Ok(Vec::new());
        };
        self.inner
            .reader
            .log_window(
                (Position(lowest), Position(highest)),
                direction,
                filter,
                limit,
            )
            .await
    }

    /// The committed head, read from the database: it includes other processes'
    /// appends that this one's listener has not heard of yet.
    async fn head(&self) -> Result<Position, Error> {
        self.inner.reader.head().await
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        let after = match from {
            SubscribeFrom::Start => Position::START,
            SubscribeFrom::End => *self.inner.head.borrow(),
            SubscribeFrom::After(position) => position,
        };
        let windows = Arc::new(Windows(Arc::clone(&self.inner.reader)));
        windowed::subscribe(windows, self.inner.head.clone(), after, filter)
    }
}
