//! Command-line definitions and dispatch. Library errors come back typed;
//! `main` turns them into the exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use argocd_tailscale_plugin::generate::{self, Format, Request};
use argocd_tailscale_plugin::render::TemplateDir;
use argocd_tailscale_plugin::repo::{self, Repo};
use argocd_tailscale_plugin::values::Source;

#[derive(Debug, Parser)]
#[command(
    name = "argocd-tailscale-plugin",
    version,
    about = "Render conflict-free Tailscale operator exposure manifests for Argo CD",
    long_about = "Render conflict-free Tailscale operator exposure manifests for Argo CD.\n\n\
        Reads a protected-services values file and prints the Kubernetes objects that expose \
        each service on the tailnet: a LoadBalancer Service of class tailscale (direct), an \
        Ingress of class tailscale (ingress), with selectors and ports derived, never guessed.\n\n\
        Exit status: 0 success, 2 error (nothing is printed on stdout then)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifest stream for the values (what Argo CD applies).
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Values file; repeat to merge several in order, as Helm does ("-" reads stdin).
    /// Default: values.yaml in the current directory.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<String>,
    /// Directory of template overrides; files missing there fall back to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<String>,
    /// Output format: a YAML stream, or concatenated JSON objects.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
    /// Accept values that select nothing and print an empty stream.
    /// Without it that is an error, because Argo CD with prune would delete every resource of the app.
    #[arg(long)]
    pub allow_empty: bool,
    /// Upstream manifests (a chart's rendered output, YAML or JSON) to post-process;
    /// repeatable, "-" reads stdin. Adds to `upstream:` in the values.
    #[arg(long, value_name = "FILE")]
    pub upstream: Vec<String>,
    /// Refuse to repair upstream objects or to warn: every repair and warning becomes an error.
    #[arg(long)]
    pub strict: bool,
    /// Seconds `helm template` may run before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = generate::HELM_TIMEOUT.as_secs())]
    pub helm_timeout: u64,
    /// Repository root; nothing outside it is read. Default: the enclosing git work tree, or
    /// the current directory.
    #[arg(long, value_name = "DIR")]
    pub repo_root: Option<PathBuf>,
}

/// What a successful command wants printed.
pub struct Printed {
    pub stdout: String,
    /// Lines for stderr (repairs, warnings, notes), printed before stdout.
    pub stderr: Vec<String>,
}

/// Reads `-` from stdin, anything else inside the repository.
fn read_source(
    repo: &Repo,
    cwd: &Path,
    file: &str,
    key: &str,
) -> argocd_tailscale_plugin::Result<Source> {
    let (name, text) = if file == "-" {
        (
            "<stdin>",
            repo::read_limited(std::io::stdin().lock(), "<stdin>")?,
        )
    } else {
        (file, repo.read(cwd, file, key)?)
    };
    Ok(Source {
        name: Arc::from(name),
        text,
    })
}

fn read_values(repo: &Repo, cwd: &Path, files: &[String]) -> anyhow::Result<Vec<Source>> {
    let defaulted = [String::from("values.yaml")];
    let files = if files.is_empty() {
        &defaulted[..]
    } else {
        files
    };
    files
        .iter()
        .map(|file| {
            read_source(repo, cwd, file, "--values").map_err(|e| {
                if files == defaulted {
                    e.hint("no -f given, so values.yaml in the current directory was read; pass -f FILE")
                } else {
                    e
                }
            })
        })
        .collect::<argocd_tailscale_plugin::Result<_>>()
        .map_err(Into::into)
}

fn generate(args: &GenerateArgs) -> anyhow::Result<Printed> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let source_path = std::env::var("ARGOCD_APP_SOURCE_PATH").ok();
    let repo = Repo::discover(&cwd, args.repo_root.as_deref(), source_path.as_deref())?;
    let stdin_users = args
        .values
        .iter()
        .chain(&args.upstream)
        .filter(|f| *f == "-")
        .count();
    if stdin_users > 1 {
        return Err(argocd_tailscale_plugin::Error::new(
            argocd_tailscale_plugin::ErrorKind::Usage,
            "standard input (\"-\") is named more than once",
        )
        .hint("read at most one of the values files and upstream manifests from stdin")
        .into());
    }
    let values = read_values(&repo, &cwd, &args.values)?;
    let upstream = args
        .upstream
        .iter()
        .map(|file| read_source(&repo, &cwd, file, "--upstream"))
        .collect::<argocd_tailscale_plugin::Result<Vec<_>>>()?;
    let templates = args
        .templates
        .as_deref()
        .map(|dir| {
            Ok::<_, argocd_tailscale_plugin::Error>(TemplateDir {
                path: repo.resolve(&cwd, dir, "--templates")?,
                shown: dir.to_string(),
            })
        })
        .transpose()?;
    let mut request = Request::new(values, repo, cwd);
    request.upstream = upstream;
    request.templates = templates;
    request.allow_empty = args.allow_empty;
    request.strict = args.strict;
    request.helm_timeout = Duration::from_secs(args.helm_timeout);
    request.format = match args.output {
        OutputFormat::Yaml => Format::Yaml,
        OutputFormat::Json => Format::Json,
    };
    let output = generate::generate(&request)?;
    Ok(Printed {
        stdout: output.text,
        stderr: output.report.lines(),
    })
}

pub fn run(cli: &Cli) -> anyhow::Result<Printed> {
    match &cli.command {
        Command::Generate(args) => generate(args),
    }
}
