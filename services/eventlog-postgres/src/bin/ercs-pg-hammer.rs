//! Appends to a PostgreSQL event log from many tasks until it is killed (see
//! [`ercs_eventlog::hammer`]); the crash-safety test kills it at random moments.
//!
//! Usage: ercs-pg-hammer <postgres://…> [writers]

fn main() -> std::process::ExitCode {
    ercs_eventlog::hammer::main("ercs-pg-hammer", "postgres://…", |url| async move {
        ercs_eventlog_postgres::PostgresEventLog::connect(&url).await
    })
}
