//! The gate on the final stream: regression tests named for the findings
//! of issue 10, each run through the real binary.

use std::fs;

use serde_json::Value;

use crate::support::{Test, fake_helm, repo_root, run_in};

fn fixture(name: &str) -> String {
    fs::read_to_string(
        repo_root()
            .join("testdata/fixtures/teleport-cluster")
            .join(name),
    )
    .unwrap()
}

/// The Ingress teleport-cluster renders with `ingress.enabled: true` and
/// `ingress.spec.ingressClassName: tailscale` (templates/proxy/ingress.yaml).
const TELEPORT_INGRESS: &str = "---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: teleport-cluster
  namespace: teleport
  labels: {app.kubernetes.io/name: teleport-cluster, app.kubernetes.io/component: proxy}
spec:
  ingressClassName: tailscale
  tls:
    - hosts: [teleport.example.ts.net]
  rules:
    - host: teleport.example.ts.net
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: teleport-cluster, port: {number: 443}}
";

const DIRECT: &str = "upstream:\n  - file: chart.yaml\nservices:\n  teleport:\n    namespace: teleport\n    expose: direct\n    backend: {name: teleport-cluster, port: 443}\n";

fn teleport(values: &str, chart: &str) -> Test {
    let test = Test::new()
        .write("values.yaml", values)
        .write("chart.yaml", chart);
    fs::create_dir_all(test.path().join(".git")).unwrap();
    test
}

