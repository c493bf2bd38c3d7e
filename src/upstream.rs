//! Manifests rendered by someone else (a chart's output, a file of
//! objects): read into objects that keep where they came from.
//!
//! They pass through unchanged unless a rule changes them (`split`,
//! `patch`), so nothing here edits an object; it only reads and checks
//! that each document is an object Argo CD can apply.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;
use crate::manifest;
use crate::yaml;

/// An object from upstream manifests and the document it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub value: Value,
    pub location: Location,
}

fn upstream_error(location: &Location, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(location.clone())
        .hint("upstream manifests must be Kubernetes objects, each with apiVersion, kind and metadata.name")
}

fn check(value: &Value, location: &Location) -> Result<()> {
    manifest::check_shape(value).map_err(|why| upstream_error(location, why))
}

/// What a stream yielded.
#[derive(Debug, Default)]
pub struct Read {
    pub objects: Vec<Object>,
    /// The first `List` with no items, if any: it stands for objects that
    /// are missing, which the caller refuses unless told otherwise.
    pub empty_list: Option<Location>,
}

/// Reads a YAML or JSON stream (JSON is YAML): several documents, empty
/// ones and comments skipped, `List` objects expanded into their items as
/// Argo CD expands them.
pub fn read(text: &str, name: &Arc<str>) -> Result<Read> {
    let mut objects = Vec::new();
    let mut empty_list = None;
    for doc in yaml::parse_manifests(text, name)? {
        let value = doc.value;
        match value.get("items") {
            Some(Value::Array(_))
                if value
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                let Value::Array(items) = value["items"].clone() else {
                    unreachable!()
                };
                if items.is_empty() && empty_list.is_none() {
                    empty_list = Some(doc.location.clone());
                }
                for item in items {
                    check(&item, &doc.location)?;
                    objects.push(Object {
                        value: item,
                        location: doc.location.clone(),
                    });
                }
            }
            _ => {
                check(&value, &doc.location)?;
                objects.push(Object {
                    value,
                    location: doc.location,
                });
            }
        }
    }
    Ok(Read {
        objects,
        empty_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> Arc<str> {
        Arc::from("up.yaml")
    }

    #[test]
    fn reads_documents_lists_json_and_skips_empty_ones() {
        let text = "# Source: chart/templates/a.yaml\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n---\n{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}]}\n";
        let objects = read(text, &name()).unwrap().objects;
        let names: Vec<_> = objects
            .iter()
            .map(|o| o.value["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(objects[0].location.line, 3);
    }

    #[test]
    fn a_document_without_kind_is_refused_with_its_position() {
        let err = read("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n", &name()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Upstream);
        assert_eq!(err.location.unwrap().line, 5);
    }
}
