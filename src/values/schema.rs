//! The JSON Schema (draft 2020-12) of a values file, made from the shape
//! tables the decoder reads with, so the two cannot disagree on a key.

use serde_json::{Map, Value, json};

use super::shape::{self, Object, Shape};

const PORT_NAME: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// The schema, with `$defs` for every object.
pub fn schema() -> Value {
    let mut defs = Map::new();
    let root = object(&shape::ROOT, &mut defs);
    let mut out = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "argocd-tailscale-plugin values",
    });
    let map = out.as_object_mut().expect("an object");
    for (k, v) in root.as_object().expect("an object") {
        map.insert(k.clone(), v.clone());
    }
    map.insert("$defs".into(), Value::Object(defs));
    out
}

fn object(object: &Object, defs: &mut Map<String, Value>) -> Value {
    let mut properties = Map::new();
    for field in object.fields {
        let mut property = of(&field.shape, defs);
        property["description"] = Value::from(field.description);
        properties.insert(field.key.into(), property);
    }
    let mut out = json!({
        "type": "object",
        "description": object.description,
        "properties": properties,
        "additionalProperties": false,
    });
    if !object.required.is_empty() {
        out["required"] = json!(object.required);
    }
    if !object.exactly_one.is_empty() {
        out["oneOf"] = object
            .exactly_one
            .iter()
            .map(|key| json!({"required": [key]}))
            .collect();
    }
    if !object.exclusive.is_empty() {
        let mut pairs = Vec::new();
        for (i, a) in object.exclusive.iter().enumerate() {
            for b in &object.exclusive[i + 1..] {
                pairs.push(json!({"required": [a, b]}));
            }
        }
        out["not"] = json!({"anyOf": pairs});
    }
    out
}

/// The schema of one shape; objects go to `$defs` and are referenced.
fn of(shape: &Shape, defs: &mut Map<String, Value>) -> Value {
    match shape {
        Shape::Str => json!({"type": "string"}),
        Shape::Pattern(pattern, max) => {
            json!({"type": "string", "pattern": pattern, "maxLength": max})
        }
        Shape::Bool => json!({"type": "boolean"}),
        Shape::Port => json!({"oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 65535},
            {"type": "string", "pattern": PORT_NAME, "maxLength": 15},
        ]}),
        Shape::Tags => {
            let tag = "tag:[A-Za-z][-A-Za-z0-9]*";
            json!({"oneOf": [
                {"type": "array", "items": {"type": "string", "pattern": format!("^{tag}$")}},
                {"type": "string", "pattern": format!("^{tag}(,{tag})*$")},
            ]})
        }
        Shape::OneOf(values) => json!({"enum": values}),
        Shape::Labels => json!({
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string", "maxLength": 63},
        }),
        Shape::List(item) => json!({"type": "array", "items": of(item, defs)}),
        Shape::Object(o) => reference(o, defs),
        Shape::Named(o) => json!({
            "type": ["object", "null"],
            "propertyNames": {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253},
            // null deletes an entry a previous values file made.
            "additionalProperties": {"anyOf": [reference(o, defs), {"type": "null"}]},
        }),
        Shape::AnyMap => json!({"type": "object"}),
        Shape::Any => json!({}),
    }
}

fn reference(o: &Object, defs: &mut Map<String, Value>) -> Value {
    if !defs.contains_key(o.name) {
        // Reserve the name first: objects may refer to each other.
        defs.insert(o.name.into(), Value::Null);
        let body = object(o, defs);
        defs.insert(o.name.into(), body);
    }
    json!({"$ref": format!("#/$defs/{}", o.name)})
}
