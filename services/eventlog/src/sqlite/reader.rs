//! Reads, on a small pool of read-only connections run off the async threads.
//! WAL lets them read a committed snapshot while the writer commits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::DateTime;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use uuid::Uuid;

use super::schema::{open_reader, storage};
use super::writer::{from_sql, to_sql};
use crate::Error;
use crate::model::{Direction, EventType, Filter, JsonObject, Position, RecordedEvent, StreamName};

pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl Readers {
    pub fn new(path: PathBuf, max_idle: usize) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// Runs `read` on a pooled connection, on the blocking thread pool.
    pub async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let pooled = readers
                .idle
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&readers.path)?,
            };
            let result = read(&conn);
            let mut idle = readers
                .idle
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if idle.len() < readers.max_idle {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| Error::Storage(format!("read task failed: {e}")))?
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
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND revision BETWEEN ?2 AND ?3 ORDER BY revision {} LIMIT ?4",
        order(direction)
    );
    let params = [
        Value::Text(stream.to_string()),
        Value::Integer(to_sql(lowest)),
        Value::Integer(to_sql(highest)),
        Value::Integer(to_sql(limit as u64)),
    ];
    query(conn, &sql, params.into_iter())
}

/// A window of the whole log: positions in `[lowest, highest]` that match `filter`.
pub(super) fn log_window(
    conn: &Connection,
    (lowest, highest): (Position, Position),
    direction: Direction,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<RecordedEvent>, Error> {
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
        " ORDER BY position {} LIMIT ?{}",
        order(direction),
        params.len()
    ));
    query(conn, &sql, params.into_iter())
}

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
