//! Kubernetes objects as plain JSON values: what makes one acceptable, its
//! identity, and the canonical form and order the output stream uses.

use std::cmp::Ordering;

use compact_str::CompactString;
use serde_json::{Map, Value};

use crate::tree::Tree;
pub use crate::view::get;
use crate::view::{SCAN, View, get_in};

/// Labels the operator puts on its own children. On a user object they make
/// the operator treat it as its own (DESIGN promise 3).
pub const OPERATOR_LABEL_PREFIXES: &[&str] =
    &["tailscale.com/managed", "tailscale.com/parent-resource"];

static NULL: Value = Value::Null;

/// The value at `path` (object keys), or null: `value["a"]["b"]` by [`get`].
pub fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .try_fold(value, |v, key| get(v, key))
        .unwrap_or(&NULL)
}

/// The string at `path` (object keys) inside an object, if there is one.
pub fn string_at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(object, path).as_str()
}

/// A JSON object from its entries, in order. (`json!` would serialize
/// every interpolated value again; objects and contexts are built once per
/// service.)
pub fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.into(), value);
    }
    Value::Object(map)
}

/// What Argo CD and Kubernetes use to tell objects apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// Its parts are kept inline up to 24 bytes, which Kubernetes groups,
/// kinds, namespaces and most names fit: every object of the stream has
/// one, and allocating four strings each cost a run of 10,000 services
/// more than its gate.
pub struct Identity {
    pub group: CompactString,
    pub kind: CompactString,
    pub namespace: CompactString,
    pub name: CompactString,
}

impl Identity {
    pub fn of<'a>(object: impl Into<View<'a>>) -> Identity {
        let object = object.into();
        let text = |v: View| CompactString::from(v.as_str().unwrap_or_default());
        let api_version = object.get("apiVersion").as_str().unwrap_or_default();
        let group = match api_version.split_once('/') {
            Some((group, _)) => group.into(),
            None => CompactString::default(),
        };
        let metadata = object.get("metadata");
        Identity {
            group,
            kind: text(object.get("kind")),
            namespace: text(metadata.get("namespace")),
            name: text(metadata.get("name")),
        }
    }

    /// The namespace, or `default_namespace` for objects that leave it to
    /// Argo CD's destination.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        if self.namespace.is_empty() {
            default_namespace
        } else {
            &self.namespace
        }
    }

    /// Output order: namespace, kind, name, then group; cluster-scoped
    /// objects (no namespace) come first.
    pub fn order(&self, other: &Identity) -> Ordering {
        (&self.namespace, &self.kind, &self.name, &self.group).cmp(&(
            &other.namespace,
            &other.kind,
            &other.name,
            &other.group,
        ))
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Why a document is not a Kubernetes object Argo CD can apply, or `Ok`.
pub fn check_shape<'a>(object: impl Into<View<'a>>) -> Result<(), String> {
    let object = object.into();
    if !object.is_map() {
        return Err(
            "a document is not a mapping; every document must be one Kubernetes object".into(),
        );
    }
    for field in ["apiVersion", "kind"] {
        if object.get(field).as_str().is_none_or(str::is_empty) {
            return Err(format!("an object has no `{field}` string"));
        }
    }
    let name = object.at(&["metadata", "name"]).as_str();
    if name.is_none_or(str::is_empty) {
        return Err("an object has no `metadata.name`".into());
    }
    Ok(())
}

/// Why an object cannot be emitted by this plugin, or `Ok` when it can:
/// a valid object that renders nothing the operator owns.
pub fn check<'a>(object: impl Into<View<'a>>) -> Result<(), String> {
    let object = object.into();
    check_shape(object)?;
    if !object.get("status").is_missing() {
        return Err(
            "an object renders `status`, which the cluster (here: the Tailscale operator) owns"
                .into(),
        );
    }
    let metadata = object.get("metadata");
    if !metadata.get("finalizers").is_missing() {
        return Err("an object renders `metadata.finalizers`; the operator adds its own, and an explicit list would strip it".into());
    }
    for (key, _) in metadata.get("labels").entries() {
        if OPERATOR_LABEL_PREFIXES.iter().any(|p| key.starts_with(p)) {
            return Err(format!(
                "an object carries the operator-internal label {key:?}; the operator would treat it as its own child"
            ));
        }
    }
    Ok(())
}

