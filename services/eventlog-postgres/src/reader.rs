//! Reads. Each is one statement, so it sees one committed snapshot; positions are
//! handed out under the log row's lock (see [`crate::writer`]), so no committed
//! read can see a position whose predecessor is still to commit.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ercs_eventlog::windowed::LogWindows;
use ercs_eventlog::{
    AppendResult, CommandKey, Direction, Error, EventType, Filter, JsonObject, KeyedAppend,
    Position, RecordedEvent, StreamName,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::pool::Pool;
use crate::schema::{from_sql, storage, to_sql};

const COLUMNS: &str =
    "position, stream, revision, event_id, event_type, data, metadata, recorded_at";

pub(crate) struct Reader {
    pub pool: Pool,
}

impl Reader {
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        let mut conn = self.pool.get().await?;
        let statement = conn.prepare(sql).await?;
        let rows = conn.client.query(&statement, params).await.map_err(storage);
        self.pool.put(conn);
        rows
    }

    /// Revisions of `stream` in `[lowest, highest]`.
    pub async fn stream_window(
        &self,
        stream: &StreamName,
        (lowest, highest): (u64, u64),
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM ercs.events WHERE stream = $1 AND revision BETWEEN $2 AND $3
             ORDER BY revision {} LIMIT $4",
            order(direction)
        );
        let limit = to_sql(limit as u64);
        let rows = self
            .query(
                &sql,
                &[&stream.as_str(), &to_sql(lowest), &to_sql(highest), &limit],
            )
            .await?;
        rows.iter().map(recorded).collect()
    }

    /// Positions in `[lowest, highest]` that match `filter`.
    pub async fn log_window(
        &self,
        (lowest, highest): (Position, Position),
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        // Unused parts of the filter are NULL, so one statement serves every filter.
        let sql = format!(
            "SELECT {COLUMNS} FROM ercs.events WHERE position BETWEEN $1 AND $2
               AND ($3::text IS NULL OR starts_with(stream, $3))
               AND ($4::text[] IS NULL OR event_type = ANY($4))
             ORDER BY position {} LIMIT $5",
            order(direction)
        );
        // Positions have no holes, so an unfiltered forward read of `limit` events
        // covers exactly `limit` positions. Saying so keeps the plan an index range
        // scan whatever the table's statistics (on a fresh table PostgreSQL
        // otherwise guesses a few rows and sorts the whole tail of the log).
        let highest = match direction {
            Direction::Forwards if filter.is_all() => {
                let span = u64::try_from(limit).unwrap_or(u64::MAX).saturating_sub(1);
                Position(highest.0.min(lowest.0.saturating_add(span)))
            }
            _ => highest,
        };
        let types: Option<Vec<&str>> = (!filter.event_types.is_empty())
            .then(|| filter.event_types.iter().map(EventType::as_str).collect());
        let rows = self
            .query(
                &sql,
                &[
                    &to_sql(lowest.0),
                    &to_sql(highest.0),
                    &filter.stream_prefix,
                    &types,
                    &to_sql(limit as u64),
                ],
            )
            .await?;
        rows.iter().map(recorded).collect()
    }

    pub async fn head(&self) -> Result<Position, Error> {
        let rows = self.query("SELECT head FROM ercs.log", &[]).await?;
        let head: i64 = rows.first().map_or(0, |row| row.get(0));
        Ok(Position(from_sql(head)))
    }

    pub async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        let rows = self
            .query(
                "SELECT stream, first_revision, last_revision, position
                 FROM ercs.command_keys WHERE key_hash = $1",
                &[&key_hash(key)],
            )
            .await?;
        rows.first().map(keyed_append).transpose()
    }
}

/// Subscriptions read through the same pool.
pub(crate) struct Windows(pub Arc<Reader>);

#[async_trait]
impl LogWindows for Windows {
    async fn window(
        &self,
        window: (Position, Position),
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.0
            .log_window(window, Direction::Forwards, filter, limit)
            .await
    }
}

/// A `command_keys` row (stream, first_revision, last_revision, position).
pub(crate) fn keyed_append(row: &Row) -> Result<KeyedAppend, Error> {
    Ok(KeyedAppend {
        stream: stored_name(row.get(0))?,
        first_revision: from_sql(row.get(1)),
        result: AppendResult {
            next_expected_revision: from_sql(row.get(2)),
            position: Position(from_sql(row.get(3))),
        },
    })
}

/// Command keys are stored as UUID v5 of their text in a namespace of their own,
/// the same one the SQLite backend uses, so a moved log keeps its keys.
pub(crate) fn key_hash(key: &CommandKey) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6572_6373_2d63_6f6d_6d61_6e64_2d6b_6579);
    Uuid::new_v5(&NAMESPACE, key.as_str().as_bytes())
}

fn order(direction: Direction) -> &'static str {
    match direction {
        Direction::Forwards => "ASC",
        Direction::Backwards => "DESC",
    }
}

/// A shared database can be written by others than ERCS, so what comes back is
/// checked again rather than trusted; a row that breaks a rule is corruption.
fn recorded(row: &Row) -> Result<RecordedEvent, Error> {
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        Error::Corrupt(format!("an event in ercs.events has a bad {what}: {e}"))
    };
    let recorded_at: DateTime<Utc> = row.get(7);
    Ok(RecordedEvent {
        position: Position(from_sql(row.get(0))),
        stream: stored_name(row.get(1))?,
        revision: from_sql(row.get(2)),
        id: row.get(3),
        event_type: EventType::new(row.get::<_, String>(4)).map_err(|e| corrupt("type", &e))?,
        data: JsonObject::parse(row.get::<_, String>(5)).map_err(|e| corrupt("data", &e))?,
        metadata: JsonObject::parse(row.get::<_, String>(6))
            .map_err(|e| corrupt("metadata", &e))?,
        recorded_at,
    })
}

fn stored_name(name: String) -> Result<StreamName, Error> {
    StreamName::new(name).map_err(|e| Error::Corrupt(format!("a stored stream name is bad: {e}")))
}
