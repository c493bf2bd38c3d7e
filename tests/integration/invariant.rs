//! The gate's invariant on random worlds: random catalogs against random
//! upstream objects (components, their Services, exposure the chart put on
//! them, Ingresses of class tailscale) and random patches. Whenever
//! `generate` succeeds, the test-only claims checker (written apart from the
//! gate) finds no conflict, and `check` on the same inputs reports no error.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};

use argocd_tailscale_plugin::apps;
use argocd_tailscale_plugin::check::{self, Extra};
use argocd_tailscale_plugin::diagnostic::Severity;
use argocd_tailscale_plugin::generate::Request;
use argocd_tailscale_plugin::repo::Repo;
use argocd_tailscale_plugin::values::Source;
use argocd_tailscale_plugin::yaml;

use crate::claims::conflicts;

const COMPONENTS: &[&str] = &["proxy", "auth", "web"];
/// Few hostnames, so that claims collide often.
const HOSTNAMES: &[&str] = &["teleport", "web", "auth", "ns-app-proxy"];

#[derive(Debug, Clone)]
struct Upstream {
    /// Per component: exposure the chart puts on its Service (none,
    /// `expose`, LoadBalancer class), with a hostname.
    exposure: Vec<(u8, usize)>,
    /// An Ingress of class tailscale: (backend component, hostname).
    ingress: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct Wanted {
    backend: usize,
    mode: u8,
    hostname: usize,
    /// 0 none, 1 the backend's own, 2 narrowed, 3 another component's.
    selector: u8,
    /// 0 none, 1 the right one, 2 a wrong one.
    target_port: u8,
}

fn upstream() -> impl Strategy<Value = Upstream> {
    (
        proptest::collection::vec((0u8..3, 0..HOSTNAMES.len()), COMPONENTS.len()),
        proptest::option::of((0..COMPONENTS.len(), 0..HOSTNAMES.len())),
    )
        .prop_map(|(exposure, ingress)| Upstream { exposure, ingress })
}

fn wanted() -> impl Strategy<Value = Wanted> {
    (
        0..COMPONENTS.len(),
        0u8..3,
        0..HOSTNAMES.len(),
        0u8..4,
        0u8..3,
    )
        .prop_map(|(backend, mode, hostname, selector, target_port)| Wanted {
            backend,
            mode,
            hostname,
            selector,
            target_port,
        })
}

/// A patch: (kind of change, component it aims at, hostname).
fn patch() -> impl Strategy<Value = (u8, usize, usize)> {
    (0u8..6, 0..COMPONENTS.len(), 0..HOSTNAMES.len())
}

fn port(component: usize) -> u64 {
    3000 + component as u64
}

fn manifests(up: &Upstream) -> String {
    let mut objects = Vec::new();
    for (i, c) in COMPONENTS.iter().enumerate() {
        let labels = json!({"app": "app", "component": c});
        let pod_labels = json!({"app": "app", "component": c, "tier": "main"});
        objects.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("app-{c}"), "namespace": "ns"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": pod_labels},
                "spec": {"containers": [{"name": c, "image": "x", "ports": [{"name": format!("p-{c}"), "containerPort": port(i)}]}]}}},
        }));
        let mut service = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("app-{c}"), "namespace": "ns"},
            "spec": {"selector": labels, "ports": [{"name": "main", "port": 443, "targetPort": format!("p-{c}")}]},
        });
        let (how, host) = up.exposure[i];
        match how {
            1 => {
                service["metadata"]["annotations"] = json!({"tailscale.com/expose": "true", "tailscale.com/hostname": HOSTNAMES[host]})
            }
            2 => {
                service["spec"]["type"] = json!("LoadBalancer");
                service["spec"]["loadBalancerClass"] = json!("tailscale");
            }
            _ => {}
        }
        objects.push(service);
    }
    if let Some((backend, host)) = up.ingress {
        objects.push(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "chart-ingress", "namespace": "ns"},
            "spec": {"ingressClassName": "tailscale", "tls": [{"hosts": [HOSTNAMES[host]]}],
                "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": format!("app-{}", COMPONENTS[backend]), "port": {"number": 443}}}}]}}]},
        }));
    }
    objects.iter().map(|o| format!("---\n{o}\n")).collect()
}

