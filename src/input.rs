//! What every rendering command reads: the shared flags, the files they
//! name, and Argo CD's parameters and settings, turned into one
//! [`Request`]. `cli` and `diff_cmd` both build on it; neither reaches into
//! the other.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum, ValueHint};

use argocd_tailscale_plugin::admin::Limits;
use argocd_tailscale_plugin::argocd::{self, Env, ProcessEnv, Settings};
use argocd_tailscale_plugin::generate::{self, AppContext, Request};
use argocd_tailscale_plugin::overrides::TemplateDir;
use argocd_tailscale_plugin::repo::{self, Repo};
use argocd_tailscale_plugin::values::Source;
use argocd_tailscale_plugin::{Error, ErrorKind};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

/// What every rendering command reads.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Values file; repeat to merge several in order, as Helm does ("-" reads stdin).
    /// Default: the values-files parameter, else values.yaml in the current directory.
    #[arg(short = 'f', long = "values", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub values: Vec<String>,
    /// Upstream manifests (a chart's rendered output, YAML or JSON) to post-process;
    /// repeatable, "-" reads stdin. Adds to `upstream:` in the values.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub upstream: Vec<String>,
    /// Refuse to repair upstream objects or to warn: every repair and warning becomes an error.
    #[arg(long)]
    pub strict: bool,
    /// Directory of template overrides; files missing there fall back to the built-in ones.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub templates: Option<String>,
    /// Seconds a rendering child (helm template, kustomize build) may run
    /// before it is stopped with everything it started.
    #[arg(
        long,
        visible_alias = "helm-timeout",
        value_name = "SECONDS",
        default_value_t = generate::RENDER_TIMEOUT.as_secs()
    )]
    pub render_timeout: u64,
    /// Repository root; nothing outside it is read. Default: the working directory minus
    /// ARGOCD_APP_SOURCE_PATH, else the enclosing git work tree, else the current directory.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub repo_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format: a YAML stream, or concatenated JSON objects.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
    /// Accept values that select nothing and print an empty stream.
    /// Without it that is an error, because Argo CD with prune would delete every resource of the app.
    #[arg(long)]
    pub allow_empty: bool,
}

/// What a successful command wants printed.
pub struct Printed {
    pub stdout: String,
    /// Lines for stderr (repairs, warnings, notes), printed before stdout.
    pub stderr: Vec<String>,
    /// `diff` found differences, or `check` found errors (exit status 1).
    pub found: bool,
}

/// Reads `-` from stdin, anything else inside the repository.
pub fn read_source(
    repo: &Repo,
    cwd: &Path,
    file: &str,
    key: &str,
) -> argocd_tailscale_plugin::Result<Source> {
    let (name, text) = if file == "-" {
        let text = repo::read_limited(std::io::stdin().lock(), "<stdin>")?;
        repo.charge(text.len() as u64, "<stdin>")?;
        ("<stdin>", text)
    } else {
        (file, repo.read(cwd, file, key)?)
    };
    Ok(Source {
        name: Arc::from(name),
        text,
    })
}

pub fn read_all(
    repo: &Repo,
    cwd: &Path,
    files: &[String],
    key: &str,
    defaulted: bool,
) -> argocd_tailscale_plugin::Result<Vec<Source>> {
    files
        .iter()
        .map(|file| {
            read_source(repo, cwd, file, key).map_err(|e| {
                if defaulted {
                    e.hint("no -f given and no values-files parameter, so values.yaml in the current directory was read; pass -f FILE")
                } else {
                    e
                }
            })
        })
        .collect()
}

pub fn env(name: &str) -> Option<String> {
    ProcessEnv.get(name).filter(|v| !v.is_empty())
}

/// The request every rendering command shares: flags first, then Argo CD's
/// parameters and settings.
pub fn request(input: &InputArgs, cwd: &Path) -> anyhow::Result<Request> {
    let cwd = cwd.to_path_buf();
    let settings: Settings = argocd::settings(&ProcessEnv)?;
    let repo = Repo::discover(
        &cwd,
        input.repo_root.as_deref(),
        env("ARGOCD_APP_SOURCE_PATH").as_deref(),
    )?;
    let (values_files, defaulted) = if input.values.is_empty() {
        let defaulted = settings.values_files == ["values.yaml"];
        (settings.values_files.clone(), defaulted)
    } else {
        (input.values.clone(), false)
    };
    let upstream_files = if input.upstream.is_empty() {
        settings.upstream_files.clone()
    } else {
        input.upstream.clone()
    };
    if values_files
        .iter()
        .chain(&upstream_files)
        .filter(|f| *f == "-")
        .count()
        > 1
    {
        return Err(Error::new(
            ErrorKind::Usage,
            "standard input (\"-\") is named more than once",
        )
        .hint("read at most one of the values files and upstream manifests from stdin")
        .into());
    }
    let limits = Limits::from_env()?;
    repo.set_run_limit(limits.max_run_bytes);
    let values = read_all(&repo, &cwd, &values_files, "--values", defaulted)?;
    let upstream = read_all(&repo, &cwd, &upstream_files, "--upstream", false)?;
    let templates = input
        .templates
        .as_deref()
        .map(|dir| {
            Ok::<_, Error>(TemplateDir {
                path: repo.resolve(&cwd, dir, "--templates")?,
                shown: dir.to_string(),
            })
        })
        .transpose()?;
    let mut request = Request::new(values, repo, cwd);
    request.upstream = upstream;
    request.templates = templates;
    request.strict = input.strict || settings.strict;
    request.render_timeout = Duration::from_secs(input.render_timeout);
    request.limits = limits;
    request.app = AppContext {
        namespace: env("ARGOCD_APP_NAMESPACE"),
        repo_url: env("ARGOCD_APP_SOURCE_REPO_URL"),
        target_revision: env("ARGOCD_APP_SOURCE_TARGET_REVISION"),
        depth: 0,
    };
    Ok(request)
}
