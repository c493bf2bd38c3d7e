//! The built-in templates' objects, written straight from the plan in the
//! layout `templates/direct.yaml` and `templates/ingress.yaml` give them,
//! after canonical ordering (`manifest::canonical`, which every object
//! goes through): the same keys, the same values. Rendering text and
//! reading it back costs more than the rest of a run together; the
//! templates stay the contract, and a property test renders random plans
//! both ways and requires identical objects and bytes.

use serde_json::{Map, Value};

use crate::expose::{self, Exposure, Fields};
use crate::manifest::object;

/// Whether the built-in template `name` has a direct layout here (the
/// others are rendered as text).
pub fn has_layout(name: &str) -> bool {
    matches!(name, "direct.yaml" | "ingress.yaml")
}

/// The object the built-in template of `exposure` renders, in canonical
/// order.
pub fn object_of(exposure: &Exposure) -> Value {
    match exposure.fields {
        Fields::Direct { service, backing } => {
            let mut spec = Map::with_capacity(6);
            spec.insert("type".into(), "LoadBalancer".into());
            spec.insert(
                "loadBalancerClass".into(),
                expose::LOAD_BALANCER_CLASS.into(),
            );
            // The template prints these only when set and not empty.
            for key in ["ipFamilyPolicy", "ipFamilies"] {
                if let Some(value) = backing.ip.get(key).filter(|v| truthy(v)) {
                    spec.insert(key.into(), value.clone());
                }
            }
            spec.insert(
                "selector".into(),
                Value::Object(
                    backing
                        .selector
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().into()))
                        .collect(),
                ),
            );
            spec.insert("ports".into(), Value::Array(expose::direct_ports(backing)));
            object([
                ("apiVersion", "v1".into()),
                ("kind", "Service".into()),
                (
                    "metadata",
                    object([
                        ("name", exposure.object_name().into()),
                        ("namespace", service.namespace.as_str().into()),
                        ("labels", sorted(expose::common_labels(service))),
                        ("annotations", sorted(expose::direct_annotations(service))),
                    ]),
                ),
                ("spec", Value::Object(spec)),
            ])
        }
        Fields::Ingress { service } => {
            let mut metadata = Map::with_capacity(4);
            metadata.insert("name".into(), exposure.object_name().into());
            metadata.insert("namespace".into(), service.namespace.as_str().into());
            metadata.insert("labels".into(), sorted(expose::common_labels(service)));
            let annotations = expose::common_annotations(service);
            if !annotations.is_empty() {
                metadata.insert("annotations".into(), sorted(annotations));
            }
            let backend = object([
                ("name", service.backend.name.as_str().into()),
                ("port", expose::backend_port(service)),
            ]);
            let path = object([
                ("path", "/".into()),
                ("pathType", "Prefix".into()),
                ("backend", object([("service", backend)])),
            ]);
            let rule = object([("http", object([("paths", Value::Array(vec![path]))]))]);
            object([
                ("apiVersion", "networking.k8s.io/v1".into()),
                ("kind", "Ingress".into()),
                ("metadata", Value::Object(metadata)),
                (
                    "spec",
                    object([
                        ("ingressClassName", expose::INGRESS_CLASS.into()),
                        (
                            "tls",
                            Value::Array(vec![object([(
                                "hosts",
                                Value::Array(vec![service.hostname.as_str().into()]),
                            )])]),
                        ),
                        ("rules", Value::Array(vec![rule])),
                    ]),
                ),
            ])
        }
    }
}

/// A string map in the order the canonical form gives it.
fn sorted(mut map: Map<String, Value>) -> Value {
    if !map.keys().is_sorted() {
        map.sort_keys();
    }
    Value::Object(map)
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
