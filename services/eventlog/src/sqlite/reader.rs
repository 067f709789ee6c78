//! Reads, on a small pool of read-only connections run off the async threads.
//! WAL lets them read a committed snapshot while the writer commits.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::DateTime;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::schema::{open_reader, storage};
use super::writer::{from_sql, to_sql};
use crate::Error;
use crate::model::{Direction, EventType, Filter, JsonObject, Position, RecordedEvent, StreamName};

/// At most `size` connections, opened on first need and kept: a read beyond them
/// waits for one to come back rather than opening another, because every
/// connection maps up to 256 MiB of the file and keeps its own page cache and
/// prepared statements (a fresh one would re-prepare them all).
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection that may exist; held while a read runs.
    permits: Arc<Semaphore>,
    opened: AtomicUsize,
}

/// Statements one connection keeps prepared: the log's reads vary only by the
/// filter's shape, so a few dozen texts cover them.
const PREPARED: usize = 64;

impl Readers {
    pub fn new(path: PathBuf, size: usize) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
            opened: AtomicUsize::new(0),
        }
    }

    /// Runs `read` on a pooled connection, on the blocking thread pool, once one
    /// is free.
    pub async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| Error::Storage(format!("the reader pool is closed: {e}")))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = readers.take()?;
            let result = read(&conn);
            readers.lock_idle().push(conn);
            result
        })
        .await
        .map_err(|e| Error::Storage(format!("read task failed: {e}")))?
    }

    /// How many connections have been opened (never more than the pool's size).
    #[cfg(test)]
    fn opened(&self) -> usize {
        self.opened.load(Ordering::Acquire)
    }

    /// An idle connection, or a new one: the caller holds a permit, so a new one
    /// never takes the pool beyond its size.
    fn take(&self) -> Result<Connection, Error> {
        if let Some(conn) = self.lock_idle().pop() {
            return Ok(conn);
        }
        let conn = open_reader(&self.path)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        self.opened.fetch_add(1, Ordering::AcqRel);
        Ok(conn)
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A window of one stream: revisions in `[lowest, highest]`.
pub(super) fn stream_window(
    conn: &Connection,
    stream: &StreamName,
    (lowest, highest): (u64, u64),
    direction: Direction,
    limit: usize,
) -> Result<Vec<RecordedEvent>, Error> {
    let sql = stream_window_sql(direction);
    let params = [
        Value::Text(stream.to_string()),
        Value::Integer(to_sql(lowest)),
        Value::Integer(to_sql(highest)),
        Value::Integer(to_sql(limit as u64)),
    ];
    query(conn, &sql, params.into_iter())
}

fn stream_window_sql(direction: Direction) -> String {
    format!(
        "SELECT {COLUMNS} FROM events WHERE stream = +?1 AND revision BETWEEN ?2 AND ?3 ORDER BY revision {} LIMIT +?4",
        order(direction)
    )
}

/// A window of the whole log: positions in `[lowest, highest]` that match `filter`.
pub(super) fn log_window(
    conn: &Connection,
    range: (Position, Position),
    direction: Direction,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<RecordedEvent>, Error> {
    let (sql, params) = log_window_query(range, direction, filter, limit);
    query(conn, &sql, params.into_iter())
}

/// The statement of [`log_window`] and its parameters.
fn log_window_query(
    (lowest, highest): (Position, Position),
    direction: Direction,
    filter: &Filter,
    limit: usize,
) -> (String, Vec<Value>) {
    let mut sql = format!("SELECT {COLUMNS} FROM events WHERE position BETWEEN ?1 AND ?2");
    let mut params = vec![
        Value::Integer(to_sql(lowest.0)),
        Value::Integer(to_sql(highest.0)),
    ];
    if let Some(prefix) = &filter.stream_prefix {
        params.push(Value::Text(prefix.clone()));
        sql.push_str(&format!(
            " AND substr(stream, 1, length(?{n})) = ?{n}",
            n = params.len()
        ));
    }
    if !filter.event_types.is_empty() {
        let first = params.len() + 1;
        params.extend(
            filter
                .event_types
                .iter()
                .map(|t| Value::Text(t.to_string())),
        );
        let slots: Vec<String> = (first..=params.len()).map(|n| format!("?{n}")).collect();
        sql.push_str(&format!(" AND event_type IN ({})", slots.join(", ")));
    }
    params.push(Value::Integer(to_sql(limit as u64)));
    sql.push_str(&format!(
        " ORDER BY position {} LIMIT +?{}",
        order(direction),
        params.len()
    ));
    (sql, params)
}

// `LIMIT +?n` and `stream = +?n`, not `?n`: SQLite (3.54) plans a bare bound
// LIMIT as the constant it is bound to, and an equality on one column of an
// index ordered by another as its bound value, and so marks the statement to
// be prepared again whenever that parameter is bound anew, i.e. on every
// read: under mixed load 6 % of the server's CPU went to parsing these
// statements again. The unary plus makes the parameter an expression
// evaluated when the statement runs; the plan (the `(stream, revision)`
// index) is the same. `a_read_does_not_prepare_its_statement_again` checks it.
const COLUMNS: &str =
    "position, stream, revision, event_id, event_type, data, metadata, recorded_at";

fn order(direction: Direction) -> &'static str {
    match direction {
        Direction::Forwards => "ASC",
        Direction::Backwards => "DESC",
    }
}

fn query(
    conn: &Connection,
    sql: &str,
    params: impl Iterator<Item = Value>,
) -> Result<Vec<RecordedEvent>, Error> {
    let mut statement = conn.prepare_cached(sql).map_err(storage)?;
    let rows = statement
        .query_map(params_from_iter(params), recorded)
        .map_err(storage)?;
    rows.map(|row| row.map_err(storage)?).collect()
}

fn recorded(row: &Row) -> rusqlite::Result<Result<RecordedEvent, Error>> {
    let id: [u8; 16] = row.get(3)?;
    let micros: i64 = row.get(7)?;
    let Some(recorded_at) = DateTime::from_timestamp_micros(micros) else {
        return Ok(Err(Error::Corrupt(format!(
            "event {} has recorded_at {micros}",
            Uuid::from_bytes(id)
        ))));
    };
    Ok(Ok(RecordedEvent {
        position: Position(from_sql(row.get(0)?)),
        stream: StreamName::from_stored(row.get(1)?),
        revision: from_sql(row.get(2)?),
        id: Uuid::from_bytes(id),
        event_type: EventType::from_stored(row.get(4)?),
        data: JsonObject::from_stored(row.get(5)?),
        metadata: JsonObject::from_stored(row.get(6)?),
        recorded_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteEventLog;

    /// A read prepares its statement once per connection, whatever its
    /// stream, limit and range: see the note on `LIMIT +?n`.
    #[test]
    fn a_read_does_not_prepare_its_statement_again() {
        use rusqlite::StatementStatus::RePrepare;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let _log = SqliteEventLog::open(&path).unwrap();
        let conn = open_reader(&path).unwrap();
        let filter = Filter::stream_prefix("facility-");
        for limit in 1..=5 {
            let stream = StreamName::new(format!("facility-{limit}")).unwrap();
            let revisions = (limit as u64, 9);
            stream_window(&conn, &stream, revisions, Direction::Forwards, limit).unwrap();
            let range = (Position(1), Position(limit as u64));
            log_window(&conn, range, Direction::Backwards, &filter, limit).unwrap();
        }
        let reprepared = |sql: &str| conn.prepare_cached(sql).unwrap().get_status(RePrepare);
        assert_eq!(reprepared(&stream_window_sql(Direction::Forwards)), 0);
        let range = (Position(1), Position(1));
        let (sql, _) = log_window_query(range, Direction::Backwards, &filter, 1);
        assert_eq!(reprepared(&sql), 0);
    }

    /// A reader holds at most its 2 MiB page cache and maps none of the file, so
    /// the server's resident memory does not grow with the log (load-tests/README.md).
    #[test]
    fn a_reader_maps_nothing_and_caches_two_mebibytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let _log = SqliteEventLog::open(&path).unwrap();
        let conn = open_reader(&path).unwrap();
        let pragma = |name: &str| -> i64 {
            conn.pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(pragma("mmap_size"), 0);
        assert_eq!(pragma("cache_size"), -2 * 1024);
    }

    /// 64 reads at once on a pool of 3 open 3 connections and all succeed: the
    /// others wait their turn instead of opening (and mapping) a fresh one each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_reads_beyond_the_pool_wait_for_a_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let _log = SqliteEventLog::open(&path).unwrap();
        let readers = Arc::new(Readers::new(path, 3));
        let reads = (0..64).map(|_| {
            let readers = Arc::clone(&readers);
            tokio::spawn(async move {
                readers
                    .run(|conn| {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        conn.query_row("SELECT count(*) FROM events", [], |row| {
                            row.get::<_, i64>(0)
                        })
                        .map_err(storage)
                    })
                    .await
            })
        });
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.unwrap().unwrap(), 0);
        }
        assert_eq!(readers.opened(), 3);
    }
}
