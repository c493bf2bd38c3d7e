//! The claims model: what the Tailscale operator turns into a device (or a
//! Tailscale Service) and which pods each exposure reaches.
//!
//! One place answers these questions for every caller: the backend resolver
//! (which pods and ports a generated Service gets), the split (what to strip)
//! and the gate (what the final stream claims). Objects are plain JSON
//! values, as in kube-rs' object model, so nothing here needs a cluster.

use std::collections::BTreeSet;

use compact_str::CompactString;
use serde_json::Value;

use crate::labels::Labels;
use crate::manifest::at;
use crate::view::View;

// The keys the operator reads (reference/tailscale-operator.md §1).
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

/// How the operator treats an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Service exposed to the tailnet (LoadBalancer class or `expose`).
    ServiceIngress,
    /// An egress Service via a ProxyGroup (ExternalName + `proxy-group`).
    EgressProxyGroup,
    /// A standalone egress Service (`tailnet-fqdn` / `tailnet-ip`).
    EgressStandalone,
    /// An Ingress of class `tailscale`.
    Ingress,
}

/// Annotations that make a Service an egress proxy to a tailnet target
/// (`ts-tailnet-target-ip` is the deprecated spelling still read).
pub const EGRESS_ANNOTATIONS: &[&str] = &[
    "tailscale.com/tailnet-fqdn",
    "tailscale.com/tailnet-ip",
    "tailscale.com/ts-tailnet-target-ip",
];

/// The string at `path` inside an object, if there is one.
fn text<'a>(object: View<'a>, path: &[&str]) -> Option<&'a str> {
    object.at(path).as_str()
}

/// An egress Service: it names a tailnet target instead of exposing pods.
pub fn is_egress<'a>(object: impl Into<View<'a>>) -> bool {
    let annotations = object.into().at(&["metadata", "annotations"]);
    annotations.is_map()
        && EGRESS_ANNOTATIONS
            .iter()
            .any(|k| !annotations.get(k).is_missing())
}

pub fn is_headless<'a>(object: impl Into<View<'a>>) -> bool {
    text(object.into(), &["spec", "clusterIP"]) == Some("None")
}

pub fn is_tailscale_load_balancer<'a>(object: impl Into<View<'a>>) -> bool {
    text(object.into(), &["spec", "loadBalancerClass"]) == Some(LOAD_BALANCER_CLASS)
}

/// The operator's role for an object, if it has one. `expose` counts only
/// as exactly `"true"` (the operator compares strings); a headless Service
/// is ignored by the operator, so it claims nothing.
pub fn role<'a>(object: impl Into<View<'a>>) -> Option<Role> {
    let object = object.into();
    match text(object, &["kind"])? {
        "Service" if is_egress(object) => {
            let via_group = text(object, &["metadata", "annotations", ANNOTATION_PROXY_GROUP])
                .is_some_and(|g| !g.is_empty());
            Some(if via_group {
                Role::EgressProxyGroup
            } else {
                Role::EgressStandalone
            })
        }
        "Service" => {
            let exposed = (text(object, &["metadata", "annotations", ANNOTATION_EXPOSE])
                == Some("true")
                && !is_headless(object))
                || is_tailscale_load_balancer(object);
            exposed.then_some(Role::ServiceIngress)
        }
        "Ingress" => (text(object, &["spec", "ingressClassName"]) == Some(INGRESS_CLASS))
            .then_some(Role::Ingress),
        _ => None,
    }
}

/// The JSON pointers whose values make an object a claim, for pointing a
/// finding at the patch that set them.
pub const CLAIM_POINTERS: &[&str] = &[
    "/metadata/annotations/tailscale.com~1expose",
    "/metadata/annotations/tailscale.com~1hostname",
    "/spec/loadBalancerClass",
    "/spec/type",
    "/spec/ingressClassName",
    "/spec/tls",
    "/metadata/name",
    "/metadata/namespace",
];

