//! Deep merge of values files, in the order given, as Helm merges `-f` files.
//!
//! Mappings merge key by key; anything else in a later file replaces what an
//! earlier file said; a `null` in a later file deletes the key. Every node
//! keeps the position of the file that last wrote it, so an error points at
//! the line that actually decided the value.

use crate::yaml::{Node, NodeValue};

pub fn merge(base: Node, overlay: Node) -> Node {
    match (base.value, overlay.value) {
        (NodeValue::Map(mut entries), NodeValue::Map(over)) => {
            for (key, value) in over {
                let existing = entries.iter().position(|(k, _)| k.name == key.name);
                match (existing, &value.value) {
                    (Some(i), NodeValue::Null) => {
                        entries.remove(i);
                    }
                    (None, NodeValue::Null) => {}
                    (Some(i), _) => {
                        let (_, old) = entries.remove(i);
                        entries.insert(i, (key, merge(old, value)));
                    }
                    (None, _) => entries.push((key, value)),
                }
            }
            Node {
                value: NodeValue::Map(entries),
                location: base.location,
            }
        }
        (_, value) => Node {
            value,
            location: overlay.location,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;
    use serde_json::json;
    use std::sync::Arc;

    fn parse(text: &str, name: &str) -> Node {
        parse_single(text, &Arc::from(name)).unwrap().unwrap()
    }

    #[test]
    fn later_files_win_and_maps_merge() {
        let a = parse(
            "services:\n  a: {namespace: x, tags: [tag:a]}\n  b: {namespace: y}\n",
            "a.yaml",
        );
        let b = parse(
            "services:\n  a: {tags: [tag:b]}\n  c: {namespace: z}\n",
            "b.yaml",
        );
        let merged = merge(a, b);
        assert_eq!(
            merged.to_json().unwrap(),
            json!({"services": {
                "a": {"namespace": "x", "tags": ["tag:b"]},
                "b": {"namespace": "y"},
                "c": {"namespace": "z"}}})
        );
        let tags = merged
            .get("services")
            .unwrap()
            .get("a")
            .unwrap()
            .get("tags")
            .unwrap();
        assert_eq!(&*tags.location.file, "b.yaml");
    }

    #[test]
    fn null_deletes_a_key() {
        let a = parse(
            "services:\n  a: {namespace: x}\n  b: {namespace: y}\n",
            "a.yaml",
        );
        let b = parse("services:\n  b: null\n", "b.yaml");
        assert_eq!(
            merge(a, b).to_json().unwrap(),
            json!({"services": {"a": {"namespace": "x"}}})
        );
    }
}
