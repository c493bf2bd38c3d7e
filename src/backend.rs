//! Where a service's traffic goes: the pods and the port behind its backend
//! Service (DESIGN promise 2).
//!
//! Learned, in this order, from the backend Service in the upstream
//! manifests, from an explicit `selector`/`targetPort` in the values, or
//! from a chart preset. Values may narrow what the chart says (a subset of
//! its pods, all of one component, listening on the port), never replace
//! it: a hand-written selector that replaced the chart's is exactly how the
//! story's `-ts-lb` reached the auth pods on a port nobody listened on.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::claims::{
    ContainerPort, component, container_ports, find_service, has_workloads, in_namespace,
    matching_workloads, shown_component, string_map, target_declared,
};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, ErrorKind, Result};
use crate::labels::Labels;
use crate::manifest::Identity;
use crate::overrides::TemplateDir;
use crate::preset;
use crate::report::Report;
use crate::upstream::Object;
use crate::values::{PortRef, Service};

/// What a generated Service needs to reach the backend's pods.
#[derive(Debug, Clone, PartialEq)]
pub struct Backing {
    /// Shared with the values' selector when it came from there.
    pub selector: Arc<Labels>,
    /// `ipFamilies` and `ipFamilyPolicy` of the backend Service, when set.
    pub ip: Map<String, Value>,
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

/// The container port named `name` in the pods of `workloads`.
fn named_container_port(workloads: &[&Object], name: &str) -> Option<(u64, Identity)> {
    workloads.iter().find_map(|w| {
        container_ports(&w.value)
            .into_iter()
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| (p.number, Identity::of(&w.value)))
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
    selector: Labels,
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
        selector: Arc::new(selector),
        ip: Map::new(),
        ports: out,
    })
}

fn shown(selector: &Labels) -> String {
    json!(selector).to_string()
}

/// A value that would replace what the chart says: an error finding at
/// the values key (TS003 for a selector, TS006 for a targetPort), so that
/// `check` reports every one and `generate` refuses the run.
fn refuse(
    findings: &mut Vec<Diagnostic>,
    code: &'static str,
    service: &Service,
    field: &str,
    message: String,
    hint: &str,
) {
    findings.push(
        Diagnostic::new(code, format!("{message}; {hint}"))
            .severity(Severity::Error)
            .at(Some(&service.location))
            .key_path(Some(format!("{}.{field}", service.key_path()))),
    );
}

fn refuse_selector(findings: &mut Vec<Diagnostic>, service: &Service, message: String) {
    refuse(
        findings,
        "TS003",
        service,
        "selector",
        message,
        SELECTOR_HINT,
    );
}

fn refuse_target_port(findings: &mut Vec<Diagnostic>, service: &Service, message: String) {
    refuse(
        findings,
        "TS006",
        service,
        "targetPort",
        message,
        TARGET_PORT_HINT,
    );
}

const SELECTOR_HINT: &str = "remove selector to use the backend Service's own, or add labels to it (such as app.kubernetes.io/component) so that it picks some of the backend's pods";
const TARGET_PORT_HINT: &str = "remove targetPort: the plugin takes it from the backend Service, which knows where its pods listen";

/// The workloads `selector` reaches in the service's namespace.
fn reached<'a>(upstream: &'a [Object], service: &Service, selector: &Labels) -> Vec<&'a Object> {
    matching_workloads(
        upstream.iter().map(|o| &o.value),
        &service.namespace,
        selector,
    )
    .into_iter()
    .map(|i| &upstream[i])
    .collect()
}

