//! Budgets per run, not per file (issue 11, findings 3 and 4): what a
//! repository names is counted before it is read, and inputs that are
//! large but honest still render.

use std::fs;
use std::path::Path;

use crate::security::measured;
use crate::support::Test;

const SERVICE: &str = "services:\n  web: {namespace: web, expose: direct, selector: {app: web}, backend: {name: web, port: 80}}\n";

/// Close to the 16 MiB one file may have.
fn large_file(path: &Path) {
    let mut text = String::with_capacity(15 * 1024 * 1024);
    for i in 0.. {
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: n}}\ndata: {{a: b}}\n---\n"
        );
        if text.len() + doc.len() >= 15 * 1024 * 1024 {
            break;
        }
        text.push_str(&doc);
    }
    fs::write(path, text).unwrap();
}

#[test]
fn finding_3_forty_large_upstream_files_fail_before_they_are_read() {
    let upstream: String = (0..40).map(|_| "  - file: big.yaml\n").collect();
    let test = Test::new().write("values.yaml", &format!("upstream:\n{upstream}{SERVICE}"));
    fs::create_dir_all(test.path().join(".git")).unwrap();
    large_file(&test.path().join("big.yaml"));
    let (code, stderr, _, peak) = measured(test.path(), &["generate", "-f", "values.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("values.yaml:"), "located: {stderr}");
    assert!(
        stderr.contains("upstream[4]"),
        "names the file that crosses: {stderr}"
    );
    assert!(
        stderr.contains("TAILSCALE_PLUGIN_MAX_RUN_BYTES"),
        "{stderr}"
    );
    if let Some(kb) = peak {
        assert!(kb < 400 * 1024, "peak {kb} KiB");
    }
}

#[test]
fn finding_3_the_same_file_named_again_on_the_command_line_counts_each_time() {
    let test = Test::new().write("values.yaml", SERVICE);
    fs::create_dir_all(test.path().join(".git")).unwrap();
    large_file(&test.path().join("big.yaml"));
    let mut args = vec!["generate", "-f", "values.yaml"];
    for _ in 0..64 {
        args.extend(["--upstream", "big.yaml"]);
    }
    let (code, stderr, _, peak) = measured(test.path(), &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("big.yaml") && stderr.contains("budget"),
        "{stderr}"
    );
    if let Some(kb) = peak {
        assert!(kb < 400 * 1024, "peak {kb} KiB");
    }
}

#[test]
fn finding_3_only_the_sidecar_administrator_sets_the_budget() {
    let test = Test::new().write("values.yaml", SERVICE);
    let out = test
        .clone_with_env("TAILSCALE_PLUGIN_MAX_RUN_BYTES", "10")
        .run_with(&["generate", "-f", "values.yaml"]);
    let message = out.failure();
    assert!(message.contains("budget of 10 bytes"), "{message}");
    // An Application cannot raise it: ARGOCD_ENV_ and PARAM_ names are not read.
    let out = test
        .clone_with_env("TAILSCALE_PLUGIN_MAX_RUN_BYTES", "10")
        .clone_env("ARGOCD_ENV_TAILSCALE_PLUGIN_MAX_RUN_BYTES", "100000000")
        .clone_env("PARAM_TAILSCALE_PLUGIN_MAX_RUN_BYTES", "100000000")
        .run_with(&["generate", "-f", "values.yaml"]);
    assert!(out.failure().contains("budget of 10 bytes"));
    let two = Test::new().write(
        "values.yaml",
        &format!("{SERVICE}  api: {{namespace: web, expose: direct, selector: {{app: api}}, backend: {{name: api, port: 80}}}}\n"),
    );
    let out = two
        .clone_with_env("TAILSCALE_PLUGIN_MAX_OBJECTS", "1")
        .run_with(&["generate", "-f", "values.yaml"]);
    let message = out.failure();
    assert!(
        message.contains("limit of 1") && message.contains("TAILSCALE_PLUGIN_MAX_OBJECTS"),
        "{message}"
    );
}

/// Large honest inputs take seconds in an optimised build and minutes in
/// a debug one; CI runs them with `cargo test --release` (see .ci/run).
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "large inputs: run with cargo test --release, as .ci/run does"
)]
fn finding_4_large_legitimate_inputs_render() {
    // 50,000 services (8 MB of values, no aliases).
    let mut values = String::from("services:\n");
    for i in 0..50_000 {
        values.push_str(&format!(
            "  svc-{i}:\n    namespace: ns-{}\n    expose: direct\n    selector: {{app: svc-{i}}}\n    backend: {{name: svc-{i}, port: 8080}}\n",
            i % 50
        ));
    }
    let test = Test::new()
        .write("values.yaml", &values)
        .write("empty.yaml", "services: {}\n");
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let out = test.run_with(&["generate", "-f", "values.yaml", "-o", "json"]);
    assert_eq!(out.success().lines().count(), 50_000);
    // Nearly 16 MiB of small ConfigMaps, and 15 MiB holding 147,000 Services.
    large_file(&test.path().join("configmaps.yaml"));
    let out = test.run_with(&[
        "generate",
        "-f",
        "empty.yaml",
        "--upstream",
        "configmaps.yaml",
    ]);
    assert!(out.success().contains("kind: ConfigMap"));
    let service = |i: usize| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: n}}\nspec: {{ports: [{{port: 80}}]}}\n"
        )
    };
    let services: String = (0..147_000).map(|i| service(i) + "---\n").collect();
    assert!(services.len() < 16 * 1024 * 1024);
    fs::write(test.path().join("services.yaml"), services).unwrap();
    let out = test.run_with(&[
        "generate",
        "-f",
        "empty.yaml",
        "--upstream",
        "services.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(out.success().lines().count(), 147_000);
}

const BOMB: &str = "{%- set ns = namespace(l=[1]) -%}\n{%- for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor -%}\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"x{{ ns.l|length }}\", \"namespace\": \"a\"}}\n";

fn bomb() -> Test {
    let test = Test::new()
        .write("tpl/direct.yaml", BOMB)
        .write(
            "values.yaml",
            "services:\n  a: {namespace: a, expose: direct, selector: {app: a}, backend: {name: a, port: 80}}\n",
        );
    fs::create_dir_all(test.path().join(".git")).unwrap();
    test
}

/// A template that doubles a list 40 times: fuel does not stop it, the
/// memory watch does. Slow in a debug build, so it runs optimised in CI.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minijinja copies lists slowly unoptimised: run with cargo test --release, as .ci/run does"
)]
fn finding_6_a_template_bomb_stops_within_10_s_under_1_gb() {
    let test = bomb();
    let (code, stderr, elapsed, peak) = measured(
        test.path(),
        &["generate", "-f", "values.yaml", "--templates", "tpl"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("tpl/direct.yaml (rendered for services.a)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allocates more than") || stderr.contains("runs longer than"),
        "{stderr}"
    );
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
    if let Some(kb) = peak {
        assert!(kb < 1024 * 1024, "peak {kb} KiB");
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minijinja copies lists slowly unoptimised: run with cargo test --release, as .ci/run does"
)]
fn finding_6_sigterm_stops_a_rendering_template_within_1_s() {
    let test = bomb();
    let child = std::process::Command::new(crate::support::BIN)
        .args(["generate", "-f", "values.yaml", "--templates", "tpl"])
        .current_dir(test.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let signalled = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// Runs the binary with its stack limited to `kib` KiB, in `dir`.
fn with_stack(dir: &Path, kib: u64, args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -s {kib} && exec \"$0\" \"$@\""))
        .arg(crate::support::BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// An optimised build runs on the main thread's stack once it may grow to
/// `yaml::OPTIMISED_STACK_BYTES`, and on a parser thread below that. At
/// that limit and below it, the deepest inputs the budgets let through
/// render, and the first ones past them are refused with a message: none
/// overflows the stack.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "only an optimised build runs on the main thread's stack: run with cargo test --release, as .ci/run does"
)]
fn the_deepest_inputs_end_with_a_message_on_the_main_threads_stack() {
    let depth = argocd_tailscale_plugin::yaml::MAX_DEPTH;
    let object = |kind: &str, spec: String| {
        format!(
            "apiVersion: example.com/v1\nkind: {kind}\nmetadata: {{name: x, namespace: web}}\nspec: {spec}\n"
        )
    };
    // Deepest allowed: the spec sits two levels down.
    let inner = depth - 2;
    let block: String = (0..inner)
        .map(|i| format!("\n{}k{i}:", "  ".repeat(i + 1)))
        .collect::<String>()
        + " x";
    let deep_upstream = [
        object(
            "Flow",
            format!("{}x{}", "{a: ".repeat(inner), "}".repeat(inner)),
        ),
        object(
            "Seq",
            format!("{}x{}", "[".repeat(inner), "]".repeat(inner)),
        ),
        object("Block", block),
    ]
    .join("---\n");
    let [refused_flow, refused_block] = crate::security::too_deep();
    let templates = |n: usize| {
        format!(
            "{}x{}\n",
            "{% for i in [1] %}".repeat(n),
            "{% endfor %}".repeat(n)
        )
    };
    let test = Test::new()
        .write("values.yaml", SERVICE)
        .write("deep.yaml", &deep_upstream)
        .write("refused-flow.yaml", &refused_flow)
        .write("refused-block.yaml", &refused_block)
        .write("nested/direct.yaml", &templates(140))
        .write("too-nested/direct.yaml", &templates(1000));
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let limit = argocd_tailscale_plugin::yaml::OPTIMISED_STACK_BYTES / 1024;
    for kib in [limit, limit / 4] {
        for format in ["yaml", "json"] {
            let out = with_stack(
                test.path(),
                kib,
                &["generate", "--upstream", "deep.yaml", "-o", format],
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{kib} KiB, {format}: {stderr}");
            let stdout = String::from_utf8_lossy(&out.stdout);
            for kind in ["Flow", "Seq", "Block"] {
                assert_eq!(stdout.matches(kind).count(), 1, "{format}: {stdout}");
            }
            assert!(stdout.contains(&format!("k{}", inner - 1)), "{stdout}");
        }
        // The refused nesting as values and as upstream, then templates.
        let refused = ["-f", "--upstream"].into_iter().flat_map(|flag| {
            ["refused-flow.yaml", "refused-block.yaml"]
                .map(|file| (vec!["generate", flag, file], "nesting deeper than"))
        });
        let templates = [
            (vec!["generate", "--templates", "nested"], "not a mapping"),
            (vec!["generate", "--templates", "too-nested"], "recursion"),
        ];
        for (args, expected) in refused.chain(templates) {
            let out = with_stack(test.path(), kib, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{kib} KiB, {args:?}: {stderr}");
            assert!(stderr.contains(expected), "{kib} KiB, {args:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
}
