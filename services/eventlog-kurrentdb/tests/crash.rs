//! Crash safety on KurrentDB: the hammer, appending through its own client, is
//! SIGKILLed 20 times (see `ercs_eventlog::crash` for what each round checks, with
//! positions that increase rather than run 1, 2, 3: KurrentDB's are offsets). Runs
//! against the node `KURRENTDB_URL` names; without one it prints that it is skipped.

use std::process::Command;
use std::sync::Arc;

use ercs_eventlog::EventLog;
use ercs_eventlog::crash::Positions;
use ercs_eventlog_kurrentdb::KurrentEventLog;
use ercs_eventlog_kurrentdb::testing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_kurrentdb_url_every_acknowledged_append_survives_a_kill() {
    let Some(url) = testing::url("the KurrentDB crash test") else {
        return;
    };
    ercs_eventlog::crash::every_acknowledged_append_survives_a_kill_with(
        20,
        Positions::Increasing,
        || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_ercs-kurrent-hammer"));
            child.arg(&url).arg("8");
            child
        },
        || {
            let url = url.clone();
            async move {
                let log = KurrentEventLog::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("reconnect failed: {e}"));
                Arc::new(log) as Arc<dyn EventLog>
            }
        },
    )
    .await;
}
