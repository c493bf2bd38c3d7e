//! The exposure plan: for each service, which object to generate and every
//! field the operator reads on it.
//!
//! Knowledge of the Tailscale operator lives here (which annotation means
//! what, which object fronts which mode); the templates only lay the fields
//! out. Rules that span services (promise 1) are the gate's, which checks
//! them on the final stream.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::backend::Backing;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest::object;
use crate::values::{Mode, PortRef, Service, Values};

pub use crate::claims::{
    ANNOTATION_EXPOSE, ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, INGRESS_CLASS,
    LABEL_MANAGED_BY, LABEL_PROXY_CLASS, LOAD_BALANCER_CLASS, MANAGED_BY,
};

/// One object to render: the service it is for and what the plan derived
/// for it. Templates see it as a context ([`Exposure::context`]); the
/// built-in layouts are written straight from it (`direct`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure<'a> {
    /// The index of the service in `values.services`.
    pub service: usize,
    pub template: &'static str,
    pub fields: Fields<'a>,
}

/// What each kind of generated object is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Fields<'a> {
    /// A LoadBalancer Service of class tailscale, selecting the backend's
    /// pods.
    Direct {
        service: &'a Arc<Service>,
        backing: &'a Arc<Backing>,
    },
    /// A Tailscale Ingress to the backend Service.
    Ingress { service: &'a Arc<Service> },
}

impl<'a> Exposure<'a> {
    pub fn service(&self) -> &'a Service {
        match self.fields {
            Fields::Direct { service, .. } | Fields::Ingress { service } => service,
        }
    }

    /// `services.<name>`, for messages about what the template produced.
    pub fn key_path(&self) -> String {
        self.service().key_path()
    }

    /// The generated object's name.
    pub fn object_name(&self) -> String {
        match self.fields {
            Fields::Direct { service, .. } => format!("{}-ts-lb", service.name),
            Fields::Ingress { service } => format!("{}-tailscale", service.name),
        }
    }

    /// What a template sees: every field above, as the README documents
    /// it for template overrides.
    pub fn context(&self) -> Value {
        match self.fields {
            Fields::Direct { service, backing } => direct_context(self, service, backing),
            Fields::Ingress { service } => ingress_context(self, service),
        }
    }
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

/// The annotations of a direct Service: the hostname, then the shared
/// ones.
fn direct_annotations(service: &Service) -> Map<String, Value> {
    let mut annotations = Map::new();
    annotations.insert(ANNOTATION_HOSTNAME.into(), service.hostname.as_str().into());
    annotations.extend(common_annotations(service));
    annotations
}

/// The ports of a direct Service, as Kubernetes writes them.
fn direct_ports(backing: &Backing) -> Vec<Value> {
    backing
        .ports
        .iter()
        .map(|p| {
            let mut port = Map::with_capacity(4);
            if let Some(name) = &p.name {
                port.insert("name".into(), name.as_str().into());
            }
            port.insert("port".into(), p.port.into());
            port.insert("targetPort".into(), p.target.to_json());
            port.insert("protocol".into(), "TCP".into());
            Value::Object(port)
        })
        .collect()
}

/// The Ingress's backend port: by number or by name.
fn backend_port(service: &Service) -> Value {
    match &service.backend.port {
        PortRef::Number(n) => object([("number", (*n).into())]),
        PortRef::Name(s) => object([("name", s.as_str().into())]),
    }
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect(),
    )
}

fn direct_context(exposure: &Exposure, service: &Service, backing: &Backing) -> Value {
    object([
        ("service", service_context(service)),
        ("objectName", exposure.object_name().into()),
        ("labels", Value::Object(common_labels(service))),
        ("annotations", Value::Object(direct_annotations(service))),
        ("loadBalancerClass", LOAD_BALANCER_CLASS.into()),
        ("selector", string_map(&backing.selector)),
        ("ports", Value::Array(direct_ports(backing))),
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
    ])
}

fn ingress_context(exposure: &Exposure, service: &Service) -> Value {
    object([
        ("service", service_context(service)),
        ("objectName", exposure.object_name().into()),
        ("labels", Value::Object(common_labels(service))),
        ("annotations", Value::Object(common_annotations(service))),
        ("ingressClassName", INGRESS_CLASS.into()),
        ("backendPort", backend_port(service)),
    ])
}

/// Plans the generated objects, in service name order. `backings` holds
/// the resolved backend of every `direct` service; `annotate` services
/// generate nothing (their backend Service is changed in `split`).
pub fn plan<'a>(
    values: &'a Values,
    backings: &'a BTreeMap<String, Arc<Backing>>,
) -> Result<Vec<Exposure<'a>>> {
    let mut exposures = Vec::new();
    for (index, service) in values.services.iter().enumerate() {
        let (template, fields) = match service.mode {
            Mode::Direct => {
                let backing = backings
                    .get(&service.name)
                    .expect("every direct service is resolved before planning");
                ("direct.yaml", Fields::Direct { service, backing })
            }
            Mode::Ingress => ("ingress.yaml", Fields::Ingress { service }),
            Mode::Annotate => continue,
        };
        exposures.push(Exposure {
            service: index,
            template,
            fields,
        });
    }
    Ok(exposures)
}
