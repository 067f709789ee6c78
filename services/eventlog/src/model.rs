//! The values that cross the `EventLog` port. Each type checks its rule when it is
//! built, so a backend never sees a malformed stream name, event type or payload.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Error;

/// Longest stream name, in bytes.
pub const MAX_STREAM_NAME_LEN: usize = 128;
/// Longest event type, in bytes.
pub const MAX_EVENT_TYPE_LEN: usize = 128;
/// Largest event: its data and metadata together, in bytes.
pub const MAX_EVENT_SIZE: usize = 1024 * 1024;
/// Most events in one append.
pub const MAX_APPEND_EVENTS: usize = 10_000;
/// Largest append: all its events' data and metadata together, in bytes.
pub const MAX_APPEND_SIZE: usize = 16 * 1024 * 1024;

/// The name of a stream, e.g. `team-5f0c…`: one stream per aggregate.
///
/// Rule: 1 to [`MAX_STREAM_NAME_LEN`] ASCII bytes, letters, digits and `-_.:@`, starting
/// with a letter or digit. The narrow alphabet keeps names safe in URLs, file names and
/// KurrentDB (whose `$`-prefixed system streams it also keeps out).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamName(Arc<str>);

impl StreamName {
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let reason = if name.is_empty() {
            Some("must not be empty")
        } else if name.len() > MAX_STREAM_NAME_LEN {
            Some("must be at most 128 bytes")
        } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
            Some("must start with an ASCII letter or digit")
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
        {
            Some("may contain only ASCII letters, digits and - _ . : @")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidStreamName {
                name: shorten(&name),
                reason,
            }),
            None => Ok(Self(name.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The type of an event, e.g. `BedsActivated`.
///
/// Rule: 1 to [`MAX_EVENT_TYPE_LEN`] ASCII bytes matching `[A-Za-z][A-Za-z0-9_.-]*`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventType(Arc<str>);

impl EventType {
    pub fn new(event_type: impl Into<String>) -> Result<Self, Error> {
        let event_type = event_type.into();
        let reason = if event_type.is_empty() {
            Some("must not be empty")
        } else if event_type.len() > MAX_EVENT_TYPE_LEN {
            Some("must be at most 128 bytes")
        } else if !event_type.as_bytes()[0].is_ascii_alphabetic() {
            Some("must start with an ASCII letter")
        } else if !event_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            Some("may contain only ASCII letters, digits and _ . -")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidEventType {
                event_type: shorten(&event_type),
                reason,
            }),
            None => Ok(Self(event_type.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl $name {
            /// Wraps text the log itself wrote, which was checked on the way in.
            pub(crate) fn from_stored(text: String) -> Self {
                Self(text.into())
            }
        }
        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                Self::new(value)
            }
        }
        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.to_string()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
string_newtype_impls!(StreamName);
string_newtype_impls!(EventType);

/// The text of a JSON object, checked once when it enters the log.
///
/// Kept as text rather than a parsed `serde_json::Value`: the log moves events, it
/// does not look inside them, and parsing every payload on every read would cost more
/// than the read itself.
#[derive(Clone, PartialEq, Eq)]
pub struct JsonObject(Arc<str>);

impl JsonObject {
    /// Checks that `text` is one JSON object (`{...}`) and nothing else.
    pub fn parse(text: impl Into<String>) -> Result<Self, JsonError> {
        let text = text.into();
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(&text).map_err(|e| JsonError::Syntax(e.to_string()))?;
        if !raw.get().starts_with('{') {
            return Err(JsonError::NotAnObject);
        }
        Ok(Self(text.into()))
    }

    /// Serializes `value`, which must serialize to a JSON object.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, JsonError> {
        let text = serde_json::to_string(value).map_err(|e| JsonError::Syntax(e.to_string()))?;
        if !text.starts_with('{') {
            return Err(JsonError::NotAnObject);
        }
        Ok(Self(text.into()))
    }

    /// `{}`.
    pub fn empty() -> Self {
        Self(Arc::from("{}"))
    }

    /// Wraps text the log itself wrote, which was checked on the way in.
    pub(crate) fn from_stored(text: String) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        &*self.0 == "{}"
    }

    /// Deserializes the object into `T`.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Why a payload is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("is not valid JSON: {0}")]
    Syntax(String),
    #[error("must be a JSON object ({{...}})")]
    NotAnObject,
}

/// An event to append: not yet in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct EventData {
    id: Uuid,
    event_type: EventType,
    data: JsonObject,
    metadata: JsonObject,
}

impl EventData {
    /// `id` makes the append idempotent: appending an event whose id the stream
    /// already holds writes nothing and returns the original result. Use a
    /// deterministic id (UUID v5 of the command) wherever a retry is possible.
    pub fn new(id: Uuid, event_type: EventType, data: JsonObject) -> Result<Self, Error> {
        Self::with_metadata(id, event_type, data, JsonObject::empty())
    }

