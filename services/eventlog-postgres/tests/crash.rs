//! Crash safety on PostgreSQL: the hammer, appending through its own connections,
//! is SIGKILLed 50 times over one database (see `ercs_eventlog::crash` for what
//! each round checks). The server rolls back whatever the killed process left
//! open; what it acknowledged must all be there.

use std::process::Command;
use std::sync::Arc;

use ercs_eventlog::EventLog;
use ercs_eventlog_postgres::PostgresEventLog;
use ercs_eventlog_postgres::testing::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_append_survives_a_kill_and_none_survives_in_part() {
    let (url, _database) = cluster().fresh_database().await;
    ercs_eventlog::crash::every_acknowledged_append_survives_a_kill(
        50,
        || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_ercs-pg-hammer"));
            child.arg(&url).arg("8");
            child
        },
        || {
            let url = url.clone();
            async move {
                let log = PostgresEventLog::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("reconnect failed: {e}"));
                Arc::new(log) as Arc<dyn EventLog>
            }
        },
    )
    .await;
}
