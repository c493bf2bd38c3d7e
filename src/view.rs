//! A read-only view of a Kubernetes object, whichever way it is held:
//! JSON read from somewhere (`serde_json::Value`), a template's output read
//! back ([`Tree`]), or a tree the plugin built from its plan out of
//! borrowed strings ([`Node`]). The gate, the
//! YAML writer and the JSON output read objects through [`View`], so a
//! generated object is checked and printed without first being built as
//! `serde_json` maps (a hashed, allocated key per entry, which cost more
//! than the rest of a run).

use std::fmt;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::tree::Tree;

/// The value under `key`, when `value` is a mapping that has it. The maps
/// of a Kubernetes object hold a few short keys: comparing them costs less
/// than hashing the one looked for, which `serde_json`'s map (an IndexMap
/// with SipHash, for `preserve_order`) does on every lookup.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    get_in(value.as_object()?, key)
}

/// Maps up to this size are searched by comparing keys.
pub(crate) const SCAN: usize = 12;

/// Whether two map keys are equal, deciding most unequal pairs by their
/// length and first byte before comparing them whole.
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

pub(crate) fn get_in<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= SCAN {
        map.iter().find_map(|(k, v)| same_key(k, key).then_some(v))
    } else {
        map.get(key)
    }
}

/// A JSON tree made of borrowed parts. `Json` holds a subtree that is
/// already JSON (a backend Service's `ipFamilies`).
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Str(&'a str),
    Int(u64),
    Json(&'a Value),
    /// Entries in order; keys are unique (the builder's job).
    Map(Vec<(&'a str, Node<'a>)>),
    List(Vec<Node<'a>>),
}

/// A place in an object: a JSON value, a node, or nothing (a key that is
/// not there), so lookups chain like `value["a"]["b"]`.
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    Missing,
    Json(&'a Value),
    /// Never `Node::Json`, which becomes `View::Json`.
    Node(&'a Node<'a>),
    Tree(&'a Tree),
}

impl<'a> From<&'a Value> for View<'a> {
    fn from(value: &'a Value) -> View<'a> {
        View::Json(value)
    }
}

impl<'a> From<&'a Tree> for View<'a> {
    fn from(tree: &'a Tree) -> View<'a> {
        View::Tree(tree)
    }
}

impl<'a> From<&'a Node<'a>> for View<'a> {
    fn from(node: &'a Node<'a>) -> View<'a> {
        View::of(node)
    }
}

impl<'a> View<'a> {
    pub fn of(node: &'a Node<'a>) -> View<'a> {
        match node {
            Node::Json(value) => View::Json(value),
            node => View::Node(node),
        }
    }

    /// The value under `key`, when this is a map that has it.
    pub fn get(self, key: &str) -> View<'a> {
        match self {
            View::Json(value) => get(value, key).map_or(View::Missing, View::Json),
            View::Node(Node::Map(entries)) => entries
                .iter()
                .find(|(k, _)| same_key(k, key))
                .map_or(View::Missing, |(_, v)| View::of(v)),
            View::Tree(Tree::Map(entries)) => entries
                .iter()
                .find(|(k, _)| same_key(k, key))
                .map_or(View::Missing, |(_, v)| View::Tree(v)),
            _ => View::Missing,
        }
    }

    /// The value at `path` (map keys).
    pub fn at(self, path: &[&str]) -> View<'a> {
        path.iter().fold(self, |v, key| v.get(key))
    }

    /// The item at `index`, when this is a list that long.
    pub fn index(self, index: usize) -> View<'a> {
        match self {
            View::Json(Value::Array(items)) => items.get(index).map_or(View::Missing, View::Json),
            View::Node(Node::List(items)) => items.get(index).map_or(View::Missing, View::of),
            View::Tree(Tree::List(items)) => items.get(index).map_or(View::Missing, View::Tree),
            _ => View::Missing,
        }
    }

    pub fn is_missing(self) -> bool {
        matches!(self, View::Missing)
    }

    pub fn as_str(self) -> Option<&'a str> {
        match self {
            View::Json(Value::String(s)) => Some(s),
            View::Node(Node::Str(s)) => Some(s),
            View::Tree(Tree::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(self) -> Option<u64> {
        match self {
            View::Json(Value::Number(n)) => n.as_u64(),
            View::Node(Node::Int(n)) => Some(*n),
            View::Tree(Tree::Number(n)) => n.as_u64(),
            _ => None,
        }
    }

    /// Whether this is a JSON number (of any kind).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            View::Json(Value::Number(_)) | View::Node(Node::Int(_)) | View::Tree(Tree::Number(_))
        )
    }

    pub fn is_map(self) -> bool {
        matches!(
            self,
            View::Json(Value::Object(_)) | View::Node(Node::Map(_)) | View::Tree(Tree::Map(_))
        )
    }

    pub fn is_list(self) -> bool {
        matches!(
            self,
            View::Json(Value::Array(_)) | View::Node(Node::List(_)) | View::Tree(Tree::List(_))
        )
    }

    /// A map's entries in order; nothing for anything else.
    pub fn entries(self) -> Entries<'a> {
        match self {
            View::Json(Value::Object(map)) => Entries::Json(map.iter()),
            View::Node(Node::Map(entries)) => Entries::Node(entries.iter()),
            View::Tree(Tree::Map(entries)) => Entries::Tree(entries.iter()),
            _ => Entries::Empty,
        }
    }

    /// A list's items in order; nothing for anything else.
    pub fn items(self) -> Items<'a> {
        match self {
            View::Json(Value::Array(items)) => Items::Json(items.iter()),
            View::Node(Node::List(items)) => Items::Node(items.iter()),
            View::Tree(Tree::List(items)) => Items::Tree(items.iter()),
            _ => Items::Empty,
        }
    }

    /// How many entries or items a map or list holds (0 for the rest).
    pub fn len(self) -> usize {
        match self {
            View::Json(Value::Object(map)) => map.len(),
            View::Json(Value::Array(items)) => items.len(),
            View::Node(Node::Map(entries)) => entries.len(),
            View::Node(Node::List(items)) => items.len(),
            View::Tree(Tree::Map(entries)) => entries.len(),
            View::Tree(Tree::List(items)) => items.len(),
            _ => 0,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The same tree as JSON (null for a missing place).
    pub fn to_value(self) -> Value {
        match self {
            View::Missing => Value::Null,
            View::Json(value) => value.clone(),
            View::Tree(tree) => tree.to_value(),
            View::Node(Node::Str(s)) => Value::String((*s).to_string()),
            View::Node(Node::Int(n)) => Value::from(*n),
            View::Node(Node::Json(value)) => (*value).clone(),
            View::Node(Node::Map(entries)) => {
                let mut map = Map::with_capacity(entries.len());
                for (key, value) in entries {
                    map.insert((*key).to_string(), View::of(value).to_value());
                }
                Value::Object(map)
            }
            View::Node(Node::List(items)) => {
                Value::Array(items.iter().map(|i| View::of(i).to_value()).collect())
            }
        }
    }
}

/// A map's entries, as views.
pub enum Entries<'a> {
    Empty,
    Json(serde_json::map::Iter<'a>),
    Node(std::slice::Iter<'a, (&'a str, Node<'a>)>),
    Tree(std::slice::Iter<'a, (compact_str::CompactString, Tree)>),
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, View<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Empty => None,
            Entries::Json(iter) => iter.next().map(|(k, v)| (k.as_str(), View::Json(v))),
            Entries::Node(iter) => iter.next().map(|(k, v)| (*k, View::of(v))),
            Entries::Tree(iter) => iter.next().map(|(k, v)| (k.as_str(), View::Tree(v))),
        }
    }
}

/// A list's items, as views.
pub enum Items<'a> {
    Empty,
    Json(std::slice::Iter<'a, Value>),
    Node(std::slice::Iter<'a, Node<'a>>),
    Tree(std::slice::Iter<'a, Tree>),
}

impl<'a> Iterator for Items<'a> {
    type Item = View<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Items::Empty => None,
            Items::Json(iter) => iter.next().map(View::Json),
            Items::Node(iter) => iter.next().map(View::of),
            Items::Tree(iter) => iter.next().map(View::Tree),
        }
    }
}

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            View::Missing => serializer.serialize_unit(),
            View::Json(value) => value.serialize(serializer),
            View::Node(Node::Str(s)) => serializer.serialize_str(s),
            View::Node(Node::Int(n)) => serializer.serialize_u64(*n),
            View::Node(Node::Json(value)) => value.serialize(serializer),
            View::Tree(Tree::Null) => serializer.serialize_unit(),
            View::Tree(Tree::Bool(b)) => serializer.serialize_bool(*b),
            View::Tree(Tree::Number(n)) => n.serialize(serializer),
            View::Tree(Tree::Str(s)) => serializer.serialize_str(s),
            // Maps and lists of trees and plans alike, through the views
            // `entries` and `items` make of them.
            View::Tree(Tree::Map(_)) | View::Node(Node::Map(_)) => {
                let mut map = serializer.serialize_map(Some(self.len()))?;
                for (key, value) in self.entries() {
                    map.serialize_entry(key, &value)?;
                }
                map.end()
            }
            View::Tree(Tree::List(_)) | View::Node(Node::List(_)) => {
                let mut seq = serializer.serialize_seq(Some(self.len()))?;
                for item in self.items() {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
        }
    }
}

