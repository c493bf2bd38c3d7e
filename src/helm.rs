//! `helm template` as a child process: the one network-capable step, and
//! only when a values file asks for it.
//!
//! We add no flags of our own beyond what the values say; `child` runs it
//! (no shell, its own process group, a deadline), and its stderr becomes
//! our error on failure.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::admin::{self, Limits};
use crate::child;
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repo;
use crate::sandbox::Sandbox;
use crate::values::HelmSource;

/// The helm binary: `HELM_BINARY` when set, else `helm` on PATH.
pub fn binary() -> OsString {
    std::env::var_os("HELM_BINARY").unwrap_or_else(|| "helm".into())
}

/// Whether the helm binary runs here (`helm version` succeeds).
pub fn runs() -> bool {
    Command::new(binary())
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Charts helm would fetch itself; everything else is a path in the
/// repository.
fn is_remote(chart: &str) -> bool {
    chart.contains("://")
}

fn helm_error(source: &HelmSource, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(source.location.clone())
        .key(source.key_path.clone())
}

/// The arguments for `helm template`. A chart in the repository and its
/// values files are copied into `sandbox` and named there; a remote chart
/// is named as written, and only when the administrator's allow-list
/// admits it. `default_namespace` stands in when the source names none, as
/// Argo CD's own Helm source passes the destination namespace.
pub fn arguments(
    source: &HelmSource,
    repo: &Repo,
    cwd: &Path,
    default_namespace: Option<&str>,
    limits: &Limits,
    sandbox: &mut Sandbox,
) -> Result<Vec<OsString>> {
    let base = cwd.join(&source.base);
    let chart_key = format!("{}.chart", source.key_path);
    let chart: OsString = if is_remote(&source.chart) {
        if source.chart.starts_with("http://") || !limits.allows_chart(&source.chart) {
            return Err(helm_error(
                source,
                format!(
                    "chart {:?} is not in the repository; fetching it would reach the network, which this sidecar does not allow for it",
                    source.chart
                ),
            )
            .key(chart_key)
            .hint(format!(
                "vendor the chart into the repository, or ask the sidecar's administrator to list its location (https:// or oci://, never http://) in {}",
                admin::ALLOWED_CHARTS
            )));
        }
        source.chart.clone().into()
    } else {
        let resolved = repo
            .resolve(&base, &source.chart, &chart_key)
            .map_err(|e| {
                let e = e.at(source.location.clone());
                if e.message.contains("no such file") {
                    e.hint(format!(
                        "a chart is a directory or .tgz in the repository; repository charts (repo/name) are remote, refused unless the sidecar's administrator lists them in {}",
                        admin::ALLOWED_CHARTS
                    ))
                } else {
                    e
                }
            })?;
        let name = resolved
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "chart".into());
        sandbox
            .copy_in(&resolved, &format!("chart/{name}"), &source.chart)
            .map_err(|e| e.at(source.location.clone()).key(chart_key.clone()))?
            .into()
    };
    let mut args: Vec<OsString> = vec!["template".into(), source.release.clone().into(), chart];
    if let Some(ns) = source.namespace.as_deref().or(default_namespace) {
        args.extend(["--namespace".into(), ns.into()]);
    }
    if let Some(version) = &source.version {
        args.extend(["--version".into(), version.into()]);
    }
    let values_key = format!("{}.valuesFiles", source.key_path);
    for (i, file) in source.values_files.iter().enumerate() {
        let path = repo
            .resolve(&base, file, &values_key)
            .map_err(|e| e.at(source.location.clone()))?;
        let copy = sandbox
            .copy_in(&path, &format!("values/{i}.yaml"), file)
            .map_err(|e| e.at(source.location.clone()).key(values_key.clone()))?;
        args.extend(["--values".into(), copy.into()]);
    }
    if source.values.is_some() {
        // Inline values reach helm on stdin, after the files, so they win.
        args.extend(["--values".into(), "-".into()]);
    }
    Ok(args)
}

/// Runs `helm template` in a sandbox and returns its stdout.
pub fn template(
    source: &HelmSource,
    repo: &Repo,
    cwd: &Path,
    default_namespace: Option<&str>,
    limits: &Limits,
    timeout: Duration,
) -> Result<(String, Arc<str>)> {
    let mut sandbox = Sandbox::new(repo.root(), limits)?;
    let args = arguments(source, repo, cwd, default_namespace, limits, &mut sandbox)?;
    let shown: Arc<str> = Arc::from(format!("helm template {} {}", source.release, source.chart));
    // Inline values reach helm on stdin, after the files, so they win.
    let stdin = source
        .values
        .as_ref()
        .map(|values| serde_json::to_vec(values).expect("JSON values serialize"));
    let describe = child::Describe {
        tool: "helm",
        binary_variable: "HELM_BINARY",
        shown: &shown,
        timeout,
        instead: "render the chart yourself and name the output as upstream: [{file: ...}]",
    };
    let at = |e: Error| e.at(source.location.clone()).key(source.key_path.clone());
    let finished = child::run(child::Spec {
        program: binary(),
        args,
        stdin,
        timeout,
        sandbox: &sandbox,
    })
    .map_err(|failure| describe.failure(failure, at))?;
    if !finished.status.success() {
        let err = finished.stderr_line(|l| l.starts_with("Use --debug"));
        return Err(at(describe.unsuccessful(
            finished.status,
            &err,
            "fix the chart or its values",
        )));
    }
    let text = String::from_utf8(finished.stdout)
        .map_err(|_| helm_error(source, format!("{shown} printed output that is not UTF-8")))?;
    Ok((text, shown))
}
