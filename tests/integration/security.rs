//! What a security reviewer of a repo-server sidecar asks: nothing outside
//! the repository is read, hostile inputs are refused quickly and in
//! little memory, and no value can inject a document.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{BIN, Test};

const VALID: &str = "services:\n  web: {namespace: web, expose: direct, selector: {app: web}, backend: {name: web, port: 443}}\n";

fn repository() -> Test {
    let test = Test::new()
        .write(
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n",
        )
        .write(
            "outside-chart/Chart.yaml",
            "apiVersion: v2\nname: x\nversion: 1.0.0\n",
        )
        .write("repo/values.yaml", VALID)
        .current_dir("repo");
    std::fs::create_dir_all(test.path().join("repo/.git")).unwrap();
    test
}

#[test]
fn parent_and_absolute_paths_are_refused_in_every_path_setting() {
    let test = repository();
    let absolute = test.path().join("secret.yaml").display().to_string();
    for escape in ["../secret.yaml", absolute.as_str()] {
        let values_with = |yaml: String| {
            std::fs::write(test.path().join("repo/escape.yaml"), yaml).unwrap();
            vec!["generate", "-f", "escape.yaml"]
        };
        let chart = if escape.starts_with('/') {
            test.path().join("outside-chart").display().to_string()
        } else {
            "../outside-chart".into()
        };
        let attempts: Vec<Vec<String>> = vec![
            vec!["generate".into(), "-f".into(), escape.into()],
            vec!["generate".into(), "--upstream".into(), escape.into()],
            vec![
                "generate".into(),
                "--templates".into(),
                escape.replace("secret.yaml", ""),
            ],
            values_with(format!("upstream: [{{file: {escape:?}}}]\n{VALID}"))
                .iter()
                .map(|s| s.to_string())
                .collect(),
            values_with(format!(
                "upstream: [{{helm: {{chart: {chart:?}, release: x}}}}]\n{VALID}"
            ))
            .iter()
            .map(|s| s.to_string())
            .collect(),
            values_with(format!(
                "upstream: [{{helm: {{chart: ., release: x, valuesFiles: [{escape:?}]}}}}]\n{VALID}"
            ))
            .iter()
            .map(|s| s.to_string())
            .collect(),
            values_with(format!(
                "applications:\n  x: {{path: {:?}, destination: {{namespace: x}}}}\n",
                escape.replace("secret.yaml", "")
            ))
            .iter()
            .map(|s| s.to_string())
            .collect(),
            vec!["check".into(), "--policy".into(), escape.into()],
            vec!["check".into(), "--application".into(), escape.into()],
            vec!["check".into(), "--log".into(), escape.into()],
            vec!["diff".into(), escape.into(), "values.yaml".into()],
        ];
        for args in attempts {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = test
                .clone_with_env("HELM_BINARY", "/nonexistent/helm")
                .run_with(&args);
            let message = out.failure();
            assert!(message.contains("refused"), "{args:?}: {message}");
        }
    }
}

/// Runs the binary under GNU time for its peak memory, where it exists.
pub fn measured(dir: &Path, args: &[&str]) -> (i32, String, Duration, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists() || std::env::var_os("REQUIRE_GNU_TIME").is_none_or(|v| v != "1"),
        "REQUIRE_GNU_TIME=1 but /usr/bin/time is missing"
    );
    let started = Instant::now();
    let out = if time.exists() {
        Command::new(time)
            .args(["-f", "peak-kb=%M", BIN])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    } else {
        Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-kb="))
        .and_then(|kb| kb.trim().parse().ok());
    assert!(out.stdout.is_empty(), "nothing on stdout");
    (out.status.code().unwrap_or(-1), stderr, elapsed, peak)
}

/// Flow and block nesting 100 levels deep, past the depth budget.
pub fn too_deep() -> [String; 2] {
    let flow = format!("a: {}x{}\n", "[".repeat(100), "]".repeat(100));
    let block: String = (0..100)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect::<String>()
        + &"  ".repeat(100)
        + "x\n";
    [flow, block]
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused_fast_and_small_in_values_and_upstream() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let [deep, deep_block] = too_deep();
    for (name, text) in [
        ("bomb", &bomb),
        ("deep", &deep),
        ("deep-block", &deep_block),
    ] {
        let test = Test::new()
            .write("values.yaml", text)
            .write("upstream.yaml", text)
            .write("ok.yaml", VALID);
        for args in [
            vec!["generate", "-f", "values.yaml"],
            vec!["generate", "-f", "ok.yaml", "--upstream", "upstream.yaml"],
        ] {
            let (code, stderr, elapsed, peak) = measured(test.path(), &args);
            assert_eq!(code, 2, "{name} {args:?}: {stderr}");
            assert!(stderr.contains("input refused"), "{name}: {stderr}");
            assert!(
                elapsed < Duration::from_secs(1),
                "{name} {args:?} took {elapsed:?}"
            );
            if let Some(kb) = peak {
                assert!(kb < 100 * 1024, "{name} {args:?} peaked at {kb} KB");
            }
        }
    }
}

