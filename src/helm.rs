//! `helm template` as a child process: the one network-capable step, and
//! only when a values file asks for it.
//!
//! The argument list is explicit (no shell), we add no flags of our own
//! beyond what the values say, the child is stopped at a timeout or when we
//! are asked to terminate, and its stderr becomes our error on failure.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::admin::{self, Limits};
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repo;
use crate::sandbox::Sandbox;
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

/// Reads a pipe to its end so the child never blocks on it, keeping at
/// most one byte more than the input limit (the parser then refuses it),
/// and sends what it read, tagged stdout or stderr, when the pipe closes.
fn drain(
    mut reader: impl Read + Send + 'static,
    done: mpsc::Sender<(bool, Vec<u8>)>,
    is_stdout: bool,
) {
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
        let _ = done.send((is_stdout, kept));
    });
}

/// Ends helm and everything it started: it runs as the leader of its own
/// process group, so a grandchild that kept a pipe open goes too.
fn stop(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // it touches no memory of ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
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
    let started = Instant::now();
    let mut sandbox = Sandbox::new(repo.root(), limits)?;
    let args = arguments(source, repo, cwd, default_namespace, limits, &mut sandbox)?;
    let shown: Arc<str> = Arc::from(format!("helm template {} {}", source.release, source.chart));
    let mut child = Command::new(binary())
        .args(&args)
        .current_dir(sandbox.path())
        .env_clear()
        .envs(sandbox.env())
        .process_group(0)
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
    let (sender, receiver) = mpsc::channel();
    drain(
        child.stdout.take().expect("stdout is piped"),
        sender.clone(),
        true,
    );
    drain(child.stderr.take().expect("stderr is piped"), sender, false);
    let timed_out = |child: &mut Child| {
        stop(child);
        helm_error(source, format!("{shown} did not finish within {} s; stopped with everything it started", timeout.as_secs()))
            .hint("Argo CD gives a plugin about 60 s in all; render large charts ahead, or raise --helm-timeout")
    };
    let terminated = |child: &mut Child| {
        stop(child);
        Error::new(
            ErrorKind::Interrupted,
            format!("terminated while running {shown}; helm was stopped"),
        )
    };
    let status = loop {
        if signals::terminated() {
            return Err(terminated(&mut child));
        }
        if started.elapsed() > timeout {
            return Err(timed_out(&mut child));
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
    // Reading the pipes shares the deadline: a grandchild that holds them
    // open is not waited for past it.
    let (mut out, mut err_bytes) = (None, None);
    while out.is_none() || err_bytes.is_none() {
        if signals::terminated() {
            return Err(terminated(&mut child));
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(timed_out(&mut child));
        }
        match receiver.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok((true, bytes)) => out = Some(bytes),
            Ok((false, bytes)) => err_bytes = Some(bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Nothing helm started outlives it.
    stop(&mut child);
    let out = out.unwrap_or_default();
    let err = String::from_utf8_lossy(&err_bytes.unwrap_or_default())
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
