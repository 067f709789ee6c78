//! The backend-independent conformance suite, on the KurrentDB node `KURRENTDB_URL`
//! names. Without one, every check prints `SKIPPED (not tested)` and returns: the
//! tests sit in `needs_kurrentdb_url::` so that their names say so too.
mod needs_kurrentdb_url {
    ercs_eventlog::conformance_tests!(ercs_eventlog_kurrentdb::testing::conformance_log);
}