fn names(workloads: &[&Object]) -> String {
    if workloads.is_empty() {
        return "none".into();
    }
    workloads
        .iter()
        .map(|w| Identity::of(&w.value).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Values may narrow the learned selector and targetPort, never replace
/// them (DESIGN promise 2). `upstream` holds the workloads, when known.
fn narrow(
    service: &Service,
    mut backing: Backing,
    origin: &str,
    upstream: &[Object],
    findings: &mut Vec<Diagnostic>,
) -> Backing {
    let known = has_workloads(upstream.iter().map(|o| &o.value), &service.namespace);
    if let Some(selector) = &service.selector
        && *selector != backing.selector
    {
        if known {
            let wide = reached(upstream, service, &backing.selector);
            let narrow = reached(upstream, service, selector);
            let outside: Vec<&Object> = narrow
                .iter()
                .filter(|w| !wide.iter().any(|x| std::ptr::eq(*x, **w)))
                .copied()
                .collect();
            let components: BTreeSet<&str> = narrow.iter().map(|w| component(&w.value)).collect();
            let problem = if narrow.is_empty() {
                Some("selects no workload".to_string())
            } else if !outside.is_empty() {
                Some(format!(
                    "also selects {}, which the backend does not",
                    names(&outside)
                ))
            } else if components.len() > 1 {
                Some(format!(
                    "selects workloads of several components ({})",
                    components
                        .iter()
                        .map(|c| shown_component(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                refuse_selector(
                    findings,
                    service,
                    format!(
                        "selector {} {problem}: values may narrow the backend's selector, never replace it; {origin} selects {} with {}, the values' selector selects {}",
                        shown(selector),
                        names(&wide),
                        shown(&backing.selector),
                        names(&narrow)
                    ),
                );
            } else {
                backing.selector = selector.clone();
            }
        } else if !selector.contains_all(&backing.selector) {
            refuse_selector(
                findings,
                service,
                format!(
                    "selector {} is not a narrowing of {origin}'s selector {}: it lacks some of its labels, and no workload in the upstream manifests shows which pods it would select",
                    shown(selector),
                    shown(&backing.selector)
                ),
            );
        } else {
            backing.selector = selector.clone();
        }
    }
    // targetPort applies to a single port (the values refuse it with several).
    if let (Some(target), [only]) = (&service.target_port, backing.ports.as_mut_slice())
        && *target != only.target
    {
        // The pods the values meant, even when their selector was refused.
        let pods = reached(
            upstream,
            service,
            service.selector.as_ref().unwrap_or(&backing.selector),
        );
        let declared: Vec<ContainerPort> = pods
            .iter()
            .flat_map(|w| container_ports(&w.value))
            .collect();
        if declared.is_empty() || !target_declared(&target.to_json(), &declared) {
            let listening = if declared.is_empty() {
                "no selected workload declares its ports, so it cannot be verified".to_string()
            } else {
                format!(
                    "the selected containers ({}) declare {}",
                    names(&pods),
                    declared
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            refuse_target_port(
                findings,
                service,
                format!(
                    "targetPort {target} replaces {origin}'s targetPort {} for port {}, and {listening}",
                    only.target, only.port
                ),
            );
        } else {
            only.target = target.clone();
        }
    }
    backing
}

/// Against a preset there are no pods to look at: a values selector must
/// carry every label of the preset's, and a targetPort must be the preset's.
fn narrow_preset(
    service: &Service,
    mut backing: Backing,
    origin: &str,
    findings: &mut Vec<Diagnostic>,
) -> Backing {
    if let Some(selector) = &service.selector
        && *selector != backing.selector
    {
        if !selector.contains_all(&backing.selector) {
            refuse_selector(
                findings,
                service,
                format!(
                    "selector {} is not a narrowing of {origin}'s selector {}: values may add labels to it, never drop or change one",
                    shown(selector),
                    shown(&backing.selector)
                ),
            );
            return backing;
        }
        backing.selector = selector.clone();
    }
    if let (Some(target), [only]) = (&service.target_port, backing.ports.as_slice())
        && *target != only.target
    {
        refuse_target_port(
            findings,
            service,
            format!(
                "targetPort {target} replaces {origin}'s targetPort {} for port {}",
                only.target, only.port
            ),
        );
    }
    backing
}

fn from_preset(service: &Service, name: &str, presets: Option<&TemplateDir>) -> Result<Backing> {
    let release = service.release.as_deref().unwrap_or(&service.backend.name);
    let key = format!("{}.preset", service.key_path());
    let preset = preset::load(name, presets, release)
        .map_err(|e| e.key(key.clone()))?
        .ok_or_else(|| {
            Error::new(ErrorKind::Values, format!("no preset named {name:?}"))
                .at(service.location.clone())
                .key(key.clone())
                .hint("presets ship in templates/presets/ (teleport-cluster); a --templates directory can add presets/<name>.yaml")
        })?;
    backing_from_ports(
        service,
        preset.selector,
        &preset.ports,
        &format!("preset {name}"),
    )
}

fn from_values(service: &Service, selector: &Arc<Labels>) -> Result<Backing> {
    let several = service.backend.ports.len() > 1;
    // Exactly as many as asked for: collected through `Result`, the
    // vector would keep room for four (a catalog's direct services hold
    // theirs to the end of the run).
    let mut ports = Vec::with_capacity(service.backend.ports.len());
    for (index, wanted) in service.backend.ports.iter().enumerate() {
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
        ports.push(BackingPort {
            // A Service with several ports must name each one.
            name: several.then(|| format!("tcp-{port}")),
            port: *port,
            target: service
                .target_port
                .clone()
                .unwrap_or(PortRef::Number(*port)),
        });
    }
    Ok(Backing {
        selector: Arc::clone(selector),
        ip: Map::new(),
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

/// Says which pods a selector reaches among the upstream workloads and
/// where a named targetPort lands. Conflicts in what it reaches are the
/// gate's to find, on the final stream.
fn describe_workloads(
    service: &Service,
    backing: &Backing,
    upstream: &[Object],
    report: &mut Report,
) {
    let workloads = reached(upstream, service, &backing.selector);
    if workloads.is_empty() {
        return;
    }
    report.note(format!(
        "{}: selects {}",
        service.key_path(),
        names(&workloads)
    ));
    for target in backing.ports.iter().map(|p| &p.target) {
        if let PortRef::Name(name) = target
            && let Some((number, workload)) = named_container_port(&workloads, name)
        {
            report.note(format!(
                "{}: targetPort {name} is container port {number} of {workload}",
                service.key_path()
            ));
        }
    }
}

/// Resolves the backing of a `direct` service.
pub fn resolve(
    service: &Service,
    upstream: &[Object],
    presets: Option<&TemplateDir>,
    report: &mut Report,
    findings: &mut Vec<Diagnostic>,
) -> Result<Backing> {
    let values = upstream.iter().map(|o| &o.value);
    let backing = if let Some(index) =
        find_service(values, &service.namespace, &service.backend.name)
    {
        let object = &upstream[index];
        let origin = format!("{} ({})", Identity::of(&object.value), object.location);
        let selector = string_map(crate::view::View::from(&object.value).at(&["spec", "selector"]))
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
        let mut learned = backing_from_ports(service, selector, &ports, &origin)?;
        // The tailnet proxy reaches the -ts-lb's cluster IP: it must be of
        // a family the backend's pods serve.
        for field in IP_FIELDS {
            if let Some(value) = object.value["spec"].get(*field) {
                learned.ip.insert((*field).to_string(), value.clone());
            }
        }
        let narrowed = narrow(service, learned.clone(), &origin, upstream, findings);
        report.note(describe_origin(service, &learned, &narrowed, &origin));
        narrowed
    } else if let Some(selector) = &service.selector {
        let backing = from_values(service, selector)?;
        report.note(format!(
            "{}: selector and {} from the values, unverified: no upstream manifests or preset show the backend's pods",
            service.key_path(),
            backing.describe()
        ));
        backing
    } else if let Some(preset) = &service.preset {
        let learned = from_preset(service, preset, presets)?;
        let origin = format!("preset {preset}");
        let narrowed = narrow_preset(service, learned.clone(), &origin, findings);
        report.note(describe_origin(service, &learned, &narrowed, &origin));
        narrowed
    } else {
        return Err(missing(service, upstream));
    };
    describe_workloads(service, &backing, upstream, report);
    Ok(backing)
}

/// Backend Service fields carried to the generated Service.
pub const IP_FIELDS: &[&str] = &["ipFamilies", "ipFamilyPolicy"];

/// Where the selector and ports came from, saying so when the values
/// narrowed them.
fn describe_origin(service: &Service, learned: &Backing, used: &Backing, origin: &str) -> String {
    let mut parts = Vec::new();
    if used.selector == learned.selector {
        parts.push("selector".to_string());
    }
    if used.ports == learned.ports {
        parts.push(used.describe());
    }
    let mut line = format!("{}: ", service.key_path());
    if parts.is_empty() {
        line.push_str(&format!(
            "selector and {} narrowed by the values from {origin}",
            used.describe()
        ));
    } else {
        line.push_str(&format!("{} from {origin}", parts.join(" and ")));
        if used.selector != learned.selector {
            line.push_str(&format!(
                "; selector {} narrowed by the values",
                shown(&used.selector)
            ));
        }
        if used.ports != learned.ports {
            line.push_str(&format!("; {} narrowed by the values", used.describe()));
        }
    }
    line
}

/// For `ingress`: when the backend Service is among the upstream objects,
/// its port must exist.
pub fn check_ingress(service: &Service, upstream: &[Object]) -> Result<()> {
    let values = upstream.iter().map(|o| &o.value);
    if let Some(index) = find_service(values, &service.namespace, &service.backend.name) {
        let object = &upstream[index];
        let ports = object.value["spec"]["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let origin = format!("{} ({})", Identity::of(&object.value), object.location);
        backing_from_ports(service, Labels::default(), &ports, &origin)?;
    }
    Ok(())
}
