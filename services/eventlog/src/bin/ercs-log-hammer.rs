//! Appends to an event log from many tasks until it is killed, printing one line
//! per acknowledged append. The crash-safety test kills it at random moments and
//! checks that every acknowledged append survived whole; it also serves to load a
//! disk by hand.
//!
//! Usage: ercs-log-hammer <database file> [writers]
//!
//! Each line: `ack <stream> <first revision> <last position> <event id>...`

use std::io::Write;
use std::process::ExitCode;

use ercs_eventlog::{
    EventData, EventLog, EventType, ExpectedRevision, JsonObject, SqliteEventLog, StreamName,
};
use uuid::Uuid;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: ercs-log-hammer <database file> [writers]");
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
    match runtime.block_on(hammer(&path, writers)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ercs-log-hammer: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn hammer(path: &str, writers: usize) -> Result<(), ercs_eventlog::Error> {
    let log = SqliteEventLog::open(path)?;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move { write_forever(log, w).await })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| ercs_eventlog::Error::Storage(e.to_string()))??;
    }
    Ok(())
}

async fn write_forever(log: SqliteEventLog, writer: usize) -> Result<(), ercs_eventlog::Error> {
    // One run's streams are its own, so runs against the same file never collide.
    let stream = StreamName::new(format!("hammer-{}-{writer}", Uuid::new_v4().simple()))?;
    let mut expected = ExpectedRevision::NoStream;
    for n in 0usize.. {
        let count = 1 + n % 5;
        let batch = Uuid::new_v4();
        let events = (0..count)
            .map(|i| {
                let data = JsonObject::from_serialize(
                    &serde_json::json!({ "batch": batch, "of": count, "i": i }),
                )
                .map_err(|e| ercs_eventlog::Error::Storage(e.to_string()))?;
                EventData::new(Uuid::new_v4(), EventType::new("HammerStruck")?, data)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = events.iter().map(|e| e.id().to_string()).collect();
        let result = log.append(&stream, expected, events).await?;
        let first_revision = result.next_expected_revision + 1 - count as u64;
        let line = format!(
            "ack {stream} {first_revision} {} {}\n",
            result.position,
            ids.join(" ")
        );
        std::io::stdout()
            .lock()
            .write_all(line.as_bytes())
            .map_err(|e| ercs_eventlog::Error::Storage(e.to_string()))?;
        expected = ExpectedRevision::Exact(result.next_expected_revision);
    }
    Ok(())
}
