//! The CMP contract, end to end: plugin.yaml is what Argo CD accepts, and
//! its commands run exactly as `argocd-cmp-server` runs them — a fresh copy
//! of the repository with files at 0644, the application directory as the
//! working directory, the sidecar's environment plus Argo CD's variables,
//! no shell — and print what Argo CD can parse.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{BIN, Test, compare, repo_root};

fn plugin_yaml() -> Value {
    let text = fs::read_to_string(repo_root().join("plugin.yaml")).unwrap();
    let node = argocd_tailscale_plugin::yaml::parse_single(&text, &"plugin.yaml".into())
        .unwrap()
        .unwrap();
    node.to_json().unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The fields `cmpserver/plugin/config.go` and the announcement proto accept.
#[test]
fn plugin_yaml_has_only_fields_argo_cd_accepts() {
    let plugin = plugin_yaml();
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["metadata"]["name"], "argocd-tailscale-plugin");
    for key in keys(&plugin) {
        assert!(
            ["apiVersion", "kind", "metadata", "spec"].contains(&key),
            "{key}"
        );
    }
    let spec = &plugin["spec"];
    let spec_keys = [
        "version",
        "init",
        "generate",
        "discover",
        "parameters",
        "preserveFileMode",
        "provideGitCreds",
    ];
    for key in keys(spec) {
        assert!(spec_keys.contains(&key), "spec.{key}");
    }
    assert!(spec.get("discover").is_none(), "no discovery by default");
    let command =
        string_list(&spec["generate"]["command"]).expect("generate.command is a list of strings");
    assert_eq!(
        command[0], "argocd-tailscale-plugin",
        "the binary itself, not a shell"
    );
    for (section, value) in [
        ("generate", &spec["generate"]),
        ("parameters.dynamic", &spec["parameters"]["dynamic"]),
    ] {
        for key in keys(value) {
            assert!(["command", "args"].contains(&key), "{section}.{key}");
        }
        if let Some(args) = value.get("args") {
            assert!(string_list(args).is_some(), "{section}.args");
        }
    }
    let announcement_keys = [
        "name",
        "title",
        "tooltip",
        "required",
        "itemType",
        "collectionType",
        "string",
        "array",
        "map",
    ];
    for entry in spec["parameters"]["static"].as_array().unwrap() {
        for key in keys(entry) {
            assert!(
                announcement_keys.contains(&key),
                "static parameter key {key}"
            );
        }
        assert!(entry["name"].is_string());
        if let Some(a) = entry.get("array") {
            assert!(string_list(a).is_some(), "{entry}");
        }
    }
    // The static announcements are the ones the code applies defaults for.
    let code: Value =
        serde_json::to_value(argocd_tailscale_plugin::argocd::static_announcements()).unwrap();
    assert_eq!(spec["parameters"]["static"], code);
}

