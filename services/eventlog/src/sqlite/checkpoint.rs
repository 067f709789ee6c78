//! Checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint copies the WAL back into the database inside the
//! commit that crosses its threshold, on the one thread every append waits for.
//! Here the writer's WAL hook only wakes a thread of its own, which checkpoints on
//! a second connection while the writer goes on committing. Should that thread fall
//! behind, the writer checkpoints itself once the WAL reaches [`HARD_LIMIT_PAGES`],
//! so the WAL stays bounded.

use std::ffi::c_int;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::thread::JoinHandle;

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};

use super::schema::storage;
use crate::Error;

/// About 4 MiB of WAL written since the checkpointer was last woken: wake it.
const SOFT_LIMIT_PAGES: c_int = 1000;
/// About 64 MiB of WAL: the writer checkpoints before it goes on.
const HARD_LIMIT_PAGES: c_int = 16_384;

/// Starts the checkpointer for `writer`'s database. It stops when `writer` closes.
pub(super) fn start(writer: &mut Connection, path: &Path) -> Result<JoinHandle<()>, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(storage)?;
    // A connection learns that the file is in WAL mode only once it reads it;
    // until then every checkpoint returns (-1, -1) and copies nothing.
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(storage)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(format!(
            "{}: the checkpointer found journal mode {mode}",
            path.display()
        )));
    }
    // What the last process left in the WAL (a `kill -9`, or a close while a
    // reader held it) is copied back before the log serves: else the first
    // commit past the hard limit copies it inline, up to 64 MiB within one
    // append (some 150 ms on a log of a million events).
    writer
        .wal_checkpoint_v2(None::<&str>, CheckpointMode::TRUNCATE)
        .map_err(storage)?;
    let (wake, woken) = sync_channel::<()>(1);
    let checkpointer = std::thread::Builder::new()
        .name("ercs-eventlog-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                    Ok((frames, copied)) => tracing::debug!(frames, copied, "event log checkpoint"),
                    Err(error) => {
                        tracing::warn!(%error, "event log checkpoint failed; the next one retries")
                    }
                }
            }
        })
        .map_err(|e| Error::Storage(format!("could not start the checkpoint thread: {e}")))?;
    // The WAL's length when the checkpointer was last woken. The WAL starts
    // over only once a checkpoint has copied all of it while no reader is in
    // it; under steady reads it grows past the soft limit, and waking the
    // checkpointer at every commit beyond it (as this did) copied a few pages
    // and synced the database each time: some 60 syncs a second beside the
    // log's own at 2,000 appends a second on a log of a million events.
    let mut woken_at: c_int = 0;
    writer
        .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: c_int| {
            // The commit has happened: whatever the checkpoint does, it must not fail it.
            if pages < woken_at {
                woken_at = 0;
            }
            if pages >= HARD_LIMIT_PAGES {
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            } else if pages >= woken_at + SOFT_LIMIT_PAGES {
                woken_at = pages;
                let _ = wake.try_send(());
            }
            Ok(())
        }))
        .map_err(storage)?;
    Ok(checkpointer)
}
