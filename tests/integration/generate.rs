//! `generate` behaviour beyond the goldens: inputs, formats, overrides and
//! the repository boundary.

use crate::support::{Test, repo_root, run_in};

const TELEPORT: &str = "\
services:
  teleport:
    namespace: teleport
    expose: direct
    backend: {name: teleport-cluster, port: 443}
    selector:
      app.kubernetes.io/name: teleport-cluster
      app.kubernetes.io/instance: teleport-cluster
      app.kubernetes.io/component: proxy
    targetPort: 3080
";

#[test]
fn bundled_teleport_example_renders_the_proxy_service() {
    let out = run_in(
        &repo_root(),
        &[
            "generate",
            "-f",
            "examples/teleport-story/teleport/values.yaml",
        ]
        .map(String::from),
        &[],
        None,
    );
    let text = out.success();
    let docs = argocd_tailscale_plugin::yaml11::read(text).unwrap();
    let lb = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "teleport-ts-lb")
        .expect("the -ts-lb Service");
    assert_eq!(
        lb["spec"]["selector"]["app.kubernetes.io/component"],
        "proxy"
    );
    assert_eq!(lb["spec"]["ports"][0]["targetPort"], 3080);
    assert_eq!(lb["spec"]["loadBalancerClass"], "tailscale");
    assert_eq!(
        lb["metadata"]["annotations"]["tailscale.com/hostname"],
        "teleport"
    );
}

#[test]
fn reads_values_yaml_in_the_current_directory_by_default() {
    let out = Test::new()
        .write("values.yaml", TELEPORT)
        .args(&["generate"])
        .run();
    assert!(out.success().contains("teleport-ts-lb"));
}

#[test]
fn missing_default_values_file_says_so() {
    let out = Test::new().args(&["generate"]).run();
    let message = out.failure();
    assert!(
        message.contains("values.yaml") && message.contains("pass -f"),
        "{message}"
    );
}

#[test]
fn reads_values_from_stdin() {
    let out = Test::new()
        .args(&["generate", "-f", "-"])
        .stdin(TELEPORT)
        .run();
    assert!(out.success().contains("teleport-ts-lb"));
}

#[test]
fn later_values_files_override_earlier_ones() {
    let out = Test::new()
        .write("values.yaml", TELEPORT)
        .write(
            "prod.yaml",
            "services:\n  teleport:\n    hostname: teleport-prod\n",
        )
        .args(&["generate", "-f", "values.yaml", "-f", "prod.yaml"])
        .run();
    assert!(
        out.success()
            .contains("tailscale.com/hostname: teleport-prod")
    );
}

#[test]
fn json_output_is_one_object_per_line() {
    let out = Test::new()
        .write("values.yaml", TELEPORT)
        .args(&["generate", "-o", "json"])
        .run();
    let text = out.success();
    let objects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["spec"]["ports"][0]["targetPort"], 3080);
}

#[test]
fn nothing_to_render_is_an_error_unless_allowed() {
    let test = Test::new().write("values.yaml", "services:\n  a: {enabled: false}\n");
    let message = test.run_with(&["generate"]).failure().to_string();
    assert!(
        message.contains("empty") && message.contains("--allow-empty"),
        "{message}"
    );
    let allowed = test.run_with(&["generate", "--allow-empty"]);
    assert_eq!(allowed.success(), "");
}

#[test]
fn selector_on_an_ingress_service_is_a_warning_on_stderr() {
    let out = Test::new()
        .write(
            "values.yaml",
            "services:\n  g: {namespace: m, selector: {app: g}, backend: {name: g, port: 80}}\n",
        )
        .args(&["generate"])
        .run();
    assert!(out.success().contains("kind: Ingress"));
    assert!(
        out.stderr.starts_with("warning: values.yaml:2:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_template_override_replaces_only_its_own_file() {
    let direct = std::fs::read_to_string(repo_root().join("templates/direct.yaml"))
        .unwrap()
        .replace(
            "\"labels\": {{ labels }},",
            "\"labels\": {{ dict(labels, team=\"platform\") }},",
        );
    let out = Test::new()
        .write(
            "values.yaml",
            &format!("{TELEPORT}  grafana: {{namespace: m, backend: {{name: g, port: 80}}}}\n"),
        )
        .write("tpl/direct.yaml", &direct)
        .args(&["generate", "--templates", "tpl"])
        .run();
    let text = out.success();
    assert!(text.contains("team: platform"), "{text}");
    assert!(
        text.contains("kind: Ingress"),
        "the embedded ingress template still serves"
    );
}

#[test]
fn a_template_symlink_out_of_the_directory_is_refused() {
    let test = Test::new().write("values.yaml", TELEPORT).write(
        "outside/direct.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n",
    );
    std::fs::create_dir_all(test.path().join("tpl")).unwrap();
    std::os::unix::fs::symlink(
        "../outside/direct.yaml",
        test.path().join("tpl/direct.yaml"),
    )
    .unwrap();
    let message = test
        .run_with(&["generate", "--templates", "tpl"])
        .failure()
        .to_string();
    assert!(message.contains("symlink"), "{message}");
}

#[test]
fn values_outside_the_repository_are_refused() {
    let test = Test::new()
        .write("outside.yaml", TELEPORT)
        .current_dir("repo");
    std::fs::create_dir_all(test.path().join("repo/.git")).unwrap();
    let message = test
        .run_with(&["generate", "-f", "../outside.yaml"])
        .failure()
        .to_string();
    assert!(
        message.contains("'..'") && message.contains("refused"),
        "{message}"
    );
}

#[test]
fn version_and_help_work() {
    let version = Test::new().args(&["--version"]).run();
    assert!(version.success().starts_with("argocd-tailscale-plugin "));
    let help = Test::new().args(&["generate", "--help"]).run();
    assert!(help.success().contains("--allow-empty"));
}

#[test]
fn in_the_cmp_the_repository_is_the_working_directory_minus_the_source_path() {
    let test = Test::new()
        .write("outside.yaml", TELEPORT)
        .write("repo/shared/common.yaml", "defaults: {tags: [tag:k8s]}\n")
        .write("repo/apps/teleport/values.yaml", TELEPORT)
        .current_dir("repo/apps/teleport");
    let inside = test
        .clone_with_env("ARGOCD_APP_SOURCE_PATH", "apps/teleport")
        .run_with(&[
            "generate",
            "-f",
            "../../shared/common.yaml",
            "-f",
            "values.yaml",
        ]);
    assert!(inside.success().contains("tailscale.com/tags: tag:k8s"));
    let outside = test
        .clone_with_env("ARGOCD_APP_SOURCE_PATH", "apps/teleport")
        .run_with(&["generate", "-f", "../../../outside.yaml"]);
    assert!(outside.failure().contains("refused"), "{}", outside.stderr);
}
