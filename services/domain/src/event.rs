//! What every event type offers the event log: a stable name, a schema version, its
//! payload as a JSON object, and decoding from `(event_type, version, data)` that
//! upcasts older versions first.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::schema::{Message, MessageSchema};

/// An event payload: one message of the schema, at a version.
pub trait Payload: Message + DeserializeOwned {
    /// The version written today; older stored versions are upcast to it on read.
    const VERSION: u16;
}

/// An aggregate's event enum as the log sees it.
pub trait DomainEvent: Sized {
    /// The stable name stored in the log, e.g. `"TeamRegistered"`.
    fn event_type(&self) -> &'static str;
    /// The schema version of this event's payload.
    fn schema_version(&self) -> u16;
    /// The payload alone, as a JSON object.
    fn data(&self) -> Result<Value, serde_json::Error>;
    /// Rebuilds an event from what the log stored, upcasting older versions.
    fn decode(event_type: &str, version: u16, data: Value) -> Result<Self, DecodeError>;
    /// Every event type of this enum with its current schema version.
    fn versions() -> Vec<(&'static str, u16)>;
    /// The schemas of every event type of this enum.
    fn schemas() -> Vec<&'static MessageSchema>;
}

/// Why stored event data could not be turned back into an event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0}")]
    UnknownEventType(String),
    #[error("{event_type} v{version} is newer than this build understands (v{current})")]
    FutureVersion {
        event_type: &'static str,
        version: u16,
        current: u16,
    },
    #[error("no upcaster for {event_type} v{from}")]
    MissingUpcaster { event_type: &'static str, from: u16 },
    #[error("malformed {event_type} data: {source}")]
    Malformed {
        event_type: &'static str,
        source: serde_json::Error,
    },
}

/// One step of schema evolution: rewrites `event_type` data from `from` to `from + 1`.
pub struct Upcaster {
    pub event_type: &'static str,
    pub from: u16,
    pub upcast: fn(Value) -> Value,
}

/// Every upcaster the domain knows. Empty while v1 is the only version: when an
/// event's payload changes, bump its `(version N)` and add the step from N-1 here.
pub const UPCASTERS: &[Upcaster] = &[];

/// Decodes one payload, upcasting stored data from `version` to the current one.
pub fn decode_payload<P: Payload>(version: u16, data: Value) -> Result<P, DecodeError> {
    let event_type = P::SCHEMA.name;
    let data = upcast(UPCASTERS, event_type, version, P::VERSION, data)?;
    serde_json::from_value(data).map_err(|source| DecodeError::Malformed { event_type, source })
}

/// Applies the steps of `table` to bring `data` from `version` to `current`.
pub fn upcast(
    table: &[Upcaster],
    event_type: &'static str,
    version: u16,
    current: u16,
    mut data: Value,
) -> Result<Value, DecodeError> {
    if version > current {
        return Err(DecodeError::FutureVersion {
            event_type,
            version,
            current,
        });
    }
    for from in version..current {
        let step = table
            .iter()
            .find(|u| u.event_type == event_type && u.from == from)
            .ok_or(DecodeError::MissingUpcaster { event_type, from })?;
        data = (step.upcast)(data);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rename_headcount(mut data: Value) -> Value {
        if let Some(obj) = data.as_object_mut()
            && let Some(v) = obj.remove("members")
        {
            obj.insert("headcount".into(), v);
        }
        data
    }

    const TABLE: &[Upcaster] = &[Upcaster {
        event_type: "TeamRegistered",
        from: 1,
        upcast: rename_headcount,
    }];

    #[test]
    fn an_old_version_is_upcast_step_by_step_on_read() {
        let old = json!({ "members": 12 });
        let new = upcast(TABLE, "TeamRegistered", 1, 2, old).unwrap();
        assert_eq!(new, json!({ "headcount": 12 }));
    }

    #[test]
    fn the_current_version_passes_through_unchanged() {
        let data = json!({ "headcount": 12 });
        assert_eq!(
            upcast(TABLE, "TeamRegistered", 2, 2, data.clone()).unwrap(),
            data
        );
    }

    #[test]
    fn a_version_newer_than_the_build_is_refused() {
        let err = upcast(TABLE, "TeamRegistered", 3, 2, json!({})).unwrap_err();
        assert!(matches!(err, DecodeError::FutureVersion { version: 3, .. }));
    }

    #[test]
    fn a_missing_step_is_reported_not_skipped() {
        let err = upcast(&[], "TeamRegistered", 1, 2, json!({})).unwrap_err();
        assert!(matches!(err, DecodeError::MissingUpcaster { from: 1, .. }));
    }
}
