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

pub use crate::claims::{Role, role};
use crate::manifest::Identity;

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
                group: id.group.into_string(),
                kind: id.kind.into_string(),
                name: id.name.into_string(),
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
