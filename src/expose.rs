//! The exposure plan: for each service, which object to generate and every
//! field the operator reads on it.
//!
//! Knowledge of the Tailscale operator lives here (which annotation means
//! what, which object fronts which mode); the templates only lay the fields
//! out. Rules that span services (promise 1) are the gate's, which checks
//! them on the final stream.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::backend::Backing;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::object;
use crate::values::{Mode, PortRef, Service, Values};

pub use crate::gate::claims::{
    ANNOTATION_EXPOSE, ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, INGRESS_CLASS,
    LABEL_MANAGED_BY, LABEL_PROXY_CLASS, LOAD_BALANCER_CLASS, MANAGED_BY,
};

/// One object to render: the template that lays it out and its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The index of the service in `values.services`.
    pub service: usize,
    /// `services.<name>`, for messages about what the template produced.
    pub key_path: String,
    pub template: &'static str,
    pub context: Value,
}

pub(crate) fn plan_error(service: &Service, message: String) -> Error {
    Error::new(ErrorKind::Values, message)
        .at(service.location.clone())
        .key(service.key_path())
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

fn optional(text: &Option<String>) -> Value {
    text.as_deref().map_or(Value::Null, Value::from)
}

fn service_context(service: &Service) -> Value {
    object([
        ("name", service.name.as_str().into()),
        ("namespace", service.namespace.as_str().into()),
        ("mode", service.mode.as_str().into()),
        ("hostname", service.hostname.as_str().into()),
        (
            "tags",
            Value::Array(service.tags.iter().map(|t| t.as_str().into()).collect()),
        ),
        ("proxyGroup", optional(&service.proxy_group)),
        ("proxyClass", optional(&service.proxy_class)),
        (
            "backend",
            object([
                ("name", service.backend.name.as_str().into()),
                ("port", service.backend.port.to_json()),
            ]),
        ),
    ])
}

fn direct(index: usize, service: &Service, backing: &Backing) -> Exposure {
    let mut annotations = Map::new();
    annotations.insert(ANNOTATION_HOSTNAME.into(), service.hostname.as_str().into());
    annotations.extend(common_annotations(service));
    let ports: Vec<Value> = backing
        .ports
        .iter()
        .map(|p| {
            let mut port = Map::new();
            if let Some(name) = &p.name {
                port.insert("name".into(), name.as_str().into());
            }
            port.insert("port".into(), p.port.into());
            port.insert("targetPort".into(), p.target.to_json());
            port.insert("protocol".into(), "TCP".into());
            Value::Object(port)
        })
        .collect();
    Exposure {
        service: index,
        key_path: service.key_path(),
        template: "direct.yaml",
        context: object([
            ("service", service_context(service)),
            ("objectName", format!("{}-ts-lb", service.name).into()),
            ("labels", Value::Object(common_labels(service))),
            ("annotations", Value::Object(annotations)),
            ("loadBalancerClass", LOAD_BALANCER_CLASS.into()),
            (
                "selector",
                Value::Object(
                    backing
                        .selector
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().into()))
                        .collect(),
                ),
            ),
            ("ports", Value::Array(ports)),
            (
                "ipFamilies",
                backing.ip.get("ipFamilies").cloned().unwrap_or(Value::Null),
            ),
            (
                "ipFamilyPolicy",
                backing
                    .ip
                    .get("ipFamilyPolicy")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        ]),
    }
}

fn ingress(index: usize, service: &Service) -> Exposure {
    let backend_port = match &service.backend.port {
        PortRef::Number(n) => object([("number", (*n).into())]),
        PortRef::Name(s) => object([("name", s.as_str().into())]),
    };
    Exposure {
        service: index,
        key_path: service.key_path(),
        template: "ingress.yaml",
        context: object([
            ("service", service_context(service)),
            ("objectName", format!("{}-tailscale", service.name).into()),
            ("labels", Value::Object(common_labels(service))),
            ("annotations", Value::Object(common_annotations(service))),
            ("ingressClassName", INGRESS_CLASS.into()),
            ("backendPort", backend_port),
        ]),
    }
}

/// Plans the generated objects, in service name order. `backings` holds
/// the resolved backend of every `direct` service; `annotate` services
/// generate nothing (their backend Service is changed in `split`).
pub fn plan(values: &Values, backings: &BTreeMap<String, Backing>) -> Result<Vec<Exposure>> {
    let mut exposures = Vec::new();
    for (index, service) in values.services.iter().enumerate() {
        match service.mode {
            Mode::Direct => {
                let backing = backings
                    .get(&service.name)
                    .expect("every direct service is resolved before planning");
                exposures.push(direct(index, service, backing));
            }
            Mode::Ingress => exposures.push(ingress(index, service)),
            Mode::Annotate => {}
        }
    }
    Ok(exposures)
}