fn check_json(test: &Test) -> (i32, Value) {
    let out = test.run_with(&["check", "-f", "values.yaml", "--format", "json"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    (out.code, serde_json::from_str(&out.stdout).unwrap())
}

fn codes(findings: &Value, severity: &str) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == severity)
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn finding_1_an_upstream_tailscale_ingress_and_a_direct_service_for_one_backend_fail() {
    let chart = fixture("multiplex-clusterip.yaml") + TELEPORT_INGRESS;
    let test = teleport(DIRECT, &chart);
    for args in [
        &["generate", "-f", "values.yaml"][..],
        &["generate", "-f", "values.yaml", "--strict"],
    ] {
        let message = test.run_with(args).failure().to_string();
        assert!(message.contains("[TS001]"), "{message}");
        assert!(message.contains("[TS002]"), "{message}");
        assert!(
            message.contains("chart.yaml:"),
            "names the upstream document: {message}"
        );
        assert!(
            message.contains("turn the chart's Ingress"),
            "two ways out: {message}"
        );
    }
    let (code, findings) = check_json(&test);
    assert_eq!(code, 1);
    let errors = codes(&findings, "error");
    assert!(
        errors.contains(&"TS001".into()) && errors.contains(&"TS002".into()),
        "{errors:?}"
    );
}

#[test]
fn finding_1_an_upstream_tailscale_ingress_without_conflict_passes_through() {
    let chart = fixture("multiplex-clusterip.yaml") + TELEPORT_INGRESS;
    let test = teleport("upstream:\n  - file: chart.yaml\nservices: {}\n", &chart);
    let out = test.run_with(&["generate", "-f", "values.yaml"]);
    assert!(out.success().contains("ingressClassName: tailscale"));
    assert!(out.stderr.contains("passes through"), "{}", out.stderr);
    let entries = test.run_with(&["ignore-differences", "-f", "values.yaml"]);
    assert!(
        entries.success().contains("name: teleport-cluster"),
        "{}",
        entries.stdout
    );
}

#[test]
fn finding_2_the_story_selector_and_target_port_are_refused_against_the_real_chart() {
    let chart = fixture("multiplex-clusterip.yaml");
    let both = DIRECT.to_string() + "    selector: {app: teleport-cluster}\n    targetPort: 443\n";
    let message = teleport(&both, &chart)
        .run_with(&["generate", "-f", "values.yaml"])
        .failure()
        .to_string();
    assert!(message.contains("services.teleport.selector"), "{message}");
    assert!(
        message.contains("teleport-cluster-auth"),
        "names the workloads: {message}"
    );
    assert!(
        message.contains("services.teleport.targetPort"),
        "{message}"
    );
    // The seed's shape: only the selector. Not mixed with the chart's port.
    let selector_only = DIRECT.to_string() + "    selector: {app: teleport-cluster}\n";
    let message = teleport(&selector_only, &chart)
        .run_with(&["generate", "-f", "values.yaml"])
        .failure()
        .to_string();
    assert!(
        message.contains("[TS003]") && message.contains("never replace"),
        "{message}"
    );
    // Narrowing is accepted: the chart's labels plus one more.
    let narrowed = DIRECT.to_string()
        + "    selector: {app.kubernetes.io/name: teleport-cluster, app.kubernetes.io/instance: teleport-cluster, app.kubernetes.io/component: proxy, teleport.dev/majorVersion: '18'}\n";
    let out = teleport(&narrowed, &chart).run_with(&["generate", "-f", "values.yaml"]);
    assert!(
        out.success().contains("teleport.dev/majorVersion"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("narrowed by the values"),
        "{}",
        out.stderr
    );
}

#[test]
fn finding_3_patches_cannot_bring_conflicts_back() {
    let chart = fixture("multiplex-clusterip.yaml");
    let cases: [(&str, &str, &str); 6] = [
        (
            "{kind: Service, namespace: teleport, name: teleport-cluster-auth}",
            "{op: add, path: /metadata/annotations, value: {tailscale.com/expose: 'true', tailscale.com/hostname: teleport}}",
            "TS001",
        ),
        (
            "{kind: Service, namespace: teleport, name: teleport-cluster}",
            "{op: add, path: /spec/loadBalancerClass, value: tailscale}",
            "TS016",
        ),
        (
            "{kind: Service, namespace: teleport, name: teleport-cluster}",
            "{op: add, path: /metadata/annotations, value: {tailscale.com/expose: 'true'}}",
            "TS002",
        ),
        (
            "{kind: Service, namespace: teleport, name: teleport-ts-lb}",
            "{op: replace, path: /spec/selector/app.kubernetes.io~1component, value: auth}",
            "TS003",
        ),
        (
            "{kind: Service, namespace: teleport, name: teleport-ts-lb}",
            "{op: replace, path: /metadata/annotations/tailscale.com~1hostname, value: tele_port}",
            "TS010",
        ),
        (
            "{kind: Service, namespace: teleport, name: teleport-ts-lb}",
            "{op: add, path: /metadata/labels/team, value: '='}",
            "TS018",
        ),
    ];
    for (target, op, code) in cases {
        let values = format!("{DIRECT}patches:\n  - target: {target}\n    ops:\n      - {op}\n");
        let test = teleport(&values, &chart);
        let message = test
            .run_with(&["generate", "-f", "values.yaml"])
            .failure()
            .to_string();
        assert!(
            message.contains(&format!("[{code}]")) && message.contains("patches[0].ops[0]"),
            "{code}: {message}"
        );
        let (exit, findings) = check_json(&test);
        assert_eq!(exit, 1, "{code}");
        assert!(
            codes(&findings, "error").contains(&code.to_string()),
            "{code}: {findings}"
        );
    }
}

#[test]
fn finding_4_upstream_sources_that_yield_nothing_are_refused() {
    for (name, text) in [
        ("an empty file", ""),
        ("an empty List", "apiVersion: v1\nkind: List\nitems: []\n"),
        ("separators only", "---\n---\n"),
    ] {
        let values = "upstream:\n  - file: chart.yaml\nservices:\n  web: {namespace: web, expose: direct, selector: {app: web}, backend: {name: web, port: 80}}\n";
        let test = teleport(values, text);
        let message = test
            .run_with(&["generate", "-f", "values.yaml"])
            .failure()
            .to_string();
        assert!(message.contains("yields no objects"), "{name}: {message}");
        assert!(message.contains("chart.yaml"), "{name}: {message}");
        let allowed = test.run_with(&["generate", "-f", "values.yaml", "--allow-empty"]);
        assert!(allowed.success().contains("web-ts-lb"), "{name}");
    }
    // A chart that renders nothing.
    let test = Test::new()
        .write(
            "values.yaml",
            "upstream:\n  - helm: {chart: chart, release: web, namespace: web}\nservices:\n  web: {namespace: web, expose: direct, selector: {app: web}, backend: {name: web, port: 80}}\n",
        )
        .write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let helm = fake_helm(test.path(), "exit 0");
    let message = test
        .clone_with_env("HELM_BINARY", &helm)
        .run_with(&["generate", "-f", "values.yaml"])
        .failure()
        .to_string();
    assert!(
        message.contains("upstream[0].helm") && message.contains("yields no objects"),
        "{message}"
    );
}

#[test]
fn finding_5_check_agrees_with_generate() {
    // The README's example: generate repairs the chart, so check reports
    // the repairs and exits 0.
    let example = repo_root().join("examples/teleport-story/teleport");
    let out = run_in(&example, &["check".to_string()], &[], None);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("repaired[TS001]"), "{}", out.stdout);
    // argo-cd with three services: each exposure is judged against its own
    // backend's component, never another's.
    let argo = repo_root().join("testdata/cases/corpus-argo-cd-three-services");
    let out = run_in(
        &argo,
        &["check", "-f", "values.yaml"].map(String::from),
        &[],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(!out.stdout.contains("TS003"), "{}", out.stdout);
    // Nothing to render: generate and check both refuse it.
    let nothing = repo_root().join("testdata/errors/nothing-to-render");
    let out = run_in(
        &nothing,
        &["check", "-f", "values.yaml"].map(String::from),
        &[],
        None,
    );
    assert!(out.failure().contains("empty stream"));
}

#[test]
fn finding_6_the_seed_values_with_global_proxy_group_render_with_that_chart_meaning() {
    let case = repo_root().join("testdata/cases/protected-services-chart-values");
    let out = run_in(
        &case,
        &["generate", "-f", "values.yaml", "-o", "json"].map(String::from),
        &[],
        None,
    );
    let objects: Vec<Value> = out
        .success()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for object in &objects {
        let group = &object["metadata"]["annotations"]["tailscale.com/proxy-group"];
        match object["kind"].as_str().unwrap() {
            "Ingress" => assert_eq!(group, "ingress-proxies"),
            _ => assert!(
                group.is_null(),
                "global.proxyGroup is for Ingresses only: {object}"
            ),
        }
    }
    // defaults.proxyGroup keeps its meaning for both kinds.
    let test = Test::new().write(
        "values.yaml",
        "defaults: {proxyGroup: pg}\nservices:\n  a: {namespace: a, backend: {name: a, port: 80}}\n  b: {namespace: b, expose: direct, selector: {app: b}, backend: {name: b, port: 80}}\n",
    );
    let out = test.run_with(&["generate", "-f", "values.yaml"]);
    assert_eq!(
        out.success()
            .matches("tailscale.com/proxy-group: pg")
            .count(),
        2
    );
}

#[test]
fn finding_7_the_helm_source_renders_into_the_destination_namespace() {
    let test = Test::new()
        .write(
            "values.yaml",
            "upstream:\n  - helm: {chart: chart, release: podinfo}\nservices:\n  podinfo: {expose: direct, selector: {app: podinfo}, backend: {name: podinfo, port: 9898}}\n",
        )
        .write("chart/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 1.0.0\n");
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let helm = fake_helm(
        test.path(),
        "printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: podinfo, namespace: apps}\\nspec: {selector: {app: podinfo}, ports: [{port: 9898}]}\\n'",
    );
    let out = test
        .clone_with_env("HELM_BINARY", &helm)
        .clone_env("ARGOCD_APP_NAMESPACE", "apps")
        .run_with(&["generate", "-f", "values.yaml"]);
    out.success();
    let args = fs::read_to_string(test.path().join("helm.args")).unwrap();
    assert!(args.contains("--namespace\napps\n"), "{args}");
}

#[test]
fn finding_8_argocd_source_paths_are_compared_after_normalisation() {
    for (path, cwd) in [("./apps", "apps"), ("apps/", "apps"), ("./", ""), (".", "")] {
        let test = Test::new()
            .write(
                "apps/values.yaml",
                "services:\n  a: {namespace: a, expose: direct, selector: {app: a}, backend: {name: a, port: 80}}\n",
            )
            .write(
                "values.yaml",
                "services:\n  a: {namespace: a, expose: direct, selector: {app: a}, backend: {name: a, port: 80}}\n",
            )
            .current_dir(if cwd.is_empty() { "." } else { cwd });
        let out = test
            .clone_with_env("ARGOCD_APP_SOURCE_PATH", path)
            .run_with(&["generate", "-f", "values.yaml"]);
        assert!(out.success().contains("a-ts-lb"), "{path}: {}", out.stderr);
    }
}

#[test]
fn finding_9_the_ts_lb_carries_the_backends_ip_families() {
    let chart = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: web}\nspec:\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n  sessionAffinity: ClientIP\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n";
    let test = teleport(
        "upstream:\n  - file: chart.yaml\nservices:\n  web: {namespace: web, expose: direct, backend: {name: web, port: 80}}\n",
        chart,
    );
    let out = test.run_with(&["generate", "-f", "values.yaml", "-o", "json"]);
    let ts_lb: Value = out
        .success()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|o| o["metadata"]["name"] == "web-ts-lb")
        .unwrap();
    assert_eq!(ts_lb["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(ts_lb["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    // Every tailnet connection arrives from the one proxy pod: ClientIP
    // affinity would pin them all to one backend pod.
    assert!(ts_lb["spec"].get("sessionAffinity").is_none());
}
