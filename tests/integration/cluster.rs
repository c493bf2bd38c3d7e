//! `check --cluster-state`: each situation as its cluster's export shows
//! it, the story's five attempts among them, gets its diagnosis; a healthy
//! cluster gets none; Secret values never reach any output; hostile
//! exports fail closed or are ignored as documented.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{Test, case_args, compare, repo_root, run_in};

/// Every case, the codes of its findings (TS499, the coverage note, left
/// out) and its exit status.
const CASES: &[(&str, &[&str], i32)] = &[
    ("healthy", &[], 0),
    (
        "attempt-1-loadbalancer-on-chart-service",
        &["TS402", "TS403"],
        1,
    ),
    (
        "attempt-2-hand-written-ts-lb",
        &["TS402", "TS403", "TS410"],
        1,
    ),
    ("attempt-3-root-annotations", &["TS401"], 1),
    (
        "attempt-4-ignore-differences-by-hand",
        &["TS402", "TS403"],
        1,
    ),
    ("attempt-5-self-heal-off", &["TS402", "TS403"], 1),
    ("replace-recreated-the-service", &["TS401", "TS409"], 1),
    ("proxy-group-replica-lost-auth", &["TS402"], 1),
    ("conditions-false", &["TS403", "TS404", "TS405"], 1),
    ("ingress-without-address", &["TS406"], 1),
    ("finalizer-without-operator", &["TS407"], 1),
    ("egress-external-name-out-of-sync", &["TS408"], 1),
    ("drift-ts-lb-missing", &["TS410"], 1),
    ("unknown-kinds-and-binary-secrets", &[], 0),
];

fn cluster_dir(case: &str) -> std::path::PathBuf {
    repo_root().join("testdata/cluster").join(case)
}

