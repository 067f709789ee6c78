//! Appends to a KurrentDB event log from many tasks until it is killed (see
//! [`ercs_eventlog::hammer`]); the crash-safety test kills it at random moments.
//!
//! Usage: ercs-kurrent-hammer <kurrentdb://…> [writers]

fn main() -> std::process::ExitCode {
    ercs_eventlog::hammer::main("ercs-kurrent-hammer", "kurrentdb://…", |url| async move {
        ercs_eventlog_kurrentdb::KurrentEventLog::connect(&url).await
    })
}
