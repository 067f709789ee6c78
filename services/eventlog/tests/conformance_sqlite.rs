//! The backend-independent conformance suite, on the embedded SQLite backend.
ercs_eventlog::conformance_tests!(ercs_eventlog::conformance::sqlite);
