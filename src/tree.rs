//! An owned JSON tree with small maps: what an override template renders,
//! read back. `serde_json`'s map (an IndexMap hashed with SipHash, for
//! `preserve_order`) costs a hashed, allocated key and two allocations per
//! map; a Kubernetes object's maps hold a few short keys, which a vector of
//! inline strings holds in one allocation and searches faster than it
//! hashes. The gate and the writers read a tree through
//! [`View`](crate::view::View), as they read JSON.

use std::fmt;

use compact_str::CompactString;
use rustc_hash::FxHashSet;
use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Number, Value};

/// A JSON value. Map keys are unique and keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    Number(Number),
    Str(CompactString),
    List(Vec<Tree>),
    Map(Vec<(CompactString, Tree)>),
}

/// How the message for a key a map repeats begins, in this reading and in
/// the JSON reading of `yaml::parse_manifests`, which tell it from other
/// errors by it.
pub(crate) const DUPLICATE_KEY: &str = "duplicate mapping key";

/// The message for `key`, repeated in its map.
pub(crate) fn duplicate_key(key: &str) -> String {
    format!("{DUPLICATE_KEY}: {key}")
}

impl Tree {
    /// Reads one JSON value from all of `text`, refusing a key its map
    /// already holds (serde_json keeps the last). The error is
    /// serde_json's, with its line and column.
    pub fn from_json(text: &str) -> Result<Tree, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let tree = Tree::deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(tree)
    }

    /// How deep maps and lists nest (0 for a scalar).
    pub fn depth(&self) -> usize {
        match self {
            Tree::List(items) => 1 + items.iter().map(Tree::depth).max().unwrap_or(0),
            Tree::Map(entries) => 1 + entries.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Number(n) => Value::Number(n.clone()),
            Tree::Str(s) => Value::String(s.to_string()),
            Tree::List(items) => Value::Array(items.iter().map(Tree::to_value).collect()),
            Tree::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (key, value) in entries {
                    map.insert(key.to_string(), value.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

/// Maps up to this size are checked for a repeated key by comparing it
/// with each key before; larger ones keep a set of their keys.
const SCAN: usize = 16;

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Tree, E> {
        Ok(Tree::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Tree, E> {
        Ok(Tree::Number(u.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Tree, E> {
        Number::from_f64(f)
            .map(Tree::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
        Ok(Tree::Str(s.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries: Vec<(CompactString, Tree)> = Vec::new();
        // The keys of a map past `SCAN` entries, made when it gets there.
        let mut seen: FxHashSet<CompactString> = FxHashSet::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            // Read before the key is judged, so that a repeated key is
            // refused where the JSON reading refuses it: after its value.
            let value = map.next_value()?;
            let repeated = if entries.len() < SCAN {
                entries.iter().any(|(k, _)| *k == key)
            } else {
                if seen.is_empty() {
                    seen.extend(entries.iter().map(|(k, _)| k.clone()));
                }
                !seen.insert(key.clone())
            };
            if repeated {
                return Err(A::Error::custom(duplicate_key(&key)));
            }
            entries.push((key, value));
        }
        Ok(Tree::Map(entries))
    }
}

/// A map key, kept inline when short (without the `String` serde would
/// allocate for it first).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = CompactString;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<CompactString, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = CompactString;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, s: &str) -> Result<CompactString, E> {
        Ok(s.into())
    }
}
