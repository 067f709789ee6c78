//! Between the port's values and KurrentDB's: expected states, positions, events.
//!
//! **Positions.** KurrentDB places an event in `$all` by a (commit, prepare) pair of
//! byte offsets in its transaction log. Every event ERCS writes goes through a gRPC
//! append, outside any explicit transaction, and such an event's commit and prepare
//! positions are the same: the offset where its record starts. So the port's
//! [`Position`] is that offset plus one: unique, increasing in `$all` order, with
//! `Position::START` (0) before the log's first record. The port's positions are
//! therefore *sparse* on KurrentDB (1, 97, 193, …): increasing, never dense. The
//! conformance suite asks only for order; the dense check of the crash test belongs
//! to the embedded stores (see `ercs_eventlog::crash::Positions`).
//!
//! An event whose commit and prepare differ was written inside a legacy explicit
//! transaction (the TCP API, gone since KurrentDB 24); its pair does not fit one
//! number, and reading it is an error rather than a wrong order.

use chrono::{DateTime, Utc};
use ercs_eventlog::{
    Error, EventData, EventType, ExpectedRevision, JsonObject, Position, RecordedEvent, Revision,
    StreamName,
};
use kurrentdb::{CurrentRevision, StreamState};

/// The highest revision KurrentDB can hold: it keeps revisions as signed 64-bit
/// numbers, and a larger `u64` would wrap to one of its special values (`-1` is
/// "no stream").
pub const MAX_REVISION: Revision = i64::MAX as u64;

/// What KurrentDB is asked to check. `None`: no stream can be at that revision, so
/// the append is refused without asking.
pub fn stream_state(expected: ExpectedRevision) -> Option<StreamState> {
    match expected {
        ExpectedRevision::Any => Some(StreamState::Any),
        ExpectedRevision::NoStream => Some(StreamState::NoStream),
        ExpectedRevision::StreamExists => Some(StreamState::StreamExists),
        ExpectedRevision::Exact(revision) if revision <= MAX_REVISION => {
            Some(StreamState::StreamRevision(revision))
        }
        ExpectedRevision::Exact(_) => None,
    }
}

/// A stream's revision as KurrentDB reports it in a wrong-expected-version answer.
pub fn actual_revision(current: CurrentRevision) -> Option<Revision> {
    match current {
        CurrentRevision::Current(revision) => Some(revision),
        CurrentRevision::NoStream => None,
    }
}

/// The port's conflict error, with the stream's actual revision.
pub fn wrong_expected(
    stream: &StreamName,
    expected: ExpectedRevision,
    current: CurrentRevision,
) -> Error {
    Error::WrongExpectedRevision {
        stream: stream.clone(),
        expected,
        actual: actual_revision(current),
    }
}

/// The port's position of an event KurrentDB placed at `position`.
pub fn to_port(position: kurrentdb::Position) -> Result<Position, Error> {
    if position.commit == u64::MAX {
        return Err(Error::Storage(
            "KurrentDB did not say where the event is in $all; ERCS needs KurrentDB 22.6 or \
             later, which reports it on stream reads"
                .into(),
        ));
    }
    if position.commit != position.prepare {
        return Err(Error::Storage(format!(
            "the event at {position} was written in an explicit transaction (commit and prepare \
             positions differ), which ERCS does not read"
        )));
    }
    Ok(Position(position.commit + 1))
}

/// KurrentDB's position of the event the port places at `position` (≥ 1).
pub fn from_port(position: Position) -> kurrentdb::Position {
    let offset = position.0.saturating_sub(1);
    kurrentdb::Position {
        commit: offset,
        prepare: offset,
    }
}

/// A checkpoint KurrentDB reports (the position of the last record it looked at) as
/// the port's: resuming `After` it skips exactly what was looked at.
pub fn checkpoint_to_port(position: kurrentdb::Position) -> Position {
    Position(position.commit.saturating_add(1))
}

/// The client's form of an event to append: JSON data, JSON metadata, our id.
pub fn to_client_event(event: &EventData) -> Result<kurrentdb::EventData, Error> {
    let raw = |text: &str| {
        serde_json::value::RawValue::from_string(text.to_owned())
            .map_err(|e| Error::Storage(format!("event {}: {e}", event.id())))
    };
    let data = raw(event.data().as_str())?;
    let metadata = raw(event.metadata().as_str())?;
    kurrentdb::EventData::json(event.event_type().as_str(), &data)
        .and_then(|e| e.id(event.id()).metadata_as_json(&metadata))
        .map_err(|e| Error::Storage(format!("event {}: {e}", event.id())))
}