    /// As [`EventData::new`], with metadata (actor, correlation id, causation id, drill id, ...).
    pub fn with_metadata(
        id: Uuid,
        event_type: EventType,
        data: JsonObject,
        metadata: JsonObject,
    ) -> Result<Self, Error> {
        if id.is_nil() {
            return Err(Error::InvalidEventId {
                reason: "must not be the nil UUID",
            });
        }
        let size = data.len() + metadata.len();
        if size > MAX_EVENT_SIZE {
            return Err(Error::EventTooLarge {
                id,
                size,
                limit: MAX_EVENT_SIZE,
            });
        }
        Ok(Self {
            id,
            event_type,
            data,
            metadata,
        })
    }

    /// Builds an event from raw JSON texts, naming the field that breaks a rule.
    pub fn from_json(
        id: Uuid,
        event_type: &str,
        data: &str,
        metadata: &str,
    ) -> Result<Self, Error> {
        let event_type = EventType::new(event_type)?;
        let data = JsonObject::parse(data).map_err(|e| Error::InvalidJson {
            field: "data",
            reason: e,
        })?;
        let metadata = JsonObject::parse(metadata).map_err(|e| Error::InvalidJson {
            field: "metadata",
            reason: e,
        })?;
        Self::with_metadata(id, event_type, data, metadata)
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }
    pub fn data(&self) -> &JsonObject {
        &self.data
    }
    pub fn metadata(&self) -> &JsonObject {
        &self.metadata
    }
    pub(crate) fn size(&self) -> usize {
        self.data.len() + self.metadata.len()
    }
}

/// Checks the rules of an append as a whole (each event checked itself when built):
/// 1 to [`MAX_APPEND_EVENTS`] events, at most [`MAX_APPEND_SIZE`] bytes, no id twice.
pub fn check_append(events: &[EventData]) -> Result<(), Error> {
    if events.is_empty() {
        return Err(Error::InvalidAppend {
            reason: "needs at least one event".into(),
        });
    }
    if events.len() > MAX_APPEND_EVENTS {
        return Err(Error::InvalidAppend {
            reason: format!(
                "has {} events; at most {MAX_APPEND_EVENTS} are allowed",
                events.len()
            ),
        });
    }
    let size: usize = events.iter().map(EventData::size).sum();
    if size > MAX_APPEND_SIZE {
        return Err(Error::InvalidAppend {
            reason: format!("is {size} bytes; at most {MAX_APPEND_SIZE} are allowed"),
        });
    }
    let mut ids = std::collections::HashSet::with_capacity(events.len());
    match events.iter().find(|event| !ids.insert(event.id)) {
        Some(event) => Err(Error::DuplicateEventId { id: event.id }),
        None => Ok(()),
    }
}

/// An event imported from another log must take exactly the next position
/// `next` of the log it goes into, so the moved log keeps its order with no hole.
pub fn check_import(position: Position, next: u64) -> Result<(), Error> {
    if position.0 == next {
        return Ok(());
    }
    let reason = if next > 1 && position.0 == 1 {
        "starts at position 1, but the target log is not empty".to_owned()
    } else {
        format!("has an event at position {position} where position {next} comes next")
    };
    Err(Error::InvalidAppend { reason })
}

/// A stream's revision: 0 for its first event, then 1, 2, ...
pub type Revision = u64;

/// A place in the whole log. The first event is at position 1; [`Position::START`]
/// (0) is before every event, so "after `START`" means "everything".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    pub const START: Position = Position(0);
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An event as the log holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream: StreamName,
    pub revision: Revision,
    pub position: Position,
    pub event_type: EventType,
    pub data: JsonObject,
    pub metadata: JsonObject,
    /// When the log committed it (UTC, microsecond precision).
    pub recorded_at: DateTime<Utc>,
}