/// Where a claimed hostname comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostnameSource {
    /// `tailscale.com/hostname` on a Service.
    Annotation,
    /// The first label of an Ingress's `tls[0].hosts[0]`.
    TlsHost,
    /// The operator's default (`<namespace>-<name>`, `-ingress` for Ingresses).
    Default,
}

/// A tailnet hostname an object claims, as the operator would derive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Inline: the gate keeps one claim per exposure of the stream.
    pub hostname: CompactString,
    pub source: HostnameSource,
}

impl Claim {
    /// MagicDNS names are case-insensitive.
    pub fn key(&self) -> CompactString {
        let mut key = self.hostname.clone();
        key.make_ascii_lowercase();
        key
    }
}

/// An Ingress's TLS host: `tls[0].hosts[0]`.
pub fn tls_host(object: View<'_>) -> Option<&str> {
    object
        .at(&["spec", "tls"])
        .index(0)
        .get("hosts")
        .index(0)
        .as_str()
}

/// The hostname an object claims on the tailnet, if the operator would give
/// it a device (egress Services point at the tailnet and claim nothing).
/// `default_namespace` stands in for objects that leave theirs to Argo CD.
pub fn claim<'a>(object: impl Into<View<'a>>, default_namespace: &str) -> Option<Claim> {
    let object = object.into();
    claim_as(object, role(object)?, default_namespace)
}

/// [`claim`] for an object whose role is known.
pub fn claim_as(object: View<'_>, role: Role, default_namespace: &str) -> Option<Claim> {
    // Only the default hostname needs the object's name and namespace.
    let default = |suffix: &str| {
        let namespace = text(object, &["metadata", "namespace"])
            .filter(|ns| !ns.is_empty())
            .unwrap_or(default_namespace);
        let name = text(object, &["metadata", "name"]).unwrap_or_default();
        Claim {
            hostname: compact_str::format_compact!("{namespace}-{name}{suffix}"),
            source: HostnameSource::Default,
        }
    };
    match role {
        Role::ServiceIngress => Some(
            match text(object, &["metadata", "annotations", ANNOTATION_HOSTNAME]) {
                Some(h) => Claim {
                    hostname: h.into(),
                    source: HostnameSource::Annotation,
                },
                None => default(""),
            },
        ),
        Role::Ingress => Some(match tls_host(object) {
            Some(h) => Claim {
                hostname: h.split('.').next().unwrap_or(h).into(),
                source: HostnameSource::TlsHost,
            },
            None => default("-ingress"),
        }),
        Role::EgressProxyGroup | Role::EgressStandalone => None,
    }
}

/// Kinds whose pods a Service selector can match, and where their pod
/// template lives.
pub fn pod_template<'a>(object: impl Into<View<'a>>) -> Option<View<'a>> {
    let object = object.into();
    let template = match object.get("kind").as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            object.at(&["spec", "template"])
        }
        "CronJob" => object.at(&["spec", "jobTemplate", "spec", "template"]),
        "Pod" => object,
        _ => return None,
    };
    (!template.is_missing()).then_some(template)
}

fn pod_labels(workload: View<'_>) -> Option<View<'_>> {
    let labels = pod_template(workload)?.at(&["metadata", "labels"]);
    labels.is_map().then_some(labels)
}

/// A map of strings (a selector, labels), or `None` when it is not one.
pub fn string_map<'a>(value: impl Into<View<'a>>) -> Option<Labels> {
    let value = value.into();
    if !value.is_map() {
        return None;
    }
    value
        .entries()
        .map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
        .collect()
}

/// Whether an object sits in `namespace`. Charts often leave the namespace
/// to Argo CD's destination, so an object without one is in every namespace.
pub fn in_namespace<'a>(object: impl Into<View<'a>>, namespace: &str) -> bool {
    match text(object.into(), &["metadata", "namespace"]) {
        Some(ns) if !ns.is_empty() => ns == namespace,
        _ => true,
    }
}

