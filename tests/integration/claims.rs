//! A claims checker written for the tests alone, from the operator facts in
//! shared/reference (not from the plugin's gate), held against every golden
//! output: one claim per tailnet hostname, exposures that reach only the
//! pods of the backend the values name, and targetPorts the reached
//! containers declare.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{cases, runnable};

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

fn namespace_of(o: &Value) -> &str {
    text(o, &["metadata", "namespace"]).unwrap_or("")
}

/// The hostname an object makes the operator claim, if any.
pub fn claimed_hostname(o: &Value) -> Option<String> {
    let kind = text(o, &["kind"])?;
    let name = text(o, &["metadata", "name"])?;
    let ns = namespace_of(o);
    let annotations = o["metadata"]["annotations"].as_object();
    let annotation = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_str);
    if kind == "Service" {
        let egress = annotation("tailscale.com/tailnet-fqdn").is_some()
            || annotation("tailscale.com/tailnet-ip").is_some();
        let headless = text(o, &["spec", "clusterIP"]) == Some("None");
        let lb = text(o, &["spec", "loadBalancerClass"]) == Some("tailscale");
        let expose = annotation("tailscale.com/expose") == Some("true") && !headless;
        if egress || !(lb || expose) {
            return None;
        }
        return Some(
            annotation("tailscale.com/hostname")
                .map(str::to_string)
                .unwrap_or(format!("{ns}-{name}")),
        );
    }
    if kind == "Ingress" && text(o, &["spec", "ingressClassName"]) == Some("tailscale") {
        return Some(match o["spec"]["tls"][0]["hosts"][0].as_str() {
            Some(host) => host.split('.').next().unwrap_or_default().to_string(),
            None => format!("{ns}-{name}-ingress"),
        });
    }
    None
}

fn pod_labels(o: &Value) -> Option<&serde_json::Map<String, Value>> {
    let template = match text(o, &["kind"])? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => &o["spec"]["template"],
        "Pod" => o,
        _ => return None,
    };
    let hook = o["metadata"]["annotations"]
        .as_object()
        .is_some_and(|a| a.contains_key("helm.sh/hook"));
    if hook {
        return None;
    }
    template["metadata"]["labels"].as_object()
}

/// Long-running workloads in `ns` whose pods carry all of `selector`.
fn reached<'a>(objects: &'a [Value], ns: &str, selector: &Value) -> Vec<&'a Value> {
    let Some(selector) = selector.as_object().filter(|s| !s.is_empty()) else {
        return Vec::new();
    };
    objects
        .iter()
        .filter(|o| namespace_of(o) == ns || namespace_of(o).is_empty())
        .filter(|o| {
            pod_labels(o)
                .is_some_and(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
        })
        .collect()
}

fn service<'a>(objects: &'a [Value], ns: &str, name: &str) -> Option<&'a Value> {
    objects.iter().find(|o| {
        text(o, &["kind"]) == Some("Service")
            && text(o, &["metadata", "name"]) == Some(name)
            && (namespace_of(o) == ns || namespace_of(o).is_empty())
    })
}

/// Which backend Service each exposing Service of the output must stay
/// within, from the values file: `<key>-ts-lb` and an annotated backend
/// answer to `services.<key>.backend.name`.
fn backends(values: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let default_ns = text(values, &["defaults", "namespace"]).unwrap_or_default();
    for (key, s) in values["services"].as_object().into_iter().flatten() {
        let ns = text(s, &["namespace"]).unwrap_or(default_ns).to_string();
        let Some(backend) = text(s, &["backend", "name"]) else {
            continue;
        };
        out.insert((ns.clone(), format!("{key}-ts-lb")), backend.to_string());
        out.insert((ns, backend.to_string()), backend.to_string());
    }
    out
}

