//! What the Tailscale operator writes on user objects, as one table, and the
//! Argo CD `ignoreDifferences` and sync options that follow from it
//! (DESIGN promise 3).
//!
//! Facts (operator v1.80–v1.90): on user Services and Ingresses it writes a
//! finalizer and `status`; on egress Services also `spec.externalName`, and
//! on standalone egress Services `spec.type` and `spec.selector`. It never
//! adds labels or annotations. Every write is a plain PUT.

use serde::Serialize;
use serde_json::Value;

use crate::expose::{
    ANNOTATION_EXPOSE, ANNOTATION_PROXY_GROUP, INGRESS_CLASS, LOAD_BALANCER_CLASS,
};
use crate::manifest::{Identity, string_at as text};

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

/// One row of the table: what the operator writes for a role, as JSON
/// pointers, and why.
pub struct Rule {
    pub role: Role,
    pub pointers: &'static [&'static str],
    pub writes: &'static str,
}

pub const TABLE: &[Rule] = &[
    Rule {
        role: Role::ServiceIngress,
        pointers: &["/status", "/metadata/finalizers"],
        writes: "finalizer tailscale.com/finalizer (tailscale.com/service-pg-finalizer with a ProxyGroup); status conditions and status.loadBalancer",
    },
    Rule {
        role: Role::EgressProxyGroup,
        pointers: &["/status", "/metadata/finalizers", "/spec/externalName"],
        writes: "finalizer; spec.externalName (the ProxyGroup's Service); egress status conditions",
    },
    Rule {
        role: Role::EgressStandalone,
        pointers: &[
            "/status",
            "/metadata/finalizers",
            "/spec/externalName",
            "/spec/type",
            "/spec/selector",
        ],
        writes: "finalizer; spec.type ExternalName, spec.externalName (the proxy's Service), spec.selector removed; status conditions",
    },
    Rule {
        role: Role::Ingress,
        pointers: &["/status", "/metadata/finalizers"],
        writes: "finalizer tailscale.com/finalizer (tailscale.com/ingress-pg-finalizer with a ProxyGroup); status.loadBalancer",
    },
];

/// The sync options the entries need: the first makes syncs keep the live
/// values of ignored fields; the second is what makes that predictable.
pub const SYNC_OPTIONS: &[&str] = &["RespectIgnoreDifferences=true", "ServerSideApply=true"];

/// Annotations that make a Service an egress proxy to a tailnet target
/// (`ts-tailnet-target-ip` is the deprecated spelling still read).
pub const EGRESS_ANNOTATIONS: &[&str] = &[
    "tailscale.com/tailnet-fqdn",
    "tailscale.com/tailnet-ip",
    "tailscale.com/ts-tailnet-target-ip",
];

/// An egress Service: it names a tailnet target instead of exposing pods.
pub fn is_egress(object: &Value) -> bool {
    object["metadata"]["annotations"]
        .as_object()
        .is_some_and(|a| EGRESS_ANNOTATIONS.iter().any(|k| a.contains_key(*k)))
}

/// The operator's role for an object, if it has one.
pub fn role(object: &Value) -> Option<Role> {
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
            let exposed = text(object, &["metadata", "annotations", ANNOTATION_EXPOSE])
                == Some("true")
                || text(object, &["spec", "loadBalancerClass"]) == Some(LOAD_BALANCER_CLASS);
            exposed.then_some(Role::ServiceIngress)
        }
        "Ingress" => (text(object, &["spec", "ingressClassName"]) == Some(INGRESS_CLASS))
            .then_some(Role::Ingress),
        _ => None,
    }
}

pub fn rule(role: Role) -> &'static Rule {
    TABLE
        .iter()
        .find(|r| r.role == role)
        .expect("every role has a rule")
}

/// One `spec.ignoreDifferences` entry, naming one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
    pub json_pointers: Vec<String>,
}

/// The entries for the objects a run renders, in output order. Objects
/// without a namespace get `default_namespace` (Argo CD's destination), when
/// known.
pub fn ignore_differences(
    objects: &[Value],
    default_namespace: Option<&str>,
) -> Vec<IgnoreDifference> {
    objects
        .iter()
        .filter_map(|object| {
            let rule = rule(role(object)?);
            let id = Identity::of(object);
            Some(IgnoreDifference {
                namespace: id
                    .namespace_or(default_namespace.unwrap_or_default())
                    .to_string(),
                group: id.group,
                kind: id.kind,
                name: id.name,
                json_pointers: rule.pointers.iter().map(|p| p.to_string()).collect(),
            })
        })
        .collect()
}

/// What an Application needs: the entries and the sync options.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snippet {
    pub ignore_differences: Vec<IgnoreDifference>,
    pub sync_policy: SyncPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    pub sync_options: Vec<String>,
}

pub fn snippet(objects: &[Value], default_namespace: Option<&str>) -> Snippet {
    let entries = ignore_differences(objects, default_namespace);
    let sync_options = if entries.is_empty() {
        Vec::new()
    } else {
        SYNC_OPTIONS.iter().map(|s| s.to_string()).collect()
    };
    Snippet {
        ignore_differences: entries,
        sync_policy: SyncPolicy { sync_options },
    }
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
        let egress = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/tailnet-fqdn": "db.x.ts.net"}}});
        let egress_pg = json!({"kind": "Service", "metadata": {"name": "a", "annotations": {"tailscale.com/tailnet-ip": "100.64.0.1", "tailscale.com/proxy-group": "eg"}}});
        let ingress = json!({"kind": "Ingress", "metadata": {"name": "a"}, "spec": {"ingressClassName": "tailscale"}});
        assert_eq!(role(&lb), Some(Role::ServiceIngress));
        assert_eq!(role(&expose), Some(Role::ServiceIngress));
        assert_eq!(role(&plain), None, "only exactly \"true\" exposes");
        assert_eq!(role(&egress), Some(Role::EgressStandalone));
        assert_eq!(role(&egress_pg), Some(Role::EgressProxyGroup));
        assert_eq!(role(&ingress), Some(Role::Ingress));
    }

    #[test]
    fn entries_name_each_object_and_egress_gets_external_name() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "t-ts-lb", "namespace": "t"}, "spec": {"loadBalancerClass": "tailscale"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "annotations": {"tailscale.com/tailnet-fqdn": "db.x.ts.net", "tailscale.com/proxy-group": "eg"}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        ];
        let s = snippet(&objects, Some("apps"));
        assert_eq!(s.ignore_differences.len(), 2);
        assert_eq!(s.ignore_differences[0].name, "t-ts-lb");
        assert_eq!(
            s.ignore_differences[0].json_pointers,
            ["/status", "/metadata/finalizers"]
        );
        assert_eq!(s.ignore_differences[1].namespace, "apps");
        assert!(
            s.ignore_differences[1]
                .json_pointers
                .contains(&"/spec/externalName".to_string())
        );
        assert_eq!(s.sync_policy.sync_options, SYNC_OPTIONS);
    }
}
