//! `patches:` — RFC 6902 operations applied last, to the objects a target
//! names, so a user can adjust any rendered or upstream object without a
//! template of their own. Each operation is recorded on the object it
//! changed, so the gate can point a finding at the patch that caused it.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::gate::{Body, Item, Touch};
use crate::manifest;
use crate::values::{PatchSpec, PatchTarget};
use crate::view::View;

fn matches(target: &PatchTarget, object: View) -> bool {
    let text = |path: &[&str]| object.at(path).as_str();
    target
        .api_version
        .as_deref()
        .is_none_or(|v| text(&["apiVersion"]) == Some(v))
        && text(&["kind"]) == Some(target.kind.as_str())
        && text(&["metadata", "name"]) == Some(target.name.as_str())
        && target
            .namespace
            .as_deref()
            .is_none_or(|ns| text(&["metadata", "namespace"]) == Some(ns))
}

fn describe(target: &PatchTarget) -> String {
    match &target.namespace {
        Some(ns) => format!("{} {ns}/{}", target.kind, target.name),
        None => format!("{} {}", target.kind, target.name),
    }
}

fn patch_error(spec: &PatchSpec, key: String, message: String) -> Error {
    Error::new(ErrorKind::Patch, message)
        .at(spec.location.clone())
        .key(key)
}

/// Applies one patch to every object its target names, all or nothing.
fn apply_one(items: &mut [Item], spec: &PatchSpec) -> Result<()> {
    let indexes: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].body.with_view(|v| matches(&spec.target, v)))
        .collect();
    if indexes.is_empty() {
        return Err(patch_error(
            spec,
            format!("{}.target", spec.key_path),
            format!(
                "target {} matches no rendered or upstream object",
                describe(&spec.target)
            ),
        )
        .hint("check kind, namespace and name against the output of generate"));
    }
    let touches: Vec<Touch> = spec
        .ops
        .iter()
        .enumerate()
        .map(|(n, op)| {
            let op = serde_json::to_value(op).unwrap_or_default();
            let text = |k: &str| {
                op.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Touch {
                key_path: format!("{}.ops[{n}]", spec.key_path),
                op: text("op"),
                path: text("path"),
                location: spec.location.clone(),
            }
        })
        .collect();
    let mut patched = Vec::with_capacity(indexes.len());
    for &i in &indexes {
        let mut object = items[i].body.clone().into_value();
        json_patch::patch(&mut object, &spec.ops).map_err(|e| {
            let touch = &touches[e.operation];
            let why = match e.kind {
                json_patch::PatchErrorKind::TestFailed => "the test failed".to_string(),
                _ => e.kind.to_string(),
            };
            patch_error(
                spec,
                touch.key_path.clone(),
                format!("{} at {} failed on {}: {why}", touch.op, e.path, describe(&spec.target)),
            )
            .hint("a missing parent or index is an error; `add` the parent first, or check the path against the output of generate")
        })?;
        // What the object claims and carries is the gate's to judge; a
        // patch may not leave something that is no object at all.
        manifest::check_shape(&object).map_err(|why| {
            patch_error(
                spec,
                spec.key_path.clone(),
                format!("after the patch, {why}"),
            )
            .hint("patches may change objects but not make them invalid")
        })?;
        patched.push((i, object));
    }
    for (i, object) in patched {
        items[i].body = Body::Json(manifest::canonical(object));
        // `test` operations read and write nothing.
        items[i]
            .touches
            .extend(touches.iter().filter(|t| t.op != "test").cloned());
    }
    Ok(())
}

/// Applies every patch in order.
pub fn apply(items: &mut [Item], patches: &[PatchSpec]) -> Result<()> {
    patches.iter().try_for_each(|spec| apply_one(items, spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;
    use serde_json::json;
    use std::sync::Arc;

    fn spec(target: Value, ops: Value) -> PatchSpec {
        PatchSpec {
            target: PatchTarget {
                api_version: None,
                kind: target["kind"].as_str().unwrap().into(),
                namespace: target["namespace"].as_str().map(str::to_string),
                name: target["name"].as_str().unwrap().into(),
            },
            ops: serde_json::from_value(ops).unwrap(),
            location: Location::start_of(&Arc::from("v.yaml")),
            key_path: "patches[0]".into(),
        }
    }

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n", "labels": {"x": "1"}}})
    }

    fn items() -> Vec<Item> {
        vec![Item::new(
            service(),
            crate::gate::Origin::Upstream(Location::start_of(&Arc::from("up.yaml"))),
        )]
    }

    #[test]
    fn applies_to_the_named_object() {
        let mut objects = items();
        let s = spec(
            json!({"kind": "Service", "name": "a"}),
            json!([{"op": "add", "path": "/metadata/labels/team", "value": "platform"}]),
        );
        apply(&mut objects, &[s]).unwrap();
        assert_eq!(
            objects[0].body.clone().into_value()["metadata"]["labels"]["team"],
            "platform"
        );
        assert_eq!(objects[0].touches[0].key_path, "patches[0].ops[0]");
        assert_eq!(objects[0].touches[0].path, "/metadata/labels/team");
    }

    #[test]
    fn a_failed_op_leaves_the_object_untouched_and_names_the_op() {
        let mut objects = items();
        let s = spec(
            json!({"kind": "Service", "name": "a"}),
            json!([{"op": "add", "path": "/metadata/labels/y", "value": "2"}, {"op": "test", "path": "/metadata/labels/x", "value": "other"}]),
        );
        let err = apply(&mut objects, &[s]).unwrap_err();
        assert_eq!(err.key_path.as_deref(), Some("patches[0].ops[1]"));
        assert!(err.message.contains("test failed"), "{}", err.message);
        assert_eq!(objects[0].body, Body::Json(service()));
        assert!(objects[0].touches.is_empty());
    }

    #[test]
    fn a_target_that_matches_nothing_is_an_error() {
        let mut objects = items();
        let s = spec(
            json!({"kind": "Service", "namespace": "other", "name": "a"}),
            json!([]),
        );
        let err = apply(&mut objects, &[s]).unwrap_err();
        assert!(err.message.contains("matches no"), "{}", err.message);
    }

    #[test]
    fn a_patch_cannot_remove_the_kind() {
        let mut objects = items();
        let s = spec(
            json!({"kind": "Service", "name": "a"}),
            json!([{"op": "remove", "path": "/kind"}]),
        );
        assert!(apply(&mut objects, &[s]).is_err());
    }
}
