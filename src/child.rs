//! A rendering child (helm, kustomize) run in its sandbox: an explicit
//! argument list and no shell, an environment of the sandbox's only, its
//! own process group, one deadline for running and for draining its pipes,
//! and a stop for it and everything it started at the deadline or when we
//! are asked to terminate.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::sandbox::Sandbox;
use crate::signals;
use crate::yaml::MAX_INPUT_BYTES;

/// What to run.
pub struct Spec<'a> {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Written to the child's stdin, then closed; none: stdin is empty.
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub sandbox: &'a Sandbox,
}

/// How a run ended, for the caller to word as its own error.
pub enum Failure {
    /// The program could not be started (`NotFound`: not installed).
    Start(std::io::Error),
    /// The deadline passed; the child and its group were stopped.
    TimedOut,
    /// We were asked to terminate; the child and its group were stopped.
    Terminated,
    Wait(std::io::Error),
}

/// A finished child: its status, stdout and stderr (each cut one byte past
/// the input limit, so the parser refuses an oversized stream).
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// stderr as one line: its non-empty lines joined, `skip` lines left
    /// out.
    pub fn stderr_line(&self, skip: impl Fn(&str) -> bool) -> String {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !skip(l))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads a pipe to its end so the child never blocks on it, keeping at
/// most one byte more than the input limit, and sends what it read, tagged
/// stdout or stderr, when the pipe closes.
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

/// Ends the child and everything it started: it runs as the leader of its
/// own process group, so a grandchild that kept a pipe open goes too.
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

/// Runs `spec` in its sandbox to the end, or stops it.
pub fn run(spec: Spec) -> Result<Finished, Failure> {
    let started = Instant::now();
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .current_dir(spec.sandbox.path())
        .env_clear()
        .envs(spec.sandbox.env())
        .process_group(0)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Failure::Start)?;
    if let Some(input) = &spec.stdin {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // A failed write means the child exited early; its status tells why.
        let _ = stdin.write_all(input);
    }
    let (sender, receiver) = mpsc::channel();
    drain(
        child.stdout.take().expect("stdout is piped"),
        sender.clone(),
        true,
    );
    drain(child.stderr.take().expect("stderr is piped"), sender, false);
    let status = loop {
        if signals::terminated() {
            stop(&mut child);
            return Err(Failure::Terminated);
        }
        if started.elapsed() > spec.timeout {
            stop(&mut child);
            return Err(Failure::TimedOut);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                stop(&mut child);
                return Err(Failure::Wait(e));
            }
        }
    };
    // Reading the pipes shares the deadline: a grandchild that holds them
    // open is not waited for past it.
    let (mut out, mut err) = (None, None);
    while out.is_none() || err.is_none() {
        if signals::terminated() {
            stop(&mut child);
            return Err(Failure::Terminated);
        }
        let left = spec.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            stop(&mut child);
            return Err(Failure::TimedOut);
        }
        match receiver.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok((true, bytes)) => out = Some(bytes),
            Ok((false, bytes)) => err = Some(bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Nothing the child started outlives it.
    stop(&mut child);
    Ok(Finished {
        status,
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
    })
}

/// What a run's caller says about it: the tool's name, how messages name
/// the run, and how to attach the source's place to an error.
pub struct Describe<'a> {
    pub tool: &'a str,
    /// The variable that names another binary (`HELM_BINARY`).
    pub binary_variable: &'a str,
    pub shown: &'a str,
    pub timeout: Duration,
    /// What to do instead when the tool cannot run at all.
    pub instead: &'a str,
}

impl Describe<'_> {
    /// The error for a run that did not finish, placed by `at`.
    pub fn failure(&self, failure: Failure, at: impl Fn(Error) -> Error) -> Error {
        let upstream = |message: String| at(Error::new(ErrorKind::Upstream, message));
        match failure {
            Failure::Start(e) if e.kind() == std::io::ErrorKind::NotFound => upstream(format!(
                "{} is not installed (not found on PATH; {} names another binary)",
                self.tool, self.binary_variable
            ))
            .hint(format!("install {}, or {}", self.tool, self.instead)),
            Failure::Start(e) => upstream(format!("cannot start {}: {e}", self.tool))
                .hint(format!("install {}, or {}", self.tool, self.instead)),
            Failure::TimedOut => upstream(format!(
                "{} did not finish within {} s; stopped with everything it started",
                self.shown,
                self.timeout.as_secs()
            ))
            .hint(format!(
                "Argo CD gives a plugin about 60 s in all; raise --render-timeout, or {}",
                self.instead
            )),
            Failure::Terminated => Error::new(
                ErrorKind::Interrupted,
                format!(
                    "terminated while running {}; {} was stopped",
                    self.shown, self.tool
                ),
            ),
            Failure::Wait(e) => upstream(format!("waiting for {} failed: {e}", self.tool)),
        }
    }

    /// The error for a run that finished unsuccessfully; `stderr` is the
    /// tool's own message.
    pub fn unsuccessful(&self, status: ExitStatus, stderr: &str, fix: &str) -> Error {
        Error::new(
            ErrorKind::Upstream,
            format!(
                "{} failed with {}: {stderr}",
                self.shown,
                status_words(status)
            ),
        )
        .hint(format!("{fix}; the message above is {}'s own", self.tool))
    }
}

/// "status 1", or "a signal".
pub fn status_words(status: ExitStatus) -> String {
    status
        .code()
        .map_or("a signal".to_string(), |c| format!("status {c}"))
}
