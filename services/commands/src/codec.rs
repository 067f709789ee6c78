//! Domain events to and from the log's JSON, in one place, so the command path and
//! every projection read a stored event the same way.

use ercs_domain::event::{DecodeError, DomainEvent};
use ercs_eventlog::{EventData, EventType, JsonObject, RecordedEvent, StreamName};
use serde::Deserialize;
use uuid::Uuid;

use crate::Metadata;

/// Deterministic event ids live in their own UUID v5 namespace.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6572_6373_2d65_7665_6e74_2d69_6473_0001);

/// The event as the log stores it in `stream`, the `ordinal`-th of its command's
/// events, with `metadata` and the event's own schema version. With an idempotency
/// key the id is UUID v5 of (stream, key, ordinal): it names the command, not the
/// revision the command met, so every attempt of one command carries the same ids.
pub fn encode<E: DomainEvent>(
    stream: &StreamName,
    ordinal: usize,
    event: &E,
    metadata: &Metadata,
) -> Result<EventData, ercs_eventlog::Error> {
    let id = match &metadata.idempotency_key {
        Some(key) => Uuid::new_v5(
            &EVENT_ID_NAMESPACE,
            format!("{stream}\n{key}\n#{ordinal}").as_bytes(),
        ),
        None => Uuid::new_v4(),
    };
    let invalid = |field| move |reason| ercs_eventlog::Error::InvalidJson { field, reason };
    let data = event
        .data()
        .map_err(|e| ercs_eventlog::JsonError::Syntax(e.to_string()))
        .map_err(invalid("data"))?;
    let data = JsonObject::from_serialize(&data).map_err(invalid("data"))?;
    let metadata = Metadata {
        schema_version: event.schema_version(),
        ..metadata.clone()
    };
    let metadata = JsonObject::from_serialize(&metadata).map_err(invalid("metadata"))?;
    EventData::with_metadata(id, EventType::new(event.event_type())?, data, metadata)
}

/// A stored event, read at the schema version its metadata names (1 if none) and
/// upcast by the domain.
pub fn decode<E: DomainEvent>(recorded: &RecordedEvent) -> Result<E, DecodeError> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: Option<u16>,
    }
    let version = recorded
        .metadata
        .deserialize::<Version>()
        .ok()
        .and_then(|v| v.schema_version)
        .unwrap_or(1);
    let data = recorded
        .data
        .deserialize::<serde_json::Value>()
        .map_err(|source| DecodeError::Malformed {
            event_type: "(stored)",
            source,
        })?;
    E::decode(recorded.event_type.as_str(), version, data)
}