/// What the writer expects a stream to be at: optimistic concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedRevision {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must have at least one event.
    StreamExists,
    /// The stream's last event must be at exactly this revision.
    Exact(Revision),
}

impl ExpectedRevision {
    /// Whether a stream whose last revision is `actual` (`None`: no stream) meets this.
    pub fn is_met_by(self, actual: Option<Revision>) -> bool {
        match self {
            ExpectedRevision::Any => true,
            ExpectedRevision::NoStream => actual.is_none(),
            ExpectedRevision::StreamExists => actual.is_some(),
            ExpectedRevision::Exact(revision) => actual == Some(revision),
        }
    }
}

impl fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedRevision::Any => f.write_str("any"),
            ExpectedRevision::NoStream => f.write_str("no stream"),
            ExpectedRevision::StreamExists => f.write_str("stream exists"),
            ExpectedRevision::Exact(revision) => write!(f, "revision {revision}"),
        }
    }
}

/// What an append reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppendResult {
    /// The stream's revision after the append: pass it as `Exact` to append next.
    pub next_expected_revision: Revision,
    /// The position of the append's last event.
    pub position: Position,
}

/// Longest command key, in bytes.
pub const MAX_COMMAND_KEY_LEN: usize = 512;

/// The name of one command or process step, chosen by whoever sends it: an HTTP
/// `Idempotency-Key` in its scope, `transfer/<id>/receive`, `plan/<id>/assignment/3`.
/// It names the request, not the state the request meets, so a retry decided on a
/// newer revision is still recognised: an append carrying a key the log already
/// holds appends nothing (see [`EventLog::append_once`](crate::EventLog::append_once)).
///
/// Rule: 1 to [`MAX_COMMAND_KEY_LEN`] bytes of UTF-8 without control characters.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommandKey(Arc<str>);

impl CommandKey {
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        let reason = if key.is_empty() {
            Some("must not be empty")
        } else if key.len() > MAX_COMMAND_KEY_LEN {
            Some("must be at most 512 bytes")
        } else if key.chars().any(char::is_control) {
            Some("must not contain control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidCommandKey {
                key: shorten(&key),
                reason,
            }),
            None => Ok(Self(key.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommandKey {
    type Error = Error;
    fn try_from(key: String) -> Result<Self, Error> {
        Self::new(key)
    }
}

impl From<CommandKey> for String {
    fn from(key: CommandKey) -> String {
        key.0.to_string()
    }
}

impl fmt::Display for CommandKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CommandKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// A stream's last event, as the log that wrote it knows it: its revision, its
/// id and its position. What a cached fold of the stream is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamTip {
    pub revision: Revision,
    pub id: Uuid,
    pub position: Position,
}

/// Where the append that carried a [`CommandKey`] landed: its stream and the
/// revisions and positions of its events, which are consecutive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedAppend {
    pub stream: StreamName,
    /// The revision of the append's first event.
    pub first_revision: Revision,
    /// The revision and position of its last event, as the append answered them.
    pub result: AppendResult,
}

/// A command key as a log stores it, for moving a log between stores: the UUID v5
/// of the key (the key's text is never kept) and where its append landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key_hash: Uuid,
    #[serde(flatten)]
    pub landed: KeyedAppend,
}

/// What [`EventLog::append_once`](crate::EventLog::append_once) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendOnce {
    /// The events are appended now.
    Appended(AppendResult),
    /// An earlier append carried the same key; nothing was written. That append is
    /// where it landed (possibly in another stream than this call named).
    AlreadyApplied(KeyedAppend),
}

/// Where a read starts. `At` is inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom<T> {
    Start,
    End,
    At(T),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forwards,
    Backwards,
}

/// Which events a `read_all` or subscription yields. Both parts must match when both
/// are set; an empty filter matches every event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub stream_prefix: Option<String>,
    /// The event must be of one of these types (any type when empty).
    pub event_types: Vec<EventType>,
}

