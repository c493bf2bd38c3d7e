//! The built-in templates' objects, built straight from a template context
//! in the layout `templates/direct.yaml` and `templates/ingress.yaml` give
//! them: the same keys in the same order, the same values. Rendering text
//! and reading it back costs more than the rest of a run together; the
//! templates stay the contract, and a property test renders random
//! contexts both ways and requires identical objects.

use serde_json::{Map, Value, json};

/// The object the built-in template `name` renders for `context`, or
/// `None` for a template without a direct layout (it is rendered as text).
pub fn object(name: &str, context: &Value) -> Option<Value> {
    match name {
        "direct.yaml" => Some(direct(context)),
        "ingress.yaml" => Some(ingress(context)),
        _ => None,
    }
}

fn get(context: &Value, pointer: &str) -> Value {
    context.pointer(pointer).cloned().unwrap_or(Value::Null)
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

fn direct(context: &Value) -> Value {
    let mut spec = Map::new();
    spec.insert("type".into(), "LoadBalancer".into());
    spec.insert(
        "loadBalancerClass".into(),
        get(context, "/loadBalancerClass"),
    );
    for key in ["ipFamilyPolicy", "ipFamilies"] {
        let value = get(context, &format!("/{key}"));
        if truthy(&value) {
            spec.insert(key.into(), value);
        }
    }
    spec.insert("selector".into(), get(context, "/selector"));
    spec.insert("ports".into(), get(context, "/ports"));
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": get(context, "/objectName"),
            "namespace": get(context, "/service/namespace"),
            "labels": get(context, "/labels"),
            "annotations": get(context, "/annotations"),
        },
        "spec": spec,
    })
}

fn ingress(context: &Value) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), get(context, "/objectName"));
    metadata.insert("namespace".into(), get(context, "/service/namespace"));
    let annotations = get(context, "/annotations");
    if truthy(&annotations) {
        metadata.insert("annotations".into(), annotations);
    }
    metadata.insert("labels".into(), get(context, "/labels"));
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {
            "ingressClassName": get(context, "/ingressClassName"),
            "tls": [{"hosts": [get(context, "/service/hostname")]}],
            "rules": [{
                "http": {
                    "paths": [{
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {
                            "service": {
                                "name": get(context, "/service/backend/name"),
                                "port": get(context, "/backendPort"),
                            }
                        }
                    }]
                }
            }]
        }
    })
}
