//! Upstream manifests end to end: the split, the Helm source's process
//! handling, and the repository boundary.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{BIN, Test, fake_helm, repo_root, run_in};

fn case_output(case: &str, extra: &[&str]) -> (String, String) {
    let dir = repo_root().join("testdata/cases").join(case);
    let mut args = vec!["generate".to_string(), "-f".into(), "values.yaml".into()];
    args.extend(extra.iter().map(|a| a.to_string()));
    let out = run_in(&dir, &args, &[], None);
    (out.success().to_string(), out.stderr)
}

fn parse(text: &str) -> Vec<Value> {
    argocd_tailscale_plugin::yaml11::read(text).unwrap()
}

/// The tailnet hostname each object would claim, as the operator decides it.
fn claims(objects: &[Value]) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for o in objects {
        let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let annotations = &o["metadata"]["annotations"];
        match o["kind"].as_str() {
            Some("Service") => {
                let exposed = annotations["tailscale.com/expose"] == "true"
                    || o["spec"]["loadBalancerClass"] == "tailscale";
                if exposed {
                    let host = annotations["tailscale.com/hostname"]
                        .as_str()
                        .map_or_else(|| format!("{ns}-{name}"), str::to_string);
                    out.push((host, o));
                }
            }
            Some("Ingress") if o["spec"]["ingressClassName"] == "tailscale" => {
                let host = o["spec"]["tls"][0]["hosts"][0].as_str().unwrap_or("");
                out.push((host.split('.').next().unwrap().to_string(), o));
            }
            _ => {}
        }
    }
    out
}

/// Components of the workloads whose pod labels carry every selector label.
fn selected_components(objects: &[Value], selector: &Value) -> Vec<String> {
    let selector = selector.as_object().unwrap();
    let mut components: Vec<String> = objects
        .iter()
        .filter_map(|o| {
            let labels = match o["kind"].as_str()? {
                "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
                    &o["spec"]["template"]["metadata"]["labels"]
                }
                _ => return None,
            };
            selector.iter().all(|(k, v)| &labels[k] == v).then(|| {
                labels["app.kubernetes.io/component"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
        })
        .collect();
    components.sort();
    components.dedup();
    components
}

#[test]
fn teleport_root_annotations_leave_one_claim_on_teleport_selecting_the_proxy_only() {
    let (text, stderr) = case_output("teleport-upstream-root-annotations", &[]);
    let objects = parse(&text);
    let claims = claims(&objects);
    let teleport: Vec<_> = claims
        .iter()
        .filter(|(host, _)| host == "teleport")
        .collect();
    assert_eq!(
        teleport.len(),
        1,
        "claims: {:?}",
        claims.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    let claimer = teleport[0].1;
    assert_eq!(claimer["metadata"]["name"], "teleport-ts-lb");
    assert_eq!(
        selected_components(&objects, &claimer["spec"]["selector"]),
        ["proxy"]
    );
    assert_eq!(claims.len(), 1, "nothing else is exposed");
    // Both chart Services lost their exposure, and each repair was reported.
    for name in ["teleport-cluster", "teleport-cluster-auth"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("repaired: ")
                    && l.contains(&format!("Service teleport/{name}:"))),
            "{stderr}"
        );
    }
}

#[test]
fn loadbalancer_class_on_the_chart_service_becomes_clusterip_and_wiring_comes_from_the_chart() {
    let values = fs::read_to_string(
        repo_root().join("testdata/cases/teleport-upstream-loadbalancer-class/values.yaml"),
    )
    .unwrap();
    assert!(
        !values.contains("selector:") && !values.contains("targetPort"),
        "nothing typed into the values"
    );
    let (text, _) = case_output("teleport-upstream-loadbalancer-class", &[]);
    let objects = parse(&text);
    let find = |name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == name)
            .unwrap()
    };
    let chart = find("teleport-cluster");
    assert_eq!(chart["spec"]["type"], "ClusterIP");
    assert!(chart["spec"].get("loadBalancerClass").is_none());
    let lb = find("teleport-ts-lb");
    assert_eq!(lb["spec"]["ports"][0]["targetPort"], 3080);
    assert_eq!(lb["spec"]["ports"][0]["port"], 443);
    assert_eq!(lb["spec"]["selector"], chart["spec"]["selector"]);
    assert_eq!(
        lb["spec"]["selector"]["app.kubernetes.io/component"],
        "proxy"
    );
}

#[test]
fn strict_turns_repairs_and_warnings_into_errors() {
    for case in [
        "teleport-upstream-root-annotations",
        "teleport-upstream-loadbalancer-class",
    ] {
        let dir = repo_root().join("testdata/cases").join(case);
        let out = run_in(
            &dir,
            &["generate", "-f", "values.yaml", "--strict"].map(String::from),
            &[],
            None,
        );
        let message = out.failure();
        assert!(message.contains("--strict"), "{case}: {message}");
    }
    // A clean input passes under --strict.
    let (text, stderr) = case_output("teleport-preset", &["--strict"]);
    assert!(text.contains("teleport-ts-lb"));
    assert!(
        !stderr.contains("warning") && !stderr.contains("repaired"),
        "{stderr}"
    );
}

const TELEPORT_VALUES: &str = "services:\n  teleport: {namespace: teleport, expose: direct, backend: {name: teleport-cluster, port: 443}}\n";

fn repository() -> Test {
    let test = Test::new()
        .write(
            "secret/rendered.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n",
        )
        .current_dir("repo");
    fs::create_dir_all(test.path().join("repo/.git")).unwrap();
    test
}

