//! The exposure plan: for each service, which object to generate and every
//! field the operator reads on it.
//!
//! Knowledge of the Tailscale operator lives here (which annotation means
//! what, which object fronts which mode); the templates only lay the fields
//! out. Rules that span services (promise 1) are the gate's, which checks
//! them on the final stream.

use compact_str::CompactString;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use crate::backend::Backing;
use crate::error::{Error, ErrorKind, Result};
use crate::labels::Labels;
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
    /// it for template overrides. `tags` holds the service's
    /// `tags_annotation`, which the context borrows.
    pub fn context<'s>(&'s self, tags: &'s str) -> Context<'s> {
        match self.fields {
            Fields::Direct { service, backing } => {
                Context(Shape::Direct(direct_context(self, service, backing, tags)))
            }
            Fields::Ingress { service } => {
                Context(Shape::Ingress(ingress_context(self, service, tags)))
            }
        }
    }
}

pub(crate) fn plan_error(service: &Service, message: String) -> Error {
    Error::new(ErrorKind::Values, message)
        .at(service.location.clone())
        .key(service.key_path())
}

/// A map of strings, in the order given, as a template sees it.
struct Pairs<'a>(Vec<(&'static str, &'a str)>);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A port by number or by name, as a template sees it.
struct Port<'a>(&'a PortRef);

impl Serialize for Port<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            PortRef::Number(n) => serializer.serialize_u16(*n),
            PortRef::Name(name) => serializer.serialize_str(name),
        }
    }
}

fn common_labels(service: &Service) -> Pairs<'_> {
    let mut labels = vec![(LABEL_MANAGED_BY, MANAGED_BY)];
    if let Some(class) = &service.proxy_class {
        labels.push((LABEL_PROXY_CLASS, &**class));
    }
    Pairs(labels)
}

/// The annotations both generated kinds share.
fn common_annotations<'a>(service: &'a Service, tags: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut annotations = Vec::new();
    if !service.tags.is_empty() {
        annotations.push((ANNOTATION_TAGS, tags));
    }
    if let Some(group) = &service.proxy_group {
        annotations.push((ANNOTATION_PROXY_GROUP, &**group));
    }
    annotations
}

/// What a template sees of the service (README: "Template overrides").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceContext<'a> {
    name: &'a str,
    namespace: &'a str,
    mode: &'a str,
    hostname: &'a str,
    tags: &'a [String],
    proxy_group: Option<&'a str>,
    proxy_class: Option<&'a str>,
    backend: BackendContext<'a>,
}

#[derive(Serialize)]
struct BackendContext<'a> {
    name: &'a str,
    port: Port<'a>,
}

fn service_context(service: &Service) -> ServiceContext<'_> {
    ServiceContext {
        name: &service.name,
        namespace: &service.namespace,
        mode: service.mode.as_str(),
        hostname: &service.hostname,
        tags: &service.tags,
        proxy_group: service.proxy_group.as_deref(),
        proxy_class: service.proxy_class.as_deref(),
        backend: BackendContext {
            name: &service.backend.name,
            port: Port(service.backend.port()),
        },
    }
}

/// One port of a direct Service, as Kubernetes writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortContext<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    port: u16,
    target_port: Port<'a>,
    protocol: &'static str,
}

/// What `direct.yaml` sees. Its first four fields are `ingress.yaml`'s
/// too; they are not a flattened struct of their own because serde's
/// flattening costs the `--templates` path 3 %.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DirectContext<'a> {
    service: ServiceContext<'a>,
    object_name: String,
    labels: Pairs<'a>,
    annotations: Pairs<'a>,
    load_balancer_class: &'static str,
    selector: &'a Labels,
    ports: Vec<PortContext<'a>>,
    ip_families: Option<&'a Value>,
    ip_family_policy: Option<&'a Value>,
}

/// The Ingress's backend port: by number or by name.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum BackendPort<'a> {
    Number(u16),
    Name(&'a str),
}

/// What `ingress.yaml` sees.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressContext<'a> {
    service: ServiceContext<'a>,
    object_name: String,
    labels: Pairs<'a>,
    annotations: Pairs<'a>,
    ingress_class_name: &'static str,
    backend_port: BackendPort<'a>,
}

/// The context a template renders with, serialized straight into the
/// template engine's values (a `serde_json` map first cost as much as the
/// render).
pub struct Context<'a>(Shape<'a>);

enum Shape<'a> {
    Direct(DirectContext<'a>),
    Ingress(IngressContext<'a>),
}

impl Serialize for Context<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.0 {
            Shape::Direct(context) => context.serialize(serializer),
            Shape::Ingress(context) => context.serialize(serializer),
        }
    }
}

