use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ercs_domain::decider::Decider;
use ercs_domain::event::{DecodeError, DomainEvent};
use ercs_eventlog::{
    AppendOnce, CommandKey, Direction, EventData, EventLog, ExpectedRevision, FileAccess,
    KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, StreamTip,
};
use uuid::Uuid;

use crate::cache::{DEFAULT_CACHED_AGGREGATES, Fold, RestoreError, StateCache};
use crate::turns::Turns;
use crate::{Metadata, codec};

/// Which state a command is decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The latest. Commands on one stream take turns within this process, so none
    /// is ever decided on a state another one is about to change; if a writer in
    /// another process gets in between, the command is decided again on the new
    /// state, up to [`MAX_ATTEMPTS`] times.
    Latest,
    /// Exactly this revision (`None`: the aggregate must not exist yet), as an HTTP
    /// `If-Match` asks. A stream anywhere else is a [`CommandError::Conflict`].
    Revision(Option<Revision>),
}

/// How often an [`Expect::Latest`] command is decided before it gives up. Only
/// writers in other processes (replicas on a shared store) can make it lose.
pub const MAX_ATTEMPTS: usize = 16;

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
    /// The command's key was already applied: these are the events that first
    /// application appended, and nothing was appended now.
    pub replayed: bool,
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
    /// The idempotency key was first used for another command: on another
    /// stream, or with another request.
    #[error(
        "the idempotency key `{key}` was first used for another command (on {first}, now {stream})"
    )]
    KeyReused {
        key: CommandKey,
        first: StreamName,
        stream: StreamName,
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

/// How a load checks a cached fold against the log: by the tip the log knows
/// (no read when it knows one), or by reading the store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Tip,
    Store,
}

/// Loads aggregates from, and writes their decisions to, one event log.
///
/// Keeps the latest decided state of recently used aggregates (see `cache`), so
/// a command reads only the events after it: its cost does not grow with the
/// stream. Clones share the cache; a second `Aggregates` over the same log has
/// its own and sees the first one's writes through the log. The cache can be
/// saved to a file and restored from it in the next run
/// ([`save_states`](Self::save_states), [`restore_states`](Self::restore_states)).
#[derive(Clone)]
pub struct Aggregates {
    log: Arc<dyn EventLog>,
    turns: Arc<Turns>,
    cache: Arc<StateCache>,
    /// Events folded into states so far, by every clone.
    folded: Arc<AtomicU64>,
}

/// A stream folded so far: the state and its last event (revision, id,
/// position), if any.
struct Folded<S> {
    state: S,
    last: Option<(Revision, Uuid, Position)>,
}

impl<S> Folded<S> {
    fn revision(&self) -> Option<Revision> {
        self.last.map(|(revision, _, _)| revision)
    }
}

impl<S: Default> Default for Folded<S> {
    fn default() -> Self {
        Self {
            state: S::default(),
            last: None,
        }
    }
}

