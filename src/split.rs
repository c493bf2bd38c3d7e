//! The split (DESIGN promise 1): after planning, only the chosen component
//! is exposed. Every upstream Service that carries Tailscale exposure loses
//! it, unless it is the backend of an `annotate` service, whose annotations
//! are set to exactly what that service asks for.
//!
//! This is what the story needed: the chart copies root
//! `annotations.service` onto the proxy *and* the auth Service, so two
//! devices fight for one hostname and the auth ports reach the tailnet.

use serde_json::{Map, Value};

use crate::claims::{self, Role, find_service, is_egress, is_headless, is_tailscale_load_balancer};
use crate::error::{Error, ErrorKind, Result};
use crate::expose::{
    ANNOTATION_EXPOSE, ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS,
    LABEL_PROXY_CLASS, plan_error,
};
use crate::manifest::{Identity, OPERATOR_LABEL_PREFIXES, string_at};
use crate::report::Report;
use crate::upstream::Object;
use crate::values::{Mode, Service, Values};

/// Keys the operator reads as exposure, as annotations or labels.
const MARKERS: &[&str] = &[
    ANNOTATION_EXPOSE,
    ANNOTATION_HOSTNAME,
    ANNOTATION_TAGS,
    ANNOTATION_PROXY_GROUP,
    LABEL_PROXY_CLASS,
];

/// Service fields that only mean something for a LoadBalancer.
const LOAD_BALANCER_FIELDS: &[&str] = &[
    "loadBalancerClass",
    "externalTrafficPolicy",
    "loadBalancerSourceRanges",
    "loadBalancerIP",
    "allocateLoadBalancerNodePorts",
    "healthCheckNodePort",
];

/// Whether the operator would give this Service a device.
fn is_exposed(object: &Value) -> bool {
    claims::role(object) == Some(Role::ServiceIngress)
}

/// Removes `keys` from `metadata.<field>`, dropping the map when it empties.
fn remove_keys(object: &mut Value, field: &str, keys: impl Fn(&str) -> bool) -> Vec<String> {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let Some(map) = metadata.get_mut(field).and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let doomed: Vec<String> = map.keys().filter(|k| keys(k)).cloned().collect();
    for key in &doomed {
        map.remove(key);
    }
    if map.is_empty() {
        metadata.remove(field);
    }
    let singular = field.trim_end_matches('s');
    doomed
        .into_iter()
        .map(|k| format!("{singular} {k}"))
        .collect()
}

/// Takes every exposure marker off a Service; returns what was removed.
fn strip(object: &mut Value) -> Vec<String> {
    let mut removed = remove_keys(object, "annotations", |k| MARKERS.contains(&k));
    removed.extend(remove_keys(object, "labels", |k| MARKERS.contains(&k)));
    if is_tailscale_load_balancer(&*object) {
        let spec = object["spec"]
            .as_object_mut()
            .expect("a Service with a class has a spec");
        for field in LOAD_BALANCER_FIELDS {
            if spec.remove(*field).is_some() {
                removed.push(format!("spec.{field}"));
            }
        }
        if spec.get("type").and_then(Value::as_str) == Some("LoadBalancer") {
            spec.insert("type".into(), "ClusterIP".into());
            removed.push("type LoadBalancer (now ClusterIP)".into());
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    if port.remove("nodePort").is_some() {
                        removed.push("spec.ports[].nodePort".into());
                    }
                }
            }
        }
    }
    removed.dedup();
    removed
}

fn has_markers(object: &Value) -> bool {
    let has = |field: &str| {
        object["metadata"][field]
            .as_object()
            .is_some_and(|m| m.keys().any(|k| MARKERS.contains(&k.as_str())))
    };
    has("annotations") || has("labels") || is_tailscale_load_balancer(object)
}

/// What exposure an `annotate` backend should carry, exactly.
fn wanted_annotations(service: &Service) -> Map<String, Value> {
    let mut wanted = Map::new();
    wanted.insert(ANNOTATION_EXPOSE.into(), "true".into());
    wanted.insert(ANNOTATION_HOSTNAME.into(), service.hostname.as_str().into());
    if !service.tags.is_empty() {
        wanted.insert(ANNOTATION_TAGS.into(), service.tags_annotation().into());
    }
    if let Some(group) = &service.proxy_group {
        wanted.insert(ANNOTATION_PROXY_GROUP.into(), (&**group).into());
    }
    wanted
}

/// Sets an `annotate` backend's exposure to exactly what the service asks
/// for. Returns the differences from what upstream had, if it had any.
fn normalise(object: &mut Value, service: &Service) -> Vec<String> {
    let had_markers = has_markers(object);
    let before = object.clone();
    strip(object);
    let metadata = object["metadata"]
        .as_object_mut()
        .expect("checked upstream objects have metadata");
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("annotations are a mapping");
    annotations.extend(wanted_annotations(service));
    if let Some(class) = &service.proxy_class {
        let labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("labels are a mapping");
        labels.insert(LABEL_PROXY_CLASS.into(), (&**class).into());
    }
    if !had_markers {
        return Vec::new();
    }
    let mut changes = Vec::new();
    for field in ["annotations", "labels"] {
        let old = before["metadata"][field]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let new = object["metadata"][field]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for key in MARKERS {
            match (old.get(*key), new.get(*key)) {
                (Some(a), Some(b)) if a != b => changes.push(format!("set {key} to {b} (was {a})")),
                (Some(_), None) => {
                    changes.push(format!("removed {} {key}", field.trim_end_matches('s')))
                }
                (None, Some(b)) => changes.push(format!("added {key}: {b}")),
                _ => {}
            }
        }
    }
    if is_tailscale_load_balancer(&before) {
        changes.push(
            "turned the LoadBalancer of class tailscale into a ClusterIP (expose is enough)".into(),
        );
    }
    changes
}

