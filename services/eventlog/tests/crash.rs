//! Crash safety of the SQLite backend: the hammer is SIGKILLed 50 times over one
//! file (see `ercs_eventlog::crash` for what each round checks).

use std::process::Command;
use std::sync::Arc;

use ercs_eventlog::{EventLog, SqliteEventLog};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_append_survives_a_kill_and_none_survives_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    ercs_eventlog::crash::every_acknowledged_append_survives_a_kill(
        50,
        || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_ercs-log-hammer"));
            child.arg(&path).arg("8");
            child
        },
        || {
            let log = SqliteEventLog::open(&path).unwrap_or_else(|e| panic!("reopen failed: {e}"));
            async move { Arc::new(log) as Arc<dyn EventLog> }
        },
    )
    .await;
}