impl Aggregates {
    /// Over `log`, keeping up to [`DEFAULT_CACHED_AGGREGATES`] states in memory.
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self::with_cache(log, DEFAULT_CACHED_AGGREGATES)
    }

    /// Over `log`, keeping the states of up to `entries` aggregates in memory,
    /// least recently used out first; 0 folds every stream from its start.
    pub fn with_cache(log: Arc<dyn EventLog>, entries: usize) -> Self {
        Self {
            log,
            turns: Arc::default(),
            cache: Arc::new(StateCache::new(entries)),
            folded: Arc::default(),
        }
    }

    /// How many aggregates' states are in memory now.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// How many stored events loads have folded so far (an event a cached state
    /// already reflects is not counted; the one a load checks it by is not
    /// folded either).
    pub fn events_folded(&self) -> u64 {
        self.folded.load(Ordering::Relaxed)
    }

    /// Counts the states stored in or dropped from memory so far: when it has
    /// not moved since a save, the file still holds what memory does.
    pub fn state_changes(&self) -> u64 {
        self.cache.changes()
    }

    /// Writes the states in memory to `path` (replaced atomically; a new file
    /// gets `access`'s mode), least recently used first, so the next run can
    /// [`restore_states`](Self::restore_states) instead of folding their
    /// streams again. Blocking: encoding takes a few milliseconds per thousand
    /// states, so call it off the async threads. Returns how many it saved.
    pub fn save_states(&self, path: &Path, access: FileAccess) -> std::io::Result<usize> {
        let (bytes, count) = self.cache.saved().map_err(std::io::Error::other)?;
        access.replace_file(path, &bytes)?;
        Ok(count)
    }

    /// Adds the states a run saved at `path` to memory; 0 when there is no such
    /// file. Each is checked against the log when first used, like every
    /// cached state: one whose stream has another event at its revision, or
    /// the same event id at another position (a restored or replaced log), is
    /// folded from the start instead.
    pub fn restore_states(&self, path: &Path) -> Result<usize, RestoreError> {
        match std::fs::read(path) {
            Ok(bytes) => self.cache.restore(&bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error.into()),
        }
    }

    /// The aggregate as its whole stream leaves it.
    pub async fn load<D>(&self, id: &D::Id) -> Result<Loaded<D>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let folded = self.fold::<D>(&stream_of::<D>(id)?, Check::Tip).await?;
        Ok(Loaded {
            revision: folded.revision(),
            state: folded.state,
        })
    }

    /// Decides `command` on the aggregate and appends what it decided.
    ///
    /// With an idempotency key in `metadata`, the command takes effect at most
    /// once: a key the log already holds is answered with the events its first
    /// application appended (`replayed`), before anything is decided, and the
    /// append itself is refused by the log if a twin got there first.
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
        let key = key_of(metadata)?;
        if let Some(replayed) = self
            .already_applied::<D>(&stream, key.as_ref(), metadata)
            .await?
        {
            return Ok(replayed);
        }
        let _turn = self.turns.take(stream.as_str()).await;
        let mut attempt = 1;
        loop {
            // A retry after a conflict reads the store: the tip the first
            // attempt trusted may have been a moment old.
            let check = if attempt == 1 {
                Check::Tip
            } else {
                Check::Store
            };
            let loaded = match expect {
                Expect::Revision(expected) => self.load_as_of::<D>(&stream, expected, check).await,
                Expect::Latest => self.fold::<D>(&stream, check).await,
            };
            let outcome = match loaded {
                Ok(loaded) => {
                    self.decide_and_append::<D>(
                        &stream,
                        loaded,
                        command.clone(),
                        metadata,
                        key.as_ref(),
                    )
                    .await
                }
                Err(error) => Err(error),
            };
            // A twin in another process may have applied the key while this one
            // was deciding on the state it left: then its outcome is the answer.
            let settled = match &outcome {
                Ok(executed) => !executed.events.is_empty(),
                Err(CommandError::Rejected(_) | CommandError::Conflict { .. }) => false,
                Err(_) => true,
            };
            if !settled
                && let Some(replayed) = self
                    .already_applied::<D>(&stream, key.as_ref(), metadata)
                    .await?
            {
                return Ok(replayed);
            }
            match outcome {
                Err(CommandError::Conflict { .. })
                    if expect == Expect::Latest && attempt < MAX_ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(attempt as u64)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// What the command keyed in `metadata` did on the aggregate, if the log
    /// holds it: for a process that must know whether a step ran before it
    /// decides on the next one.
    pub async fn applied<D>(
        &self,
        id: &D::Id,
        metadata: &Metadata,
    ) -> Result<Option<Executed<D::Event>>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let stream = stream_of::<D>(id)?;
        let key = key_of(metadata)?;
        self.already_applied::<D>(&stream, key.as_ref(), metadata)
            .await
    }

    /// The first application of `key`, if the log holds one.
    async fn already_applied<D>(
        &self,
        stream: &StreamName,
        key: Option<&CommandKey>,
        metadata: &Metadata,
    ) -> Result<Option<Executed<D::Event>>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let Some(key) = key else { return Ok(None) };
        match self.log.find_key(key).await? {
            Some(landed) => self
                .replay::<D>(stream, key, landed, metadata)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// The events a keyed append wrote, read back as that append's outcome. A
    /// key first used on another stream, or with another request, names another
    /// command: that is refused, not replayed.
    async fn replay<D>(
        &self,
        stream: &StreamName,
        key: &CommandKey,
        landed: KeyedAppend,
        metadata: &Metadata,
    ) -> Result<Executed<D::Event>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let reused = |first: StreamName| CommandError::KeyReused {
            key: key.clone(),
            first,
            stream: stream.clone(),
        };
        if landed.stream != *stream {
            return Err(reused(landed.stream));
        }
        let last = landed.result.next_expected_revision;
        let count = usize::try_from(last - landed.first_revision + 1).unwrap_or(usize::MAX);
        let recorded = self
            .log
            .read_stream(
                stream,
                ReadFrom::At(landed.first_revision),
                Direction::Forwards,
                count,
            )
            .await?;
        let first_digest = recorded
            .first()
            .and_then(|event| event.metadata.deserialize::<Metadata>().ok())
            .and_then(|first| first.request_digest);
        // A first application from before digests were recorded has none to compare.
        if let (Some(first), Some(now)) = (first_digest, metadata.request_digest)
            && first != now
        {
            return Err(reused(stream.clone()));
        }
        let events = recorded
            .iter()
            .map(|event| decoded::<D>(stream, event))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Executed {
            events,
            revision: Some(last),
            position: Some(landed.result.position),
            replayed: true,
        })
    }

    /// The state at `expected`, when that is where the stream ends; else a
    /// conflict naming where it does end (`If-Match`: only if nothing was
    /// written since). The stream is folded to its end, from the cached fold:
    /// an `expected` older than the cache costs what a current one does, not
    /// a replay of the stream to decide on a state the append would refuse.
    async fn load_as_of<D>(
        &self,
        stream: &StreamName,
        expected: Option<Revision>,
        check: Check,
    ) -> Result<Folded<D::State>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let Some(revision) = expected else {
            // Must not exist: the append says so if it does (or recognises a retry).
            return Ok(Folded::default());
        };
        let folded = self.fold::<D>(stream, check).await?;
        if folded.revision() != Some(revision) {
            return Err(CommandError::Conflict {
                stream: stream.clone(),
                expected,
                actual: folded.revision(),
            });
        }
        Ok(folded)
    }

    /// The stream's events folded to its end: from the cached fold when there
    /// is one, else from the start. What the log adds to the cached fold is
    /// cached in turn.
    async fn fold<D>(
        &self,
        stream: &StreamName,
        check: Check,
    ) -> Result<Folded<D::State>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let cached = self.cache.get::<D::State>(stream.as_str());
        let mut since = cached.as_ref().map(|fold| fold.revision);
        let onto = cached.map_or_else(Folded::default, |fold| Folded {
            state: fold.state,
            last: Some((fold.revision, fold.last_id, fold.position)),
        });
        let folded = match self.fold_onto::<D>(stream, onto, check).await? {
            Some(folded) => folded,
            None => {
                // The event at the cached revision is not the one folded: the
                // log is not the one the copy came from (restored, replaced).
                self.cache.evict(stream.as_str());
                since = None;
                let fresh = self.fold_onto::<D>(stream, Folded::default(), check);
                fresh.await?.unwrap_or_default()
            }
        };
        if folded.revision() > since {
            self.remember(stream, &folded);
        }
        Ok(folded)
    }

    /// Folds the events after `onto` onto it. `None` when the log's event at
    /// `onto`'s revision is not `onto`'s last event.
    async fn fold_onto<D>(
        &self,
        stream: &StreamName,
        mut folded: Folded<D::State>,
        check: Check,
    ) -> Result<Option<Folded<D::State>>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        // The stream ends with the folded event, by the word of the log that
        // wrote it: the check a read would make, without the read.
        if let (Some((revision, id, position)), Check::Tip) = (folded.last, check)
            && self.log.last_known(stream)
                == Some(StreamTip {
                    revision,
                    id,
                    position,
                })
        {
            return Ok(Some(folded));
        }
        // The first page starts at the folded event itself, to check it in the
        // same read; later pages start after the last event folded.
        let mut anchor = folded.last;
        loop {
            let from = match anchor {
                Some((revision, _, _)) => revision,
                None => folded.revision().map_or(0, |r| r + 1),
            };
            let page = self
                .log
                .read_stream(stream, ReadFrom::At(from), Direction::Forwards, PAGE)
                .await?;
            let mut events = page.iter();
            if let Some((revision, id, position)) = anchor.take() {
                // The id alone could match after another history: a keyed
                // command's ids derive from its key, so a retry can land it
                // again at the same revision of a log restored from a backup.
                match events.next() {
                    Some(first)
                        if first.revision == revision
                            && first.id == id
                            && first.position == position => {}
                    _ => return Ok(None),
                }
            }
            let mut count = 0;
            for recorded in events {
                let event = decoded::<D>(stream, recorded)?;
                folded.state = D::evolve(folded.state, &event);
                folded.last = Some((recorded.revision, recorded.id, recorded.position));
                count += 1;
            }
            self.folded.fetch_add(count, Ordering::Relaxed);
            if page.len() < PAGE {
                return Ok(Some(folded));
            }
        }
    }

    /// Keeps a copy of `folded` for the next command on `stream`.
    fn remember<S>(&self, stream: &StreamName, folded: &Folded<S>)
    where
        S: Clone + serde::Serialize + Send + Sync + 'static,
    {
        if let Some((revision, last_id, position)) = folded.last {
            let fold = Fold {
                state: folded.state.clone(),
                revision,
                last_id,
                position,
            };
            self.cache.put(stream.as_str(), fold);
        }
    }

    async fn decide_and_append<D>(
        &self,
        stream: &StreamName,
        folded: Folded<D::State>,
        command: D::Command,
        metadata: &Metadata,
        key: Option<&CommandKey>,
    ) -> Result<Executed<D::Event>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let revision = folded.revision();
        let events = D::decide(&folded.state, command).map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok(Executed {
                events,
                revision,
                position: None,
                replayed: false,
            });
        }
        let data = events
            .iter()
            .enumerate()
            .map(|(ordinal, event)| codec::encode(stream, ordinal, event, metadata))
            .collect::<Result<Vec<_>, _>>()?;
        let last_id = data.last().map(EventData::id);
        let expected = revision.map_or(ExpectedRevision::NoStream, ExpectedRevision::Exact);
        let appended = match key {
            Some(key) => self.log.append_once(stream, expected, data, key).await,
            None => self
                .log
                .append(stream, expected, data)
                .await
                .map(AppendOnce::Appended),
        };
        match appended {
            Ok(AppendOnce::Appended(written)) => {
                let reached = written.next_expected_revision;
                let at = last_id.map(|id| (id, written.position));
                self.remember_decided::<D>(stream, folded, &events, at, reached);
                Ok(Executed {
                    events,
                    revision: Some(reached),
                    position: Some(written.position),
                    replayed: false,
                })
            }
            Ok(AppendOnce::AlreadyApplied(landed)) => {
                let key = key.expect("only a keyed append is already applied");
                self.replay::<D>(stream, key, landed, metadata).await
            }
            // Nothing to evict: the cached fold is behind the log, not wrong,
            // and the next load reads the events it lacks.
            Err(ercs_eventlog::Error::WrongExpectedRevision { actual, .. }) => {
                Err(CommandError::Conflict {
                    stream: stream.clone(),
                    expected: revision,
                    actual,
                })
            }
            Err(error) => Err(CommandError::Log(error)),
        }
    }

    /// After the log acknowledged `events` appended onto `folded`, ending at
    /// `revision` with the event `last` (its id and position): keeps their
    /// fold, so the next command on the stream reads no event but the one it
    /// checks.
    fn remember_decided<D: Decider>(
        &self,
        stream: &StreamName,
        folded: Folded<D::State>,
        events: &[D::Event],
        last: Option<(Uuid, Position)>,
        revision: Revision,
    ) {
        let first = folded.revision().map_or(0, |r| r + 1);
        let end = Revision::try_from(events.len())
            .ok()
            .and_then(|n| first.checked_add(n)?.checked_sub(1));
        match last {
            // The revisions say these very events landed right after the fold.
            Some((last_id, position)) if end == Some(revision) => {
                let state = events.iter().fold(folded.state, D::evolve);
                let fold = Fold {
                    state,
                    revision,
                    last_id,
                    position,
                };
                self.cache.put(stream.as_str(), fold);
            }
            _ => self.cache.evict(stream.as_str()),
        }
    }
}

/// One stored event of `stream`, decoded for `D`.
fn decoded<D>(
    stream: &StreamName,
    recorded: &RecordedEvent,
) -> Result<D::Event, CommandError<D::Error>>
where
    D: Decider,
    D::Event: DomainEvent,
{
    codec::decode::<D::Event>(recorded).map_err(|source| CommandError::Undecodable {
        stream: stream.clone(),
        revision: recorded.revision,
        source,
    })
}

/// The command key `metadata` carries, if any.
fn key_of(metadata: &Metadata) -> Result<Option<CommandKey>, ercs_eventlog::Error> {
    metadata
        .idempotency_key
        .as_deref()
        .map(CommandKey::new)
        .transpose()
}

fn stream_of<D: Decider>(id: &D::Id) -> Result<StreamName, ercs_eventlog::Error> {
    StreamName::new(D::stream_name(id))
}
