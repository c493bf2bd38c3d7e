//! `helm template` as a child process: the one network-capable step, and
//! only when a values file asks for it.
//!
//! The argument list is explicit (no shell), we add no flags of our own
//! beyond what the values say, the child is stopped at a timeout or when we
//! are asked to terminate, and its stderr becomes our error on failure.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repo;
use crate::signals;
use crate::values::HelmSource;
use crate::yaml::MAX_INPUT_BYTES;

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

/// Charts helm fetches itself; everything else is a path in the repository.
fn is_remote(chart: &str) -> bool {
    ["oci://", "https://", "http://"]
        .iter()
        .any(|p| chart.starts_with(p))
}

fn helm_error(source: &HelmSource, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(source.location.clone())
        .key(source.key_path.clone())
}

/// The arguments for `helm template`, with paths resolved in the repository.
/// `default_namespace` stands in when the source names none, as Argo CD's
/// own Helm source passes the destination namespace.
pub fn arguments(
    source: &HelmSource,
    repo: &Repo,
    cwd: &Path,
    default_namespace: Option<&str>,
) -> Result<Vec<OsString>> {
    let base = cwd.join(&source.base);
    let chart: OsString = if is_remote(&source.chart) {
        source.chart.clone().into()
    } else {
        repo.resolve(&base, &source.chart, &format!("{}.chart", source.key_path))
            .map_err(|e| e.at(source.location.clone()))?
            .into()
    };
    let mut args: Vec<OsString> = vec!["template".into(), source.release.clone().into(), chart];
    if let Some(ns) = source.namespace.as_deref().or(default_namespace) {
        args.extend(["--namespace".into(), ns.into()]);
    }
    if let Some(version) = &source.version {
        args.extend(["--version".into(), version.into()]);
    }
    for file in &source.values_files {
        let path = repo
            .resolve(&base, file, &format!("{}.valuesFiles", source.key_path))
            .map_err(|e| e.at(source.location.clone()))?;
        args.extend(["--values".into(), path.into()]);
    }
    if source.values.is_some() {
        // Inline values reach helm on stdin, after the files, so they win.
        args.extend(["--values".into(), "-".into()]);
    }
    Ok(args)
}

/// Reads a pipe to its end so the child never blocks on it, keeping at
/// most one byte more than the input limit (the parser then refuses it).
fn drain(mut reader: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        while let Ok(n) = reader.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let room = (MAX_INPUT_BYTES + 1).saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..n.min(room)]);
        }
        kept
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `helm template` and returns its stdout.
pub fn template(
    source: &HelmSource,
    repo: &Repo,
    cwd: &Path,
    default_namespace: Option<&str>,
    timeout: Duration,
) -> Result<(String, Arc<str>)> {
    let args = arguments(source, repo, cwd, default_namespace)?;
    let shown: Arc<str> = Arc::from(format!("helm template {} {}", source.release, source.chart));
    let mut child = Command::new(binary())
        .args(&args)
        .current_dir(cwd.join(&source.base))
        .stdin(if source.values.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "helm is not installed (not found on PATH; HELM_BINARY names another binary)".to_string()
            } else {
                format!("cannot start helm: {e}")
            };
            helm_error(source, why).hint("install helm, or render the chart yourself and name the output as upstream: [{file: ...}]")
        })?;
    if let Some(values) = &source.values {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let json = serde_json::to_vec(values).expect("JSON values serialize");
        // A failed write means helm exited early; its status tells why.
        let _ = stdin.write_all(&json);
    }
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let started = Instant::now();
    let status = loop {
        if signals::terminated() {
            stop(&mut child);
            return Err(Error::new(
                ErrorKind::Interrupted,
                format!("terminated while running {shown}; helm was stopped"),
            ));
        }
        if started.elapsed() > timeout {
            stop(&mut child);
            return Err(helm_error(source, format!("{shown} did not finish within {} s; stopped", timeout.as_secs()))
                .hint("Argo CD gives a plugin about 60 s in all; render large charts ahead, or raise --helm-timeout"));
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                stop(&mut child);
                return Err(helm_error(source, format!("waiting for helm failed: {e}")));
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = String::from_utf8_lossy(&stderr.join().unwrap_or_default())
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Use --debug"))
        .collect::<Vec<_>>()
        .join("; ");
    if !status.success() {
        let code = status
            .code()
            .map_or("a signal".to_string(), |c| format!("status {c}"));
        return Err(
            helm_error(source, format!("{shown} failed with {code}: {err}"))
                .hint("fix the chart or its values; the message above is helm's own"),
        );
    }
    let text = String::from_utf8(out)
        .map_err(|_| helm_error(source, format!("{shown} printed output that is not UTF-8")))?;
    Ok((text, shown))
}