/// The index of the core Service `name` in `namespace` among `objects`.
pub fn find_service<'a>(
    objects: impl IntoIterator<Item = &'a Value>,
    namespace: &str,
    name: &str,
) -> Option<usize> {
    objects.into_iter().position(|o| {
        at(o, &["kind"]) == "Service"
            && at(o, &["apiVersion"]) == "v1"
            && at(o, &["metadata", "name"]) == name
            && in_namespace(o, namespace)
    })
}

/// A Helm or Argo CD hook (a test Pod, a pre-install Job): it runs for a
/// moment around a sync and serves no traffic, so it is no workload an
/// exposure is about.
pub fn is_hook<'a>(object: impl Into<View<'a>>) -> bool {
    let annotations = object.into().at(&["metadata", "annotations"]);
    !annotations.get("helm.sh/hook").is_missing()
        || !annotations.get("argocd.argoproj.io/hook").is_missing()
}

/// Whether the pods of `workload` carry every label of `selector`.
pub fn selects<'a>(workload: impl Into<View<'a>>, selector: &Labels) -> bool {
    pod_labels(workload.into()).is_some_and(|labels| {
        selector
            .iter()
            .all(|(k, v)| labels.get(k).as_str() == Some(v))
    })
}

/// Indexes of the workloads in `namespace` whose pods carry every label of
/// `selector`, hooks left out. An empty selector matches nothing here: a
/// Service without a selector has no endpoints the operator could reach.
pub fn matching_workloads<'a, V: Into<View<'a>>>(
    objects: impl IntoIterator<Item = V>,
    namespace: &str,
    selector: &Labels,
) -> Vec<usize> {
    if selector.is_empty() {
        return Vec::new();
    }
    objects
        .into_iter()
        .map(Into::into)
        .enumerate()
        .filter(|&(_, o)| in_namespace(o, namespace) && !is_hook(o) && selects(o, selector))
        .map(|(i, _)| i)
        .collect()
}

/// Whether `objects` hold any workload in `namespace`: without one, what a
/// selector reaches cannot be known from the files.
pub fn has_workloads<'a>(objects: impl IntoIterator<Item = &'a Value>, namespace: &str) -> bool {
    objects
        .into_iter()
        .any(|o| pod_template(o).is_some() && in_namespace(o, namespace))
}

/// The `app.kubernetes.io/component` of a workload's pods ("" when unset).
pub fn component<'a>(workload: impl Into<View<'a>>) -> &'a str {
    pod_labels(workload.into())
        .and_then(|l| l.get("app.kubernetes.io/component").as_str())
        .unwrap_or("")
}

/// How a component is shown in messages.
pub fn shown_component(component: &str) -> String {
    if component.is_empty() {
        "(none)".into()
    } else {
        format!("{component:?}")
    }
}

/// One port a container declares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub number: u64,
}

impl std::fmt::Display for ContainerPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} {}", self.number),
            None => write!(f, "{}", self.number),
        }
    }
}

/// Every port the containers of a workload's pods declare.
pub fn container_ports<'a>(workload: impl Into<View<'a>>) -> Vec<ContainerPort> {
    let Some(pod) = pod_template(workload) else {
        return Vec::new();
    };
    pod.at(&["spec", "containers"])
        .items()
        .flat_map(|c| c.get("ports").items())
        .filter_map(|p| {
            Some(ContainerPort {
                name: p.get("name").as_str().map(str::to_string),
                number: p.get("containerPort").as_u64()?,
            })
        })
        .collect()
}

/// Whether a Service's `targetPort` (a number or a port name) is one of `ports`.
pub fn target_declared<'a>(target: impl Into<View<'a>>, ports: &[ContainerPort]) -> bool {
    let target = target.into();
    if target.is_number() {
        return ports.iter().any(|p| Some(p.number) == target.as_u64());
    }
    match target.as_str() {
        Some(name) => ports.iter().any(|p| p.name.as_deref() == Some(name)),
        None => true,
    }
}

