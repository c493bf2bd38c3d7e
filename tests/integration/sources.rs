//! The Kustomize and directory sources: real kustomize builds the overlay
//! in a sandbox, and its result is exactly what the overlay's built output
//! gives as upstream; remote bases and links out of the repository are
//! refused before anything runs; the directory source reads Argo CD's
//! files in Argo CD's order.

use std::fs;
use std::os::unix::fs::symlink;

use crate::support::{Test, fake_tool, kustomize, kustomize_build, repo_root, run_in};

const SERVICES: &str = "\
services:
  api:
    namespace: shop-prod
    expose: direct
    hostname: shop-api
    backend: {name: prod-api, port: 8443}
  web:
    namespace: shop-prod
    expose: ingress
    hostname: shop
    backend: {name: prod-web, port: http}
";

#[test]
fn a_kustomize_overlay_renders_byte_for_byte_what_its_built_output_gives_as_upstream() {
    let Some(argv) = kustomize("sources::kustomize overlay") else {
        return;
    };
    let overlay = repo_root().join("testdata/kustomize/shop/overlays/prod");
    let built = kustomize_build(&argv, &overlay);
    let test = Test::new()
        .write("values.yaml", SERVICES)
        .write("built.yaml", &built);
    let by_hand = test.run_with(&["generate", "--upstream", "built.yaml"]);
    let case = repo_root().join("testdata/cases/kustomize-overlay");
    let by_plugin = run_in(&case, &["generate".into()], &[], None);
    assert_eq!(by_plugin.success(), by_hand.success());
    // The overlay's selector (with its commonLabels) and named targetPort.
    let output = by_plugin.stdout;
    assert!(
        output.contains("name: api-ts-lb") && output.contains("targetPort: tls"),
        "{output}"
    );
    // The plain-directory copy of the same app renders the same bytes.
    let directory = run_in(
        &repo_root().join("testdata/cases/directory-source"),
        &["generate".into()],
        &[],
        None,
    );
    assert_eq!(directory.success(), output);
}

#[test]
fn kustomize_options_change_the_sandbox_copy_never_the_repository() {
    if kustomize("sources::kustomize options").is_none() {
        return;
    }
    let file = repo_root().join("testdata/kustomize/shop/overlays/prod/kustomization.yaml");
    let before = fs::read(&file).unwrap();
    let case = repo_root().join("testdata/cases/kustomize-options");
    let out = run_in(&case, &["generate".into()], &[], None);
    let output = out.success();
    assert!(output.contains("name: staging-api-v2") && output.contains("namespace: shop-staging"));
    assert!(output.contains("team: payments") && output.contains("shop-api-canary:1.5.0"));
    assert_eq!(
        fs::read(&file).unwrap(),
        before,
        "the repository's overlay is untouched"
    );
}

/// A repository with the shop app and a fake kustomize that records its
/// arguments and prints `printed`.
fn repository_with_fake_kustomize(printed: &str) -> (Test, String) {
    let mut test = Test::new();
    for (path, text) in [
        ("base/kustomization.yaml", "resources: [api.yaml]\n"),
        (
            "base/api.yaml",
            &fs::read_to_string(repo_root().join("testdata/kustomize/shop/base/api.yaml")).unwrap(),
        ),
    ] {
        test = test.write(path, text);
    }
    fs::create_dir_all(test.path().join(".git")).unwrap();
    let fake = fake_tool(
        test.path(),
        "kustomize",
        &format!("cat <<'EOF'\n{printed}EOF"),
    );
    (test, fake)
}

#[test]
fn a_remote_base_is_refused_before_kustomize_runs_unless_allow_listed() {
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}, ports: [{port: 8443}]}\n";
    let (test, fake) = repository_with_fake_kustomize(service);
    let test = test
        .write(
            "overlay/kustomization.yaml",
            "resources:\n  - ../base\n  - https://github.com/acme/shop-config//base?ref=v1\n",
        )
        .write(
            "values.yaml",
            "upstream: [{kustomize: {path: overlay}}]\nservices:\n  api: {namespace: shop, expose: direct, backend: {name: api, port: 8443}}\n",
        );
    let refused = test
        .clone_with_env("KUSTOMIZE_BINARY", &fake)
        .run_with(&["generate"]);
    let message = refused.failure();
    assert!(
        message.starts_with("error: overlay/kustomization.yaml:3:5: resources[1]:")
            && message.contains("remote base"),
        "{message}"
    );
    assert!(
        !test.path().join("kustomize.args").exists(),
        "kustomize ran"
    );
    // The administrator's allow-list admits it; kustomize (here a stand-in)
    // then runs with exactly `build <the sandbox copy>`.
    let allowed = test
        .clone_with_env("KUSTOMIZE_BINARY", &fake)
        .clone_env(
            "TAILSCALE_PLUGIN_ALLOWED_CHARTS",
            "https://github.com/acme/",
        )
        .run_with(&["generate"]);
    allowed.success();
    let args = fs::read_to_string(test.path().join("kustomize.args")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 2, "{args:?}");
    assert_eq!(args[0], "build");
    assert!(
        args[1].ends_with("/in/repo/overlay")
            && !args[1].starts_with(&test.path().display().to_string()),
        "the build runs on the sandbox's copy: {}",
        args[1]
    );
}