/// A map of an object, as the canonical layout rearranges it: JSON's, or
/// a read-back template's ([`Tree`]). The layout itself is written once,
/// in [`layout`].
trait Fields: Sized {
    fn keys(&self) -> impl Iterator<Item = &str>;
    fn has(&self, key: &str) -> bool;
    /// Moves the keys of `first` it has to the front, in that order; the
    /// other keys keep theirs.
    fn move_to_front(&mut self, first: &[&str]);
    /// The map under `key`, when there is one.
    fn map_mut(&mut self, key: &str) -> Option<&mut Self>;
    /// Sorts the map under `key` by key, when it is a map of strings.
    fn sort_strings(&mut self, key: &str);

    fn front(&mut self, first: &[&str]) {
        // Whether the keys of `first` it has already come first, in that
        // order: then there is nothing to move (the built-in objects are
        // built that way).
        let in_front = {
            let mut keys = self.keys();
            let mut wanted = first.iter().filter(|key| self.has(key));
            loop {
                match (wanted.next(), keys.next()) {
                    (None, _) => break true,
                    (Some(want), Some(key)) if key == *want => {}
                    _ => break false,
                }
            }
        };
        if !in_front {
            self.move_to_front(first);
        }
    }
}

impl Fields for Map<String, Value> {
    fn keys(&self) -> impl Iterator<Item = &str> {
        Map::keys(self).map(String::as_str)
    }

    fn has(&self, key: &str) -> bool {
        get_in(self, key).is_some()
    }

    fn move_to_front(&mut self, first: &[&str]) {
        // `shift_remove`: the other keys keep their order (`remove` would
        // move the last key into the gap).
        let mut ordered = Map::with_capacity(self.len());
        for key in first {
            if let Some(v) = self.shift_remove(*key) {
                ordered.insert((*key).to_string(), v);
            }
        }
        ordered.append(self);
        *self = ordered;
    }

    fn map_mut(&mut self, key: &str) -> Option<&mut Self> {
        let value = if self.len() <= SCAN {
            self.iter_mut().find_map(|(k, v)| (k == key).then_some(v))
        } else {
            self.get_mut(key)
        };
        value?.as_object_mut()
    }

    fn sort_strings(&mut self, key: &str) {
        if let Some(map) = self.map_mut(key)
            && map.values().all(Value::is_string)
            && !map.keys().is_sorted()
        {
            map.sort_keys();
        }
    }
}

impl Fields for Vec<(CompactString, Tree)> {
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k.as_str())
    }

    fn has(&self, key: &str) -> bool {
        self.iter().any(|(k, _)| k == key)
    }

    fn move_to_front(&mut self, first: &[&str]) {
        let mut ordered = Vec::with_capacity(self.len());
        for key in first {
            if let Some(at) = self.iter().position(|(k, _)| k == *key) {
                ordered.push(self.remove(at));
            }
        }
        ordered.append(self);
        *self = ordered;
    }

    fn map_mut(&mut self, key: &str) -> Option<&mut Self> {
        match self.iter_mut().find(|(k, _)| k == key) {
            Some((_, Tree::Map(entries))) => Some(entries),
            _ => None,
        }
    }

    fn sort_strings(&mut self, key: &str) {
        if let Some(map) = self.map_mut(key)
            && map.iter().all(|(_, v)| matches!(v, Tree::Str(_)))
            && !map.iter().map(|(k, _)| k).is_sorted()
        {
            // Keys are unique, so a stable sort is the only order.
            map.sort_by(|(a, _), (b, _)| a.cmp(b));
        }
    }
}

