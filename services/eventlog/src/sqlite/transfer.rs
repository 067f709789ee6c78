//! Moving a log: reading out its command keys, writing events recorded by another
//! log into a new file exactly as they were, and an online backup.

use std::fs::File;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};

use super::schema::{self, storage};
use super::writer::{from_sql, to_sql};
use super::{SqliteEventLog, lock};
use crate::Error;
use crate::files::FileAccess;
use crate::model::check_import;
use crate::model::{AppendResult, KeyRecord, KeyedAppend, Position, RecordedEvent, StreamName};

impl SqliteEventLog {
    /// Every command key the log holds, in the order of the appends they name.
    pub async fn command_keys(&self) -> Result<Vec<KeyRecord>, Error> {
        self.inner.readers.run(read_keys).await
    }
}

fn read_keys(conn: &Connection) -> Result<Vec<KeyRecord>, Error> {
    let mut query = conn
        .prepare(
            "SELECT key_hash, stream, first_revision, last_revision, position
             FROM command_keys ORDER BY position",
        )
        .map_err(storage)?;
    let rows = query
        .query_map([], |row| {
            Ok((
                row.get::<_, [u8; 16]>(0)?,
                row.get::<_, String>(1)?,
                from_sql(row.get(2)?),
                from_sql(row.get(3)?),
                from_sql(row.get(4)?),
            ))
        })
        .map_err(storage)?;
    rows.map(|row| {
        let (hash, stream, first_revision, last_revision, position) = row.map_err(storage)?;
        Ok(KeyRecord {
            key_hash: uuid::Uuid::from_bytes(hash),
            landed: KeyedAppend {
                stream: StreamName::new(stream)
                    .map_err(|e| Error::Corrupt(format!("command_keys: {e}")))?,
                first_revision,
                result: AppendResult {
                    next_expected_revision: last_revision,
                    position: Position(position),
                },
            },
        })
    })
    .collect()
}

/// Writes events recorded by another log into an SQLite log that is not open:
/// a new file, or one that ends just before the first imported position. Each
/// event keeps its position, stream, revision, id, type, data, metadata and
/// recorded time, so the log reads back exactly as the one it came from.
pub struct SqliteImport {
    conn: Connection,
    next_position: u64,
    _lock: File,
}

impl SqliteImport {
    pub fn open(path: &Path, access: FileAccess) -> Result<Self, Error> {
        let lock = lock(path, access)?;
        access
            .create_file(path)
            .map_err(|e| Error::Storage(format!("{}: {e}", path.display())))?;
        let conn = schema::open_writer(path)?;
        let last: i64 = conn
            .query_row("SELECT coalesce(max(position), 0) FROM events", [], |row| {
                row.get(0)
            })
            .map_err(storage)?;
        Ok(Self {
            conn,
            next_position: from_sql(last) + 1,
            _lock: lock,
        })
    }

    /// Writes `events`, which must continue the log: the first at the next
    /// position, the rest after it without a hole. All or none are written.
    pub fn events(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
        let tx = self.conn.transaction().map_err(storage)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (position, stream, revision, event_id, event_type, data, metadata, recorded_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(storage)?;
            for (next, event) in (self.next_position..).zip(events) {
                check_import(event.position, next)?;
                insert
                    .execute(params![
                        to_sql(event.position.0),
                        event.stream.as_str(),
                        to_sql(event.revision),
                        event.id.as_bytes(),
                        event.event_type.as_str(),
                        event.data.as_str(),
                        event.metadata.as_str(),
                        event.recorded_at.timestamp_micros(),
                    ])
                    .map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)?;
        self.next_position += events.len() as u64;
        Ok(())
    }

    /// Writes command keys; each must name an append already imported.
    pub fn keys(&mut self, keys: &[KeyRecord]) -> Result<(), Error> {
        let tx = self.conn.transaction().map_err(storage)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO command_keys (key_hash, stream, first_revision, last_revision, position)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(storage)?;
            for key in keys {
                let landed = &key.landed;
                if landed.result.position.0 >= self.next_position {
                    return Err(Error::InvalidAppend {
                        reason: format!(
                            "names command key {} at position {}, after the last imported event",
                            key.key_hash, landed.result.position
                        ),
                    });
                }
                insert
                    .execute(params![
                        key.key_hash.as_bytes(),
                        landed.stream.as_str(),
                        to_sql(landed.first_revision),
                        to_sql(landed.result.next_expected_revision),
                        to_sql(landed.result.position.0),
                    ])
                    .map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }
}

/// Copies the log at `source` to `target` (a new file) with SQLite's online backup
/// API, while another process may be appending: the copy is taken in one step,
/// inside one read transaction, so it is the log as of one commit, and WAL lets
/// the writer go on meanwhile. The copy is written beside `target` and renamed
/// into place once synced, so `target` is never a partial file.
pub fn backup(source: &Path, target: &Path, access: FileAccess) -> Result<u64, Error> {
    if target.exists() {
        return Err(Error::Storage(format!(
            "{} already exists",
            target.display()
        )));
    }
    let from =
        Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(storage)?;
    schema::check_is_log(&from, source)?;
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    let partial = Path::new(&partial);
    access
        .create_file(partial)
        .map_err(|e| Error::Storage(format!("{}: {e}", partial.display())))?;
    let copied = copy(&from, partial);
    let events = match copied {
        Ok(events) => events,
        Err(error) => {
            let _ = std::fs::remove_file(partial);
            return Err(error);
        }
    };
    std::fs::rename(partial, target)
        .map_err(|e| Error::Storage(format!("{}: {e}", target.display())))?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::Storage(format!("{}: {e}", dir.display())))?;
    }
    Ok(events)
}

/// The copy itself; returns how many events it holds.
fn copy(from: &Connection, partial: &Path) -> Result<u64, Error> {
    let mut to = Connection::open(partial).map_err(storage)?;
    {
        let backup = rusqlite::backup::Backup::new(from, &mut to).map_err(storage)?;
        // -1: every page in one step, so a concurrent commit cannot restart it.
        match backup.step(-1).map_err(storage)? {
            rusqlite::backup::StepResult::Done => {}
            other => {
                return Err(Error::Storage(format!(
                    "the backup did not finish in one step: {other:?}"
                )));
            }
        }
    }
    let events: i64 = to
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .map_err(storage)?;
    to.close().map_err(|(_, e)| storage(e))?;
    File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::Storage(format!("{}: {e}", partial.display())))?;
    Ok(from_sql(events))
}
