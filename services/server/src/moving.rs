//! Moving a whole log between stores (`ercs export`, `ercs import`) and the online
//! backup of the SQLite store (`ercs backup`).
//!
//! An export is JSON Lines: a header, every event in position order, then the
//! command keys. Data and metadata travel as JSON strings holding their exact
//! text, so a log moved SQLite → PostgreSQL → SQLite reads back byte for byte,
//! and a multi-line payload cannot break the one-object-a-line format.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use ercs_eventlog::{Error, EventType, JsonObject, KeyRecord, Position, RecordedEvent, StreamName};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::OpenStore;

/// Events read or written per step.
const PAGE: usize = 2_000;
/// The format this build writes and reads.
const FORMAT: u32 = 1;

/// One line of an export.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    /// The first line: what follows, and how many events.
    ErcsLogExport {
        format: u32,
        events: u64,
    },
    Event(EventLine),
    Key(KeyRecord),
}

#[derive(Serialize, Deserialize)]
struct EventLine {
    position: u64,
    stream: String,
    revision: u64,
    id: Uuid,
    event_type: String,
    data: String,
    metadata: String,
    recorded_at: DateTime<Utc>,
}

impl From<&RecordedEvent> for EventLine {
    fn from(event: &RecordedEvent) -> Self {
        Self {
            position: event.position.0,
            stream: event.stream.to_string(),
            revision: event.revision,
            id: event.id,
            event_type: event.event_type.to_string(),
            data: event.data.as_str().to_owned(),
            metadata: event.metadata.as_str().to_owned(),
            recorded_at: event.recorded_at,
        }
    }
}

impl EventLine {
    /// Every rule an append would check, checked again: an export is user input.
    fn into_recorded(self, line: u64) -> Result<RecordedEvent, MoveError> {
        let bad = |field: &'static str, reason: String| MoveError::BadLine {
            line,
            field,
            reason,
        };
        Ok(RecordedEvent {
            position: Position(self.position),
            stream: StreamName::new(self.stream).map_err(|e| bad("stream", e.to_string()))?,
            revision: self.revision,
            id: self.id,
            event_type: EventType::new(self.event_type)
                .map_err(|e| bad("event_type", e.to_string()))?,
            data: JsonObject::parse(self.data).map_err(|e| bad("data", e.to_string()))?,
            metadata: JsonObject::parse(self.metadata)
                .map_err(|e| bad("metadata", e.to_string()))?,
            recorded_at: self.recorded_at,
        })
    }
}

/// Why a move stopped. Whatever was imported before stays, and a second import
/// of the same file is refused (the target is no longer empty).
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Log(#[from] Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {field} {reason}")]
    BadLine {
        line: u64,
        field: &'static str,
        reason: String,
    },
    #[error("line {line}: not an ERCS log export line: {reason}")]
    NotAnExport { line: u64, reason: String },
}

/// Writes the whole log, up to the head it finds on start, and its keys; returns
/// how many events it wrote.
pub async fn export(
    store: &OpenStore,
    out: &mut impl Write,
    bar: &ProgressBar,
) -> Result<u64, MoveError> {
    #[cfg(feature = "kurrentdb")]
    if let OpenStore::Kurrent(_) = store {
        return Err(Error::Storage(
            "ercs export cannot read KurrentDB yet: its positions are offsets, not the \
             1, 2, 3 an export carries"
                .into(),
        )
        .into());
    }
    let log = store.log();
    let head = log.head().await?;
    bar.set_length(head.0);
    write_line(
        out,
        &Line::ErcsLogExport {
            format: FORMAT,
            events: head.0,
        },
    )?;
    let mut pages = ercs_eventlog::Pages::new(log.as_ref(), Position(0), head, PAGE);
    while let Some(page) = pages.next().await? {
        for event in &page {
            write_line(out, &Line::Event(event.into()))?;
            bar.set_position(event.position.0);
        }
    }
    for key in command_keys(store).await? {
        if key.landed.result.position <= head {
            write_line(out, &Line::Key(key))?;
        }
    }
    out.flush()?;
    bar.finish();
    Ok(head.0)
}

fn write_line(out: &mut impl Write, line: &Line) -> Result<(), MoveError> {
    serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

async fn command_keys(store: &OpenStore) -> Result<Vec<KeyRecord>, Error> {
    match store {
        OpenStore::Sqlite(log) => log.command_keys().await,
        #[cfg(feature = "postgres")]
        OpenStore::Postgres(log) => log.command_keys().await,
        #[cfg(feature = "kurrentdb")]
        OpenStore::Kurrent(_) => Err(Error::Storage(
            "ercs export cannot read KurrentDB's command keys yet".into(),
        )),
    }
}

/// Where an import writes: an open PostgreSQL log, or an SQLite file that no
/// service has open (the import is then its only writer).
pub enum ImportTarget {
    Sqlite(ercs_eventlog::SqliteImport),
    #[cfg(feature = "postgres")]
    Postgres(ercs_eventlog_postgres::PostgresEventLog),
}

impl ImportTarget {
    async fn events(&mut self, events: &[RecordedEvent]) -> Result<(), Error> {
        match self {
            ImportTarget::Sqlite(import) => import.events(events),
            #[cfg(feature = "postgres")]
            ImportTarget::Postgres(log) => log.import_events(events).await,
        }
    }

    async fn keys(&mut self, keys: &[KeyRecord]) -> Result<(), Error> {
        match self {
            ImportTarget::Sqlite(import) => import.keys(keys),
            #[cfg(feature = "postgres")]
            ImportTarget::Postgres(log) => log.import_keys(keys).await,
        }
    }
}

/// Reads an export into `target`; returns how many events it imported.
pub async fn import(
    target: &mut ImportTarget,
    input: impl BufRead,
    bar: &ProgressBar,
) -> Result<u64, MoveError> {
    let mut events = Vec::with_capacity(PAGE);
    let mut keys = Vec::new();
    let mut imported = 0;
    for (n, text) in input.lines().enumerate() {
        let number = n as u64 + 1;
        let line: Line = serde_json::from_str(&text?).map_err(|e| MoveError::NotAnExport {
            line: number,
            reason: e.to_string(),
        })?;
        match line {
            Line::ErcsLogExport { format, events } if number == 1 && format == FORMAT => {
                bar.set_length(events)
            }
            Line::ErcsLogExport { format, .. } => {
                return Err(MoveError::NotAnExport {
                    line: number,
                    reason: format!(
                        "a header in format {format} (this build reads {FORMAT}, on line 1)"
                    ),
                });
            }
            _ if number == 1 => {
                return Err(MoveError::NotAnExport {
                    line: 1,
                    reason: "the header line is missing".into(),
                });
            }
            Line::Event(event) => events.push(event.into_recorded(number)?),
            Line::Key(key) => keys.push(key),
        }
        if events.len() == PAGE {
            imported += flush(target, &mut events, bar).await?;
        }
    }
    imported += flush(target, &mut events, bar).await?;
    target.keys(&keys).await?;
    bar.finish();
    Ok(imported)
}

async fn flush(
    target: &mut ImportTarget,
    events: &mut Vec<RecordedEvent>,
    bar: &ProgressBar,
) -> Result<u64, MoveError> {
    target.events(events).await?;
    let written = events.len() as u64;
    bar.inc(written);
    events.clear();
    Ok(written)
}

/// A bar on standard error (standard output may be the export itself), hidden
/// when it is not a terminal.
pub fn progress_bar(what: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} events ({{elapsed}}, {{eta}} left)"
        ))
        .expect("a valid template"),
    );
    bar
}