#[test]
fn an_upstream_file_over_the_size_limit_is_refused() {
    let limit = argocd_tailscale_plugin::yaml::MAX_INPUT_BYTES;
    let big = format!("# {}\n", "x".repeat(limit));
    let test = Test::new()
        .write("values.yaml", VALID)
        .write("big.yaml", &big);
    let out = test.run_with(&["generate", "--upstream", "big.yaml"]);
    assert!(
        out.failure().contains("larger than the limit"),
        "{}",
        out.stderr
    );
}

#[test]
fn values_cannot_inject_a_document_or_a_cluster_role_binding() {
    let payload = "x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pwn}";
    let quoted = serde_json::to_string(payload).unwrap();
    for field in [
        "hostname",
        "namespace",
        "proxyGroup",
        "proxyClass",
        "tags",
        "preset",
        "release",
    ] {
        let mut web = serde_json::json!({"namespace": "web", "expose": "direct", "selector": {"app": "web"}, "backend": {"name": "web", "port": 443}});
        web[field] = serde_json::json!(payload);
        let values = serde_json::json!({"services": {"web": web}}).to_string();
        let out = Test::new()
            .write("values.yaml", &values)
            .args(&["generate"])
            .run();
        assert!(
            out.failure().contains(&format!("services.web.{field}")),
            "{field}: {}",
            out.stderr
        );
    }
    for (key, value) in [("app", quoted.as_str()), (quoted.as_str(), "web")] {
        let values = format!(
            "services:\n  web: {{namespace: web, expose: direct, selector: {{{key}: {value}}}, backend: {{name: web, port: 443}}}}\n"
        );
        let out = Test::new()
            .write("values.yaml", &values)
            .args(&["generate"])
            .run();
        out.failure();
    }
    // Through a template that prints values, JSON escaping keeps them scalars.
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ objectName }}\n  namespace: {{ service.namespace }}\ndata:\n  selector: {{ selector | tojson }}\n  note: {{ \"a\\n---\\nkind: ClusterRoleBinding\" }}\n";
    let out = Test::new()
        .write("values.yaml", VALID)
        .write("tpl/direct.yaml", template)
        .args(&["generate", "--templates", "tpl"])
        .run();
    let docs = argocd_tailscale_plugin::yaml11::read(out.success()).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["data"]["note"], "a\n---\nkind: ClusterRoleBinding");
}

#[test]
fn environment_values_with_equals_signs_and_newlines_are_handled() {
    let test = Test::new()
        .write("values.yaml", VALID)
        .write("a=b.yaml", VALID);
    let with =
        |key: &str, value: &str, args: &[&str]| test.clone_with_env(key, value).run_with(args);
    // "=" is part of a value, not a separator.
    let ok = with("ARGOCD_ENV_VALUES_FILES", "a=b.yaml", &["generate"]);
    assert!(ok.success().contains("web-ts-lb"));
    // A newline in a file name is just a file that does not exist.
    let missing = with(
        "ARGOCD_ENV_VALUES_FILES",
        "values.yaml\nother.yaml",
        &["generate"],
    );
    assert!(
        missing.failure().contains("cannot read"),
        "{}",
        missing.stderr
    );
    // A newline around a boolean is trimmed; anything else is refused.
    assert!(
        with("PARAM_STRICT", "true\n", &["generate"])
            .success()
            .contains("web-ts-lb")
    );
    assert!(
        with("PARAM_STRICT", "tr=ue", &["generate"])
            .failure()
            .contains("strict")
    );
    let json = with(
        "ARGOCD_APP_PARAMETERS",
        "[{\"name\":\"values-files\",\"array\":[\"a=b.yaml\"]}]\n",
        &["generate"],
    );
    assert!(json.success().contains("web-ts-lb"));
}
