use std::path::PathBuf;

use uuid::Uuid;

use crate::model::{ExpectedRevision, JsonError, Revision, StreamName};

/// Everything an `EventLog` call can fail with. A failed append writes nothing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("stream {stream} was expected at {expected} but is at {}", actual_text(*.actual))]
    WrongExpectedRevision {
        stream: StreamName,
        expected: ExpectedRevision,
        actual: Option<Revision>,
    },

    #[error("stream name {name:?} {reason}")]
    InvalidStreamName { name: String, reason: &'static str },

    #[error("event type {event_type:?} {reason}")]
    InvalidEventType {
        event_type: String,
        reason: &'static str,
    },

    #[error("command key {key:?} {reason}")]
    InvalidCommandKey { key: String, reason: &'static str },

    #[error("event id {reason}")]
    InvalidEventId { reason: &'static str },

    #[error("event {field} {reason}")]
    InvalidJson {
        field: &'static str,
        reason: JsonError,
    },

    #[error("event {id} is {size} bytes; the limit for data and metadata together is {limit}")]
    EventTooLarge { id: Uuid, size: usize, limit: usize },

    #[error("an append {reason}")]
    InvalidAppend { reason: String },

    #[error("event id {id} appears more than once in one append")]
    DuplicateEventId { id: Uuid },

    /// Some of the append's event ids are already in the stream, but not as this
    /// same append: it is neither new nor a retry.
    #[error(
        "event {id} is already in stream {stream}, but the append does not repeat the original one"
    )]
    IdempotencyConflict { stream: StreamName, id: Uuid },

    #[error("{}: not an ERCS event log: {reason}", path.display())]
    NotAnEventLog { path: PathBuf, reason: String },

    #[error("{}: the event log is open in another process", path.display())]
    Locked { path: PathBuf },

    #[error("the event log is corrupt: {0}")]
    Corrupt(String),

    #[error("the event log is closed")]
    Closed,

    #[error("event log storage failed: {0}")]
    Storage(String),
}

fn actual_text(actual: Option<Revision>) -> String {
    match actual {
        None => "no stream".to_owned(),
        Some(revision) => format!("revision {revision}"),
    }
}

impl Error {
    /// Whether the caller's input is at fault (as opposed to the log or the machine).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidStreamName { .. }
                | Error::InvalidCommandKey { .. }
                | Error::InvalidEventType { .. }
                | Error::InvalidEventId { .. }
                | Error::InvalidJson { .. }
                | Error::EventTooLarge { .. }
                | Error::InvalidAppend { .. }
                | Error::DuplicateEventId { .. }
        )
    }
}