/// The canonical layout: `apiVersion, kind, metadata` first, `name,
/// namespace, labels, annotations` first in metadata, and label,
/// annotation and selector maps sorted. Other keys keep their order, so
/// objects from a chart stay recognisable.
fn layout(map: &mut impl Fields) {
    map.front(&["apiVersion", "kind", "metadata"]);
    if let Some(metadata) = map.map_mut("metadata") {
        metadata.front(&["name", "namespace", "labels", "annotations"]);
        metadata.sort_strings("labels");
        metadata.sort_strings("annotations");
    }
    if let Some(spec) = map.map_mut("spec") {
        if let Some(selector) = spec.map_mut("selector") {
            selector.sort_strings("matchLabels");
        }
        spec.sort_strings("selector");
        if let Some(template) = spec.map_mut("template")
            && let Some(metadata) = template.map_mut("metadata")
        {
            metadata.sort_strings("labels");
            metadata.sort_strings("annotations");
        }
    }
}

/// An object in the canonical layout ([`layout`]).
pub fn canonical(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        layout(map);
    }
    object
}

/// A read-back object in the canonical layout ([`layout`]).
pub fn canonical_tree(mut object: Tree) -> Tree {
    if let Tree::Map(entries) = &mut object {
        layout(entries);
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_puts_identity_first_and_sorts_string_maps() {
        let object = json!({
            "spec": {"selector": {"b": "2", "a": "1"}},
            "metadata": {"labels": {"z": "1", "a": "2"}, "name": "x"},
            "kind": "Service",
            "apiVersion": "v1",
        });
        let out = serde_json::to_string(&canonical(object)).unwrap();
        assert_eq!(
            out,
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"x","labels":{"a":"2","z":"1"}},"spec":{"selector":{"a":"1","b":"2"}}}"#
        );
    }

    /// Regression: moving the identity to the front scrambled the keys
    /// after it (the map's `remove` swaps the last key into the gap), so a
    /// RoleBinding's `roleRef, subjects` came out as `subjects, roleRef`.
    #[test]
    fn canonical_keeps_the_order_of_the_other_keys() {
        let binding = json!({
            "metadata": {"labels": {"a": "1"}, "name": "x", "uid": "u", "namespace": "n"},
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [],
            "extra": 1,
        });
        let out = canonical(binding);
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "apiVersion",
                "kind",
                "metadata",
                "roleRef",
                "subjects",
                "extra"
            ]
        );
        let metadata: Vec<&String> = out["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(metadata, ["name", "namespace", "labels", "uid"]);
        // Already in order: left as it is.
        assert_eq!(canonical(out.clone()), out);
    }

    #[test]
    fn check_refuses_operator_owned_fields() {
        let base = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}});
        assert!(check(&base).is_ok());
        let mut with_status = base.clone();
        with_status["status"] = json!({});
        assert!(check(&with_status).unwrap_err().contains("status"));
        let mut with_finalizers = base.clone();
        with_finalizers["metadata"]["finalizers"] = json!([]);
        assert!(check(&with_finalizers).unwrap_err().contains("finalizers"));
        let mut with_label = base.clone();
        with_label["metadata"]["labels"] = json!({"tailscale.com/parent-resource-ns": "x"});
        assert!(
            check(&with_label)
                .unwrap_err()
                .contains("operator-internal")
        );
        assert!(check(&json!(["a"])).is_err());
        assert!(check(&json!({"kind": "Service", "metadata": {"name": "x"}})).is_err());
    }

    #[test]
    fn identity_orders_cluster_scoped_first() {
        let a = Identity::of(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z"}}),
        );
        let b = Identity::of(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "a"}}),
        );
        assert_eq!(a.order(&b), Ordering::Less);
        assert_eq!(b.group, "apps");
    }
}
