//! The built-in templates' objects, built straight from a template context
//! in the layout `templates/direct.yaml` and `templates/ingress.yaml` give
//! them: the same keys in the same order, the same values. Rendering text
//! and reading it back costs more than the rest of a run together; the
//! templates stay the contract, and a property test renders random
//! contexts both ways and requires identical objects.

use serde_json::{Map, Value};

use crate::manifest;

/// Whether the built-in template `name` has a direct layout here (the
/// others are rendered as text).
pub fn has_layout(name: &str) -> bool {
    matches!(name, "direct.yaml" | "ingress.yaml")
}

/// The object the built-in template `name` renders for `context`, which
/// it takes apart; `name` must have a layout ([`has_layout`]).
pub fn object(name: &str, context: Value) -> Value {
    let mut context = context;
    match name {
        "direct.yaml" => direct(&mut context),
        "ingress.yaml" => ingress(&mut context),
        _ => unreachable!("{name} has no direct layout"),
    }
}

/// Moves the value at `path` out of the context (each is printed once per
/// template); `Null` where there is none, as the template would fail on.
fn get(context: &mut Value, path: &str) -> Value {
    let mut at = context;
    for key in path.trim_start_matches('/').split('/') {
        match at.as_object_mut().and_then(|map| map.get_mut(key)) {
            Some(inner) => at = inner,
            None => return Value::Null,
        }
    }
    at.take()
}

/// Jinja truthiness for the template's `{% if %}`: null, false, 0, "" and
/// empty lists and maps are false.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn direct(context: &mut Value) -> Value {
    let mut spec = Map::new();
    spec.insert("type".into(), "LoadBalancer".into());
    spec.insert(
        "loadBalancerClass".into(),
        get(context, "/loadBalancerClass"),
    );
    for (key, path) in [
        ("ipFamilyPolicy", "/ipFamilyPolicy"),
        ("ipFamilies", "/ipFamilies"),
    ] {
        let value = get(context, path);
        if truthy(&value) {
            spec.insert(key.into(), value);
        }
    }
    spec.insert("selector".into(), get(context, "/selector"));
    spec.insert("ports".into(), get(context, "/ports"));
    manifest::object([
        ("apiVersion", "v1".into()),
        ("kind", "Service".into()),
        (
            "metadata",
            manifest::object([
                ("name", get(context, "/objectName")),
                ("namespace", get(context, "/service/namespace")),
                ("labels", get(context, "/labels")),
                ("annotations", get(context, "/annotations")),
            ]),
        ),
        ("spec", Value::Object(spec)),
    ])
}

fn ingress(context: &mut Value) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), get(context, "/objectName"));
    metadata.insert("namespace".into(), get(context, "/service/namespace"));
    let annotations = get(context, "/annotations");
    if truthy(&annotations) {
        metadata.insert("annotations".into(), annotations);
    }
    metadata.insert("labels".into(), get(context, "/labels"));
    let backend = manifest::object([
        ("name", get(context, "/service/backend/name")),
        ("port", get(context, "/backendPort")),
    ]);
    let path = manifest::object([
        ("path", "/".into()),
        ("pathType", "Prefix".into()),
        ("backend", manifest::object([("service", backend)])),
    ]);
    let rule = manifest::object([(
        "http",
        manifest::object([("paths", Value::Array(vec![path]))]),
    )]);
    manifest::object([
        ("apiVersion", "networking.k8s.io/v1".into()),
        ("kind", "Ingress".into()),
        ("metadata", Value::Object(metadata)),
        (
            "spec",
            manifest::object([
                ("ingressClassName", get(context, "/ingressClassName")),
                (
                    "tls",
                    Value::Array(vec![manifest::object([(
                        "hosts",
                        Value::Array(vec![get(context, "/service/hostname")]),
                    )])]),
                ),
                ("rules", Value::Array(vec![rule])),
            ]),
        ),
    ])
}