#[test]
fn an_upstream_symlink_out_of_the_repository_is_refused() {
    let test = repository().write(
        "repo/values.yaml",
        &format!("upstream: [{{file: rendered.yaml}}]\n{TELEPORT_VALUES}"),
    );
    std::os::unix::fs::symlink(
        "../secret/rendered.yaml",
        test.path().join("repo/rendered.yaml"),
    )
    .unwrap();
    let out = test.run_with(&["generate"]);
    assert!(out.failure().contains("symlink"), "{}", out.stderr);
    let cli = test.run_with(&["generate", "--upstream", "rendered.yaml"]);
    assert!(cli.failure().contains("symlink"), "{}", cli.stderr);
}

#[test]
fn a_chart_symlink_out_of_the_repository_is_refused_before_helm_runs() {
    let test = repository()
        .write(
            "outside-chart/Chart.yaml",
            "apiVersion: v2\nname: x\nversion: 1.0.0\n",
        )
        .write(
            "repo/values.yaml",
            &format!("upstream: [{{helm: {{chart: chart, release: x}}}}]\n{TELEPORT_VALUES}"),
        );
    std::os::unix::fs::symlink("../outside-chart", test.path().join("repo/chart")).unwrap();
    let out = test
        .clone_with_env("HELM_BINARY", "/nonexistent/helm")
        .run_with(&["generate"]);
    let message = out.failure();
    assert!(
        message.contains("symlink") && message.contains("upstream[0].helm.chart"),
        "{message}"
    );
}

/// A stand-in for helm: records its arguments and stdin, then runs `body`.
const HELM_VALUES: &str = "upstream:\n  - helm:\n      chart: chart\n      release: shop\n      namespace: shop\n      valuesFiles: [prod.yaml]\n      values: {replicas: 2}\nservices:\n  api: {namespace: shop, expose: direct, selector: {app: api}, backend: {name: shop-api, port: 443}}\n";

fn helm_repository() -> Test {
    let test = Test::new()
        .write("values.yaml", HELM_VALUES)
        .write("prod.yaml", "a: 1\n")
        .write(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
        );
    fs::create_dir_all(test.path().join(".git")).unwrap();
    test
}

#[test]
fn helm_gets_an_explicit_argument_list_and_inline_values_on_stdin() {
    let test = helm_repository();
    let helm = fake_helm(
        test.path(),
        &format!(
            "cat > \"{}/helm.stdin\"\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {{name: from-helm, namespace: shop}}\\n'",
            test.path().display()
        ),
    );
    let out = test
        .clone_with_env("HELM_BINARY", &helm)
        .run_with(&["generate"]);
    assert!(out.success().contains("name: from-helm"));
    // helm sees copies in its sandbox, never the repository itself.
    let root = fs::canonicalize(test.path()).unwrap();
    let args = fs::read_to_string(test.path().join("helm.args")).unwrap();
    let lines: Vec<&str> = args.lines().collect();
    let sandbox = lines[2]
        .strip_suffix("/in/chart/chart")
        .unwrap_or_else(|| panic!("{args}"));
    assert!(!sandbox.starts_with(root.to_str().unwrap()), "{args}");
    let expected = format!(
        "template\nshop\n{sandbox}/in/chart/chart\n--namespace\nshop\n--values\n{sandbox}/in/values/0.yaml\n--values\n-\n"
    );
    assert_eq!(args, expected);
    assert!(
        !Path::new(sandbox).exists(),
        "the sandbox is removed after the run"
    );
    let stdin: Value =
        serde_json::from_str(&fs::read_to_string(test.path().join("helm.stdin")).unwrap()).unwrap();
    assert_eq!(stdin, serde_json::json!({"replicas": 2}));
}

#[test]
fn a_failing_helm_fails_generate_with_its_message_and_no_output() {
    let test = helm_repository();
    let helm = fake_helm(
        test.path(),
        "echo 'Error: chart requires kubeVersion >= 1.30' >&2\nexit 1",
    );
    let out = test
        .clone_with_env("HELM_BINARY", &helm)
        .run_with(&["generate"]);
    let message = out.failure();
    assert!(
        message.contains("chart requires kubeVersion >= 1.30") && message.contains("status 1"),
        "{message}"
    );
}

#[test]
fn a_helm_that_hangs_is_stopped_at_the_timeout() {
    let test = helm_repository();
    let helm = fake_helm(test.path(), "exec sleep 30");
    let started = Instant::now();
    let out =
        test.clone_with_env("HELM_BINARY", &helm)
            .run_with(&["generate", "--helm-timeout", "1"]);
    assert!(
        out.failure().contains("did not finish within 1 s"),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_not_running(test.path());
}

fn assert_not_running(dir: &Path) {
    let pid = fs::read_to_string(dir.join("helm.pid")).unwrap();
    let alive = Command::new("kill")
        .args(["-0", pid.trim()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!alive, "helm (pid {}) still runs", pid.trim());
}

#[test]
fn sigterm_stops_helm_promptly_and_prints_nothing() {
    let test = helm_repository();
    let helm = fake_helm(test.path(), "exec sleep 30");
    let child = Command::new(BIN)
        .arg("generate")
        .current_dir(test.path())
        .env("HELM_BINARY", &helm)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid_file = test.path().join("helm.pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pid_file.exists() || fs::read_to_string(&pid_file).unwrap().trim().is_empty() {
        assert!(Instant::now() < deadline, "helm never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("terminated"));
    assert_not_running(test.path());
}