#[test]
fn a_symlink_out_of_the_repository_is_refused_in_both_sources() {
    let outside = Test::new().write(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
    );
    let (test, fake) = repository_with_fake_kustomize("");
    fs::create_dir_all(test.path().join("overlay")).unwrap();
    symlink(outside.path(), test.path().join("overlay/stolen")).unwrap();
    let test = test
        .write("overlay/kustomization.yaml", "resources: [../base, stolen]\n")
        .write(
            "values.yaml",
            "upstream: [{kustomize: {path: overlay}}]\nservices:\n  api: {namespace: shop, expose: direct, backend: {name: api, port: 8443}}\n",
        );
    let out = test
        .clone_with_env("KUSTOMIZE_BINARY", &fake)
        .run_with(&["generate"]);
    assert!(
        out.failure().contains("outside the repository"),
        "{}",
        out.stderr
    );
    assert!(
        !test.path().join("kustomize.args").exists(),
        "kustomize ran"
    );
    fs::create_dir_all(test.path().join("plain")).unwrap();
    symlink(
        outside.path().join("secret.yaml"),
        test.path().join("plain/secret.yaml"),
    )
    .unwrap();
    let test = test.write(
        "values.yaml",
        "upstream: [{directory: {path: plain}}]\nservices:\n  api: {namespace: shop, expose: direct, backend: {name: api, port: 8443}}\n",
    );
    let out = test.run_with(&["generate"]);
    assert!(
        out.failure()
            .contains("plain/secret.yaml is a symlink that leads outside the repository"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_kustomize_and_a_slow_one_fail_with_the_render_timeout() {
    let (test, _) = repository_with_fake_kustomize("");
    let test = test.write("overlay/kustomization.yaml", "resources: [../base]\n").write(
        "values.yaml",
        "upstream: [{kustomize: {path: overlay}}]\nservices:\n  api: {namespace: shop, expose: direct, backend: {name: api, port: 8443}}\n",
    );
    let missing = test
        .clone_with_env("KUSTOMIZE_BINARY", "/nonexistent/kustomize")
        .run_with(&["generate"]);
    assert!(
        missing.failure().contains("kustomize is not installed"),
        "{}",
        missing.stderr
    );
    let slow = fake_tool(test.path(), "slow", "sleep 30");
    for flag in ["--render-timeout", "--helm-timeout"] {
        let started = std::time::Instant::now();
        let out = test
            .clone_with_env("KUSTOMIZE_BINARY", &slow)
            .run_with(&["generate", flag, "1"]);
        let message = out.failure();
        assert!(
            message.contains("did not finish within 1 s") && message.contains("--render-timeout"),
            "{message}"
        );
        assert!(started.elapsed().as_secs() < 20, "{flag} stopped it");
    }
}

#[test]
fn the_new_sources_share_check_and_ignore_differences() {
    if kustomize("sources::check").is_none() {
        return;
    }
    for case in ["kustomize-overlay", "directory-source"] {
        let dir = repo_root().join("testdata/cases").join(case);
        let check = run_in(&dir, &["check".into()], &[], None);
        assert_eq!(check.code, 0, "{case}: {}", check.stdout);
        let ignore = run_in(&dir, &["ignore-differences".into()], &[], None);
        assert!(ignore.success().contains("api-ts-lb"), "{case}");
    }
}

#[test]
fn diff_base_sees_a_change_in_an_overlay_and_an_apps_directory_renders_it() {
    if kustomize("sources::diff --base").is_none() {
        return;
    }
    let shop = repo_root().join("testdata/kustomize/shop");
    let mut test = Test::new();
    for file in ["base/kustomization.yaml", "base/api.yaml", "base/web.yaml"] {
        test = test.write(
            &format!("shop/{file}"),
            &fs::read_to_string(shop.join(file)).unwrap(),
        );
    }
    let test = test
        .write("shop/overlay/kustomization.yaml", "namespace: shop-prod\nnamePrefix: prod-\nresources: [../base]\n")
        .write("shop/values.yaml", &format!("upstream: [{{kustomize: {{path: overlay}}}}]\n{SERVICES}"))
        .write(
            "apps/values.yaml",
            "argocd: {repoURL: https://git.example.com/shop.git}\napplications:\n  shop:\n    path: shop\n    destination: {namespace: shop-prod}\n",
        );
    let git = |args: &[&str]| crate::diff::git(test.path(), args);
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    // The overlay now sends the api's traffic to another container port.
    fs::write(
        test.path().join("shop/base/api.yaml"),
        fs::read_to_string(shop.join("base/api.yaml"))
            .unwrap()
            .replace("containerPort: 9443", "containerPort: 9444"),
    )
    .unwrap();
    git(&["commit", "-q", "-am", "move the api"]);
    let out = test.run_with(&["diff", "--base", "HEAD~1", "shop", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("-        - containerPort: 9443")
            && out.stdout.contains("+        - containerPort: 9444"),
        "{}",
        out.stdout
    );
    // An apps directory renders the child with its overlay.
    let apps = crate::support::run_in(&test.path().join("apps"), &["generate".into()], &[], None);
    let apps = apps.success();
    assert!(
        apps.contains("kind: Application") && apps.contains("name: api-ts-lb"),
        "{apps}"
    );
}
