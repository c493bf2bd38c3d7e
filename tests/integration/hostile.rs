//! Hostile strings and broken streams (issue 11, findings 7 to 12): what a
//! repository writes is shown as text wherever it is shown, and the exit
//! status never says success when the output was lost.

use std::fs;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::diff::git;
use crate::support::{BIN, Test};

#[test]
fn finding_7_an_object_name_cannot_inject_markdown_into_the_pull_request_comment() {
    let name = "x\n\n# Injected heading\n[click](https://evil.example)</summary></details>";
    let upstream = |port: u16| {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "web"}, "data": {"port": port.to_string()}})
        .to_string()
    };
    // The gate refuses such a name in a rendered stream (TS018); a diff of
    // two streams shows whatever they hold, so the comment must stay inert.
    let test = Test::new()
        .write("old.json", &upstream(1))
        .write("new.json", &upstream(2));
    let out = test.run_with(&["diff", "old.json", "new.json", "--format", "markdown"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Outside the diff fences, no line starts a heading or carries a link.
    let mut in_fence = false;
    let mut rendered = Vec::new();
    for line in out.stdout.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            rendered.push(line);
        }
    }
    for line in &rendered {
        assert!(!line.starts_with("# Injected"), "{}", out.stdout);
        assert!(!line.contains("](https://evil"), "{}", out.stdout);
        assert!(!line.is_empty() || !in_fence);
    }
    let text = rendered.join("\n");
    assert_eq!(text.matches("<details>").count(), 1, "{}", out.stdout);
    assert_eq!(text.matches("</details>").count(), 1, "{}", out.stdout);
    assert_eq!(text.matches("</summary>").count(), 1, "{}", out.stdout);
}

#[test]
fn finding_8_a_values_key_cannot_forge_a_line_or_send_terminal_escapes() {
    let key = "a\nrepaired: forged\u{1b}[2J";
    let values = serde_json::json!({"services": {key: {"namespace": "web", "expose": "direct",
        "selector": {"app": "a"}, "backend": {"name": "a", "port": 80}}}});
    let test = Test::new().write("values.yaml", &values.to_string());
    let out = test.run_with(&["generate", "-f", "values.yaml"]);
    let message = out.failure();
    assert!(!message.contains('\u{1b}'), "{message:?}");
    assert!(
        !message.lines().any(|l| l.starts_with("repaired:")),
        "{message:?}"
    );
    assert!(message.contains("\\u{1b}[2J"), "shown as text: {message:?}");
}

#[test]
fn finding_9_json_output_escapes_what_yaml_readers_would_change() {
    let value = "a\u{85}b\u{2028}c\u{2029}d\u{7f}e\u{9b}f";
    let upstream = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "web"}, "data": {"v": value}});
    let test = Test::new()
        .write("values.yaml", "upstream: [{file: up.json}]\nservices: {}\n")
        .write("up.json", &upstream.to_string());
    let out = test.run_with(&["generate", "-f", "values.yaml", "-o", "json"]);
    let text = out.success();
    for raw in ['\u{85}', '\u{2028}', '\u{2029}', '\u{7f}', '\u{9b}'] {
        assert!(!text.contains(raw), "raw {raw:?} in {text:?}");
    }
    let back: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(back["data"]["v"], value, "the same string, escaped");
}

fn run_with_streams(stdout: Stdio, stderr: Stdio) -> i32 {
    let dir = crate::support::repo_root().join("examples/teleport-story/teleport");
    Command::new(BIN)
        .arg("generate")
        .current_dir(dir)
        .env_remove("ARGOCD_APP_SOURCE_PATH")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

#[test]
fn finding_10_closed_or_full_streams_are_exit_2_without_a_panic() {
    let full = || {
        Stdio::from(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
    };
    // A closed descriptor: run through a shell that closes it.
    let closed = |redirect: &str| {
        let dir = crate::support::repo_root().join("examples/teleport-story/teleport");
        Command::new("sh")
            .arg("-c")
            .arg(format!("\"$0\" generate {redirect}"))
            .arg(BIN)
            .current_dir(dir)
            .env_remove("ARGOCD_APP_SOURCE_PATH")
            .status()
            .unwrap()
            .code()
            .unwrap_or(-1)
    };
    assert_eq!(closed(">&- 2>/dev/null"), 2, "closed stdout");
    assert_eq!(closed("2>&- >/dev/null"), 2, "closed stderr");
    assert_eq!(run_with_streams(full(), Stdio::null()), 2, "full stdout");
    assert_eq!(run_with_streams(Stdio::null(), full()), 2, "full stderr");
    // A reader that stops early stays what it was.
    assert_eq!(closed("2>/dev/null | head -n 1 >/dev/null"), 0);
}

#[test]
fn finding_11_a_golden_case_cannot_move_the_repository_root() {
    let test = Test::new()
        .write(
            "cases/evil/args",
            "generate\n-f\nvalues.yaml\n--repo-root\n/\n",
        )
        .write("cases/evil/values.yaml", "services: {}\n")
        .write("cases/evil/expected.yaml", "");
    git(test.path(), &["init", "-q"]);
    let out = test.run_with(&["diff", "--golden", "cases"]);
    assert!(out.failure().contains("may not set --repo-root"));
    // Nor reach outside with a path.
    let test = Test::new()
        .write("repo/cases/evil/args", "generate\n-f\n/etc/hostname\n")
        .write("repo/cases/evil/expected.yaml", "")
        .current_dir("repo");
    git(&test.path().join("repo"), &["init", "-q"]);
    let out = test.run_with(&["diff", "--golden", "cases"]);
    assert!(
        out.failure()
            .contains("absolute path outside the repository")
    );
}

#[test]
fn finding_12_a_source_path_of_dot_makes_the_working_directory_the_root() {
    // An outer git work tree must not widen the root to itself.
    let test = Test::new()
        .write(
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
        )
        .write(
            "app/values.yaml",
            "upstream: [{file: ../secret.yaml}]\nservices: {}\n",
        )
        .current_dir("app");
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let out = test
        .clone_with_env("ARGOCD_APP_SOURCE_PATH", ".")
        .run_with(&["generate", "-f", "values.yaml"]);
    assert!(out.failure().contains("'..'"), "{}", out.stderr);
}
