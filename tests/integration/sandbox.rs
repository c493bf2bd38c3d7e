//! The sidecar renders untrusted repositories: regression tests named for
//! the findings of issue 11 about helm (a chart reading outside files, a
//! remote chart reaching the network, children outliving the run).

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::diff::git;
use crate::support::{Test, fake_helm, helm_available};

const SERVICE: &str = "services:\n  web: {namespace: web, expose: direct, selector: {app: web}, backend: {name: web, port: 80}}\n";
const SECRET: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen, namespace: web}\ndata: {secret: outside-the-repository}\n";

/// A repository in `repo/` whose chart links to `outside/` in one of the
/// three ways helm follows.
fn repository_with_link(link: &str, target: &str) -> Test {
    let test = Test::new()
        .write("outside/manifest.yaml", SECRET)
        .write("outside/chart/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 1.0.0\n")
        .write("outside/chart/templates/cm.yaml", SECRET)
        .write("repo/chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
        .write(
            "repo/chart/templates/read.yaml",
            "{{ if .Files.Get \"files/p\" }}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: read, namespace: web}\ndata: {p: {{ .Files.Get \"files/p\" | quote }}}\n{{ end }}",
        )
        .write(
            "repo/values.yaml",
            &format!("upstream: [{{helm: {{chart: chart, release: web, namespace: web}}}}]\n{SERVICE}"),
        )
        .current_dir("repo");
    let at = test.path().join("repo/chart").join(link);
    fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(test.path().join(target), at).unwrap();
    test
}

#[test]
fn finding_1_helm_never_follows_a_chart_symlink_out_of_the_repository() {
    for (link, target) in [
        ("templates/x.yaml", "outside/manifest.yaml"),
        ("files/p", "outside/manifest.yaml"),
        ("charts/sub", "outside/chart"),
    ] {
        let test = repository_with_link(link, target);
        fs::create_dir_all(test.path().join("repo/.git")).unwrap();
        // The refusal comes before helm runs: a helm that would print the
        // secret is never started.
        let helm = fake_helm(
            test.path(),
            &format!(
                "cat \"{}\"",
                test.path().join("outside/manifest.yaml").display()
            ),
        );
        let out = test
            .clone_with_env("HELM_BINARY", &helm)
            .run_with(&["generate"]);
        let message = out.failure();
        assert!(
            message.contains(&format!("chart/{link} is a symlink")),
            "{link}: {message}"
        );
        assert!(
            message.contains("outside the repository"),
            "{link}: {message}"
        );
        assert!(!test.path().join("helm.args").exists(), "{link}: helm ran");
    }
}

#[test]
fn finding_1_diff_base_renders_through_the_same_sandbox() {
    let test = repository_with_link("files/p", "outside/manifest.yaml");
    let repo = test.path().join("repo");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "a chart with a link out"]);
    let helm = fake_helm(test.path(), "exit 0");
    let out = test
        .clone_with_env("HELM_BINARY", &helm)
        .run_with(&["diff", "--base", "HEAD", ".", "--format", "markdown"]);
    let message = out.failure();
    assert!(
        message.contains("symlink") && message.contains("outside the repository"),
        "{message}"
    );
    assert!(!out.stdout.contains("outside-the-repository"));
}

#[test]
fn finding_1_a_real_helm_renders_a_chart_whose_links_stay_inside() {
    let test = chart_repository().write(
        "shared/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: web}\n",
    );
    fs::create_dir_all(test.path().join("chart/templates")).unwrap();
    std::os::unix::fs::symlink(
        test.path().join("shared/cm.yaml"),
        test.path().join("chart/templates/cm.yaml"),
    )
    .unwrap();
    if !helm_available(test.path()) {
        return;
    }
    let out = test.run_with(&["generate", "-f", "values.yaml"]);
    assert!(out.success().contains("name: shared"), "{}", out.stderr);
}

/// A repository whose values render the local chart `chart/` with helm.
fn chart_repository() -> Test {
    let test = Test::new()
        .write(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        )
        .write(
            "values.yaml",
            &format!(
                "upstream: [{{helm: {{chart: chart, release: web, namespace: web}}}}]\n{SERVICE}"
            ),
        );
    fs::create_dir_all(test.path().join(".git")).unwrap();
    test
}

/// A listener on loopback that counts the connections it accepts.
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    seen.fetch_add(1, Ordering::SeqCst);
                    let mut buffer = [0u8; 1024];
                    let _ = stream.read(&mut buffer);
                    let _ = stream.write_all(b"HTTP/1.0 404 Not Found\r\n\r\n");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (address, count)
}

#[test]
fn finding_2_remote_charts_make_no_connection_unless_the_administrator_allows_them() {
    let (address, count) = counting_listener();
    for chart in [
        format!("http://{address}/web-1.0.0.tgz"),
        format!("https://{address}/web-1.0.0.tgz"),
        format!("oci://{address}/charts/web"),
    ] {
        let test = Test::new().write(
            "values.yaml",
            &format!("upstream: [{{helm: {{chart: \"{chart}\", release: web, namespace: web}}}}]\n{SERVICE}"),
        );
        fs::create_dir_all(test.path().join(".git")).unwrap();
        // A real helm when there is one: it must not even be started.
        let out = test.run_with(&["generate", "-f", "values.yaml"]);
        let message = out.failure();
        assert!(
            message.contains("TAILSCALE_PLUGIN_ALLOWED_CHARTS"),
            "{chart}: {message}"
        );
        // The allow-list cannot be set by the repository's Application.
        let out = test
            .clone_with_env("ARGOCD_ENV_TAILSCALE_PLUGIN_ALLOWED_CHARTS", &chart)
            .clone_env("PARAM_TAILSCALE_PLUGIN_ALLOWED_CHARTS", &chart)
            .run_with(&["generate", "-f", "values.yaml"]);
        assert!(
            out.failure().contains("TAILSCALE_PLUGIN_ALLOWED_CHARTS"),
            "{chart}"
        );
    }
    // http:// is never allowed, even by the administrator.
    let test = Test::new().write("values.yaml", SERVICE);
    let out = test
        .clone_with_env(
            "TAILSCALE_PLUGIN_ALLOWED_CHARTS",
            &format!("http://{address}/"),
        )
        .run_with(&["generate", "-f", "values.yaml"]);
    assert!(out.failure().contains("http://"));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 0, "a connection was made");
}

#[test]
fn finding_5_the_helm_timeout_holds_with_a_grandchild_on_the_pipe_and_nothing_survives() {
    let test = chart_repository();
    // helm exits at once; its grandchild keeps stdout open for 30 s.
    let pid_file = test.path().join("grandchild.pid");
    let helm = fake_helm(
        test.path(),
        &format!("sleep 30 &\necho $! > \"{}\"\nexit 0", pid_file.display()),
    );
    let started = Instant::now();
    let out = test.clone_with_env("HELM_BINARY", &helm).run_with(&[
        "generate",
        "-f",
        "values.yaml",
        "--helm-timeout",
        "2",
    ]);
    let elapsed = started.elapsed();
    assert!(
        out.failure().contains("did not finish within 2 s"),
        "{}",
        out.stderr
    );
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    let pid = fs::read_to_string(&pid_file).unwrap();
    let alive = std::path::Path::new("/proc").join(pid.trim()).exists()
        && !fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .unwrap_or_default()
            .contains(") Z ");
    assert!(!alive, "the grandchild {pid} outlived the run");
}
