//! Decided states kept in memory, so a command reads only the events its
//! aggregate gained since the last one instead of the whole stream.
//!
//! An entry is a fold of a stream's first events: its state, the revision it
//! reflects and the id and log position of the event at that revision. (Both:
//! a keyed command's event ids are derived from its key, so a log restored
//! from a backup can hold the same id at that revision after another history;
//! it cannot hold it at the same position too.) It is only ever stored
//! from what the log returned or acknowledged, so it can be behind the log (a
//! writer in another process) but never ahead; a load reads the tail after it
//! and checks that the event at its revision is still the one it was folded
//! from. Least recently used entries go first when the bound is reached.
//!
//! The entries can be saved to a file and restored from it ([`StateCache::saved`],
//! [`StateCache::restore`]), so a restart does not fold every stream from its
//! start again. A restored entry is checked against the log like any other,
//! and decoded into its state on first use: one that no longer decodes is a
//! miss.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use ercs_domain::decider::STATE_VERSION;
use ercs_eventlog::{Position, Revision};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// How many aggregates [`Aggregates::new`](crate::Aggregates::new) keeps: more
/// than the seeded city's teams, depots, facilities and items together, at a
/// few KiB each.
pub const DEFAULT_CACHED_AGGREGATES: usize = 16_384;

/// The layout of a saved file (the states inside have [`STATE_VERSION`]).
const FORMAT: u32 = 2;

/// A state folded through `revision`, whose event there has the id `last_id`
/// and sits at `position` in the log.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fold<S> {
    pub state: S,
    pub revision: Revision,
    pub last_id: Uuid,
    pub position: Position,
}

/// A bounded least-recently-used map from stream name to its latest fold.
pub(crate) struct StateCache {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<String, Entry>,
    /// Entries by the tick of their last use: the first is the next to go.
    by_use: BTreeMap<u64, String>,
    tick: u64,
    /// Counts the entries stored or dropped, so a saver knows when to save.
    changes: u64,
}

struct Entry {
    held: Held,
    revision: Revision,
    last_id: Uuid,
    position: Position,
    used: u64,
}

/// An entry's state: decided here, or read from a saved file and decoded on
/// first use (its type is known only to the command that uses it).
#[derive(Clone)]
enum Held {
    /// Shared so a reader clones the state outside the lock.
    Decided {
        state: Arc<dyn Any + Send + Sync>,
        encode: Encode,
    },
    Saved(Arc<RawValue>),
}

/// Where a fold ends: the revision, and the id and position of the event there.
type At = (Revision, Uuid, Position);

/// The state's JSON, by a function that knows its type.
type Encode = fn(&(dyn Any + Send + Sync)) -> Option<Box<RawValue>>;

fn encode_as<S: Serialize + 'static>(state: &(dyn Any + Send + Sync)) -> Option<Box<RawValue>> {
    serde_json::value::to_raw_value(state.downcast_ref::<S>()?).ok()
}

/// A saved file: the entries, least recently used first.
#[derive(Serialize, Deserialize)]
struct Saved<E> {
    format: u32,
    state_version: u32,
    entries: Vec<E>,
}

#[derive(Serialize, Deserialize)]
struct SavedEntry<S> {
    stream: String,
    revision: Revision,
    last_id: Uuid,
    position: Position,
    state: S,
}

/// Why a saved file was not restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("cannot read the saved states: {0}")]
    Io(#[from] std::io::Error),
    #[error("the saved states are damaged: {0}")]
    Damaged(#[from] serde_json::Error),
    #[error(
        "the states were saved by another version (format {format}, states {found}; this build: format {FORMAT}, states {STATE_VERSION})"
    )]
    OtherVersion { format: u32, found: u32 },
}

