//! Opening the file: refusing foreign or corrupt files, creating the schema, and the
//! settings that make every acknowledged append durable.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::Error;

/// `PRAGMA application_id` of an ERCS event log: "ERCS" in ASCII.
const APPLICATION_ID: i64 = 0x4552_4353;
/// The schema this code writes; older ones are migrated on open.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
    CREATE TABLE events (
        position    INTEGER PRIMARY KEY,           -- the global order, from 1
        stream      TEXT    NOT NULL,
        revision    INTEGER NOT NULL,              -- within the stream, from 0
        event_id    BLOB    NOT NULL CHECK (length(event_id) = 16),
        event_type  TEXT    NOT NULL,
        data        TEXT    NOT NULL,              -- a JSON object
        metadata    TEXT    NOT NULL,              -- a JSON object
        recorded_at INTEGER NOT NULL,              -- microseconds since 1970, UTC
        UNIQUE (stream, revision)
    ) STRICT;
    {COMMAND_KEYS}
";

/// Version 2: the keys of appends made with `append_once`. One row per keyed
/// append, committed in the same transaction as its events; `key_hash` is the
/// UUID v5 of the key, so rows stay small whatever the key's length.
const COMMAND_KEYS: &str = "
    CREATE TABLE command_keys (
        key_hash       BLOB    PRIMARY KEY CHECK (length(key_hash) = 16),
        stream         TEXT    NOT NULL,
        first_revision INTEGER NOT NULL,
        last_revision  INTEGER NOT NULL,
        position       INTEGER NOT NULL               -- of the append's last event
    ) STRICT, WITHOUT ROWID;
";

/// Opens the one writing connection, creating and stamping the schema on a new file.
pub(super) fn open_writer(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| opening(path, e))?;
    let application_id: i64 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| opening(path, e))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(|e| opening(path, e))?;
    match (application_id, tables) {
        (APPLICATION_ID, _) => check_version(&conn, path)?,
        (0, 0) => create(&conn).map_err(|e| opening(path, e))?,
        (0, _) => return Err(foreign(path, "it is another program's SQLite database")),
        (other, _) => {
            return Err(foreign(
                path,
                &format!("its SQLite application id is {other:#x}"),
            ));
        }
    }
    // The writer's cache holds the indexes' upper levels that every append and
    // key check walks; the rest of a lookup is read from the OS's page cache.
    tune(&conn, path, 16 * 1024)?;
    Ok(conn)
}

/// Refuses a file that is not an ERCS event log, before anything reads it.
pub(super) fn check_is_log(conn: &Connection, path: &Path) -> Result<(), Error> {
    let application_id: i64 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| opening(path, e))?;
    if application_id != APPLICATION_ID {
        return Err(foreign(path, "it is not an ERCS event log"));
    }
    Ok(())
}

/// Opens a reading connection. WAL lets it read while the writer commits.
pub(super) fn open_reader(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| opening(path, e))?;
    // No memory map and a small cache: pages come from the OS's page cache by
    // `pread`, so the process holds at most 2 MiB per reader (a mapped file is
    // resident in every connection that maps it, which grew the server's RSS
    // with the log), at no measured cost in throughput (load-tests/RESULTS.md).
    conn.pragma_update(None, "mmap_size", 0).map_err(storage)?;
    conn.pragma_update(None, "cache_size", -2 * 1024)
        .map_err(storage)?;
    Ok(conn)
}

fn create(conn: &Connection) -> rusqlite::Result<()> {
    // The WAL switch must happen outside a transaction.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let schema = SCHEMA.replace("{COMMAND_KEYS}", COMMAND_KEYS);
    conn.execute_batch(&format!(
        "BEGIN; {schema}
         PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {SCHEMA_VERSION};
         COMMIT;"
    ))
}

fn check_version(conn: &Connection, path: &Path) -> Result<(), Error> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    if version == 1 {
        migrate_to_2(conn).map_err(|e| opening(path, e))?;
    } else if version != SCHEMA_VERSION {
        return Err(foreign(
            path,
            &format!("schema version {version}; this build reads {SCHEMA_VERSION}"),
        ));
    }
    // A cheap look at the table this code relies on: a damaged schema shows here.
    conn.prepare("SELECT position, stream, revision, event_id, event_type, data, metadata, recorded_at FROM events LIMIT 0")
        .map_err(|e| foreign(path, &format!("its events table is not as expected: {e}")))?;
    conn.prepare("SELECT key_hash, stream, first_revision, last_revision, position FROM command_keys LIMIT 0")
        .map_err(|e| foreign(path, &format!("its command_keys table is not as expected: {e}")))?;
    Ok(())
}

/// A version-1 log had no command keys table, but its events carry their keys in
/// their metadata: the table is filled from them, so a command applied before
/// the upgrade is still recognised when it is retried after it. One-way: a
/// version-1 build refuses the file afterwards.
fn migrate_to_2(conn: &Connection) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(COMMAND_KEYS)?;
    let mut landed: HashMap<String, (String, i64, i64, i64)> = HashMap::new();
    {
        let mut keyed = tx.prepare(
            "SELECT json_extract(metadata, '$.idempotency_key'), stream, revision, position
             FROM events WHERE json_extract(metadata, '$.idempotency_key') IS NOT NULL
             ORDER BY position",
        )?;
        let mut rows = keyed.query([])?;
        while let Some(row) = rows.next()? {
            let (key, stream, revision, position): (String, String, i64, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            // The first append under a key is its command; later ones on the
            // same stream were the rest of it (version 1 let a key span appends).
            let entry = landed
                .entry(key)
                .or_insert_with(|| (stream.clone(), revision, revision, position));
            if entry.0 == stream {
                entry.2 = revision;
                entry.3 = position;
            }
        }
    }
    {
        let mut insert = tx.prepare(
            "INSERT INTO command_keys (key_hash, stream, first_revision, last_revision, position)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (key, (stream, first, last, position)) in &landed {
            let hash = super::writer::key_hash_of(key);
            insert.execute(rusqlite::params![
                hash.as_bytes(),
                stream,
                first,
                last,
                position
            ])?;
        }
    }
    tx.execute_batch("PRAGMA user_version = 2;")?;
    tx.commit()
}

/// Durability: WAL with `synchronous = FULL` syncs the log on every commit, so an
/// acknowledged append survives a crash of the process or the machine.
fn tune(conn: &Connection, path: &Path, cache_kib: i64) -> Result<(), Error> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| opening(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(format!(
            "{}: could not switch to WAL (got {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    conn.pragma_update(None, "cache_size", -cache_kib)
        .map_err(storage)?;
    // After a checkpoint lets the WAL start over, its file is cut back to this.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(storage)?;
    Ok(())
}

fn foreign(path: &Path, reason: &str) -> Error {
    Error::NotAnEventLog {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

fn opening(path: &Path, error: rusqlite::Error) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => foreign(path, "it is not a SQLite database"),
        Some(ErrorCode::DatabaseCorrupt) => foreign(path, "the file is corrupt"),
        _ => Error::Storage(format!("{}: {error}", path.display())),
    }
}

/// Maps a SQLite failure after opening.
pub(super) fn storage(error: rusqlite::Error) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            Error::Corrupt(error.to_string())
        }
        _ => Error::Storage(error.to_string()),
    }
}