#[test]
fn every_situation_gets_its_diagnosis() {
    let mut failures = Vec::new();
    let mut dirs: Vec<String> = fs::read_dir(repo_root().join("testdata/cluster"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| cluster_dir(n).join("args").exists())
        .collect();
    dirs.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(c, _, _)| c.to_string()).collect();
    listed.sort();
    assert_eq!(dirs, listed, "every case directory is in CASES");
    for (case, codes, code) in CASES {
        let dir = cluster_dir(case);
        let out = run_in(&dir, &case_args(&dir), &[], None);
        assert_eq!(out.code, *code, "{case}: {}{}", out.stdout, out.stderr);
        let findings: Value = serde_json::from_str(&out.stdout).unwrap();
        let mut found: Vec<&str> = findings
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .filter(|c| *c != "TS499")
            .collect();
        found.sort();
        found.dedup();
        assert_eq!(&found, codes, "{case}");
        // Every finding from the export points into it.
        for d in findings.as_array().unwrap() {
            if d["code"] != "TS499" && d["code"] != "TS410" {
                let file = d["file"].as_str().unwrap_or("");
                assert!(file.ends_with(".yaml"), "{case}: {d}");
                assert!(d["line"].as_u64().is_some_and(|l| l > 1), "{case}: {d}");
            }
        }
        failures.extend(compare(&dir.join("expected.json"), &out.stdout));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_lost_auth_finding_names_the_secrets_to_delete_and_the_command() {
    let dir = cluster_dir("proxy-group-replica-lost-auth");
    let out = run_in(&dir, &case_args(&dir), &[], None);
    assert!(
        out.stdout.contains(
            "kubectl delete secret -n tailscale ingress-proxies-1-config ingress-proxies-1"
        ),
        "{}",
        out.stdout
    );
    let dir = cluster_dir("attempt-5-self-heal-off");
    let out = run_in(&dir, &case_args(&dir), &[], None);
    assert!(
        out.stdout
            .contains("kubectl delete secret -n tailscale ts-teleport-ts-lb-x7k2p-0"),
        "{}",
        out.stdout
    );
}

const MARKER: &str = "CORRECT-HORSE-BATTERY-STAPLE";

/// An export whose Secret values (and its last-applied annotation) carry
/// the marker, plainly and in base64.
fn export_with_planted_secret() -> String {
    use std::fmt::Write as _;
    let encoded = base64(MARKER.as_bytes());
    let healthy =
        fs::read_to_string(cluster_dir("attempt-4-ignore-differences-by-hand").join("export.yaml"))
            .unwrap();
    let mut text = healthy;
    let _ = write!(
        text,
        "  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: planted\n      namespace: tailscale\n      annotations:\n        kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"authkey\":\"{MARKER}\"}}}}'\n    data:\n      authkey: {encoded}\n      {MARKER}-as-value-only: {encoded}\n    stringData:\n      plain: {MARKER}\n    binaryData:\n      blob: {encoded}\n"
    );
    // The crash-looping proxy's state Secret carries it too.
    text.replace(
        "      _machinekey: bWtleQ==\n",
        &format!("      _machinekey: {encoded}\n"),
    )
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn secret_values_never_appear_in_any_output() {
    let chart = fs::read_to_string(
        repo_root().join("testdata/fixtures/teleport-cluster/multiplex-clusterip.yaml"),
    )
    .unwrap();
    let test = Test::new()
        .write("export.yaml", &export_with_planted_secret())
        .write("chart.yaml", &chart)
        .write(
            "app/values.yaml",
            "services:\n  teleport: {namespace: teleport, expose: direct, backend: {name: teleport-cluster, port: 443}}\n",
        );
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let encoded = base64(MARKER.as_bytes());
    let mut runs = 0;
    for values in [false, true] {
        for format in ["text", "json", "sarif"] {
            let mut args = vec![
                "check",
                "--cluster-state",
                "export.yaml",
                "--format",
                format,
            ];
            if values {
                args.extend(["-f", "app/values.yaml", "--upstream", "chart.yaml"]);
            }
            let out = test.run_with(&args);
            runs += 1;
            // The export holds findings (TS402 names the state Secret): the
            // run produced output to search.
            assert_eq!(out.code, 1, "{format}: {}", out.stderr);
            assert!(out.stdout.contains("TS402"), "{format}: {}", out.stdout);
            for haystack in [&out.stdout, &out.stderr] {
                assert!(
                    !haystack.contains(MARKER) && !haystack.contains(&encoded),
                    "{format} (values: {values}) printed a Secret value:\n{haystack}"
                );
            }
        }
    }
    assert_eq!(runs, 6);
    // The key names are what is shown.
    let out = test.run_with(&[
        "check",
        "--cluster-state",
        "export.yaml",
        "--format",
        "json",
    ]);
    assert!(
        out.stdout.contains("has no device_id and _current-profile"),
        "{}",
        out.stdout
    );
}

#[test]
fn hostile_exports_fail_closed_and_unknown_kinds_are_ignored() {
    let nested = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: a}}\nspec: {}x{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    let test = Test::new()
        .write("nested.yaml", &nested)
        .write(
            "no-kind.yaml",
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    metadata: {name: a}\n",
        )
        .write("scalar.yaml", "just a string\n")
        .write("big.yaml", &"# padding\n".repeat(20_000));
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let nested = test.run_with(&["check", "--cluster-state", "nested.yaml"]);
    assert!(
        nested.failure().contains("nested.yaml"),
        "{}",
        nested.stderr
    );
    let no_kind = test.run_with(&["check", "--cluster-state", "no-kind.yaml"]);
    assert!(
        no_kind.failure().contains("no-kind.yaml:4:5") && no_kind.stderr.contains("without a kind"),
        "{}",
        no_kind.stderr
    );
    let scalar = test.run_with(&["check", "--cluster-state", "scalar.yaml"]);
    assert!(
        scalar.failure().contains("not an object"),
        "{}",
        scalar.stderr
    );
    let big = test
        .clone_with_env("TAILSCALE_PLUGIN_MAX_RUN_BYTES", "100000")
        .run_with(&["check", "--cluster-state", "big.yaml"]);
    assert!(big.failure().contains("budget"), "{}", big.stderr);
    // Unknown kinds: listed in the coverage note, no finding, exit 0.
    let dir = cluster_dir("unknown-kinds-and-binary-secrets");
    let out = run_in(&dir, &case_args(&dir), &[], None);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("ignored: ConfigMap, Widget"),
        "{}",
        out.stdout
    );
}

#[test]
fn every_cluster_code_has_a_case_an_explanation_and_a_readme_entry() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    for code in argocd_tailscale_plugin::diagnostic::CODES
        .iter()
        .filter(|c| c.id.starts_with("TS4"))
    {
        let explain = run_in(
            Path::new(&repo_root()),
            &["check".into(), "--explain".into(), code.id.into()],
            &[],
            None,
        );
        assert!(explain.success().starts_with(code.id));
        if code.id != "TS499" {
            assert!(
                CASES.iter().any(|(_, codes, _)| codes.contains(&code.id)),
                "{} has no case",
                code.id
            );
        }
        assert!(
            readme.contains(&format!("| {} |", code.id)),
            "README lacks {}",
            code.id
        );
    }
}