fn values(wanted: &[Wanted], patches: &[(u8, usize, usize)]) -> Value {
    let mut services = serde_json::Map::new();
    for (n, w) in wanted.iter().enumerate() {
        let c = COMPONENTS[w.backend];
        let mode = ["direct", "ingress", "annotate"][w.mode as usize];
        let mut s = json!({
            "namespace": "ns", "expose": mode, "hostname": HOSTNAMES[w.hostname],
            "backend": {"name": format!("app-{c}"), "port": 443},
        });
        if mode == "direct" {
            let other = COMPONENTS[(w.backend + 1) % COMPONENTS.len()];
            match w.selector {
                1 => s["selector"] = json!({"app": "app", "component": c}),
                2 => s["selector"] = json!({"app": "app", "component": c, "tier": "main"}),
                3 => s["selector"] = json!({"app": "app", "component": other}),
                _ => {}
            }
            match w.target_port {
                1 => s["targetPort"] = json!(format!("p-{c}")),
                2 => s["targetPort"] = json!(443),
                _ => {}
            }
        }
        services.insert(format!("s{n}"), s);
    }
    let patches: Vec<Value> = patches
        .iter()
        .map(|&(kind, component, host)| {
            let c = COMPONENTS[component];
            let (name, op) = match kind {
                0 => (format!("app-{c}"), json!({"op": "add", "path": "/metadata/annotations", "value": {"tailscale.com/expose": "true", "tailscale.com/hostname": HOSTNAMES[host]}})),
                1 => (format!("app-{c}"), json!({"op": "add", "path": "/spec/loadBalancerClass", "value": "tailscale"})),
                2 => (format!("app-{c}"), json!({"op": "replace", "path": "/spec/selector/component", "value": COMPONENTS[host % COMPONENTS.len()]})),
                3 => (format!("app-{c}"), json!({"op": "add", "path": "/metadata/labels", "value": {"team": "a=b"}})),
                4 => (format!("app-{c}"), json!({"op": "replace", "path": "/spec/ports/0/targetPort", "value": 443})),
                _ => (format!("app-{c}"), json!({"op": "add", "path": "/metadata/labels", "value": {"team": "platform"}})),
            };
            json!({"target": {"kind": "Service", "namespace": "ns", "name": name}, "ops": [op]})
        })
        .collect();
    json!({"services": services, "patches": patches})
}

fn request(values: &Value, upstream: String) -> Request {
    let dir = std::env::temp_dir();
    let repo = Repo::discover(&dir, Some(&dir), None).unwrap();
    let mut request = Request::new(
        vec![Source {
            name: Arc::from("values.yaml"),
            text: yaml::emit(values),
        }],
        repo,
        dir,
    );
    request.upstream = vec![Source {
        name: Arc::from("chart.yaml"),
        text: upstream,
    }];
    request
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn whenever_generate_succeeds_the_independent_checker_and_check_find_nothing(
        up in upstream(),
        wanted in proptest::collection::vec(wanted(), 0..4),
        patches in proptest::collection::vec(patch(), 0..3),
    ) {
        let values = values(&wanted, &patches);
        let request = request(&values, manifests(&up));
        let Ok(output) = apps::generate(&request) else {
            return Ok(());
        };
        let problems = conflicts(&output.objects, &values);
        prop_assert!(problems.is_empty(), "generate succeeded into {problems:?}");
        let findings = check::check(&request, &Extra::default()).unwrap();
        let errors: Vec<_> = findings.iter().filter(|d| d.severity == Severity::Error).collect();
        prop_assert!(errors.is_empty(), "check disagrees: {errors:?}");
    }
}

#[test]
fn the_random_worlds_reach_both_outcomes() {
    // The property is only worth something if the worlds it draws make
    // generate succeed often and fail often.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (
        upstream(),
        proptest::collection::vec(wanted(), 0..4),
        proptest::collection::vec(patch(), 0..3),
    );
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..200 {
        let (up, wanted, patches) = strategy.new_tree(&mut runner).unwrap().current();
        match apps::generate(&request(&values(&wanted, &patches), manifests(&up))) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(
        ok >= 20 && refused >= 20,
        "{ok} succeeded, {refused} refused"
    );
}
