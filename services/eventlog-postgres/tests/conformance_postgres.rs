//! The backend-independent conformance suite, on PostgreSQL (a fresh database per check).
ercs_eventlog::conformance_tests!(ercs_eventlog_postgres::testing::conformance_log);