impl Filter {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn stream_prefix(prefix: impl Into<String>) -> Self {
        Self {
            stream_prefix: Some(prefix.into()),
            event_types: Vec::new(),
        }
    }

    pub fn event_types(types: impl IntoIterator<Item = EventType>) -> Self {
        Self {
            stream_prefix: None,
            event_types: types.into_iter().collect(),
        }
    }

    pub fn and_event_types(mut self, types: impl IntoIterator<Item = EventType>) -> Self {
        self.event_types.extend(types);
        self
    }

    pub fn is_all(&self) -> bool {
        self.stream_prefix.is_none() && self.event_types.is_empty()
    }

    pub fn matches(&self, stream: &str, event_type: &str) -> bool {
        self.stream_prefix
            .as_deref()
            .is_none_or(|p| stream.starts_with(p))
            && (self.event_types.is_empty()
                || self.event_types.iter().any(|t| t.as_str() == event_type))
    }
}

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscribeFrom {
    /// Every event, from the first.
    Start,
    /// Only events appended after the subscription starts.
    End,
    /// Every event after this position (exclusive): pass the last position you handled.
    After(Position),
}

/// What a subscription yields.
#[derive(Clone, Debug, PartialEq)]
pub enum SubscriptionMessage {
    Event(RecordedEvent),
    /// Every event up to here has been delivered (or did not match the filter):
    /// store it to resume with `SubscribeFrom::After`.
    Checkpoint(Position),
    /// Catch-up is over: everything up to here is delivered, and what follows is live.
    /// Sent once per subscription.
    CaughtUp(Position),
}

/// Shortens user input quoted back in an error message.
fn shorten(text: &str) -> String {
    const KEEP: usize = 64;
    match text.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_follow_the_documented_alphabet() {
        assert!(StreamName::new("team-5f0c2d9e").is_ok());
        assert!(StreamName::new("drill:wanzhou@2026-11-23.1").is_ok());
        for bad in [
            "",
            "$all",
            "-team",
            "team 1",
            "队伍-1",
            "a/b",
            &"x".repeat(129),
        ] {
            assert!(StreamName::new(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn event_types_follow_the_documented_pattern() {
        assert!(EventType::new("BedsActivated").is_ok());
        assert!(EventType::new("ercs.LotReceived-v2").is_ok());
        for bad in ["", "1Event", "Beds Activated", "$deleted", &"E".repeat(129)] {
            assert!(EventType::new(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn only_a_json_object_is_a_payload() {
        assert!(JsonObject::parse(r#" {"beds": 3} "#).is_ok());
        assert_eq!(JsonObject::parse("[1]"), Err(JsonError::NotAnObject));
        assert_eq!(JsonObject::parse("42"), Err(JsonError::NotAnObject));
        assert!(matches!(JsonObject::parse("{"), Err(JsonError::Syntax(_))));
        assert!(matches!(
            JsonObject::parse("{} {}"),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn an_event_over_the_size_limit_cannot_be_built() {
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_EVENT_SIZE));
        let err = EventData::from_json(Uuid::new_v4(), "Big", &big, "{}").unwrap_err();
        assert!(matches!(
            err,
            Error::EventTooLarge {
                limit: MAX_EVENT_SIZE,
                ..
            }
        ));
    }

    #[test]
    fn from_json_names_the_field_at_fault() {
        let err = EventData::from_json(Uuid::new_v4(), "Ok", "{}", "[]").unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidJson {
                field: "metadata",
                ..
            }
        ));
        let err = EventData::from_json(Uuid::nil(), "Ok", "{}", "{}").unwrap_err();
        assert!(matches!(err, Error::InvalidEventId { .. }));
    }

    #[test]
    fn expected_revision_rules() {
        use ExpectedRevision::*;
        assert!(Any.is_met_by(None) && Any.is_met_by(Some(3)));
        assert!(NoStream.is_met_by(None) && !NoStream.is_met_by(Some(0)));
        assert!(!StreamExists.is_met_by(None) && StreamExists.is_met_by(Some(0)));
        assert!(
            Exact(2).is_met_by(Some(2))
                && !Exact(2).is_met_by(Some(1))
                && !Exact(0).is_met_by(None)
        );
    }
}
