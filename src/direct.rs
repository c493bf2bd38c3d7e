//! The built-in templates' objects, held as the plan that makes them
//! ([`Planned`]) and laid out as `templates/direct.yaml` and
//! `templates/ingress.yaml` lay them out, in canonical order
//! (`manifest::canonical`): the same keys, the same values. Rendering
//! text and reading it back cost more than the rest of a run together,
//! and so did building each object as `serde_json` maps; a planned object
//! is checked by the gate and printed through a tree of borrowed strings
//! ([`Node`]) and becomes JSON only when something must change or keep
//! it (a patch, `check`, `diff`). The templates stay the contract: a
//! property test renders random plans both ways and requires identical
//! objects and bytes.

use std::sync::Arc;

use compact_str::CompactString;

use serde_json::Value;

use crate::backend::Backing;
use crate::expose::{
    ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, Exposure, Fields, INGRESS_CLASS,
    LABEL_MANAGED_BY, LABEL_PROXY_CLASS, LOAD_BALANCER_CLASS, MANAGED_BY,
};
use crate::manifest::Identity;
use crate::values::{PortRef, Service};
use crate::view::{Node, View};

/// Whether the built-in template `name` has a direct layout here (the
/// others are rendered as text).
pub fn has_layout(name: &str) -> bool {
    matches!(name, "direct.yaml" | "ingress.yaml")
}

/// A generated object of a built-in template, held as its plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    service: Arc<Service>,
    /// The backend's pods and ports, for a direct Service; `None` for an
    /// Ingress.
    backing: Option<Arc<Backing>>,
    /// `metadata.name`. Both strings are kept inline when short (most
    /// are): a stream holds one planned object per service.
    name: CompactString,
    /// `Service::tags_annotation`, which the tree borrows.
    tags: CompactString,
}

impl Planned {
    /// The object the built-in template of `exposure` renders.
    pub fn new(exposure: &Exposure) -> Planned {
        let (service, backing) = match exposure.fields {
            Fields::Direct { service, backing } => (service, Some(Arc::clone(backing))),
            Fields::Ingress { service } => (service, None),
        };
        Planned {
            service: Arc::clone(service),
            backing,
            name: exposure.object_name().into(),
            tags: service.tags_annotation().into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.backing {
            Some(_) => "Service",
            None => "Ingress",
        }
    }

    pub fn api_version(&self) -> &'static str {
        match self.backing {
            Some(_) => "v1",
            None => "networking.k8s.io/v1",
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn identity(&self) -> Identity {
        let group = match self.api_version().split_once('/') {
            Some((group, _)) => group,
            None => "",
        };
        Identity {
            group: group.into(),
            kind: self.kind().into(),
            namespace: self.service.namespace.as_str().into(),
            name: self.name.clone(),
        }
    }

    /// The object as a tree of borrowed strings, in canonical order.
    pub fn node(&self) -> Node<'_> {
        let service = &*self.service;
        let mut labels = vec![(LABEL_MANAGED_BY, Node::Str(MANAGED_BY))];
        if let Some(class) = &service.proxy_class {
            labels.push((LABEL_PROXY_CLASS, Node::Str(class)));
        }
        // In key order, which canonical form sorts them into.
        let mut annotations = Vec::with_capacity(3);
        if self.backing.is_some() {
            annotations.push((ANNOTATION_HOSTNAME, Node::Str(&service.hostname)));
        }
        if let Some(group) = &service.proxy_group {
            annotations.push((ANNOTATION_PROXY_GROUP, Node::Str(group)));
        }
        if !service.tags.is_empty() {
            annotations.push((ANNOTATION_TAGS, Node::Str(&self.tags)));
        }
        let mut metadata = vec![
            ("name", Node::Str(&self.name)),
            ("namespace", Node::Str(&service.namespace)),
            ("labels", Node::Map(labels)),
        ];
        // The Ingress template prints annotations only when there are some.
        if self.backing.is_some() || !annotations.is_empty() {
            metadata.push(("annotations", Node::Map(annotations)));
        }
        let spec = match &self.backing {
            Some(backing) => direct_spec(backing),
            None => ingress_spec(service),
        };
        Node::Map(vec![
            ("apiVersion", Node::Str(self.api_version())),
            ("kind", Node::Str(self.kind())),
            ("metadata", Node::Map(metadata)),
            ("spec", Node::Map(spec)),
        ])
    }

    /// The object as JSON, for what changes or keeps it.
    pub fn to_value(&self) -> Value {
        View::of(&self.node()).to_value()
    }
}

fn port(port: &PortRef) -> Node<'_> {
    match port {
        PortRef::Number(n) => Node::Int(u64::from(*n)),
        PortRef::Name(name) => Node::Str(name),
    }
}

fn direct_spec(backing: &Backing) -> Vec<(&str, Node<'_>)> {
    let mut spec = Vec::with_capacity(6);
    spec.push(("type", Node::Str("LoadBalancer")));
    spec.push(("loadBalancerClass", Node::Str(LOAD_BALANCER_CLASS)));
    // The template prints these only when set and not empty.
    for key in ["ipFamilyPolicy", "ipFamilies"] {
        if let Some((key, value)) = backing.ip.get_key_value(key).filter(|(_, v)| truthy(v)) {
            spec.push((key.as_str(), Node::Json(value)));
        }
    }
    let selector = backing
        .selector
        .iter()
        .map(|(k, v)| (k, Node::Str(v)))
        .collect();
    spec.push(("selector", Node::Map(selector)));
    let ports = backing
        .ports
        .iter()
        .map(|p| {
            let mut entries = Vec::with_capacity(4);
            if let Some(name) = &p.name {
                entries.push(("name", Node::Str(name)));
            }
            entries.push(("port", Node::Int(u64::from(p.port))));
            entries.push(("targetPort", port(&p.target)));
            entries.push(("protocol", Node::Str("TCP")));
            Node::Map(entries)
        })
        .collect();
    spec.push(("ports", Node::List(ports)));
    spec
}

fn ingress_spec(service: &Service) -> Vec<(&str, Node<'_>)> {
    let backend_port = match service.backend.port() {
        PortRef::Number(n) => ("number", Node::Int(u64::from(*n))),
        PortRef::Name(name) => ("name", Node::Str(name)),
    };
    let backend = Node::Map(vec![(
        "service",
        Node::Map(vec![
            ("name", Node::Str(&service.backend.name)),
            ("port", Node::Map(vec![backend_port])),
        ]),
    )]);
    let path = Node::Map(vec![
        ("path", Node::Str("/")),
        ("pathType", Node::Str("Prefix")),
        ("backend", backend),
    ]);
    let rule = Node::Map(vec![(
        "http",
        Node::Map(vec![("paths", Node::List(vec![path]))]),
    )]);
    vec![
        ("ingressClassName", Node::Str(INGRESS_CLASS)),
        (
            "tls",
            Node::List(vec![Node::Map(vec![(
                "hosts",
                Node::List(vec![Node::Str(&service.hostname)]),
            )])]),
        ),
        ("rules", Node::List(vec![rule])),
    ]
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