impl StateCache {
    /// A cache of at most `capacity` streams; 0 keeps nothing.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::default(),
        }
    }

    /// A copy of the fold cached for `stream`, if it holds a state of type `S`.
    pub fn get<S>(&self, stream: &str) -> Option<Fold<S>>
    where
        S: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let (held, (revision, last_id, position)) = {
            let mut lru = self.lock();
            let tick = lru.next_tick();
            let entry = lru.entries.get_mut(stream)?;
            let used = std::mem::replace(&mut entry.used, tick);
            let at = (entry.revision, entry.last_id, entry.position);
            let found = (entry.held.clone(), at);
            lru.by_use.remove(&used);
            lru.by_use.insert(tick, stream.to_owned());
            found
        };
        let state = match held {
            // Stream names carry their aggregate's prefix, so another type here
            // would be a bug elsewhere: then it is a miss, never a wrong state.
            Held::Decided { state, .. } => state.downcast_ref::<S>()?.clone(),
            Held::Saved(json) => match serde_json::from_str::<S>(json.get()) {
                Ok(state) => {
                    self.decoded(stream, revision, state.clone());
                    state
                }
                Err(_) => {
                    self.lock().remove_saved(stream, revision);
                    return None;
                }
            },
        };
        Some(Fold {
            state,
            revision,
            last_id,
            position,
        })
    }

    /// Keeps `fold` for `stream` unless the cache already holds a later one (a
    /// concurrent load may finish after a newer append stored its state).
    pub fn put<S: Serialize + Send + Sync + 'static>(&self, stream: &str, fold: Fold<S>) {
        let held = Held::Decided {
            state: Arc::new(fold.state),
            encode: encode_as::<S>,
        };
        let at = (fold.revision, fold.last_id, fold.position);
        self.lock().put(self.capacity, stream, held, at);
    }

    /// Forgets `stream`, whose entry no longer matches its log.
    pub fn evict(&self, stream: &str) {
        self.lock().remove(stream);
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// How many times an entry was stored or dropped so far.
    pub fn changes(&self) -> u64 {
        self.lock().changes
    }

    /// Every entry as a file's JSON, least recently used first, with how many
    /// there are. Only the list is made under the lock; the states are encoded
    /// after, while commands go on.
    pub fn saved(&self) -> serde_json::Result<(Vec<u8>, usize)> {
        let listed: Vec<(String, Held, At)> = {
            let lru = self.lock();
            lru.by_use
                .values()
                .filter_map(|stream| {
                    let entry = lru.entries.get(stream)?;
                    let at = (entry.revision, entry.last_id, entry.position);
                    Some((stream.clone(), entry.held.clone(), at))
                })
                .collect()
        };
        let entries: Vec<_> = listed
            .into_iter()
            .filter_map(|(stream, held, (revision, last_id, position))| {
                let state = match held {
                    Held::Decided { state, encode } => encode(&*state)?,
                    Held::Saved(json) => RawValue::from_string(json.get().to_owned()).ok()?,
                };
                Some(SavedEntry {
                    stream,
                    revision,
                    last_id,
                    position,
                    state,
                })
            })
            .collect();
        let count = entries.len();
        let saved = Saved {
            format: FORMAT,
            state_version: STATE_VERSION,
            entries,
        };
        Ok((serde_json::to_vec(&saved)?, count))
    }

    /// Adds the entries of a file [`saved`](Self::saved) made, least recently
    /// used first, without replacing any the cache already holds; returns how
    /// many it added. A file of another version adds nothing.
    pub fn restore(&self, bytes: &[u8]) -> Result<usize, RestoreError> {
        let saved: Saved<SavedEntry<Box<RawValue>>> = serde_json::from_slice(bytes)?;
        if (saved.format, saved.state_version) != (FORMAT, STATE_VERSION) {
            return Err(RestoreError::OtherVersion {
                format: saved.format,
                found: saved.state_version,
            });
        }
        let mut lru = self.lock();
        let before = lru.entries.len();
        for entry in saved.entries {
            if !lru.entries.contains_key(&entry.stream) {
                let held = Held::Saved(Arc::from(entry.state));
                let at = (entry.revision, entry.last_id, entry.position);
                lru.put(self.capacity, &entry.stream, held, at);
            }
        }
        Ok(lru.entries.len().saturating_sub(before))
    }

    /// Replaces a restored entry's JSON by its decoded state, unless the entry
    /// moved on meanwhile.
    fn decoded<S: Serialize + Send + Sync + 'static>(
        &self,
        stream: &str,
        revision: Revision,
        state: S,
    ) {
        let mut lru = self.lock();
        if let Some(entry) = lru.entries.get_mut(stream)
            && entry.revision == revision
            && matches!(entry.held, Held::Saved(_))
        {
            entry.held = Held::Decided {
                state: Arc::new(state),
                encode: encode_as::<S>,
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // Every update leaves the map whole, so a panic elsewhere cannot corrupt it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Lru {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn put(&mut self, capacity: usize, stream: &str, held: Held, at: At) {
        let (revision, last_id, position) = at;
        if capacity == 0 {
            return;
        }
        if self
            .entries
            .get(stream)
            .is_some_and(|kept| kept.revision > revision)
        {
            return;
        }
        self.remove(stream);
        while self.entries.len() >= capacity {
            self.evict_least_recent();
        }
        let used = self.next_tick();
        self.by_use.insert(used, stream.to_owned());
        let entry = Entry {
            held,
            revision,
            last_id,
            position,
            used,
        };
        self.entries.insert(stream.to_owned(), entry);
        self.changes += 1;
    }

    fn remove(&mut self, stream: &str) {
        if let Some(entry) = self.entries.remove(stream) {
            self.by_use.remove(&entry.used);
            self.changes += 1;
        }
    }

    /// Drops a restored entry that did not decode, unless it moved on meanwhile.
    fn remove_saved(&mut self, stream: &str, revision: Revision) {
        if self
            .entries
            .get(stream)
            .is_some_and(|entry| entry.revision == revision && matches!(entry.held, Held::Saved(_)))
        {
            self.remove(stream);
        }
    }

    fn evict_least_recent(&mut self) {
        match self.by_use.pop_first() {
            Some((_, stream)) => {
                self.entries.remove(&stream);
            }
            // Unreachable while both maps hold the same streams; clearing keeps
            // the bound even if they ever disagree.
            None => self.entries.clear(),
        }
        self.changes += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(revision: Revision) -> Fold<u32> {
        Fold {
            state: revision as u32 * 10,
            revision,
            last_id: Uuid::from_u128(revision.into()),
            position: Position(revision + 100),
        }
    }

    #[test]
    fn the_least_recently_used_stream_goes_first() {
        let cache = StateCache::new(2);
        cache.put("a", fold(1));
        cache.put("b", fold(1));
        cache.get::<u32>("a");
        cache.put("c", fold(1));
        assert_eq!(cache.len(), 2);
        assert!(cache.get::<u32>("b").is_none(), "b was the least recent");
        assert_eq!(cache.get::<u32>("a"), Some(fold(1)));
        assert_eq!(cache.get::<u32>("c"), Some(fold(1)));
    }

    #[test]
    fn an_older_fold_never_replaces_a_newer_one() {
        let cache = StateCache::new(4);
        cache.put("a", fold(5));
        cache.put("a", fold(3));
        assert_eq!(cache.get::<u32>("a"), Some(fold(5)));
        cache.put("a", fold(6));
        assert_eq!(cache.get::<u32>("a"), Some(fold(6)));
    }

    #[test]
    fn a_state_of_another_type_is_a_miss() {
        let cache = StateCache::new(4);
        cache.put("a", fold(1));
        assert!(cache.get::<String>("a").is_none());
    }

    #[test]
    fn saved_entries_restore_as_they_were_least_recent_first() {
        let cache = StateCache::new(4);
        cache.put("a", fold(1));
        cache.put("b", fold(2));
        cache.get::<u32>("a");
        let (bytes, count) = cache.saved().unwrap();
        assert_eq!(count, 2);

        let restored = StateCache::new(2);
        assert_eq!(restored.restore(&bytes).unwrap(), 2);
        // b was saved as the least recent, so it goes first here too.
        restored.put("c", fold(3));
        assert!(restored.get::<u32>("b").is_none());
        assert_eq!(restored.get::<u32>("a"), Some(fold(1)));
        // Saved again after use: decoded entries save as well as restored ones.
        let (again, count) = restored.saved().unwrap();
        assert_eq!(count, 2);
        let third = StateCache::new(4);
        third.restore(&again).unwrap();
        assert_eq!(third.get::<u32>("c"), Some(fold(3)));
    }

    #[test]
    fn a_restored_state_that_no_longer_decodes_is_a_miss_and_dropped() {
        let cache = StateCache::new(4);
        cache.put("a", fold(1));
        let (bytes, _) = cache.saved().unwrap();
        let restored = StateCache::new(4);
        restored.restore(&bytes).unwrap();
        assert!(restored.get::<String>("a").is_none(), "10 is no string");
        assert_eq!(restored.len(), 0);
        assert!(restored.get::<u32>("a").is_none());
    }

    #[test]
    fn a_restore_keeps_what_the_cache_already_holds() {
        let cache = StateCache::new(4);
        cache.put("a", fold(1));
        let (bytes, _) = cache.saved().unwrap();
        let newer = StateCache::new(4);
        newer.put("a", fold(7));
        assert_eq!(newer.restore(&bytes).unwrap(), 0);
        assert_eq!(newer.get::<u32>("a"), Some(fold(7)));
    }

    #[test]
    fn states_saved_under_another_version_are_not_restored() {
        let cache = StateCache::new(4);
        cache.put("a", fold(1));
        let (bytes, _) = cache.saved().unwrap();
        let mut file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        file["state_version"] = (STATE_VERSION + 1).into();
        let other = serde_json::to_vec(&file).unwrap();
        let restored = StateCache::new(4);
        assert!(matches!(
            restored.restore(&other),
            Err(RestoreError::OtherVersion { .. })
        ));
        assert!(matches!(
            restored.restore(b"{\"format\": 1"),
            Err(RestoreError::Damaged(_))
        ));
        assert_eq!(restored.len(), 0);
    }

    #[test]
    fn a_cache_of_no_entries_keeps_nothing() {
        let cache = StateCache::new(0);
        cache.put("a", fold(1));
        assert_eq!(cache.len(), 0);
        assert!(cache.get::<u32>("a").is_none());
    }
}
