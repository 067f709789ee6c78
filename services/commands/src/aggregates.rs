use std::fmt;
use std::sync::Arc;

use ercs_domain::decider::Decider;
use ercs_domain::event::{DecodeError, DomainEvent};
use ercs_eventlog::{
    Direction, EventLog, ExpectedRevision, Position, ReadFrom, Revision, StreamName,
};

use crate::{Metadata, codec};

/// Which state a command is decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The latest. If another writer gets in between, the command is decided again
    /// on the new state, up to [`MAX_ATTEMPTS`] times.
    Latest,
    /// Exactly this revision (`None`: the aggregate must not exist yet), as an HTTP
    /// `If-Match` asks. A stream anywhere else is a [`CommandError::Conflict`].
    Revision(Option<Revision>),
}

/// How often an [`Expect::Latest`] command is decided before it gives up.
pub const MAX_ATTEMPTS: usize = 5;

/// An aggregate as its stream leaves it.
pub struct Loaded<D: Decider> {
    pub state: D::State,
    /// The revision of its last event; `None` when the stream does not exist.
    pub revision: Option<Revision>,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed<E> {
    pub events: Vec<E>,
    /// The stream's revision afterwards (its `ETag`).
    pub revision: Option<Revision>,
    /// The log position the append reached; `None` when the command decided nothing.
    /// A read that waits for it sees the command's effect.
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E> {
    /// The domain refused the command; nothing was written.
    #[error(transparent)]
    Rejected(E),
    /// The stream is not where the command expected it; nothing was written.
    #[error("{stream} is at {}, not at the expected {}", Shown(*.actual), Shown(*.expected))]
    Conflict {
        stream: StreamName,
        expected: Option<Revision>,
        actual: Option<Revision>,
    },
    /// A stored event this build cannot read (for example from a newer version).
    #[error("{stream} revision {revision} cannot be read: {source}")]
    Undecodable {
        stream: StreamName,
        revision: Revision,
        source: DecodeError,
    },
    #[error(transparent)]
    Log(#[from] ercs_eventlog::Error),
}

struct Shown(Option<Revision>);
impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(revision) => write!(f, "revision {revision}"),
            None => f.write_str("no stream"),
        }
    }
}

/// Events read from the log per page while loading.
const PAGE: usize = 4096;

/// Loads aggregates from, and writes their decisions to, one event log.
#[derive(Clone)]
pub struct Aggregates {
    log: Arc<dyn EventLog>,
}

impl Aggregates {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self { log }
    }

    /// The aggregate as its whole stream leaves it.
    pub async fn load<D>(&self, id: &D::Id) -> Result<Loaded<D>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        self.load_through(&stream_of::<D>(id)?, None).await
    }

    /// Decides `command` on the aggregate and appends what it decided.
    pub async fn execute<D>(
        &self,
        id: &D::Id,
        expect: Expect,
        command: D::Command,
        metadata: &Metadata,
    ) -> Result<Executed<D::Event>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
        D::Command: Clone,
    {
        let stream = stream_of::<D>(id)?;
        match expect {
            Expect::Revision(expected) => {
                let loaded = self.load_as_of::<D>(&stream, expected).await?;
                self.decide_and_append(&stream, loaded, command, metadata)
                    .await
            }
            Expect::Latest => {
                let mut attempt = 1;
                loop {
                    let loaded = self.load_through::<D>(&stream, None).await?;
                    match self
                        .decide_and_append(&stream, loaded, command.clone(), metadata)
                        .await
                    {
                        Err(CommandError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                            attempt += 1
                        }
                        outcome => return outcome,
                    }
                }
            }
        }
    }

    /// The state as of `expected`, or a conflict when the stream never reached it.
    async fn load_as_of<D>(
        &self,
        stream: &StreamName,
        expected: Option<Revision>,
    ) -> Result<Loaded<D>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let Some(revision) = expected else {
            // Must not exist: the append says so if it does (or recognises a retry).
            return Ok(Loaded {
                state: D::State::default(),
                revision: None,
            });
        };
        let loaded = self.load_through::<D>(stream, Some(revision)).await?;
        if loaded.revision != Some(revision) {
            return Err(CommandError::Conflict {
                stream: stream.clone(),
                expected,
                actual: loaded.revision,
            });
        }
        Ok(loaded)
    }

    /// Folds the stream's events, up to and including `last` when given.
    async fn load_through<D>(
        &self,
        stream: &StreamName,
        last: Option<Revision>,
    ) -> Result<Loaded<D>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let mut loaded = Loaded::<D> {
            state: D::State::default(),
            revision: None,
        };
        loop {
            let from = ReadFrom::At(loaded.revision.map_or(0, |r| r + 1));
            let page = self
                .log
                .read_stream(stream, from, Direction::Forwards, PAGE)
                .await?;
            for recorded in page
                .iter()
                .take_while(|e| last.is_none_or(|last| e.revision <= last))
            {
                let event = codec::decode::<D::Event>(recorded).map_err(|source| {
                    CommandError::Undecodable {
                        stream: stream.clone(),
                        revision: recorded.revision,
                        source,
                    }
                })?;
                loaded.state = D::evolve(loaded.state, &event);
                loaded.revision = Some(recorded.revision);
            }
            let reached_last = last.is_some_and(|last| loaded.revision >= Some(last));
            if page.len() < PAGE || reached_last {
                return Ok(loaded);
            }
        }
    }

    async fn decide_and_append<D>(
        &self,
        stream: &StreamName,
        loaded: Loaded<D>,
        command: D::Command,
        metadata: &Metadata,
    ) -> Result<Executed<D::Event>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let events = D::decide(&loaded.state, command).map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok(Executed {
                events,
                revision: loaded.revision,
                position: None,
            });
        }
        let first = loaded.revision.map_or(0, |r| r + 1);
        let data = events
            .iter()
            .zip(first..)
            .map(|(event, revision)| codec::encode(stream, revision, event, metadata))
            .collect::<Result<Vec<_>, _>>()?;
        let expected = loaded
            .revision
            .map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
        match self.log.append(stream, expected, data).await {
            Ok(written) => Ok(Executed {
                events,
                revision: Some(written.next_expected_revision),
                position: Some(written.position),
            }),
            Err(ercs_eventlog::Error::WrongExpectedRevision { actual, .. }) => {
                Err(CommandError::Conflict {
                    stream: stream.clone(),
                    expected: loaded.revision,
                    actual,
                })
            }
            Err(error) => Err(CommandError::Log(error)),
        }
    }
}

fn stream_of<D: Decider>(id: &D::Id) -> Result<StreamName, ercs_eventlog::Error> {
    StreamName::new(D::stream_name(id))
}
