//! Serde for a map whose keys are not strings (a `PoolKey`, a `(PlanId, ItemCode)`),
//! as a list of `[key, value]` pairs, since JSON objects only take string keys.
//! Use with `#[serde(with = "crate::map_as_pairs")]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<K, V, S>(map: &BTreeMap<K, V>, serializer: S) -> Result<S::Ok, S::Error>
where
    K: Serialize,
    V: Serialize,
    S: Serializer,
{
    serializer.collect_seq(map.iter())
}

/// A key given twice is refused: it can only be a damaged or hand-edited file.
pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
    D: Deserializer<'de>,
{
    let pairs = Vec::<(K, V)>::deserialize(deserializer)?;
    let len = pairs.len();
    let map: BTreeMap<K, V> = pairs.into_iter().collect();
    if map.len() != len {
        return Err(serde::de::Error::custom("a key appears twice"));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder(#[serde(with = "super")] BTreeMap<(u8, u8), u32>);

    #[test]
    fn a_map_with_tuple_keys_round_trips_as_pairs() {
        let holder = Holder(BTreeMap::from([((1, 2), 3), ((4, 5), 6)]));
        let json = serde_json::to_string(&holder).unwrap();
        assert_eq!(json, "[[[1,2],3],[[4,5],6]]");
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        assert!(serde_json::from_str::<Holder>("[[[1,2],3],[[1,2],4]]").is_err());
    }
}
