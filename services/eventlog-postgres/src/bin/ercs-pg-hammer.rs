//! Appends to a PostgreSQL event log from many tasks until it is killed (see
//! [`ercs_eventlog::hammer`]); the crash-safety test kills it at random moments.
//!
//! Usage: ercs-pg-hammer <postgres://…> [writers]

use std::process::ExitCode;

use ercs_eventlog_postgres::PostgresEventLog;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: ercs-pg-hammer <postgres://…> [writers]");
        return ExitCode::from(2);
    };
    let writers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(8);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let run = async {
        let log = PostgresEventLog::connect(&url).await?;
        ercs_eventlog::hammer::hammer(log, writers).await
    };
    match runtime.block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ercs-pg-hammer: {error}");
            ExitCode::FAILURE
        }
    }
}
