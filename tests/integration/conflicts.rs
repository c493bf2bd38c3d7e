//! Conflict-freedom, simulated: for every golden case, what the operator
//! writes (finalizers, status, egress spec.externalName, from the
//! ownership table) is applied to the rendered objects, and the desired
//! objects are compared with these live ones as Argo CD compares them, with
//! the computed ignoreDifferences masked. The diff must be empty.

use std::fs;
use std::sync::Arc;

use serde_json::{Value, json};

use argocd_tailscale_plugin::diff;
use argocd_tailscale_plugin::ownership::{self, Role};
use argocd_tailscale_plugin::upstream;

use crate::support::{cases, runnable};

/// The object as the cluster holds it once the operator has reconciled it.
fn live(desired: &Value) -> Value {
    let mut object = desired.clone();
    let Some(role) = ownership::role(desired) else {
        return object;
    };
    let name = desired["metadata"]["name"].as_str().unwrap_or("x");
    object["metadata"]["finalizers"] = json!(["tailscale.com/finalizer"]);
    object["status"] = json!({
        "conditions": [{"type": "TailscaleProxyReady", "status": "True", "reason": "ProxyReady"}],
        "loadBalancer": {"ingress": [{"hostname": format!("{name}.example.ts.net"), "ip": "100.64.0.7"}]},
    });
    match role {
        Role::EgressProxyGroup => {
            object["spec"]["externalName"] =
                json!(format!("ts-{name}-abcde.tailscale.svc.cluster.local"))
        }
        Role::EgressStandalone => {
            object["spec"]["type"] = json!("ExternalName");
            object["spec"]["externalName"] =
                json!(format!("ts-{name}-abcde.tailscale.svc.cluster.local"));
            if let Some(spec) = object["spec"].as_object_mut() {
                spec.remove("selector");
            }
        }
        Role::ServiceIngress | Role::Ingress => {}
    }
    // Every write the table names must be covered by the entries, or this
    // simulation proves nothing.
    for pointer in ownership::rule(role).pointers {
        assert!(
            object.pointer(pointer).is_some() || *pointer == "/spec/selector",
            "{pointer} not simulated"
        );
    }
    object
}

#[test]
fn what_the_operator_writes_is_ignored_for_every_golden_case() {
    let mut simulated = 0;
    for dir in cases("cases") {
        if !runnable(&dir) {
            continue;
        }
        let text = fs::read_to_string(dir.join("expected.yaml")).unwrap();
        let desired: Vec<Value> = upstream::read(&text, &Arc::from("expected.yaml"))
            .unwrap()
            .objects
            .into_iter()
            .map(|o| o.value)
            .collect();
        let live: Vec<Value> = desired.iter().map(live).collect();
        if desired != live {
            simulated += 1;
            // Unmasked, the operator's writes are drift …
            assert!(
                !diff::compare(&desired, &live, false).is_empty(),
                "{}",
                dir.display()
            );
        }
        // … masked as Argo CD masks them, there is none.
        let changes = diff::compare(&desired, &live, true);
        assert!(changes.is_empty(), "{}: {:#?}", dir.display(), changes);
    }
    assert!(
        simulated >= 10,
        "only {simulated} cases had operator-owned objects"
    );
}
