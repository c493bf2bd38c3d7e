//! `diff`: two streams, a git revision against the working tree, and the
//! golden cases; text, Markdown and JSON; exit 0 same, 1 different.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Test, repo_root};

const OLD: &str = "\
apiVersion: v1
kind: Service
metadata: {name: a, namespace: t}
spec: {type: ClusterIP, ports: [{port: 80, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: gone, namespace: t}
spec: {ports: [{port: 1}]}
";

#[test]
fn reordered_documents_and_keys_are_no_difference() {
    let reordered = "\
{\"spec\": {\"ports\": [{\"port\": 1}]}, \"metadata\": {\"namespace\": \"t\", \"name\": \"gone\"}, \"kind\": \"Service\", \"apiVersion\": \"v1\"}
---
kind: Service
apiVersion: v1
spec: {ports: [{protocol: TCP, port: 80}], type: ClusterIP}
metadata: {namespace: t, name: a}
";
    let out = Test::new()
        .write("old.yaml", OLD)
        .write("new.yaml", reordered)
        .args(&["diff", "old.yaml", "new.yaml"])
        .run();
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
}

#[test]
fn a_changed_port_an_added_and_a_removed_object_are_reported() {
    let new = OLD
        .replace("port: 80", "port: 8080")
        .replace("name: gone", "name: new");
    let test = Test::new().write("old.yaml", OLD).write("new.yaml", &new);
    let out = test.run_with(&["diff", "old.yaml", "new.yaml", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = &out.stdout;
    assert!(text.contains("changed: Service t/a"), "{text}");
    assert!(
        text.contains("-  - port: 80") && text.contains("+  - port: 8080"),
        "{text}"
    );
    assert!(
        text.contains("removed: Service t/gone") && text.contains("added: Service t/new"),
        "{text}"
    );
    assert!(text.ends_with("1 added, 1 removed, 1 changed\n"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when asked for none");
    let json: Value = serde_json::from_str(
        &test
            .run_with(&["diff", "old.yaml", "new.yaml", "--format", "json"])
            .stdout,
    )
    .unwrap();
    let kinds: Vec<&str> = json[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["changed", "removed", "added"]);
    let coloured = test.run_with(&["diff", "old.yaml", "new.yaml", "--color", "always"]);
    assert!(coloured.stdout.contains("\u{1b}["), "colour when asked for");
}

#[test]
fn masking_leaves_out_what_argo_cd_would_ignore() {
    let old = "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: t\n  annotations: {tailscale.com/tailnet-fqdn: db.example.ts.net}\nspec: {type: ExternalName, externalName: placeholder}\n";
    let new = old.replace(
        "externalName: placeholder",
        "externalName: ts-db-x.tailscale.svc.cluster.local",
    );
    let test = Test::new().write("old.yaml", old).write("new.yaml", &new);
    assert_eq!(test.run_with(&["diff", "old.yaml", "new.yaml"]).code, 1);
    let masked = test.run_with(&["diff", "--mask-ignored", "old.yaml", "new.yaml"]);
    assert_eq!((masked.code, masked.stdout.as_str()), (0, ""));
}

#[test]
fn markdown_has_the_structure_github_renders_and_stays_under_the_limit() {
    let many = |port: u16| -> String {
        (0..3000)
            .map(|i| format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: n}}\nspec: {{ports: [{{port: {port}}}]}}\n"))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let test = Test::new()
        .write("old.yaml", &many(80))
        .write("new.yaml", &many(81));
    let out = test.run_with(&["diff", "old.yaml", "new.yaml", "--format", "markdown"]);
    assert_eq!(out.code, 1);
    let md = &out.stdout;
    assert!(
        md.chars().count() <= 65_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.starts_with("## argocd-tailscale-plugin diff\n"));
    assert!(md.contains(
        "| app | added | removed | changed |\n|---|---:|---:|---:|\n| `new.yaml` | 0 | 0 | 3000 |"
    ));
    let opened = md.matches("<details>").count();
    assert!(
        opened > 0
            && opened == md.matches("</details>").count()
            && opened == md.matches("<summary>").count()
    );
    assert_eq!(md.matches("```diff").count(), opened);
    assert_eq!(
        md.matches("\n```\n").count(),
        opened,
        "every code block closes"
    );
    assert!(md.contains("**Truncated:**") && md.contains("of 3000 object diffs were left out"));
    // Small diffs are not truncated.
    let small = Test::new()
        .write("old.yaml", OLD)
        .write("new.yaml", &OLD.replace("80", "81"));
    let md = small
        .run_with(&["diff", "old.yaml", "new.yaml", "--format", "markdown"])
        .stdout;
    assert!(
        !md.contains("Truncated") && md.contains("<summary>✏️ changed: <code>Service t/a</code>"),
        "{md}"
    );
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

const APP: &str = "services:\n  teleport:\n    namespace: teleport\n    expose: direct\n    preset: teleport-cluster\n    hostname: teleport\n    backend: {name: teleport-cluster, port: 443}\n";

#[test]
fn base_shows_exactly_the_change_of_the_last_commit() {
    let test = Test::new().write("apps/teleport/values.yaml", APP).write(
        "apps/grafana/values.yaml",
        "services:\n  grafana: {namespace: monitoring, backend: {name: grafana, port: 80}}\n",
    );
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-q", "-m", "first"]);
    fs::write(
        test.path().join("apps/teleport/values.yaml"),
        APP.replace("hostname: teleport", "hostname: tp"),
    )
    .unwrap();
    git(test.path(), &["commit", "-q", "-am", "rename the device"]);

    let changed = test.run_with(&[
        "diff",
        "--base",
        "HEAD~1",
        "apps/teleport",
        "--color",
        "never",
    ]);
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    let minus: Vec<&str> = changed
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let plus: Vec<&str> = changed
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(minus, ["-    tailscale.com/hostname: teleport"]);
    assert_eq!(plus, ["+    tailscale.com/hostname: tp"]);
    assert!(changed.stdout.ends_with("0 added, 0 removed, 1 changed\n"));

    let unchanged = test.run_with(&["diff", "--base", "HEAD~1", "apps/grafana"]);
    assert_eq!(
        (unchanged.code, unchanged.stdout.as_str()),
        (0, ""),
        "{}",
        unchanged.stderr
    );
    // The working tree was not touched.
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(test.path())
        .output()
        .unwrap();
    assert!(status.stdout.is_empty());
}

#[test]
fn base_names_the_side_that_fails_to_render() {
    let test = Test::new().write("app/values.yaml", APP);
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-q", "-m", "first"]);
    fs::write(
        test.path().join("app/values.yaml"),
        "services:\n  teleport: {hostnme: x}\n",
    )
    .unwrap();
    let out = test.run_with(&["diff", "--base", "HEAD", "app"]);
    let message = out.failure();
    assert!(
        message.contains("in the working tree") && message.contains("hostnme"),
        "{message}"
    );
    let bad_ref = test.run_with(&["diff", "--base", "no-such-ref", "app"]);
    assert!(bad_ref.failure().contains("no-such-ref"));
}

#[test]
fn golden_mode_reports_and_updates_the_goldens_that_differ() {
    let source = repo_root().join("testdata/cases/teleport-preset");
    let test = Test::new()
        .write(
            "cases/teleport-preset/values.yaml",
            &fs::read_to_string(source.join("values.yaml")).unwrap(),
        )
        .write(
            "cases/teleport-preset/expected.yaml",
            &fs::read_to_string(source.join("expected.yaml"))
                .unwrap()
                .replace("3080", "443"),
        );
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let stale = test.run_with(&["diff", "--golden", "cases", "--color", "never"]);
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert!(
        stale.stdout.contains("-    targetPort: 443")
            && stale.stdout.contains("+    targetPort: 3080"),
        "{}",
        stale.stdout
    );
    let update = test.run_with(&["diff", "--golden", "cases", "--update"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert!(
        update
            .stderr
            .contains("updated cases/teleport-preset/expected.yaml"),
        "{}",
        update.stderr
    );
    let fresh = test.run_with(&["diff", "--golden", "cases"]);
    assert_eq!((fresh.code, fresh.stdout.as_str()), (0, ""));
}

#[test]
fn the_repository_goldens_are_current() {
    let out = crate::support::run_in(
        &repo_root(),
        &["diff", "--golden", "testdata/cases"].map(String::from),
        &[],
        None,
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
}

/// Copies a directory tree (files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn golden_cases_pass_in_a_copy_that_is_not_a_git_work_tree() {
    // The goldens reach ../../fixtures and the corpus: with no .git, the
    // root used to be each case's own directory, and they climbed out.
    let test = Test::new();
    copy_tree(&repo_root().join("testdata"), &test.path().join("testdata"));
    assert!(!test.path().join(".git").exists());
    let out = test.run_with(&["diff", "--golden", "testdata/cases", "--repo-root", "."]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
    // From inside the copy, the current directory is the root.
    let inside = crate::support::run_in(
        &test.path().join("testdata"),
        &["diff", "--golden", "cases"].map(String::from),
        &[],
        None,
    );
    assert_eq!(
        (inside.code, inside.stdout.as_str()),
        (0, ""),
        "{}",
        inside.stderr
    );
    // A root that does not hold the cases' fixtures is refused, not left.
    let narrow = test.run_with(&[
        "diff",
        "--golden",
        "testdata/cases",
        "--repo-root",
        "testdata/cases/teleport-upstream-annotate",
    ]);
    assert!(narrow.failure().contains("outside"), "{}", narrow.stderr);
}

#[test]
fn diff_against_stdin_names_the_file_compared() {
    let test = Test::new().write("old.yaml", OLD);
    let out = crate::support::run_in(
        test.path(),
        &["diff", "old.yaml", "-", "--format", "json"].map(String::from),
        &[],
        Some(&OLD.replace("port: 80", "port: 81")),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report[0]["app"], "old.yaml", "{report}");
}
