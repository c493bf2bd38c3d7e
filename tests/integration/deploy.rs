//! What an administrator installs: the kustomize sidecar built by real
//! kustomize against a vendored copy of Argo CD's repo-server Deployment,
//! the argo-cd chart values, and the image's Dockerfile.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;

use crate::support::{kustomize, kustomize_build, repo_root};

fn documents(text: &str, name: &str) -> Vec<Value> {
    let name: Arc<str> = Arc::from(name);
    argocd_tailscale_plugin::yaml::parse_documents(text, &name)
        .unwrap()
        .iter()
        .map(|n| n.to_json().unwrap())
        .collect()
}

/// The pod-spec rules the API server enforces that a patch can break:
/// unique container and volume names, every mount naming a volume.
fn pod_spec_problems(spec: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let volumes: Vec<&str> = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    if volumes.iter().collect::<BTreeSet<_>>().len() != volumes.len() {
        problems.push(format!("duplicate volumes: {volumes:?}"));
    }
    let containers: Vec<&Value> = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(spec["initContainers"].as_array().into_iter().flatten())
        .collect();
    let names: BTreeSet<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    if names.len() != containers.len() {
        problems.push("duplicate container names".into());
    }
    for c in containers {
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let volume = m["name"].as_str().unwrap();
            if !volumes.contains(&volume) {
                problems.push(format!(
                    "{}: mounts {volume}, which is no volume",
                    c["name"]
                ));
            }
        }
    }
    problems
}

#[test]
fn the_kustomize_sidecar_is_appended_after_the_repo_server_with_resources() {
    let Some(argv) = kustomize("deploy::kustomize sidecar") else {
        return;
    };
    let built = kustomize_build(&argv, &repo_root().join("testdata/deploy"));
    let docs = documents(&built, "kustomize build");
    assert_eq!(docs.len(), 1);
    let deployment = &docs[0];
    assert_eq!(deployment["metadata"]["namespace"], "argocd");
    let spec = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod_spec_problems(spec), Vec::<String>::new());
    let containers: Vec<&str> = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        containers,
        ["argocd-repo-server", "argocd-tailscale-plugin"]
    );
    let sidecar = &spec["containers"][1];
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    for (kind, resource) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "memory"),
    ] {
        assert!(
            sidecar["resources"][kind][resource].is_string(),
            "no {kind}.{resource}"
        );
    }
    // The chart values give the sidecar the same image and resources.
    let helm = fs::read_to_string(repo_root().join("deploy/helm/argo-cd-values.yaml")).unwrap();
    let helm = &documents(&helm, "argo-cd-values.yaml")[0]["repoServer"]["extraContainers"][0];
    assert_eq!(helm["image"], sidecar["image"]);
    assert_eq!(helm["resources"], sidecar["resources"]);
}

#[test]
fn the_remote_argo_cd_base_is_pinned_and_the_readme_says_so() {
    let kustomization =
        fs::read_to_string(repo_root().join("deploy/kustomize/kustomization.yaml")).unwrap();
    let docs = documents(&kustomization, "kustomization.yaml");
    let base = docs[0]["resources"][0].as_str().unwrap();
    let version = base
        .strip_prefix("https://raw.githubusercontent.com/argoproj/argo-cd/")
        .and_then(|rest| rest.strip_suffix("/manifests/install.yaml"))
        .unwrap_or_else(|| panic!("not Argo CD's install.yaml: {base}"));
    assert!(
        version.starts_with('v') && version[1..].split('.').count() == 3,
        "{version}"
    );
    let vendored =
        fs::read_to_string(repo_root().join("testdata/deploy/argocd-repo-server-deployment.yaml"))
            .unwrap();
    assert!(
        vendored.contains(&format!("quay.io/argoproj/argocd:{version}")),
        "the vendored copy is of {version}"
    );
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Argo CD {version}")) && readme.contains("remote"),
        "the README names the remote base and its version"
    );
}

#[test]
fn the_dockerfile_builds_each_architecture_from_verified_release_archives() {
    let dockerfile = fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    for arch in ["amd64", "arm64"] {
        let upper = arch.to_uppercase();
        for tool in ["HELM", "KUSTOMIZE"] {
            let arg = format!("ARG {tool}_SHA256_{upper}=");
            let line = dockerfile
                .lines()
                .find(|l| l.starts_with(&arg))
                .unwrap_or_else(|| panic!("{arg}"));
            let sum = &line[arg.len()..];
            assert!(
                sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit()),
                "{line}"
            );
        }
        assert!(
            dockerfile.matches(&format!("      {arch}) ")).count() == 2,
            "both stages handle {arch}"
        );
    }
    assert!(
        dockerfile.contains("sha256sum -c -"),
        "the archives are verified"
    );
    // The image's helm is the version the tests run.
    let out = Command::new(std::env::var("HELM_BINARY").unwrap_or_else(|_| "helm".into()))
        .args(["version", "--short"])
        .output();
    if let Some(out) = out.ok().filter(|o| o.status.success()) {
        let tested = String::from_utf8(out.stdout).unwrap();
        let tested = tested.split('+').next().unwrap().trim();
        assert!(
            dockerfile.contains(&format!("ARG HELM_VERSION={tested}\n")),
            "helm {tested}"
        );
    }
}
