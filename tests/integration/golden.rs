//! Every success case renders byte for byte as its `expected.yaml`.

use std::fs;
use std::path::Path;

use crate::support::{Outcome, case_args, cases, compare, run_in};

/// Whether a case's run exited 0; if not, its status and stderr are a
/// failure.
fn succeeded(dir: &Path, outcome: &Outcome, failures: &mut Vec<String>) -> bool {
    if outcome.code != 0 {
        failures.push(format!(
            "{}: exit {}\n{}",
            dir.display(),
            outcome.code,
            outcome.stderr
        ));
    }
    outcome.code == 0
}

#[test]
fn golden_cases_render_as_expected() {
    let mut failures = Vec::new();
    for dir in cases("cases") {
        if !crate::support::runnable(&dir) {
            continue;
        }
        let outcome = run_in(&dir, &case_args(&dir), &[], None);
        if !succeeded(&dir, &outcome, &mut failures) {
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

/// The built-in templates given as overrides (the repository's own
/// `templates/`, so rendered through minijinja and read back instead of
/// written from the plan) print every golden case byte for byte, as YAML
/// and as JSON: the two paths cannot drift apart.
#[test]
fn golden_cases_render_the_same_through_the_templates_as_overrides() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for dir in cases("cases") {
        let args = case_args(&dir);
        if !crate::support::runnable(&dir)
            || args.first().map(String::as_str) != Some("generate")
            || args
                .iter()
                .any(|a| a == "--templates" || a == "-o" || a.starts_with("--output"))
        {
            continue;
        }
        let templates = ["--templates".to_string(), "../../../templates".to_string()];
        let through = run_in(&dir, &[&args[..], &templates[..]].concat(), &[], None);
        if !succeeded(&dir, &through, &mut failures) {
            continue;
        }
        failures.extend(compare(&dir.join("expected.yaml"), &through.stdout));
        let json = ["-o".to_string(), "json".to_string()];
        let built_in = run_in(&dir, &[&args[..], &json[..]].concat(), &[], None);
        let through = run_in(
            &dir,
            &[&args[..], &json[..], &templates[..]].concat(),
            &[],
            None,
        );
        if (built_in.code, &built_in.stdout) != (0, &through.stdout) {
            failures.push(format!(
                "{}: -o json differs through the overrides\n{}\n{}",
                dir.display(),
                built_in.stdout,
                through.stdout
            ));
        }
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 10, "{compared} cases compared");
}
