//! The tables, created on first connect, and the mapping of PostgreSQL's errors.
//!
//! Everything lives in the schema `ercs`, so the log can share a database that an
//! operator already runs. Pure SQL: no extension is needed.

use ercs_eventlog::Error;
use tokio_postgres::Client;

/// The schema this code writes.
pub(crate) const SCHEMA_VERSION: i32 = 1;

/// Any number will do, as long as it is ERCS's own: "ERCS" in ASCII.
const SETUP_LOCK: i64 = 0x4552_4353;

const TABLES: &str = "
    CREATE SCHEMA IF NOT EXISTS ercs;
    CREATE TABLE IF NOT EXISTS ercs.events (
        position    bigint      PRIMARY KEY,          -- the global order, from 1
        stream      text        NOT NULL,
        revision    bigint      NOT NULL,             -- within the stream, from 0
        event_id    uuid        NOT NULL,
        event_type  text        NOT NULL,
        data        text        NOT NULL,             -- a JSON object, as appended
        metadata    text        NOT NULL,             -- a JSON object, as appended
        recorded_at timestamptz NOT NULL,
        UNIQUE (stream, revision)
    );
    -- Retries are recognised by event id for as long as the log is kept.
    CREATE INDEX IF NOT EXISTS events_event_id ON ercs.events (event_id);
    -- One row per keyed append, committed with its events.
    CREATE TABLE IF NOT EXISTS ercs.command_keys (
        key_hash       uuid   PRIMARY KEY,           -- UUID v5 of the key
        stream         text   NOT NULL,
        first_revision bigint NOT NULL,
        last_revision  bigint NOT NULL,
        position       bigint NOT NULL               -- of the append's last event
    );
    -- The one row every append locks and moves: it hands out positions, so appends
    -- commit one after another in position order (see ARCHITECTURE.md).
    CREATE TABLE IF NOT EXISTS ercs.log (
        only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        head           bigint  NOT NULL,             -- the last committed position
        schema_version integer NOT NULL
    );
";

/// Creates the tables if they are missing and checks the schema version. Several
/// processes may connect at once: an advisory lock lets one create, the others wait.
pub(crate) async fn prepare(client: &mut Client) -> Result<(), Error> {
    let tx = client.transaction().await.map_err(storage)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SETUP_LOCK])
        .await
        .map_err(storage)?;
    tx.batch_execute(TABLES).await.map_err(storage)?;
    tx.execute(
        "INSERT INTO ercs.log (head, schema_version) VALUES (0, $1) ON CONFLICT DO NOTHING",
        &[&SCHEMA_VERSION],
    )
    .await
    .map_err(storage)?;
    let version: i32 = tx
        .query_one("SELECT schema_version FROM ercs.log", &[])
        .await
        .map_err(storage)?
        .get(0);
    if version != SCHEMA_VERSION {
        return Err(Error::Storage(format!(
            "the PostgreSQL event log has schema version {version}; this build reads {SCHEMA_VERSION}"
        )));
    }
    tx.commit().await.map_err(storage)
}

pub(crate) fn storage(error: tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => Error::Storage(format!(
            "PostgreSQL: {}: {}",
            db.code().code(),
            db.message()
        )),
        None => Error::Storage(format!("PostgreSQL: {error}")),
    }
}

/// Positions and revisions are `bigint`; they stay far below `i64::MAX`.
pub(crate) fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
