//! Opening the file: refusing foreign or corrupt files, creating the schema, and the
//! settings that make every acknowledged append durable.

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
    tune(&conn, path, 64 * 1024)?;
    Ok(conn)
}

/// Opens a reading connection. WAL lets it read while the writer commits.
pub(super) fn open_reader(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| opening(path, e))?;
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)
        .map_err(storage)?;
    conn.pragma_update(None, "cache_size", -16 * 1024)
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

/// A version-1 log had no command keys: every append before now was unkeyed.
fn migrate_to_2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN; {COMMAND_KEYS} PRAGMA user_version = 2; COMMIT;"
    ))
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