/// The Services an Ingress sends traffic to: its default backend and every
/// path's backend.
pub fn ingress_backends(object: View<'_>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Some(name) = object
        .at(&["spec", "defaultBackend", "service", "name"])
        .as_str()
    {
        names.insert(name.to_string());
    }
    for rule in object.at(&["spec", "rules"]).items() {
        for path in rule.at(&["http", "paths"]).items() {
            if let Some(name) = path.at(&["backend", "service", "name"]).as_str() {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_follow_what_the_operator_reads() {
        let lb = json!({"kind": "Service", "metadata": {"name": "a"}, "spec": {"loadBalancerClass": "tailscale"}});
        let expose = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/expose": "true"}}});
        let plain = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/expose": "True"}}});
        let headless = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/expose": "true"}}, "spec": {"clusterIP": "None"}});
        let egress = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/tailnet-fqdn": "db.x.ts.net"}}});
        let egress_pg = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/tailnet-ip": "100.64.0.1", "tailscale.com/proxy-group": "eg"}}});
        let ingress = json!({"kind": "Ingress", "metadata": {"name": "a"}, "spec": {"ingressClassName": "tailscale"}});
        assert_eq!(role(&lb), Some(Role::ServiceIngress));
        assert_eq!(role(&expose), Some(Role::ServiceIngress));
        assert_eq!(role(&plain), None, "only exactly \"true\" exposes");
        assert_eq!(
            role(&headless),
            None,
            "the operator ignores headless Services"
        );
        assert_eq!(role(&egress), Some(Role::EgressStandalone));
        assert_eq!(role(&egress_pg), Some(Role::EgressProxyGroup));
        assert_eq!(role(&ingress), Some(Role::Ingress));
    }

    #[test]
    fn claims_use_the_operator_defaults() {
        let service = json!({"kind": "Service", "metadata": {"name": "web"}, "spec": {"loadBalancerClass": "tailscale"}});
        assert_eq!(claim(&service, "apps").unwrap().hostname, "apps-web");
        let ingress = json!({"kind": "Ingress", "metadata": {"name": "web", "namespace": "n"}, "spec": {"ingressClassName": "tailscale", "tls": [{"hosts": ["Grafana.example.ts.net"]}]}});
        let c = claim(&ingress, "").unwrap();
        assert_eq!(
            (c.hostname.as_str(), c.key()),
            ("Grafana", "grafana".into())
        );
        let bare = json!({"kind": "Ingress", "metadata": {"name": "web", "namespace": "n"}, "spec": {"ingressClassName": "tailscale"}});
        assert_eq!(claim(&bare, "").unwrap().hostname, "n-web-ingress");
    }

    #[test]
    fn selectors_reach_workloads_in_their_namespace() {
        let objects = [
            json!({"kind": "Deployment", "metadata": {"name": "p", "namespace": "t"}, "spec": {"template": {"metadata": {"labels": {"app": "x", "app.kubernetes.io/component": "proxy"}}, "spec": {"containers": [{"ports": [{"name": "tls", "containerPort": 3080}]}]}}}}),
            json!({"kind": "Deployment", "metadata": {"name": "a", "namespace": "other"}, "spec": {"template": {"metadata": {"labels": {"app": "x"}}}}}),
        ];
        let selector = Labels::from_iter([("app", "x")]);
        assert_eq!(matching_workloads(&objects, "t", &selector), [0]);
        assert!(matching_workloads(&objects, "t", &Labels::default()).is_empty());
        assert_eq!(component(&objects[0]), "proxy");
        let ports = container_ports(&objects[0]);
        assert!(target_declared(&json!("tls"), &ports));
        assert!(target_declared(&json!(3080), &ports));
        assert!(!target_declared(&json!(443), &ports));
    }
}
