//! Appends to an SQLite event log from many tasks until it is killed (see
//! [`ercs_eventlog::hammer`]); the crash-safety test kills it at random moments.
//!
//! Usage: ercs-log-hammer <database file> [writers]

fn main() -> std::process::ExitCode {
    ercs_eventlog::hammer::main("ercs-log-hammer", "database file", |path| async move {
        ercs_eventlog::SqliteEventLog::open(path)
    })
}
