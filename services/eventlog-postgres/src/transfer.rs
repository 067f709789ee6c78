//! Moving a log: reading out its command keys, and writing events recorded by
//! another log exactly as they were (positions, ids, recorded times).

use ercs_eventlog::{Error, KeyRecord, RecordedEvent, check_import};
use tokio_postgres::types::ToSql;

use crate::PostgresEventLog;
use crate::reader::keyed_append;
use crate::schema::{from_sql, storage, to_sql};

impl PostgresEventLog {
    /// Every command key the log holds, in the order of the appends they name.
    pub async fn command_keys(&self) -> Result<Vec<KeyRecord>, Error> {
        let conn = self.inner.reader.pool.get().await?;
        let rows = conn
            .client
            .query(
                "SELECT stream, first_revision, last_revision, position, key_hash
                 FROM ercs.command_keys ORDER BY position",
                &[],
            )
            .await
            .map_err(storage);
        self.inner.reader.pool.put(conn);
        rows?
            .iter()
            .map(|row| {
                Ok(KeyRecord {
                    key_hash: row.get(4),
                    landed: keyed_append(row)?,
                })
            })
            .collect()
    }

    /// Writes `events`, which must continue the log: the first at the next
    /// position, the rest after it without a hole. Takes the log row's lock like
    /// any append, so it is safe beside a running service; all or none are written.
    pub async fn import_events(&self, events: &[RecordedEvent]) -> Result<(), Error> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let mut conn = self.inner.reader.pool.get().await?;
        let tx = conn.client.transaction().await.map_err(storage)?;
        let head: i64 = tx
            .query_one("SELECT head FROM ercs.log FOR UPDATE", &[])
            .await
            .map_err(storage)?
            .get(0);
        for (i, event) in events.iter().enumerate() {
            check_import(event.position, from_sql(head) + 1 + i as u64)?;
        }
        let columns = Columns::of(events);
        let params: [&(dyn ToSql + Sync); 8] = [
            &columns.positions,
            &columns.streams,
            &columns.revisions,
            &columns.ids,
            &columns.types,
            &columns.data,
            &columns.metadata,
            &columns.times,
        ];
        tx.execute(crate::INSERT_EVENTS, &params)
            .await
            .map_err(storage)?;
        let new_head = to_sql(last.position.0);
        tx.execute(
            &format!(
                "WITH moved AS (UPDATE ercs.log SET head = $1)
                 SELECT pg_notify('{}', $1::text)",
                crate::writer::CHANNEL
            ),
            &[&new_head],
        )
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        self.inner.reader.pool.put(conn);
        Ok(())
    }

    /// Writes command keys; each must name an append already in the log.
    pub async fn import_keys(&self, keys: &[KeyRecord]) -> Result<(), Error> {
        let conn = self.inner.reader.pool.get().await?;
        let head = self.inner.reader.head().await?;
        if let Some(late) = keys.iter().find(|k| k.landed.result.position > head) {
            return Err(Error::InvalidAppend {
                reason: format!(
                    "names command key {} at position {}, after the last imported event",
                    late.key_hash, late.landed.result.position
                ),
            });
        }
        let hashes: Vec<uuid::Uuid> = keys.iter().map(|k| k.key_hash).collect();
        let streams: Vec<&str> = keys.iter().map(|k| k.landed.stream.as_str()).collect();
        let firsts: Vec<i64> = keys
            .iter()
            .map(|k| to_sql(k.landed.first_revision))
            .collect();
        let lasts: Vec<i64> = keys
            .iter()
            .map(|k| to_sql(k.landed.result.next_expected_revision))
            .collect();
        let positions: Vec<i64> = keys
            .iter()
            .map(|k| to_sql(k.landed.result.position.0))
            .collect();
        let done = conn
            .client
            .execute(
                crate::INSERT_KEYS,
                &[&hashes, &streams, &firsts, &lasts, &positions],
            )
            .await
            .map_err(storage);
        self.inner.reader.pool.put(conn);
        done.map(drop)
    }
}

/// Recorded events as the columns `unnest` takes.
struct Columns {
    positions: Vec<i64>,
    streams: Vec<String>,
    revisions: Vec<i64>,
    ids: Vec<uuid::Uuid>,
    types: Vec<String>,
    data: Vec<String>,
    metadata: Vec<String>,
    times: Vec<chrono::DateTime<chrono::Utc>>,
}

impl Columns {
    fn of(events: &[RecordedEvent]) -> Self {
        Self {
            positions: events.iter().map(|e| to_sql(e.position.0)).collect(),
            streams: events.iter().map(|e| e.stream.to_string()).collect(),
            revisions: events.iter().map(|e| to_sql(e.revision)).collect(),
            ids: events.iter().map(|e| e.id).collect(),
            types: events.iter().map(|e| e.event_type.to_string()).collect(),
            data: events.iter().map(|e| e.data.as_str().to_owned()).collect(),
            metadata: events
                .iter()
                .map(|e| e.metadata.as_str().to_owned())
                .collect(),
            times: events.iter().map(|e| e.recorded_at).collect(),
        }
    }
}
