//! A builder that runs the real binary in a fresh temporary directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_argocd-tailscale-plugin");

/// The repository checkout, for goldens and examples.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDENS").is_some_and(|v| v != "0" && !v.is_empty())
}

#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    #[track_caller]
    pub fn success(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, stderr:\n{}", self.stderr);
        &self.stdout
    }

    /// Asserts the fail-closed contract: exit 2, nothing on stdout, one
    /// `error:` message on stderr. Returns the message.
    #[track_caller]
    pub fn failure(&self) -> &str {
        assert_eq!(
            self.code, 2,
            "expected exit 2, stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "stdout must stay empty on error");
        assert_eq!(
            self.stderr.matches("error: ").count(),
            1,
            "one message:\n{}",
            self.stderr
        );
        &self.stderr
    }
}

pub struct Test {
    dir: tempfile::TempDir,
    cwd: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

impl Test {
    pub fn new() -> Test {
        let dir = tempfile::tempdir().expect("temporary directory");
        let cwd = dir.path().to_path_buf();
        Test {
            dir,
            cwd,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(self, path: &str, content: &str) -> Test {
        let full = self.dir.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
        self
    }

    /// Runs in a subdirectory of the temporary directory.
    pub fn current_dir(mut self, sub: &str) -> Test {
        self.cwd = self.dir.path().join(sub);
        fs::create_dir_all(&self.cwd).unwrap();
        self
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Adds an environment variable for the runs of this fixture.
    pub fn clone_with_env(&self, key: &str, value: &str) -> Runner<'_> {
        let mut env = self.env.clone();
        env.push((key.into(), value.into()));
        Runner { test: self, env }
    }

    pub fn stdin(mut self, text: &str) -> Test {
        self.stdin = Some(text.into());
        self
    }

    pub fn run(&self) -> Outcome {
        run_in(&self.cwd, &self.args, &self.env, self.stdin.as_deref())
    }
}

pub fn run_in(
    cwd: &Path,
    args: &[String],
    env: &[(String, String)],
    stdin: Option<&str>,
) -> Outcome {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("ARGOCD_APP_SOURCE_PATH")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Compares with a golden file, printing a unified diff, or rewrites it
/// under `UPDATE_GOLDENS`. Returns a failure description instead of
/// panicking so one run reports every broken case.
pub fn compare(path: &Path, actual: &str) -> Option<String> {
    let expected = fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    if updating() {
        fs::write(path, actual).unwrap();
        eprintln!("updated {}", path.display());
        return None;
    }
    let diff = similar::TextDiff::from_lines(&expected, actual)
        .unified_diff()
        .header(&path.display().to_string(), "actual")
        .to_string();
    Some(format!(
        "{} differs (UPDATE_GOLDENS=1 rewrites it):\n{diff}",
        path.display()
    ))
}

/// The case directories under `testdata/<kind>`, sorted.
pub fn cases(kind: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(repo_root().join("testdata").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases under testdata/{kind}");
    dirs
}

/// A case's arguments: its `args` file (one per line), or `generate -f values.yaml`.
pub fn case_args(dir: &Path) -> Vec<String> {
    match fs::read_to_string(dir.join("args")) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        Err(_) => ["generate", "-f", "values.yaml"].map(String::from).to_vec(),
    }
}

impl Test {
    /// Runs with these arguments instead of the builder's, so one fixture
    /// serves several invocations.
    pub fn run_with(&self, args: &[&str]) -> Outcome {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_in(&self.cwd, &args, &self.env, self.stdin.as_deref())
    }
}

/// A fixture with extra environment variables.
pub struct Runner<'a> {
    test: &'a Test,
    env: Vec<(String, String)>,
}

impl Runner<'_> {
    /// Adds one more environment variable.
    pub fn clone_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn run_with(&self, args: &[&str]) -> Outcome {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_in(&self.test.cwd, &args, &self.env, self.test.stdin.as_deref())
    }
}

/// Whether a `helm` binary runs here. Without one, helm cases are skipped
/// and say so, unless `REQUIRE_HELM=1` (as CI sets it) makes that a failure.
pub fn helm_available(case: &Path) -> bool {
    let runs = argocd_tailscale_plugin::helm::runs();
    if !runs {
        skip(
            &case.display().to_string(),
            "helm is not installed",
            "REQUIRE_HELM",
        );
    }
    runs
}

/// Records that `what` did not run because `why`, or fails when the
/// `require` switch (CI's `REQUIRE_*=1`) says it must run. The line goes
/// straight to the process's stdout, past the harness's capture, so a
/// plain `cargo test` shows it next to the test's `ok`.
#[track_caller]
pub fn skip(what: &str, why: &str, require: &str) {
    use std::io::Write as _;
    let required = std::env::var_os(require).is_some_and(|v| v == "1");
    assert!(!required, "{what}: {require}=1 but {why}");
    let _ = writeln!(
        std::io::stdout().lock(),
        "skipped {what}: {why} (set {require}=1 to make this a failure)"
    );
}

/// Cases marked with a `requires-helm` or `requires-kustomize` file run
/// only where that tool does.
pub fn runnable(case: &Path) -> bool {
    (!case.join("requires-helm").exists() || helm_available(case))
        && (!case.join("requires-kustomize").exists()
            || kustomize(&case.display().to_string()).is_some())
}

/// A stand-in for helm that records its pid and arguments in `dir` and then
/// runs `body` (a shell snippet).
pub fn fake_helm(dir: &Path, body: &str) -> String {
    fake_tool(dir, "helm", body)
}

/// A stand-in for any rendering child: records its pid in `<name>.pid`
/// and its arguments, one per line, in `<name>.args`, then runs `body`.
pub fn fake_tool(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("fake-{name}"));
    fs::write(
        &path,
        format!("#!/bin/sh\necho $$ > \"{0}/{name}.pid\"\nprintf '%s\\n' \"$@\" > \"{0}/{name}.args\"\n{body}\n", dir.display()),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// How to run a build here, as the plugin looks for kustomize:
/// `KUSTOMIZE_BINARY build`, else `kustomize build`, else `kubectl
/// kustomize`; the directory goes last. `None` (after recording the skip)
/// when there is none.
pub fn kustomize(what: &str) -> Option<Vec<String>> {
    let runs = |argv: &[String]| {
        Command::new(&argv[0])
            .args(&argv[1..])
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let candidates: Vec<Vec<String>> = match std::env::var("KUSTOMIZE_BINARY") {
        Ok(binary) => vec![vec![binary, "build".into()]],
        Err(_) => vec![
            vec!["kustomize".into(), "build".into()],
            vec!["kubectl".into(), "kustomize".into()],
        ],
    };
    let found = candidates.into_iter().find(|argv| runs(argv));
    if found.is_none() {
        skip(
            what,
            "neither kustomize nor kubectl is installed",
            "REQUIRE_KUSTOMIZE",
        );
    }
    found
}

/// What `argv DIR` (a kustomize build, as [`kustomize`] found it) prints;
/// fails the test when it fails.
pub fn kustomize_build(argv: &[String], dir: &Path) -> String {
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