/// Why exposure comes off `object`, in terms of what would happen.
fn reason(object: &Value, values: &Values) -> String {
    let identity = Identity::of(object);
    let backend_of = values.services.iter().find(|s| {
        s.namespace == identity.namespace_or(&s.namespace) && s.backend.name == identity.name
    });
    if let Some(service) = backend_of {
        let generated = match service.mode {
            Mode::Direct => format!("Service {}/{}-ts-lb", service.namespace, service.name),
            _ => format!("Ingress {}/{}-tailscale", service.namespace, service.name),
        };
        return format!(
            "{} exposes it through the generated {generated}; exposing this Service too would give Argo CD and the operator one object to fight over and a second device",
            service.key_path()
        );
    }
    let hostname = string_at(object, &["metadata", "annotations", ANNOTATION_HOSTNAME])
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}-{}", identity.namespace, identity.name));
    if let Some(service) = values
        .services
        .iter()
        .find(|s| s.hostname.eq_ignore_ascii_case(&hostname))
    {
        return if is_exposed(object) {
            format!(
                "would create a second device for hostname {hostname:?}, which {} claims (the second would become {hostname}-1)",
                service.key_path()
            )
        } else {
            format!(
                "claims hostname {hostname:?} of {} without exposing anything (no expose, no LoadBalancer class); misleading, and one edit away from a second device",
                service.key_path()
            )
        };
    }
    if is_headless(object) {
        return "the operator ignores exposure on a headless Service".into();
    }
    if let Some(component) = string_at(object, &["spec", "selector", "app.kubernetes.io/component"])
    {
        return format!(
            "it selects component {component:?}, which no service in the values exposes"
        );
    }
    "no service in the values exposes it; exposure comes only from the values".into()
}

fn annotate_backend(service: &Service, objects: &[Object]) -> Result<usize> {
    let values = objects.iter().map(|o| &o.value);
    let Some(index) = find_service(values, &service.namespace, &service.backend.name) else {
        let message = if objects.is_empty() {
            "expose: annotate puts the annotations on the backend Service, which this plugin only sees in upstream manifests; none are given".to_string()
        } else {
            format!(
                "expose: annotate needs the backend Service {}/{} in the upstream manifests; it is not there",
                service.namespace, service.backend.name
            )
        };
        return Err(plan_error(service, message)
            .hint("give the chart's manifests as upstream, or use expose: direct, which generates a Service of its own"));
    };
    if is_headless(&objects[index].value) {
        return Err(Error::new(
            ErrorKind::Values,
            format!(
                "backend Service {}/{} is headless; the operator ignores tailscale.com/expose on it",
                service.namespace, service.backend.name
            ),
        )
        .at(service.location.clone())
        .key(service.key_path())
        .hint("name a Service with a cluster IP as backend, or use expose: direct"));
    }
    Ok(index)
}

/// Applies the split to the upstream objects, recording every change.
pub fn apply(objects: &mut [Object], values: &Values, report: &mut Report) -> Result<()> {
    let mut annotate: Vec<(usize, &Service)> = Vec::new();
    for service in values.services.iter().filter(|s| s.mode == Mode::Annotate) {
        annotate.push((annotate_backend(service, objects)?, service));
    }
    for (index, object) in objects.iter_mut().enumerate() {
        let identity = Identity::of(&object.value);
        let internal = remove_keys(&mut object.value, "labels", |k| {
            OPERATOR_LABEL_PREFIXES.iter().any(|p| k.starts_with(p))
        });
        if !internal.is_empty() {
            report.repair(
                &object.location,
                format!(
                    "{identity}: removed {}: operator-internal labels make the operator treat a user object as its own child",
                    internal.join(", ")
                ),
            );
        }
        // Egress Services point at the tailnet rather than exposing to it;
        // their proxy-group annotation is how they reach it.
        if identity.kind != "Service" || is_egress(&object.value) {
            continue;
        }
        if let Some((_, service)) = annotate.iter().find(|(i, _)| *i == index) {
            let changes = normalise(&mut object.value, service);
            if !changes.is_empty() {
                report.repair(
                    &object.location,
                    format!(
                        "{identity}: {}: {} asks for exactly this exposure",
                        changes.join(", "),
                        service.key_path()
                    ),
                );
            }
            continue;
        }
        if has_markers(&object.value) {
            let why = reason(&object.value, values);
            let removed = strip(&mut object.value);
            report.repair(
                &object.location,
                format!("{identity}: removed {}: {why}", removed.join(", ")),
            );
        }
    }
    Ok(())
}
