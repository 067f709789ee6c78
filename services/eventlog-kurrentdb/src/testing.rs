//! The KurrentDB log for tests: the node or cluster `KURRENTDB_URL` names.
//!
//! No KurrentDB server can be installed on the project's machines (it is in none of
//! the package registries they reach), so these tests run where one is: set
//! `KURRENTDB_URL` (e.g. `kurrentdb://localhost:2113?tls=false`, see
//! `deploy/kurrentdb.md`). Without it each test prints that it was skipped and why;
//! `ERCS_REQUIRE_KURRENTDB=1` turns the skip into a failure, for a CI that has a node.

use std::io::Write;
use std::sync::Arc;

use ercs_eventlog::conformance::TestLog;

use crate::KurrentEventLog;

/// The variable that names the node to test against.
pub const URL_VARIABLE: &str = "KURRENTDB_URL";

/// The connection string to test against, or `None` after printing why there is none.
pub fn url(test: &str) -> Option<String> {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let reason = format!(
                "SKIPPED (not tested): {test}: {URL_VARIABLE} is not set, so there is no \
                 KurrentDB node to run against; see deploy/kurrentdb.md"
            );
            if std::env::var("ERCS_REQUIRE_KURRENTDB").is_ok_and(|v| v == "1") {
                panic!("{reason}, and ERCS_REQUIRE_KURRENTDB=1 requires one");
            }
            // Straight to stderr, past the test harness's capture (which takes only
            // `print!` and `eprint!`), so a plain `cargo test` shows it.
            let _ = writeln!(std::io::stderr(), "{reason}");
            None
        }
    }
}

/// A log on the node `KURRENTDB_URL` names. The conformance checks each work in
/// streams of their own prefix, so they share the node's one log.
pub async fn conformance_log() -> Option<TestLog> {
    let url = url("the KurrentDB conformance check")?;
    let log = KurrentEventLog::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{URL_VARIABLE} is set but: {e}"));
    Some(TestLog {
        log: Arc::new(log),
        _guard: Box::new(()),
    })
}
