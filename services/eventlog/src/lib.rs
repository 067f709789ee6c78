//! The ERCS event log: the only source of truth.
//!
//! [`EventLog`] is the port, with KurrentDB's semantics (named streams with
//! revisions, optimistic concurrency by [`ExpectedRevision`], one global order of
//! [`Position`]s, idempotent appends by event id, catch-up-then-live
//! subscriptions), so the embedded [`SqliteEventLog`] and a KurrentDB cluster fit
//! one trait. The [`conformance`] suite (feature `conformance`) is written once and
//! run against every backend.
//!
//! The log moves events; it never looks inside them. Payloads stay JSON text
//! ([`JsonObject`]) from append to read.

pub mod around;
#[cfg(feature = "bench")]
pub mod benchmarks;
mod error;
mod files;
pub mod hammer;
mod model;
mod pages;
mod port;
pub mod sqlite;
pub mod windowed;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod crash;

pub use around::{Appended, Around, Wrapped};
pub use error::Error;
pub use files::FileAccess;
pub use model::{
    AppendOnce, AppendResult, CommandKey, Direction, EventData, EventType, ExpectedRevision,
    Filter, JsonError, JsonObject, KeyRecord, KeyedAppend, MAX_APPEND_EVENTS, MAX_APPEND_SIZE,
    MAX_COMMAND_KEY_LEN, MAX_EVENT_SIZE, MAX_EVENT_TYPE_LEN, MAX_STREAM_NAME_LEN, Position,
    ReadFrom, RecordedEvent, Revision, StreamName, StreamTip, SubscribeFrom, SubscriptionMessage,
    check_append, check_import,
};
pub use pages::Pages;
pub use port::{EventLog, Subscription};
pub use sqlite::{RecordClock, SqliteEventLog, SqliteImport, SqliteOptions};
