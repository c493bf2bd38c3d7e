//! A map of label keys to values: a Service's selector, a pod template's
//! labels. A handful of short pairs each, one per service of a catalog:
//! held in one vector of inline strings, sorted by key, instead of a
//! B-tree of allocated strings (a two-label selector took 544 bytes and
//! five allocations; here it takes 96 bytes and one).

use std::fmt;

use compact_str::CompactString;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Pairs sorted by key, keys unique.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(CompactString, CompactString)>);

impl Labels {
    /// Room for `n` pairs: a selector read from values knows its size, and
    /// a vector grown one pair at a time keeps room for four.
    pub fn with_capacity(n: usize) -> Labels {
        Labels(Vec::with_capacity(n))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).ok().map(|at| self.0[at].1.as_str())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Sets `key` to `value`, replacing what it held.
    pub fn insert(&mut self, key: impl Into<CompactString>, value: impl Into<CompactString>) {
        let key = key.into();
        match self.find(&key) {
            Ok(at) => self.0[at].1 = value.into(),
            Err(at) => self.0.insert(at, (key, value.into())),
        }
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every pair of `other` is one of these.
    pub fn contains_all(&self, other: &Labels) -> bool {
        other.iter().all(|(k, v)| self.get(k) == Some(v))
    }
}

/// Later pairs replace earlier ones with the same key, as a map's
/// `collect` does.
impl<K: Into<CompactString>, V: Into<CompactString>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Labels {
        let mut labels = Labels::default();
        for (key, value) in pairs {
            labels.insert(key, value);
        }
        labels.0.shrink_to_fit();
        labels
    }
}

/// `labels["key"]`, for a key that must be there.
impl std::ops::Index<&str> for Labels {
    type Output = str;

    fn index(&self, key: &str) -> &str {
        self.get(key).unwrap_or_else(|| panic!("no label {key:?}"))
    }
}

/// As a map, as `BTreeMap` prints itself.
impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a JSON object, in key order.
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Built from any pairs, it holds what a B-tree map built from
        /// them holds, in the same order, and answers lookups alike.
        #[test]
        fn labels_hold_what_a_btree_map_holds(
            pairs in proptest::collection::vec(("[a-c]{0,3}", "\\PC{0,4}"), 0..12),
            probe in "[a-c]{0,3}",
        ) {
            let labels: Labels = pairs.iter().cloned().collect();
            let map: BTreeMap<String, String> = pairs.into_iter().collect();
            prop_assert_eq!(
                labels.iter().collect::<Vec<_>>(),
                map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()
            );
            prop_assert_eq!(labels.get(&probe), map.get(&probe).map(String::as_str));
            prop_assert_eq!(labels.len(), map.len());
            prop_assert_eq!(serde_json::to_string(&labels).unwrap(), serde_json::to_string(&map).unwrap());
            prop_assert_eq!(format!("{labels:?}"), format!("{map:?}"));
        }
    }
}
