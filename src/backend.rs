//! Where a service's traffic goes: the pods and the port behind its backend
//! Service (DESIGN promise 2).
//!
//! Learned, in this order, from the backend Service in the upstream
//! manifests, from an explicit `selector`/`targetPort` in the values, or
//! from a chart preset. What the values say explicitly wins, with a warning
//! when it disagrees with the chart, because that disagreement is exactly
//! how the story's hand-written `-ts-lb` went wrong.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, ErrorKind, Result};
use crate::manifest::Identity;
use crate::render::Templates;
use crate::report::Report;
use crate::upstream::Object;
use crate::values::{PortRef, Service};

/// What a generated Service needs to reach the backend's pods.
#[derive(Debug, Clone, PartialEq)]
pub struct Backing {
    pub selector: BTreeMap<String, String>,
    /// One entry per requested backend port, in the order asked for.
    pub ports: Vec<BackingPort>,
}

/// One port of the generated Service: the port the tailnet sees and where
/// the pods listen.
#[derive(Debug, Clone, PartialEq)]
pub struct BackingPort {
    pub name: Option<String>,
    pub port: u16,
    pub target: PortRef,
}

impl Backing {
    /// `port 443 -> 3080` or `ports 443 -> 3080, 3023 -> 3023`, for notes.
    pub fn describe(&self) -> String {
        let list: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("{} -> {}", p.port, p.target))
            .collect();
        let word = if list.len() == 1 { "port" } else { "ports" };
        format!("{word} {}", list.join(", "))
    }
}

/// Kinds whose pods a Service selector can match, and where their pod
/// labels live.
pub fn pod_template(object: &Value) -> Option<&Value> {
    match object.get("kind")?.as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            object.get("spec")?.get("template")
        }
        "CronJob" => object
            .get("spec")?
            .get("jobTemplate")?
            .get("spec")?
            .get("template"),
        "Pod" => Some(object),
        _ => None,
    }
}

fn labels_of(pod: &Value) -> Option<&serde_json::Map<String, Value>> {
    pod.get("metadata")?.get("labels")?.as_object()
}

fn string_map(value: Option<&Value>) -> Option<BTreeMap<String, String>> {
    value?
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

fn in_namespace(object: &Value, namespace: &str) -> bool {
    // Charts often leave the namespace to Argo CD's destination.
    match object
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) => ns == namespace,
        None => true,
    }
}

/// The Service `name` in `namespace` among the upstream objects.
pub fn find_service<'a>(objects: &'a [Object], namespace: &str, name: &str) -> Option<&'a Object> {
    objects.iter().find(|o| {
        o.value["kind"] == "Service"
            && o.value["apiVersion"] == "v1"
            && o.value["metadata"]["name"] == name
            && in_namespace(&o.value, namespace)
    })
}

/// Workloads in `namespace` whose pods carry every label of `selector`.
pub fn matching_workloads<'a>(
    objects: &'a [Object],
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> Vec<&'a Object> {
    objects
        .iter()
        .filter(|o| in_namespace(&o.value, namespace))
        .filter(|o| {
            pod_template(&o.value)
                .and_then(labels_of)
                .is_some_and(|labels| {
                    selector
                        .iter()
                        .all(|(k, v)| labels.get(k).and_then(Value::as_str) == Some(v))
                })
        })
        .collect()
}

