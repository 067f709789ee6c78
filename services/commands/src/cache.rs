//! Decided states kept in memory, so a command reads only the events its
//! aggregate gained since the last one instead of the whole stream.
//!
//! An entry is a fold of a stream's first events: its state, the revision it
//! reflects and the id of the event at that revision. It is only ever stored
//! from what the log returned or acknowledged, so it can be behind the log (a
//! writer in another process) but never ahead; a load reads the tail after it
//! and checks that the event at its revision is still the one it was folded
//! from. Least recently used entries go first when the bound is reached.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use ercs_eventlog::Revision;
use uuid::Uuid;

/// How many aggregates [`Aggregates::new`](crate::Aggregates::new) keeps: more
/// than the seeded city's teams, depots, facilities and items together, at a
/// few KiB each.
pub const DEFAULT_CACHED_AGGREGATES: usize = 16_384;

/// A state folded through `revision`, whose event there has the id `last_id`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fold<S> {
    pub state: S,
    pub revision: Revision,
    pub last_id: Uuid,
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
}

struct Entry {
    /// Shared so a reader clones the state outside the lock.
    state: Arc<dyn Any + Send + Sync>,
    revision: Revision,
    last_id: Uuid,
    used: u64,
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
    pub fn get<S: Clone + 'static>(&self, stream: &str) -> Option<Fold<S>> {
        let (state, revision, last_id) = {
            let mut lru = self.lock();
            let tick = lru.next_tick();
            let entry = lru.entries.get_mut(stream)?;
            let used = std::mem::replace(&mut entry.used, tick);
            let found = (Arc::clone(&entry.state), entry.revision, entry.last_id);
            lru.by_use.remove(&used);
            lru.by_use.insert(tick, stream.to_owned());
            found
        };
        // Stream names carry their aggregate's prefix, so another type here
        // would be a bug elsewhere: then it is a miss, never a wrong state.
        let state = state.downcast_ref::<S>()?.clone();
        Some(Fold {
            state,
            revision,
            last_id,
        })
    }

    /// Keeps `fold` for `stream` unless the cache already holds a later one (a
    /// concurrent load may finish after a newer append stored its state).
    pub fn put<S: Send + Sync + 'static>(&self, stream: &str, fold: Fold<S>) {
        if self.capacity == 0 {
            return;
        }
        let mut lru = self.lock();
        if lru
            .entries
            .get(stream)
            .is_some_and(|kept| kept.revision > fold.revision)
        {
            return;
        }
        lru.remove(stream);
        while lru.entries.len() >= self.capacity {
            lru.evict_least_recent();
        }
        let used = lru.next_tick();
        lru.by_use.insert(used, stream.to_owned());
        let entry = Entry {
            state: Arc::new(fold.state),
            revision: fold.revision,
            last_id: fold.last_id,
            used,
        };
        lru.entries.insert(stream.to_owned(), entry);
    }

    /// Forgets `stream`, whose entry no longer matches its log.
    pub fn evict(&self, stream: &str) {
        self.lock().remove(stream);
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
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

    fn remove(&mut self, stream: &str) {
        if let Some(entry) = self.entries.remove(stream) {
            self.by_use.remove(&entry.used);
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
    fn a_cache_of_no_entries_keeps_nothing() {
        let cache = StateCache::new(0);
        cache.put("a", fold(1));
        assert_eq!(cache.len(), 0);
        assert!(cache.get::<u32>("a").is_none());
    }
}