/// Compact JSON, as `serde_json::Value` displays itself.
impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            View::Json(value) => write!(f, "{value}"),
            _ => f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?),
        }
    }
}

/// Requires every question asked of `a` and `b`, down the whole tree, to
/// get one answer: for tests holding a built tree to its JSON.
#[cfg(test)]
pub(crate) fn agree(a: View, b: View) {
    assert_eq!(a.as_str(), b.as_str());
    assert_eq!(a.as_u64(), b.as_u64());
    assert_eq!(a.is_number(), b.is_number());
    assert_eq!(a.is_map(), b.is_map());
    assert_eq!(a.is_list(), b.is_list());
    assert_eq!(a.is_missing(), b.is_missing());
    assert_eq!(a.len(), b.len());
    assert_eq!(a.to_string(), b.to_string());
    assert_eq!(a.to_value(), b.to_value());
    let (ea, eb): (Vec<_>, Vec<_>) = (a.entries().collect(), b.entries().collect());
    assert_eq!(ea.len(), eb.len());
    // Lookups find what iteration finds (compared as text: recursing into
    // both would double the work at every level of a deep tree).
    for ((ka, va), (kb, vb)) in ea.into_iter().zip(eb) {
        assert_eq!(ka, kb);
        assert_eq!(a.get(ka).to_string(), va.to_string());
        assert_eq!(b.get(kb).to_string(), vb.to_string());
        agree(va, vb);
    }
    assert_eq!(a.items().count(), b.items().count());
    for (i, (ia, ib)) in a.items().zip(b.items()).enumerate() {
        assert_eq!(a.index(i).to_string(), ia.to_string());
        assert_eq!(b.index(i).to_string(), ib.to_string());
        agree(ia, ib);
    }
    assert!(a.get("nothing").is_missing() && b.get("nothing").is_missing());
    assert!(a.index(usize::MAX).is_missing() && b.index(usize::MAX).is_missing());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> (Value, Node<'static>) {
        static IP: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| json!(["IPv4"]));
        let value = json!({"a": {"b": ["x", 7, {"c": "d"}]}, "ip": ["IPv4"], "e": {}});
        let node = Node::Map(vec![
            (
                "a",
                Node::Map(vec![(
                    "b",
                    Node::List(vec![
                        Node::Str("x"),
                        Node::Int(7),
                        Node::Map(vec![("c", Node::Str("d"))]),
                    ]),
                )]),
            ),
            ("ip", Node::Json(&IP)),
            ("e", Node::Map(Vec::new())),
        ]);
        (value, node)
    }

    #[test]
    fn a_node_answers_as_its_json_does() {
        let (value, node) = tree();
        let view = View::of(&node);
        super::agree(View::from(&value), view);
        assert_eq!(view.to_value(), value);
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
        assert_eq!(view.at(&["a", "b"]).index(2).get("c").as_str(), Some("d"));
    }
}