/// A fresh copy of the example repository, as cmp-server unpacks it.
fn unpack(dest: &Path, src: &Path) {
    fs::create_dir_all(dest).unwrap();
    fs::set_permissions(dest, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            unpack(&to, &entry.path());
        } else {
            fs::copy(entry.path(), &to).unwrap();
            fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

struct Sidecar {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    home: PathBuf,
}

impl Sidecar {
    fn new() -> Sidecar {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("_cmp_server/4f9c/repo");
        unpack(&repo, &repo_root().join("examples/teleport-story"));
        let home = dir.path().join("tmp");
        fs::create_dir_all(&home).unwrap();
        Sidecar {
            _dir: dir,
            repo,
            home,
        }
    }

    /// Runs a plugin.yaml command in `app` with the sidecar's environment
    /// plus Argo CD's variables, and nothing else.
    fn run(
        &self,
        command: &Value,
        app: &str,
        request_env: &BTreeMap<&str, String>,
    ) -> (i32, String, String) {
        let mut argv = string_list(&command["command"]).unwrap();
        argv.extend(
            command
                .get("args")
                .and_then(string_list)
                .unwrap_or_default(),
        );
        let bin_dir = Path::new(BIN).parent().unwrap();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(self.repo.join(app))
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
            )
            .env("HOME", &self.home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in request_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

fn request_env(
    app: &str,
    namespace: &str,
    parameters: Option<&str>,
) -> BTreeMap<&'static str, String> {
    let mut env = BTreeMap::from([
        ("ARGOCD_APP_NAME", app.to_string()),
        ("ARGOCD_APP_NAMESPACE", namespace.to_string()),
        ("ARGOCD_APP_PROJECT_NAME", "infrastructure".to_string()),
        (
            "ARGOCD_APP_REVISION",
            "4f9c2d1e0b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d".to_string(),
        ),
        ("ARGOCD_APP_SOURCE_PATH", app.to_string()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/gitops.git".to_string(),
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main".to_string()),
        ("KUBE_VERSION", "1.33.4".to_string()),
        (
            "KUBE_API_VERSIONS",
            "apps/v1,apps/v1/Deployment,v1,v1/Service".to_string(),
        ),
        ("ARGOCD_ENV_TEAM", "platform".to_string()),
    ]);
    if let Some(p) = parameters {
        env.insert("ARGOCD_APP_PARAMETERS", p.to_string());
    }
    env
}

/// Argo CD's reading of plugin output: a YAML stream (or concatenated
/// JSON), each document one object with apiVersion, kind and metadata.name,
/// no top-level arrays, and no tracking label or annotation of its own.
fn check_argo_cd_can_parse(stdout: &str, app_name: &str) -> Vec<Value> {
    let docs = argocd_tailscale_plugin::yaml11::read(stdout).unwrap();
    assert!(!docs.is_empty(), "empty output");
    for doc in &docs {
        assert!(doc.is_object(), "not an object: {doc}");
        assert!(
            doc["apiVersion"].is_string() && doc["kind"].is_string(),
            "{doc}"
        );
        assert!(
            doc["metadata"]["name"]
                .as_str()
                .is_some_and(|n| !n.is_empty()),
            "{doc}"
        );
        assert_ne!(
            doc["metadata"]["labels"]["app.kubernetes.io/instance"], app_name,
            "tracking label: {doc}"
        );
        assert!(
            doc["metadata"]["annotations"]
                .get("argocd.argoproj.io/tracking-id")
                .is_none(),
            "{doc}"
        );
    }
    docs
}

#[test]
fn generate_runs_as_cmp_server_runs_it_with_every_parameter_form() {
    let sidecar = Sidecar::new();
    let generate = &plugin_yaml()["spec"]["generate"];
    let forms = [
        None,
        Some("null"),
        Some("[]"),
        Some(
            r#"[{"array":["values.yaml"],"name":"values-files"},{"name":"strict","string":"false"},{"map":{"teleport":"direct teleport"},"name":"services"}]"#,
        ),
    ];
    let expected =
        fs::read_to_string(repo_root().join("examples/teleport-story/expected/teleport.yaml"))
            .unwrap();
    for parameters in forms {
        let mut env = request_env("teleport", "teleport", parameters);
        if parameters.is_some_and(|p| p.len() > 4) {
            // The flattened convenience variables Argo CD adds next to the JSON.
            env.insert("PARAM_VALUES_FILES_0", "values.yaml".into());
            env.insert("PARAM_STRICT", "false".into());
            env.insert("PARAM_SERVICES_TELEPORT", "direct teleport".into());
        }
        let (code, stdout, stderr) = sidecar.run(generate, "teleport", &env);
        assert_eq!(code, 0, "{parameters:?}: {stderr}");
        let docs = check_argo_cd_can_parse(&stdout, "teleport");
        assert!(
            docs.iter()
                .any(|d| d["metadata"]["name"] == "teleport-ts-lb")
        );
        assert_eq!(
            stdout, expected,
            "{parameters:?}: the sidecar prints what a local run prints"
        );
    }
}

#[test]
fn strict_parameter_fails_the_sync_with_exit_2_and_no_output() {
    let sidecar = Sidecar::new();
    let env = request_env(
        "teleport",
        "teleport",
        Some(r#"[{"name":"strict","string":"true"}]"#),
    );
    let (code, stdout, stderr) = sidecar.run(&plugin_yaml()["spec"]["generate"], "teleport", &env);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("--strict"), "{stderr}");
}

#[test]
fn malformed_parameters_fail_with_the_json_position() {
    let sidecar = Sidecar::new();
    let env = request_env(
        "teleport",
        "teleport",
        Some(r#"[{"name":"strict","string":}]"#),
    );
    let (code, stdout, stderr) = sidecar.run(&plugin_yaml()["spec"]["generate"], "teleport", &env);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with("error: ARGOCD_APP_PARAMETERS:1:"),
        "{stderr}"
    );
    assert!(stderr.contains("column"), "{stderr}");
}

#[test]
fn parameters_announcement_is_a_json_array_of_strings_with_the_services() {
    let sidecar = Sidecar::new();
    let dynamic = &plugin_yaml()["spec"]["parameters"]["dynamic"];
    // The reduced environment of GetParametersAnnouncement.
    let env = BTreeMap::from([
        ("ARGOCD_APP_NAME", "protected-services".to_string()),
        ("ARGOCD_APP_SOURCE_PATH", "protected-services".to_string()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/gitops.git".to_string(),
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main".to_string()),
    ]);
    let (code, stdout, stderr) = sidecar.run(dynamic, "protected-services", &env);
    assert_eq!(code, 0, "{stderr}");
    let list: Value = serde_json::from_str(&stdout).unwrap();
    let entries = list.as_array().unwrap();
    for entry in entries {
        assert!(entry["name"].is_string());
        if let Some(a) = entry.get("array") {
            assert!(string_list(a).is_some(), "{entry}");
        }
        if let Some(m) = entry.get("map") {
            assert!(
                m.as_object().unwrap().values().all(Value::is_string),
                "{entry}"
            );
        }
    }
    let services = entries
        .iter()
        .find(|e| e["name"] == "services")
        .expect("services announced");
    assert_eq!(services["map"]["grafana"], "ingress grafana");
    assert!(
        services["map"].get("prometheus").is_none(),
        "disabled services are not announced"
    );
    // In a directory without values, at least the static parameters.
    let mut elsewhere = env.clone();
    elsewhere.insert("ARGOCD_APP_SOURCE_PATH", "expected".into());
    let (code, stdout, stderr) = sidecar.run(dynamic, "expected", &elsewhere);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        serde_json::from_str::<Value>(&stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
}

#[test]
fn apps_directory_renders_applications_with_computed_ignore_differences() {
    let sidecar = Sidecar::new();
    let env = request_env("apps", "argocd", Some("null"));
    let (code, stdout, stderr) = sidecar.run(&plugin_yaml()["spec"]["generate"], "apps", &env);
    assert_eq!(code, 0, "{stderr}");
    let docs = check_argo_cd_can_parse(&stdout, "apps");
    let teleport = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "teleport")
        .unwrap();
    assert_eq!(teleport["kind"], "Application");
    assert_eq!(
        teleport["spec"]["source"]["plugin"]["name"],
        "argocd-tailscale-plugin"
    );
    let entries = teleport["spec"]["ignoreDifferences"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["name"], "teleport-ts-lb");
    assert_eq!(
        entries[0]["jsonPointers"],
        serde_json::json!(["/status", "/metadata/finalizers"])
    );
    let options = string_list(&teleport["spec"]["syncPolicy"]["syncOptions"]).unwrap();
    assert!(options.contains(&"RespectIgnoreDifferences=true".to_string()));
    assert!(options.contains(&"CreateNamespace=true".to_string()));
}

#[test]
fn a_child_that_fails_to_render_fails_the_apps_directory_with_its_error() {
    let sidecar = Sidecar::new();
    fs::write(
        sidecar.repo.join("teleport/values.yaml"),
        "services:\n  teleport: {namespace: teleport, hostnme: x}\n",
    )
    .unwrap();
    let env = request_env("apps", "argocd", None);
    let (code, stdout, stderr) = sidecar.run(&plugin_yaml()["spec"]["generate"], "apps", &env);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with("error: teleport/values.yaml:2:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("child application teleport") && stderr.contains("hostnme"),
        "{stderr}"
    );
}

#[test]
fn an_application_path_that_is_missing_names_the_root_it_was_resolved_against() {
    let test = Test::new()
        .write(
            "apps/values.yaml",
            "applications:\n  web:\n    path: web\n    destination: {namespace: web}\n",
        )
        .current_dir("apps");
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let out = test.run_with(&["generate"]);
    let message = out.failure();
    let root = fs::canonicalize(test.path()).unwrap();
    assert!(
        message.contains("applications.web")
            && message.contains(&format!(
                "relative to the repository root, here {}",
                root.display()
            )),
        "{message}"
    );
}

/// `examples/teleport-story/expected/` is what the plugin prints for each
/// directory; UPDATE_GOLDENS=1 rewrites it.
#[test]
fn example_outputs_are_in_sync() {
    let root = repo_root().join("examples/teleport-story");
    let mut failures = Vec::new();
    for app in ["teleport", "protected-services", "apps"] {
        let out = Command::new(BIN)
            .args(["generate", "--repo-root", ".", "-f"])
            .arg(format!("{app}/values.yaml"))
            .current_dir(&root)
            .env_remove("ARGOCD_APP_SOURCE_PATH")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{app}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        failures.extend(compare(
            &root.join("expected").join(format!("{app}.yaml")),
            &String::from_utf8(out.stdout).unwrap(),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ignore_differences_names_the_ts_lb_service_and_egress_gets_external_name() {
    let root = repo_root();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let teleport = run(&[
        "ignore-differences",
        "-o",
        "json",
        "-f",
        "examples/teleport-story/teleport/values.yaml",
    ]);
    assert_eq!(
        teleport["ignoreDifferences"],
        serde_json::json!([{"group": "", "kind": "Service", "namespace": "teleport", "name": "teleport-ts-lb",
                            "jsonPointers": ["/status", "/metadata/finalizers"]}])
    );
    assert_eq!(
        teleport["syncPolicy"]["syncOptions"],
        serde_json::json!(["RespectIgnoreDifferences=true", "ServerSideApply=true"])
    );
    let egress = run(&[
        "ignore-differences",
        "-o",
        "json",
        "-f",
        "testdata/cases/egress-passes-through/values.yaml",
    ]);
    let entry = egress["ignoreDifferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tailnet-postgres")
        .expect("the egress Service has an entry");
    assert!(
        string_list(&entry["jsonPointers"])
            .unwrap()
            .contains(&"/spec/externalName".to_string())
    );
}

fn lines(path: &str) -> String {
    fs::read_to_string(repo_root().join(path)).unwrap()
}

/// The image is what the contract needs: uid 999, HOME=/tmp, plugin.yaml at
/// the config path, cmp-server from var-files, both architectures.
#[test]
fn dockerfile_and_sidecar_wiring_follow_the_contract() {
    let dockerfile = lines("Dockerfile");
    for needle in [
        "USER 999:999",
        "HOME=/tmp",
        "COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml",
        "ENTRYPOINT [\"/var/run/argocd/argocd-cmp-server\"]",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
    ] {
        assert!(dockerfile.contains(needle), "Dockerfile lacks {needle}");
    }
    for path in [
        "deploy/kustomize/sidecar/repo-server-sidecar.yaml",
        "deploy/helm/argo-cd-values.yaml",
    ] {
        let doc = argocd_tailscale_plugin::yaml::parse_single(&lines(path), &path.into())
            .unwrap()
            .unwrap()
            .to_json()
            .unwrap();
        let sidecar = if path.contains("helm") {
            &doc["repoServer"]["extraContainers"][0]
        } else {
            // The JSON patch's first operation appends the container.
            &doc[0]["value"]
        };
        assert_eq!(
            sidecar["command"],
            serde_json::json!(["/var/run/argocd/argocd-cmp-server"]),
            "{path}"
        );
        assert_eq!(sidecar["securityContext"]["runAsUser"], 999, "{path}");
        let mounts: Vec<&str> = sidecar["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["mountPath"].as_str())
            .collect();
        assert_eq!(
            mounts,
            ["/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp"],
            "{path}"
        );
    }
    let application = argocd_tailscale_plugin::yaml::parse_single(
        &lines("deploy/application.yaml"),
        &"application".into(),
    )
    .unwrap()
    .unwrap()
    .to_json()
    .unwrap();
    assert_eq!(
        application["spec"]["source"]["plugin"]["name"],
        "argocd-tailscale-plugin"
    );
}
