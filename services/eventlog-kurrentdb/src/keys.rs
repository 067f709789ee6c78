//! Command keys on KurrentDB: a stream per key, holding the intent before the append.
//!
//! KurrentDB appends to one stream at a time (the client has no multi-stream
//! append), so a key cannot be written in the append's own transaction as on
//! SQLite and PostgreSQL. Instead each key has a stream, `~ercs-key-<uuid>` (the
//! UUID v5 of the key, the same hash the other stores keep; `~` keeps it out of the
//! port's stream alphabet, so no ERCS stream can be it, and out of every read of the
//! log). Its records, each appended at the key stream's exact revision, so that of
//! many writers exactly one writes each:
//!
//! - `intent`: the events, their stream, and the *exact* revision they go at
//!   (`Any` and `StreamExists` are resolved to the revision seen first);
//! - `landed`: where they landed, for good;
//! - `released`: they were refused; the key is free again.
//!
//! The writer that records the intent appends the events, then records `landed`
//! (or `released`). Anyone who finds an intent with neither after it (a twin, a
//! retry, `find_key`, after its writer was killed) completes it the same way: it
//! appends the same events, with the same ids, at the same exact revision. KurrentDB
//! takes that append once: a second one at that revision either finds the same ids
//! there (a retry, written nothing) or finds other events there (refused, so the
//! intent never took effect and is released). No lease, no clock: an intent's
//! append can only ever land at its one revision.

use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    KeyedAppend, Position, Revision, StreamName, check_append,
};
use kurrentdb::{AppendToStreamOptions, StreamPosition, StreamState};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::mapping::MAX_REVISION;
use crate::{Found, KurrentEventLog, storage};

/// How many times a keyed append looks again after losing a race for the key stream.
const ATTEMPTS: usize = 64;

/// The key's stream.
pub fn key_stream(key: &CommandKey) -> String {
    format!("~ercs-key-{}", key_hash(key))
}

/// The same hash as the SQLite and PostgreSQL stores, so a moved log keeps its keys.
pub fn key_hash(key: &CommandKey) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6572_6373_2d63_6f6d_6d61_6e64_2d6b_6579);
    Uuid::new_v5(&NAMESPACE, key.as_str().as_bytes())
}

/// One event of an intent, as the port had it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntendedEvent {
    pub id: Uuid,
    pub event_type: String,
    pub data: String,
    pub metadata: String,
}

/// One record of a key's stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum KeyRecord {
    Intent {
        stream: String,
        /// The stream's last revision the events go after; `None`: no stream yet.
        after: Option<Revision>,
        events: Vec<IntendedEvent>,
    },
    Landed {
        stream: String,
        first_revision: Revision,
        next_expected_revision: Revision,
        position: u64,
    },
    Released,
}

impl KeyRecord {
    fn event_type(&self) -> &'static str {
        match self {
            KeyRecord::Intent { .. } => "ercs-key-intent",
            KeyRecord::Landed { .. } => "ercs-key-landed",
            KeyRecord::Released => "ercs-key-released",
        }
    }

    pub fn intent(stream: &StreamName, after: Option<Revision>, events: &[EventData]) -> Self {
        KeyRecord::Intent {
            stream: stream.to_string(),
            after,
            events: events
                .iter()
                .map(|e| IntendedEvent {
                    id: e.id(),
                    event_type: e.event_type().to_string(),
                    data: e.data().as_str().to_owned(),
                    metadata: e.metadata().as_str().to_owned(),
                })
                .collect(),
        }
    }

    pub fn landed(landed: &KeyedAppend) -> Self {
        KeyRecord::Landed {
            stream: landed.stream.to_string(),
            first_revision: landed.first_revision,
            next_expected_revision: landed.result.next_expected_revision,
            position: landed.result.position.0,
        }
    }

    pub fn as_landed(&self) -> Result<Option<KeyedAppend>, Error> {
        match self {
            KeyRecord::Landed {
                stream,
                first_revision,
                next_expected_revision,
                position,
            } => Ok(Some(KeyedAppend {
                stream: StreamName::new(stream.as_str())?,
                first_revision: *first_revision,
                result: AppendResult {
                    next_expected_revision: *next_expected_revision,
                    position: Position(*position),
                },
            })),
            _ => Ok(None),
        }
    }

    /// An intent's stream, expected revision and events, as the port takes them.
    pub fn as_intent(
        &self,
    ) -> Result<Option<(StreamName, ExpectedRevision, Vec<EventData>)>, Error> {
        let KeyRecord::Intent {
            stream,
            after,
            events,
        } = self
        else {
            return Ok(None);
        };
        let events = events
            .iter()
            .map(|e| EventData::from_json(e.id, &e.event_type, &e.data, &e.metadata))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((
            StreamName::new(stream.as_str())?,
            exact(*after),
            events,
        )))
    }
}

/// The expected revision that puts events right after `after`.
fn exact(after: Option<Revision>) -> ExpectedRevision {
    after.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact)
}

