//! Every success case renders byte for byte as its `expected.yaml`.

use std::fs;

use crate::support::{case_args, cases, compare, run_in};

#[test]
fn golden_cases_render_as_expected() {
    let mut failures = Vec::new();
    for dir in cases("cases") {
        if !crate::support::runnable(&dir) {
            continue;
        }
        let outcome = run_in(&dir, &case_args(&dir), &[], None);
        if outcome.code != 0 {
            failures.push(format!(
                "{}: exit {}\n{}",
                dir.display(),
                outcome.code,
                outcome.stderr
            ));
            continue;
        }
        failures.extend(compare(&dir.join("expected.yaml"), &outcome.stdout));
        let stderr_golden = dir.join("expected.stderr");
        if stderr_golden.exists() || !outcome.stderr.is_empty() {
            failures.extend(compare(&stderr_golden, &outcome.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn golden_outputs_are_valid_manifest_streams() {
    for dir in cases("cases") {
        let text = fs::read_to_string(dir.join("expected.yaml")).unwrap();
        let docs = argocd_tailscale_plugin::yaml11::read(&text).unwrap();
        assert!(!docs.is_empty(), "{}", dir.display());
        for doc in docs {
            assert!(
                doc["apiVersion"].is_string() && doc["kind"].is_string(),
                "{}: {doc}",
                dir.display()
            );
            assert!(
                doc["metadata"]["name"].is_string(),
                "{}: {doc}",
                dir.display()
            );
            assert!(doc.get("status").is_none() && doc["metadata"].get("finalizers").is_none());
        }
    }
}