fn direct_context<'a>(
    exposure: &Exposure,
    service: &'a Service,
    backing: &'a Backing,
    tags: &'a str,
) -> DirectContext<'a> {
    let mut annotations = vec![(ANNOTATION_HOSTNAME, service.hostname.as_str())];
    annotations.extend(common_annotations(service, tags));
    DirectContext {
        service: service_context(service),
        object_name: exposure.object_name(),
        labels: common_labels(service),
        annotations: Pairs(annotations),
        load_balancer_class: LOAD_BALANCER_CLASS,
        selector: &backing.selector,
        ports: backing
            .ports
            .iter()
            .map(|p| PortContext {
                name: p.name.as_deref(),
                port: p.port,
                target_port: Port(&p.target),
                protocol: "TCP",
            })
            .collect(),
        ip_families: backing.ip.get("ipFamilies"),
        ip_family_policy: backing.ip.get("ipFamilyPolicy"),
    }
}

fn ingress_context<'a>(
    exposure: &Exposure,
    service: &'a Service,
    tags: &'a str,
) -> IngressContext<'a> {
    IngressContext {
        service: service_context(service),
        object_name: exposure.object_name(),
        labels: common_labels(service),
        annotations: Pairs(common_annotations(service, tags)),
        ingress_class_name: INGRESS_CLASS,
        backend_port: match service.backend.port() {
            PortRef::Number(n) => BackendPort::Number(*n),
            PortRef::Name(name) => BackendPort::Name(name),
        },
    }
}

/// Plans the generated objects, in service name order. `backings` holds
/// the resolved backend of every `direct` service; `annotate` services
/// generate nothing (their backend Service is changed in `split`).
pub fn plan<'a>(
    values: &'a Values,
    backings: &'a BTreeMap<CompactString, Arc<Backing>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackingPort;
    use crate::location::Location;
    use crate::values::Backend;
    use serde_json::json;

    /// The context template overrides see, field by field, as the README's
    /// "Template overrides" table documents it (the built-in templates use
    /// only some of the fields, so their property test cannot hold the
    /// others).
    #[test]
    fn templates_see_the_documented_context() {
        let at = Location::start_of(&Arc::from("values.yaml"));
        let service = Arc::new(Service {
            name: "web".into(),
            location: at.clone(),
            namespace: "apps".into(),
            mode: Mode::Direct,
            hostname: "Web".into(),
            tags: vec!["tag:a".into(), "tag:b".into()],
            proxy_group: None,
            proxy_class: Some("pc".into()),
            backend: Backend {
                name: "web-svc".into(),
                ports: vec![PortRef::Name("https".into())],
                location: at,
            },
            selector: None,
            target_port: None,
            preset: None,
            release: None,
        });
        let backing = Arc::new(Backing {
            selector: Arc::new(Labels::from_iter([("app", "web")])),
            ip: serde_json::Map::from_iter([("ipFamilies".to_string(), json!(["IPv4"]))]),
            ports: vec![BackingPort {
                name: None,
                port: 443,
                target: PortRef::Number(8443),
            }],
        });
        let service_json = json!({
            "name": "web", "namespace": "apps", "mode": "direct", "hostname": "Web",
            "tags": ["tag:a", "tag:b"], "proxyGroup": null, "proxyClass": "pc",
            "backend": {"name": "web-svc", "port": "https"},
        });
        let labels = json!({
            "app.kubernetes.io/managed-by": "argocd-tailscale-plugin",
            "tailscale.com/proxy-class": "pc",
        });
        let direct = Exposure {
            service: 0,
            template: "direct.yaml",
            fields: Fields::Direct {
                service: &service,
                backing: &backing,
            },
        };
        let tags = service.tags_annotation();
        assert_eq!(
            serde_json::to_value(direct.context(&tags)).unwrap(),
            json!({
                "service": service_json,
                "objectName": "web-ts-lb",
                "labels": labels,
                "annotations": {"tailscale.com/hostname": "Web", "tailscale.com/tags": "tag:a,tag:b"},
                "loadBalancerClass": "tailscale",
                "selector": {"app": "web"},
                "ports": [{"port": 443, "targetPort": 8443, "protocol": "TCP"}],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": null,
            })
        );
        let ingress = Exposure {
            service: 0,
            template: "ingress.yaml",
            fields: Fields::Ingress { service: &service },
        };
        assert_eq!(
            serde_json::to_value(ingress.context(&tags)).unwrap(),
            json!({
                "service": service_json,
                "objectName": "web-tailscale",
                "labels": labels,
                "annotations": {"tailscale.com/tags": "tag:a,tag:b"},
                "ingressClassName": "tailscale",
                "backendPort": {"name": "https"},
            })
        );
    }
}
