//! Maps whose copies share what neither has changed.
//!
//! The projector publishes a copy of the view for readers several times a
//! second, and the history keeps copies of the past. A deep copy of the city
//! (every facility's pools, every depot's stock) allocated about 2 ms each time
//! and kept a whole city per copy. A [`SharedMap`] is copied by counting one
//! reference; the first change after a copy copies the map's nodes (pointers
//! to the entries, not the entries) and the one entry it changes.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ordered map with cheap copies: see the module's documentation. Reads
/// look like a `BTreeMap`'s and give plain references to the values.
pub struct SharedMap<K, V>(Arc<BTreeMap<K, Arc<V>>>);

impl<K: Ord + Clone, V: Clone> SharedMap<K, V> {
    /// The map to change, unshared from any copy first.
    fn own(&mut self) -> &mut BTreeMap<K, Arc<V>> {
        Arc::make_mut(&mut self.0)
    }

    /// Replaces the entry for `key` with what `evolve` makes of it: `None` in,
    /// when there is none; `None` out removes it. Only this entry is copied
    /// when a copy of the map still shares it.
    pub fn update(&mut self, key: K, evolve: impl FnOnce(Option<V>) -> Option<V>) {
        let map = self.own();
        if let Some(next) = evolve(map.remove(&key).map(Arc::unwrap_or_clone)) {
            map.insert(key, Arc::new(next));
        }
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.own().insert(key, Arc::new(value));
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.own().remove(key).map(Arc::unwrap_or_clone)
    }

    /// The entry for `key` to change in place.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.own().get_mut(key).map(Arc::make_mut)
    }
}

impl<K: Ord, V> SharedMap<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.get(key).map(|value| &**value)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.0.keys()
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.0.values().map(|value| &**value)
    }

    pub fn range<R: std::ops::RangeBounds<K>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.0.range(range).map(|(key, value)| (key, &**value))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + Clone {
        self.0.iter().map(|(key, value)| (key, &**value))
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for SharedMap<K, V> {
    type Output = V;

    /// The entry for `key`; panics when there is none, as a `BTreeMap` does.
    fn index(&self, key: &Q) -> &V {
        &self.0[key]
    }
}

impl<K, V> Clone for SharedMap<K, V> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for SharedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SharedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SharedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self(Arc::new(
            entries
                .into_iter()
                .map(|(key, value)| (key, Arc::new(value)))
                .collect(),
        ))
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a SharedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<
        std::collections::btree_map::Iter<'a, K, Arc<V>>,
        fn((&'a K, &'a Arc<V>)) -> (&'a K, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(key, value)| (key, &**value))
    }
}

/// Written as the map it holds, so a snapshot reads the same as before.
impl<K: Serialize, V: Serialize> Serialize for SharedMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, &**value)))
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for SharedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<K, V>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_after_a_copy_leaves_the_copy_as_it_was_and_shares_the_rest() {
        let mut map: SharedMap<u32, String> = [(1, "一".to_owned()), (2, "二".to_owned())]
            .into_iter()
            .collect();
        let copy = map.clone();
        map.update(1, |v| v.map(|s| s + "!"));
        map.insert(3, "三".to_owned());
        *map.get_mut(&2).unwrap() += "?";
        map.update(3, |_| None);

        assert_eq!(copy.get(&1).map(String::as_str), Some("一"));
        assert_eq!(copy.get(&2).map(String::as_str), Some("二"));
        assert_eq!(copy.len(), 2);
        assert_eq!(
            map.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "一!"), (2, "二?")]
        );

        // An entry neither changed is the same allocation in both.
        let mut other = map.clone();
        other.insert(4, "四".to_owned());
        assert!(std::ptr::eq(other.get(&1).unwrap(), map.get(&1).unwrap()));
    }

    #[test]
    fn it_is_written_and_read_as_a_plain_map() {
        let map: SharedMap<String, u32> = [("b".to_owned(), 2), ("a".to_owned(), 1)]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"a":1,"b":2}"#);
        let back: SharedMap<String, u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
    }
}