/// The `app.kubernetes.io/component` of a workload's pods ("" when unset).
pub fn component(object: &Object) -> String {
    pod_template(&object.value)
        .and_then(labels_of)
        .and_then(|l| l.get("app.kubernetes.io/component"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// The container port named `name` in the pods of `workloads`.
fn named_container_port(workloads: &[&Object], name: &str) -> Option<(u64, Identity)> {
    workloads.iter().find_map(|w| {
        let spec = pod_template(&w.value)?.get("spec")?;
        spec.get("containers")?
            .as_array()?
            .iter()
            .find_map(|c| {
                c.get("ports")?.as_array()?.iter().find_map(|p| {
                    (p.get("name")?.as_str()? == name).then(|| p.get("containerPort")?.as_u64())?
                })
            })
            .map(|n| (n, Identity::of(&w.value)))
    })
}

fn port_ref(value: Option<&Value>) -> Option<PortRef> {
    match value? {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(PortRef::Number),
        Value::String(s) => Some(PortRef::Name(s.clone())),
        _ => None,
    }
}

/// The entry of a `ports` list that `wanted` names, by number or name.
fn port_entry<'a>(ports: &'a [Value], wanted: &PortRef) -> Option<&'a Value> {
    ports.iter().find(|p| match wanted {
        PortRef::Number(n) => p.get("port").and_then(Value::as_u64) == Some(u64::from(*n)),
        PortRef::Name(s) => p.get("name").and_then(Value::as_str) == Some(s.as_str()),
    })
}

fn describe_ports(ports: &[Value]) -> String {
    let list: Vec<String> = ports
        .iter()
        .map(
            |p| match (p.get("name").and_then(Value::as_str), p.get("port")) {
                (Some(name), Some(port)) => format!("{name} {port}"),
                (None, Some(port)) => port.to_string(),
                _ => "?".to_string(),
            },
        )
        .collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// The key path of the `index`th requested port.
fn port_key(service: &Service, index: usize) -> String {
    if service.backend.ports.len() == 1 {
        format!("{}.backend.port", service.key_path())
    } else {
        format!("{}.backend.ports[{index}]", service.key_path())
    }
}

fn backing_from_ports(
    service: &Service,
    selector: BTreeMap<String, String>,
    ports: &[Value],
    origin: &str,
) -> Result<Backing> {
    let mut out = Vec::with_capacity(service.backend.ports.len());
    for (index, wanted) in service.backend.ports.iter().enumerate() {
        let entry = port_entry(ports, wanted).ok_or_else(|| {
            Error::new(
                ErrorKind::Values,
                format!(
                    "{origin} has no port {wanted}; its ports: {}",
                    describe_ports(ports)
                ),
            )
            .at(service.backend.location.clone())
            .key(port_key(service, index))
            .hint("name ports of the backend Service, by number or by name")
        })?;
        let port = entry
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Upstream,
                    format!("{origin} has a port without a valid number"),
                )
            })?;
        out.push(BackingPort {
            name: entry
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            port,
            target: port_ref(entry.get("targetPort")).unwrap_or(PortRef::Number(port)),
        });
    }
    Ok(Backing {
        selector,
        ports: out,
    })
}

/// Explicit `selector` and `targetPort` in the values win over what was
/// learned, with a warning when they disagree.
fn apply_overrides(
    service: &Service,
    mut backing: Backing,
    origin: &str,
    report: &mut Report,
) -> Backing {
    if let Some(selector) = &service.selector
        && *selector != backing.selector
    {
        report.warn(
            &service.location,
            format!(
                "{}.selector {} differs from the selector of {origin} {}; using the values, which may select other pods",
                service.key_path(),
                json!(selector),
                json!(backing.selector)
            ),
        );
        backing.selector = selector.clone();
    }
    // targetPort applies to a single port (the values refuse it with several).
    if let (Some(target), [only]) = (&service.target_port, backing.ports.as_mut_slice())
        && *target != only.target
    {
        report.warn(
            &service.location,
            format!(
                "{}.targetPort {target} differs from {origin}, which sends port {} to {}; using the values",
                service.key_path(),
                only.port,
                only.target
            ),
        );
        only.target = target.clone();
    }
    backing
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    #[allow(dead_code)]
    #[serde(default)]
    description: String,
    selector: BTreeMap<String, String>,
    ports: Vec<Value>,
}

fn from_preset(service: &Service, name: &str, templates: &Templates) -> Result<Backing> {
    let release = service
        .release
        .clone()
        .unwrap_or_else(|| service.backend.name.clone());
    let key = format!("{}.preset", service.key_path());
    let node = templates
        .data(&format!("presets/{name}.yaml"), &json!({ "release": release }), &key)?
        .ok_or_else(|| {
            Error::new(ErrorKind::Values, format!("no preset named {name:?}"))
                .at(service.location.clone())
                .key(key.clone())
                .hint("presets ship in templates/presets/ (teleport-cluster); a --templates directory can add presets/<name>.yaml")
        })?;
    let preset: PresetFile = serde_json::from_value(node.to_json()?).map_err(|e| {
        Error::new(
            ErrorKind::Template,
            format!("preset {name:?} does not fit the preset shape: {e}"),
        )
        .at(node.location.clone())
        .hint("a preset has `selector` (labels) and `ports` ([{name, port, targetPort}])")
    })?;
    backing_from_ports(
        service,
        preset.selector,
        &preset.ports,
        &format!("preset {name}"),
    )
}

