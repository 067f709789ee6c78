//! The log's files are its owner's alone unless the operator lets the group in:
//! the database, its WAL and shared-memory files, and its lock.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ercs_eventlog::{
    EventData, EventLog, ExpectedRevision, FileAccess, SqliteEventLog, SqliteOptions, StreamName,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

async fn modes_of_a_new_log(access: FileAccess) -> Vec<(String, u32)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let log = SqliteEventLog::open_with(
        &path,
        SqliteOptions {
            access,
            ..Default::default()
        },
    )
    .unwrap();
    let event = EventData::from_json(uuid::Uuid::new_v4(), "BedsReported", "{}", "{}").unwrap();
    log.append(
        &StreamName::new("facility-1").unwrap(),
        ExpectedRevision::Any,
        vec![event],
    )
    .await
    .unwrap();
    // Read while the log is open: the WAL and shared memory exist only then.
    [
        "events.db",
        "events.db-wal",
        "events.db-shm",
        "events.db.lock",
    ]
    .map(|name| (name.to_owned(), mode(&dir.path().join(name))))
    .to_vec()
}

#[tokio::test]
async fn a_new_log_and_its_wal_shm_and_lock_files_are_created_0600() {
    for (name, mode) in modes_of_a_new_log(FileAccess::Owner).await {
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}

#[tokio::test]
async fn a_group_readable_log_is_created_0640() {
    for (name, mode) in modes_of_a_new_log(FileAccess::Group).await {
        assert_eq!(mode, 0o640, "{name} is {mode:o}");
    }
}
