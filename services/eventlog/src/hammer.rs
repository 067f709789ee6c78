//! A load that appends from many tasks until the process is killed, printing one
//! line per acknowledged append: what the crash tests kill at random moments (see
//! [`crate::conformance`]'s `crash` module), for any backend; it also serves to load a
//! disk or a database by hand.
//!
//! Each line: `ack <stream> <first revision> <last position> <event id>...`

use std::io::Write;

use uuid::Uuid;

use crate::{Error, EventData, EventLog, EventType, ExpectedRevision, JsonObject, StreamName};

/// Appends from `writers` tasks, each on a stream of its own, until an append fails.
pub async fn hammer<L: EventLog + Clone>(log: L, writers: usize) -> Result<(), Error> {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move { write_forever(log, w).await })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| Error::Storage(e.to_string()))??;
    }
    Ok(())
}

async fn write_forever<L: EventLog>(log: L, writer: usize) -> Result<(), Error> {
    // One run's streams are its own, so runs against the same log never collide.
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
                .map_err(|e| Error::Storage(e.to_string()))?;
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
            .map_err(|e| Error::Storage(e.to_string()))?;
        expected = ExpectedRevision::Exact(result.next_expected_revision);
    }
    Ok(())
}

/// The whole of a hammer binary: `<program> <target> [writers]`, where `open`
/// turns the target (a file, a URL) into a log.
pub fn main<L, F, Fut>(program: &str, target: &str, open: F) -> std::process::ExitCode
where
    L: EventLog + Clone,
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<L, Error>>,
{
    let mut args = std::env::args().skip(1);
    let Some(place) = args.next() else {
        eprintln!("usage: {program} <{target}> [writers]");
        return std::process::ExitCode::from(2);
    };
    let writers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(8);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{program}: no runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(async { hammer(open(place).await?, writers).await }) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
