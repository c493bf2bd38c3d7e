//! The exposure plan: for each service, which object to generate and every
//! field the operator reads on it.
//!
//! Knowledge of the Tailscale operator lives here (which annotation means
//! what, which object fronts which mode); the templates only lay the fields
//! out. Rules that span services (promise 1: one device per hostname, one
//! exposure per workload) are checked here too, before anything renders.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind, Result};
use crate::values::{Mode, PortRef, Service, Values};

pub const ANNOTATION_HOSTNAME: &str = "tailscale.com/hostname";
pub const ANNOTATION_TAGS: &str = "tailscale.com/tags";
pub const ANNOTATION_PROXY_GROUP: &str = "tailscale.com/proxy-group";
pub const ANNOTATION_EXPOSE: &str = "tailscale.com/expose";
/// A label in every operator version; the annotation form needs v1.86.
pub const LABEL_PROXY_CLASS: &str = "tailscale.com/proxy-class";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "argocd-tailscale-plugin";
pub const LOAD_BALANCER_CLASS: &str = "tailscale";
pub const INGRESS_CLASS: &str = "tailscale";

/// One object to render: the template that lays it out and its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// `services.<name>`, for messages about what the template produced.
    pub key_path: String,
    pub template: &'static str,
    pub context: Value,
}

fn plan_error(service: &Service, message: String) -> Error {
    Error::new(ErrorKind::Values, message)
        .at(service.location.clone())
        .key(service.key_path())
}

/// One device per hostname and one exposure per workload (DESIGN promise 1).
fn check_unique(values: &Values) -> Result<()> {
    let mut hostnames: BTreeMap<String, &Service> = BTreeMap::new();
    let mut backends: BTreeMap<(&str, &str), &Service> = BTreeMap::new();
    for service in &values.services {
        // MagicDNS names are case-insensitive.
        if let Some(first) = hostnames.insert(service.hostname.to_ascii_lowercase(), service) {
            return Err(plan_error(
                service,
                format!(
                    "hostname {:?} is already claimed by {} ({}); two devices would fight for it and the second would become {:?}",
                    service.hostname,
                    first.key_path(),
                    first.location,
                    format!("{}-1", service.hostname)
                ),
            )
            .hint("give each service its own `hostname`"));
        }
        let backend = (service.namespace.as_str(), service.backend.name.as_str());
        if let Some(first) = backends.insert(backend, service) {
            return Err(plan_error(
                service,
                format!(
                    "backend Service {}/{} is already exposed by {} ({}); one workload would get two tailnet devices",
                    service.namespace,
                    service.backend.name,
                    first.key_path(),
                    first.location
                ),
            )
            .hint("keep one entry per backend; to change how it is exposed, change its `expose`"));
        }
    }
    Ok(())
}

fn common_labels(service: &Service) -> Map<String, Value> {
    let mut labels = Map::new();
    labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    if let Some(class) = &service.proxy_class {
        labels.insert(LABEL_PROXY_CLASS.into(), class.as_str().into());
    }
    labels
}

/// The annotations both generated kinds share. Tags are one comma-separated
/// string without spaces: the operator sends the items to the API untrimmed.
fn common_annotations(service: &Service) -> Map<String, Value> {
    let mut annotations = Map::new();
    if !service.tags.is_empty() {
        annotations.insert(ANNOTATION_TAGS.into(), service.tags.join(",").into());
    }
    if let Some(group) = &service.proxy_group {
        annotations.insert(ANNOTATION_PROXY_GROUP.into(), group.as_str().into());
    }
    annotations
}

fn service_context(service: &Service) -> Value {
    json!({
        "name": service.name,
        "namespace": service.namespace,
        "mode": service.mode.as_str(),
        "hostname": service.hostname,
        "tags": service.tags,
        "proxyGroup": service.proxy_group,
        "proxyClass": service.proxy_class,
        "backend": {"name": service.backend.name, "port": service.backend.port.to_json()},
    })
}

fn direct(service: &Service) -> Result<Exposure> {
    let selector = service.selector.as_ref().ok_or_else(|| {
        plan_error(
            service,
            "expose: direct needs the pod selector of the backend".to_string(),
        )
        .hint(format!(
            "set {}.selector to the backend Service's spec.selector (for Teleport: app.kubernetes.io/name, app.kubernetes.io/instance and app.kubernetes.io/component: proxy)",
            service.key_path()
        ))
    })?;
    let PortRef::Number(port) = service.backend.port else {
        return Err(Error::new(
            ErrorKind::Values,
            format!(
                "backend port {:?} is a name; the generated Service needs the port number",
                service.backend.port.to_string()
            ),
        )
        .at(service.backend.location.clone())
        .key(format!("{}.backend.port", service.key_path()))
        .hint("give the backend Service's port number, and the pods' port as targetPort"));
    };
    let target_port = service.target_port.clone().unwrap_or(PortRef::Number(port));
    let mut annotations = Map::new();
    annotations.insert(ANNOTATION_HOSTNAME.into(), service.hostname.as_str().into());
    annotations.extend(common_annotations(service));
    Ok(Exposure {
        key_path: service.key_path(),
        template: "direct.yaml",
        context: json!({
            "service": service_context(service),
            "objectName": format!("{}-ts-lb", service.name),
            "labels": common_labels(service),
            "annotations": annotations,
            "loadBalancerClass": LOAD_BALANCER_CLASS,
            "selector": selector,
            "ports": [{
                "port": port,
                "targetPort": target_port.to_json(),
                "protocol": "TCP",
            }],
        }),
    })
}

fn ingress(service: &Service) -> Exposure {
    let backend_port = match &service.backend.port {
        PortRef::Number(n) => json!({ "number": n }),
        PortRef::Name(s) => json!({ "name": s }),
    };
    Exposure {
        key_path: service.key_path(),
        template: "ingress.yaml",
        context: json!({
            "service": service_context(service),
            "objectName": format!("{}-tailscale", service.name),
            "labels": common_labels(service),
            "annotations": common_annotations(service),
            "ingressClassName": INGRESS_CLASS,
            "backendPort": backend_port,
        }),
    }
}

/// Plans every enabled service, in name order.
pub fn plan(values: &Values) -> Result<Vec<Exposure>> {
    check_unique(values)?;
    values
        .services
        .iter()
        .map(|service| match service.mode {
            Mode::Direct => direct(service),
            Mode::Ingress => Ok(ingress(service)),
            Mode::Annotate => Err(plan_error(
                service,
                "expose: annotate puts the annotations on the backend Service, which this plugin only sees in upstream manifests; none are given".to_string(),
            )
            .hint("use expose: direct, which generates a Service of its own")),
        })
        .collect()
}