/// The key stream's state for the record after `revision` (`None`: no stream).
fn next_state(revision: Option<Revision>) -> StreamState {
    revision.map_or(StreamState::NoStream, StreamState::StreamRevision)
}

fn keyed(stream: &StreamName, count: usize, result: AppendResult) -> KeyedAppend {
    KeyedAppend {
        stream: stream.clone(),
        first_revision: result.next_expected_revision + 1 - count as u64,
        result,
    }
}

/// The last record of a key's stream, and its revision.
async fn last_record(
    log: &KurrentEventLog,
    key_stream: &str,
) -> Result<Option<(Revision, KeyRecord)>, Error> {
    let last = log
        .read_raw_stream(key_stream, StreamPosition::End, Direction::Backwards, 1)
        .await?;
    let Some(event) = last.into_iter().next() else {
        return Ok(None);
    };
    let record = serde_json::from_slice(&event.data).map_err(|e| {
        Error::Corrupt(format!(
            "key stream {key_stream}, revision {}: {e}",
            event.revision
        ))
    })?;
    Ok(Some((event.revision, record)))
}

/// Appends `record` after `revision` of the key's stream; `false` if another
/// writer's record is there first.
async fn write(
    log: &KurrentEventLog,
    key_stream: &str,
    after: Option<Revision>,
    record: &KeyRecord,
) -> Result<bool, Error> {
    let event = kurrentdb::EventData::json(record.event_type(), record)
        .map_err(|e| Error::Storage(format!("a key record: {e}")))?
        .id(Uuid::new_v4());
    let options = AppendToStreamOptions::default().stream_state(next_state(after));
    match log
        .client()
        .append_to_stream(key_stream, &options, event)
        .await
    {
        Ok(_) => Ok(true),
        Err(kurrentdb::Error::WrongExpectedVersion { .. }) => Ok(false),
        Err(e) => Err(storage(e)),
    }
}

/// Whether an append that failed with `error` surely wrote nothing.
fn refused(error: &Error) -> bool {
    error.is_bad_input()
        || matches!(
            error,
            Error::WrongExpectedRevision { .. } | Error::IdempotencyConflict { .. }
        )
}

/// Appends an intent's events (again: the same ids at the same revision) and
/// records the outcome after the intent, at `revision`. Someone else may record it
/// first; then theirs stands, and it is the same outcome.
async fn complete(
    log: &KurrentEventLog,
    key_stream: &str,
    revision: Revision,
    intent: &KeyRecord,
) -> Result<(), Error> {
    let Some((stream, expected, events)) = intent.as_intent()? else {
        return Ok(());
    };
    let outcome = match log.append(&stream, expected, events.clone()).await {
        Ok(result) => KeyRecord::landed(&keyed(&stream, events.len(), result)),
        Err(error) if refused(&error) => KeyRecord::Released,
        Err(error) => return Err(error),
    };
    write(log, key_stream, Some(revision), &outcome).await?;
    Ok(())
}

pub(crate) async fn append_once(
    log: &KurrentEventLog,
    stream: &StreamName,
    expected: ExpectedRevision,
    events: Vec<EventData>,
    key: &CommandKey,
) -> Result<AppendOnce, Error> {
    check_append(&events)?;
    let key_stream = key_stream(key);
    for _ in 0..ATTEMPTS {
        let key_revision = match last_record(log, &key_stream).await? {
            Some((_, record @ KeyRecord::Landed { .. })) => {
                return Ok(AppendOnce::AlreadyApplied(
                    record.as_landed()?.expect("a landed record"),
                ));
            }
            Some((revision, intent @ KeyRecord::Intent { .. })) => {
                complete(log, &key_stream, revision, &intent).await?;
                continue;
            }
            Some((revision, KeyRecord::Released)) => Some(revision),
            None => None,
        };
        // The exact revision the events go after.
        let after = match expected {
            ExpectedRevision::Exact(revision) if revision > MAX_REVISION => {
                return Err(Error::WrongExpectedRevision {
                    stream: stream.clone(),
                    expected,
                    actual: log.last_revision(stream).await?,
                });
            }
            ExpectedRevision::Exact(revision) => Some(revision),
            ExpectedRevision::NoStream => None,
            ExpectedRevision::Any | ExpectedRevision::StreamExists => {
                match log.find_ids(stream, &events).await? {
                    // The same events are there already, appended without this key.
                    Found::Whole(result) => {
                        let landed = keyed(stream, events.len(), result);
                        if write(log, &key_stream, key_revision, &KeyRecord::landed(&landed))
                            .await?
                        {
                            return Ok(AppendOnce::Appended(result));
                        }
                        continue;
                    }
                    Found::Partial(id) => {
                        return Err(Error::IdempotencyConflict {
                            stream: stream.clone(),
                            id,
                        });
                    }
                    Found::Nowhere { last: None } if expected == ExpectedRevision::StreamExists => {
                        return Err(Error::WrongExpectedRevision {
                            stream: stream.clone(),
                            expected,
                            actual: None,
                        });
                    }
                    Found::Nowhere { last } => last,
                }
            }
        };
        let intent = KeyRecord::intent(stream, after, &events);
        if !write(log, &key_stream, key_revision, &intent).await? {
            continue;
        }
        let intent_revision = key_revision.map_or(0, |r| r + 1);
        match log.append(stream, exact(after), events.clone()).await {
            Ok(result) => {
                let landed = keyed(stream, events.len(), result);
                // Lost only to someone completing this very intent: the same landing.
                write(
                    log,
                    &key_stream,
                    Some(intent_revision),
                    &KeyRecord::landed(&landed),
                )
                .await?;
                return Ok(AppendOnce::Appended(result));
            }
            Err(error) if refused(&error) => {
                write(
                    log,
                    &key_stream,
                    Some(intent_revision),
                    &KeyRecord::Released,
                )
                .await?;
                let moved = matches!(error, Error::WrongExpectedRevision { .. })
                    && matches!(
                        expected,
                        ExpectedRevision::Any | ExpectedRevision::StreamExists
                    );
                if moved {
                    // Another writer appended between the look and the append: `Any`
                    // never fails on a revision, so decide the revision again.
                    continue;
                }
                return Err(error);
            }
            // Unknown (the store is away): the intent stays, and whoever comes next
            // completes it.
            Err(error) => return Err(error),
        }
    }
    Err(Error::Storage(format!(
        "command key {key}: lost the race for its stream {ATTEMPTS} times"
    )))
}