/// Everything wrong with one output stream, as sentences.
pub fn conflicts(objects: &[Value], values: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in objects {
        if let Some(host) = claimed_hostname(o) {
            let who = format!("{} {}", o["kind"], o["metadata"]["name"]);
            hosts
                .entry(host.to_ascii_lowercase())
                .or_default()
                .push(who);
        }
    }
    for (host, who) in hosts.iter().filter(|(_, w)| w.len() > 1) {
        problems.push(format!("hostname {host} claimed by {who:?}"));
    }
    let backends = backends(values);
    let mut exposed: BTreeMap<String, usize> = BTreeMap::new();
    for o in objects {
        if claimed_hostname(o).is_none() || text(o, &["kind"]) != Some("Service") {
            continue;
        }
        let ns = namespace_of(o);
        let name = text(o, &["metadata", "name"]).unwrap_or_default();
        let pods = reached(objects, ns, &o["spec"]["selector"]);
        for p in &pods {
            *exposed
                .entry(format!("{ns}/{}", p["metadata"]["name"]))
                .or_default() += 1;
        }
        let Some(backend_name) = backends.get(&(ns.to_string(), name.to_string())) else {
            problems.push(format!(
                "{ns}/{name} is exposed, but no service in the values names it"
            ));
            continue;
        };
        // Without the chart's manifests there is nothing to hold it against.
        let Some(backend) = service(objects, ns, backend_name) else {
            continue;
        };
        let allowed = reached(objects, ns, &backend["spec"]["selector"]);
        let has_workloads = objects
            .iter()
            .any(|o| pod_labels(o).is_some() && namespace_of(o) == ns);
        if !has_workloads {
            continue;
        }
        if pods.is_empty() {
            problems.push(format!("{ns}/{name} reaches no pod"));
        }
        for p in &pods {
            if !allowed.iter().any(|a| std::ptr::eq(*a, *p)) {
                problems.push(format!(
                    "{ns}/{name} reaches {}, which its backend does not select",
                    p["metadata"]["name"]
                ));
            }
        }
        let container_ports: Vec<Value> = pods
            .iter()
            .flat_map(|p| {
                let spec = if p["kind"] == "Pod" {
                    &p["spec"]
                } else {
                    &p["spec"]["template"]["spec"]
                };
                spec["containers"].as_array().cloned().unwrap_or_default()
            })
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .collect();
        let declared: Vec<u64> = container_ports
            .iter()
            .filter_map(|port| port["containerPort"].as_u64())
            .collect();
        let names: Vec<String> = container_ports
            .iter()
            .filter_map(|port| port["name"].as_str().map(str::to_string))
            .collect();
        if declared.is_empty() {
            continue;
        }
        for port in o["spec"]["ports"].as_array().into_iter().flatten() {
            let target = port.get("targetPort").unwrap_or(&port["port"]);
            let ok = match target {
                Value::Number(n) => n.as_u64().is_some_and(|n| declared.contains(&n)),
                Value::String(s) => names.contains(s),
                _ => false,
            };
            if !ok {
                problems.push(format!(
                    "{ns}/{name} forwards to {target}, which nobody declares"
                ));
            }
        }
    }
    for (pod, count) in exposed.iter().filter(|(_, c)| **c > 1) {
        problems.push(format!("{pod} is exposed {count} times"));
    }
    problems
}

fn values_of(dir: &Path) -> Value {
    let text = fs::read_to_string(dir.join("values.yaml")).unwrap_or_default();
    let name = std::sync::Arc::from("values.yaml");
    argocd_tailscale_plugin::yaml::parse_single(&text, &name)
        .ok()
        .flatten()
        .and_then(|node| node.to_json().ok())
        .unwrap_or(Value::Null)
}

#[test]
fn every_golden_output_keeps_one_claim_per_hostname_and_the_right_pods_and_ports() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in cases("cases") {
        if !runnable(&dir) {
            continue;
        }
        let text = fs::read_to_string(dir.join("expected.yaml")).unwrap();
        let objects = argocd_tailscale_plugin::yaml11::read(&text).unwrap();
        for problem in conflicts(&objects, &values_of(&dir)) {
            failures.push(format!("{}: {problem}", dir.display()));
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} cases checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_checker_finds_the_story_conflicts_it_is_meant_to_find() {
    let proxy = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "proxy", "namespace": "t"}, "spec": {"template": {"metadata": {"labels": {"app": "t", "component": "proxy"}}, "spec": {"containers": [{"ports": [{"name": "tls", "containerPort": 3080}]}]}}}});
    let auth = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "auth", "namespace": "t"}, "spec": {"template": {"metadata": {"labels": {"app": "t", "component": "auth"}}, "spec": {"containers": [{"ports": [{"containerPort": 3025}]}]}}}});
    let backend = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "t", "namespace": "t"}, "spec": {"selector": {"app": "t", "component": "proxy"}, "ports": [{"port": 443, "targetPort": 3080}]}});
    let ts_lb = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "t-ts-lb", "namespace": "t", "annotations": {"tailscale.com/hostname": "t"}}, "spec": {"type": "LoadBalancer", "loadBalancerClass": "tailscale", "selector": {"app": "t"}, "ports": [{"port": 443, "targetPort": 443}]}});
    let values =
        serde_json::json!({"services": {"t": {"namespace": "t", "backend": {"name": "t"}}}});
    let problems = conflicts(&[proxy, auth, backend, ts_lb], &values);
    assert!(problems.iter().any(|p| p.contains("auth")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("443")), "{problems:?}");
}