fn from_values(service: &Service, selector: &BTreeMap<String, String>) -> Result<Backing> {
    let several = service.backend.ports.len() > 1;
    let ports = service
        .backend
        .ports
        .iter()
        .enumerate()
        .map(|(index, wanted)| {
            let PortRef::Number(port) = wanted else {
                return Err(Error::new(
                    ErrorKind::Values,
                    format!(
                        "backend port {:?} is a name; without upstream manifests or a preset the generated Service needs the port number",
                        wanted.to_string()
                    ),
                )
                .at(service.backend.location.clone())
                .key(port_key(service, index))
                .hint("give the backend Service's port numbers (and the pods' port as targetPort), or the chart's manifests as upstream"));
            };
            Ok(BackingPort {
                // A Service with several ports must name each one.
                name: several.then(|| format!("tcp-{port}")),
                port: *port,
                target: service.target_port.clone().unwrap_or(PortRef::Number(*port)),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Backing {
        selector: selector.clone(),
        ports,
    })
}

fn missing(service: &Service, upstream: &[Object]) -> Error {
    let err = Error::new(
        ErrorKind::Values,
        if upstream.is_empty() {
            "expose: direct needs the pod selector of the backend".to_string()
        } else {
            format!(
                "backend Service {}/{} is not in the upstream manifests",
                service.namespace, service.backend.name
            )
        },
    )
    .at(service.location.clone())
    .key(service.key_path());
    let here: BTreeSet<String> = upstream
        .iter()
        .filter(|o| o.value["kind"] == "Service" && in_namespace(&o.value, &service.namespace))
        .filter_map(|o| o.value["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    if here.is_empty() {
        err.hint(format!(
            "give the chart's rendered manifests as upstream, name a preset (preset: teleport-cluster), or set {}.selector to the backend Service's spec.selector",
            service.key_path()
        ))
    } else {
        let list: Vec<String> = here.into_iter().collect();
        err.hint(format!(
            "Services in namespace {}: {}",
            service.namespace,
            list.join(", ")
        ))
    }
}

/// Checks the pods a selector reaches among the upstream workloads and
/// says which they are.
fn check_workloads(service: &Service, backing: &Backing, upstream: &[Object], report: &mut Report) {
    let workloads = matching_workloads(upstream, &service.namespace, &backing.selector);
    if workloads.is_empty() {
        report.warn(
            &service.location,
            format!(
                "{}: selector {} matches no workload in the upstream manifests; the Service would have no endpoints",
                service.key_path(),
                json!(backing.selector)
            ),
        );
        return;
    }
    let components: BTreeSet<String> = workloads.iter().map(|w| component(w)).collect();
    let names: Vec<String> = workloads
        .iter()
        .map(|w| Identity::of(&w.value).to_string())
        .collect();
    if components.len() > 1 {
        let list: Vec<String> = components
            .iter()
            .map(|c| {
                if c.is_empty() {
                    "(none)".into()
                } else {
                    c.clone()
                }
            })
            .collect();
        report.warn(
            &service.location,
            format!(
                "{}: selector {} matches workloads of several components ({}): {}",
                service.key_path(),
                json!(backing.selector),
                list.join(", "),
                names.join(", ")
            ),
        );
    }
    report.note(format!(
        "{}: selects {}",
        service.key_path(),
        names.join(", ")
    ));
    for target in backing.ports.iter().map(|p| &p.target) {
        let PortRef::Name(name) = target else {
            continue;
        };
        match named_container_port(&workloads, name) {
            Some((number, workload)) => report.note(format!(
                "{}: targetPort {name} is container port {number} of {workload}",
                service.key_path()
            )),
            None => report.warn(
                &service.location,
                format!(
                    "{}: targetPort {name:?} is a name no selected container declares; traffic would go nowhere",
                    service.key_path()
                ),
            ),
        }
    }
}

/// Resolves the backing of a `direct` service.
pub fn resolve(
    service: &Service,
    upstream: &[Object],
    templates: &Templates,
    report: &mut Report,
) -> Result<Backing> {
    let backing = if let Some(object) =
        find_service(upstream, &service.namespace, &service.backend.name)
    {
        let origin = format!("{} ({})", Identity::of(&object.value), object.location);
        let selector = string_map(object.value.get("spec").and_then(|s| s.get("selector")))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::new(ErrorKind::Upstream, format!("{origin} has no pod selector; a generated Service could not reach its pods"))
                    .at(object.location.clone())
                    .hint("expose a Service that selects pods, or set selector and targetPort in the values")
            })?;
        let ports = object.value["spec"]["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let learned = backing_from_ports(service, selector, &ports, &origin)?;
        report.note(format!(
            "{}: selector and {} from {origin}",
            service.key_path(),
            learned.describe()
        ));
        apply_overrides(service, learned, &origin, report)
    } else if let Some(selector) = &service.selector {
        from_values(service, selector)?
    } else if let Some(preset) = &service.preset {
        let learned = from_preset(service, preset, templates)?;
        report.note(format!(
            "{}: selector and {} from preset {preset}",
            service.key_path(),
            learned.describe()
        ));
        apply_overrides(service, learned, &format!("preset {preset}"), report)
    } else {
        return Err(missing(service, upstream));
    };
    if !upstream.is_empty() {
        check_workloads(service, &backing, upstream, report);
    }
    Ok(backing)
}

/// For `ingress`: when the backend Service is among the upstream objects,
/// its port must exist.
pub fn check_ingress(service: &Service, upstream: &[Object]) -> Result<()> {
    if let Some(object) = find_service(upstream, &service.namespace, &service.backend.name) {
        let ports = object.value["spec"]["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let origin = format!("{} ({})", Identity::of(&object.value), object.location);
        backing_from_ports(service, BTreeMap::new(), &ports, &origin)?;
    }
    Ok(())
}