pub(crate) async fn find_key(
    log: &KurrentEventLog,
    key: &CommandKey,
) -> Result<Option<KeyedAppend>, Error> {
    let key_stream = key_stream(key);
    for _ in 0..ATTEMPTS {
        match last_record(log, &key_stream).await? {
            None | Some((_, KeyRecord::Released)) => return Ok(None),
            Some((_, record @ KeyRecord::Landed { .. })) => return record.as_landed(),
            // An intent not yet settled: settle it, for `KeyedAppend` only
            // describes appends that happened.
            Some((revision, intent)) => complete(log, &key_stream, revision, &intent).await?,
        }
    }
    Err(Error::Storage(format!(
        "command key {key}: its stream kept changing"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_stream_is_outside_the_ports_alphabet_and_hashes_like_the_other_stores() {
        let key = CommandKey::new("POST /facilities/1/report #1").unwrap();
        let name = key_stream(&key);
        assert!(name.starts_with("~ercs-key-"));
        assert!(
            StreamName::new(name.as_str()).is_err(),
            "no ERCS stream can be {name}"
        );
        // The SQLite store's hash of the same key (services/eventlog/src/sqlite/writer.rs).
        let namespace = Uuid::from_u128(0x6572_6373_2d63_6f6d_6d61_6e64_2d6b_6579);
        assert_eq!(
            key_hash(&key),
            Uuid::new_v5(&namespace, key.as_str().as_bytes())
        );
    }

    #[test]
    fn a_landed_record_says_where_the_append_landed() {
        let landed = KeyedAppend {
            stream: StreamName::new("team-1").unwrap(),
            first_revision: 3,
            result: AppendResult {
                next_expected_revision: 4,
                position: Position(9_217),
            },
        };
        let text = serde_json::to_string(&KeyRecord::landed(&landed)).unwrap();
        assert!(text.contains(r#""record":"landed""#), "{text}");
        let back: KeyRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back.as_landed().unwrap(), Some(landed));
        assert_eq!(back.as_intent().unwrap(), None);
    }

    #[test]
    fn an_intent_gives_back_the_same_events_at_the_same_exact_revision() {
        let stream = StreamName::new("depot-7").unwrap();
        let events = vec![
            EventData::from_json(
                Uuid::new_v4(),
                "LotReceived",
                r#"{"物资":"帐篷","count":40}"#,
                r#"{"actor":"调度员"}"#,
            )
            .unwrap(),
            EventData::from_json(Uuid::new_v4(), "LotShelved", "{}", "{}").unwrap(),
        ];
        for (after, expected) in [
            (None, ExpectedRevision::NoStream),
            (Some(6), ExpectedRevision::Exact(6)),
        ] {
            let record = KeyRecord::intent(&stream, after, &events);
            let text = serde_json::to_string(&record).unwrap();
            let back: KeyRecord = serde_json::from_str(&text).unwrap();
            let (s, e, evs) = back.as_intent().unwrap().expect("an intent");
            assert_eq!((s, e, evs), (stream.clone(), expected, events.clone()));
            assert_eq!(back.as_landed().unwrap(), None);
        }
    }

    #[test]
    fn only_a_certain_refusal_releases_a_key() {
        let stream = StreamName::new("team-1").unwrap();
        assert!(refused(&Error::WrongExpectedRevision {
            stream: stream.clone(),
            expected: ExpectedRevision::Exact(1),
            actual: Some(3),
        }));
        assert!(refused(&Error::IdempotencyConflict {
            stream,
            id: Uuid::new_v4()
        }));
        // A lost connection may have written the events: the intent must stay.
        assert!(!refused(&Error::Storage(
            "KurrentDB: connection closed".into()
        )));
        assert!(!refused(&Error::Closed));
    }
}