/// The port's form of an event read from KurrentDB. `Ok(None)`: the event is not in
/// an ERCS stream (a system `$` stream, ERCS's own `~ercs-` key streams, or a stream
/// some other program named outside the port's alphabet), so the log does not show it.
pub fn to_port_event(event: &kurrentdb::RecordedEvent) -> Result<Option<RecordedEvent>, Error> {
    let Ok(stream) = StreamName::new(event.stream_id()) else {
        return Ok(None);
    };
    let corrupt = |what: String| {
        Error::Corrupt(format!(
            "event {} in stream {stream} (revision {}) {what}",
            event.id, event.revision
        ))
    };
    let event_type =
        EventType::new(event.event_type.as_str()).map_err(|e| corrupt(format!("has {e}")))?;
    let text = |bytes: &[u8], field: &str| -> Result<JsonObject, Error> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| corrupt(format!("has {field} that is not UTF-8")))?;
        let text = if text.is_empty() { "{}" } else { text };
        JsonObject::parse(text).map_err(|e| corrupt(format!("has {field} that {e}")))
    };
    let data = text(&event.data, "data")?;
    let metadata = text(&event.custom_metadata, "metadata")?;
    Ok(Some(RecordedEvent {
        id: event.id,
        stream,
        revision: event.revision,
        position: to_port(event.position)?,
        event_type,
        data,
        metadata,
        recorded_at: to_micros(event.created),
    }))
}

/// KurrentDB keeps times in 100 ns ticks; the port's are microseconds.
fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_expected_revision_asks_kurrentdb_the_same_question() {
        assert_eq!(stream_state(ExpectedRevision::Any), Some(StreamState::Any));
        assert_eq!(
            stream_state(ExpectedRevision::NoStream),
            Some(StreamState::NoStream)
        );
        assert_eq!(
            stream_state(ExpectedRevision::StreamExists),
            Some(StreamState::StreamExists)
        );
        assert_eq!(
            stream_state(ExpectedRevision::Exact(0)),
            Some(StreamState::StreamRevision(0))
        );
        assert_eq!(
            stream_state(ExpectedRevision::Exact(MAX_REVISION)),
            Some(StreamState::StreamRevision(MAX_REVISION))
        );
    }

    #[test]
    fn a_revision_kurrentdb_would_read_as_a_special_value_is_never_sent() {
        // u64::MAX is -1 to the server: "no stream". Sending it would create a stream
        // that the caller expected at a revision no stream can have.
        assert_eq!(stream_state(ExpectedRevision::Exact(u64::MAX)), None);
        assert_eq!(
            stream_state(ExpectedRevision::Exact(MAX_REVISION + 1)),
            None
        );
    }

    #[test]
    fn a_conflict_carries_the_actual_revision() {
        let stream = StreamName::new("team-1").unwrap();
        let error = wrong_expected(
            &stream,
            ExpectedRevision::Exact(0),
            CurrentRevision::Current(2),
        );
        assert!(matches!(
            error,
            Error::WrongExpectedRevision {
                actual: Some(2),
                expected: ExpectedRevision::Exact(0),
                ..
            }
        ));
        let error = wrong_expected(
            &stream,
            ExpectedRevision::StreamExists,
            CurrentRevision::NoStream,
        );
        assert!(matches!(
            error,
            Error::WrongExpectedRevision { actual: None, .. }
        ));
    }

    fn at(offset: u64) -> kurrentdb::Position {
        kurrentdb::Position {
            commit: offset,
            prepare: offset,
        }
    }

    #[test]
    fn positions_are_offsets_plus_one_and_keep_the_order_of_all() {
        assert_eq!(to_port(at(0)).unwrap(), Position(1), "the first record");
        assert!(to_port(at(0)).unwrap() > Position::START);
        let offsets = [0, 96, 193, 4_096, 268_435_456, 1 << 40];
        let ours: Vec<Position> = offsets.iter().map(|&o| to_port(at(o)).unwrap()).collect();
        assert!(ours.windows(2).all(|w| w[0] < w[1]));
        for (&offset, &position) in offsets.iter().zip(&ours) {
            assert_eq!(from_port(position), at(offset), "a round trip");
        }
        assert_eq!(from_port(Position::START), kurrentdb::Position::start());
    }

    #[test]
    fn a_position_kurrentdb_did_not_report_or_cannot_fit_one_number_is_an_error() {
        assert!(
            matches!(to_port(kurrentdb::Position::end()), Err(Error::Storage(m)) if m.contains("22.6"))
        );
        let in_a_transaction = kurrentdb::Position {
            commit: 500,
            prepare: 400,
        };
        assert!(
            matches!(to_port(in_a_transaction), Err(Error::Storage(m)) if m.contains("transaction"))
        );
    }

    #[test]
    fn a_checkpoint_resumes_after_what_the_server_looked_at() {
        let checkpoint = checkpoint_to_port(at(4_096));
        assert_eq!(checkpoint, Position(4_097));
        assert_eq!(from_port(checkpoint), at(4_096));
    }

    #[test]
    fn an_event_goes_out_with_our_id_type_data_and_metadata() {
        let event = EventData::from_json(
            uuid::Uuid::new_v4(),
            "BedsReported",
            r#"{"beds":3}"#,
            r#"{"actor":"dispatcher-7"}"#,
        )
        .unwrap();
        let out = to_client_event(&event).unwrap();
        // The client's EventData shows its fields only through Debug.
        let debug = format!("{out:?}");
        assert!(debug.contains(&event.id().to_string()), "{debug}");
        assert!(debug.contains(r#""type": "BedsReported""#), "{debug}");
        assert!(debug.contains(r#"{\"beds\":3}"#), "data verbatim: {debug}");
        assert!(
            debug.contains(r#"{\"actor\":\"dispatcher-7\"}"#),
            "metadata verbatim: {debug}"
        );
    }
}
