//! Command-line definitions and dispatch. Library errors come back typed;
//! `main` turns them into the exit code.

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use argocd_tailscale_plugin::argocd::{self, ProcessEnv};
use argocd_tailscale_plugin::generate::{self, Format};
use argocd_tailscale_plugin::repo::Repo;
use argocd_tailscale_plugin::values::{self, Source};
use argocd_tailscale_plugin::{apps, escape};

use crate::input::{
    GenerateArgs, InputArgs, OutputFormat, Printed, env, read_all, read_source, request,
};
use argocd_tailscale_plugin::{Error, ErrorKind, check, diagnostic, ownership, yaml};

/// The binary's name, as shells and manuals know it.
pub const BIN: &str = "argocd-tailscale-plugin";

#[derive(Debug, Parser)]
#[command(
    name = BIN,
    version,
    about = "Render conflict-free Tailscale operator exposure manifests for Argo CD",
    long_about = "Render conflict-free Tailscale operator exposure manifests for Argo CD.\n\n\
        Reads a protected-services values file (and a chart's rendered manifests) and prints \
        the Kubernetes objects that expose each service on the tailnet, with selectors and \
        ports derived, never guessed, and exposure removed wherever it would conflict.\n\n\
        Exit status: 0 success; 1 differences (diff) or error findings (check); \
        2 error (nothing is printed on stdout then)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifest stream for the values (what Argo CD applies).
    Generate(GenerateArgs),
    /// Print the parameter announcement for Argo CD's UI (a JSON array).
    Parameters(ParametersArgs),
    /// Print the ignoreDifferences entries and sync options an Application needs.
    IgnoreDifferences(IgnoreArgs),
    /// Compare rendered manifests object by object: two files, a git revision
    /// against the working tree, or the golden cases. Exit 0 same, 1 different.
    Diff(crate::diff_cmd::DiffArgs),
    /// Find conflicts and auth failures in the inputs before they reach the cluster.
    /// Exit 0 no errors, 1 errors (or warnings with --deny-warnings), 2 unreadable inputs.
    Check(CheckArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema (draft 2020-12) of the values file, for editors
    /// and `values.schema.json`.
    Schema,
    /// Print a man page (roff): the program's, or one command's.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (generate, diff, check, ...).
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page into DIR instead (argocd-tailscale-plugin.1 and
    /// argocd-tailscale-plugin-<command>.1), and list them.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The tailnet policy file (HuJSON), for tag ownership and approvals.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub policy: Option<String>,
    /// The Tailscale operator's Helm values (operatorConfig.defaultTags, proxyConfig.defaultTags).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub operator_values: Option<String>,
    /// The operator version (e.g. 1.90), for version-dependent checks.
    #[arg(long, value_name = "X.Y")]
    pub operator_version: Option<String>,
    /// The Argo CD AppProject the app belongs to.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub project: Option<String>,
    /// The Argo CD Application that renders these values.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub application: Option<String>,
    /// Pasted operator or proxy logs, read line by line; repeatable.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub log: Vec<String>,
    /// What `kubectl get ... -o yaml|json` exported from the cluster (Services,
    /// Ingresses, StatefulSets, Pods, Secrets, Events, the operator's
    /// Deployment, ProxyGroups, Applications); repeatable, "-" for stdin.
    /// Secrets are read for their key names only.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub cluster_state: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Check a configuration that renders nothing (only logs, a policy),
    /// as generate --allow-empty would render it.
    #[arg(long)]
    pub allow_empty: bool,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print the long form of a diagnostic code (e.g. TS001) and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
}

#[derive(Debug, Args)]
pub struct IgnoreArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format of the snippet.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: OutputFormat,
    /// Namespace of objects that leave it to the Application's destination.
    /// Default: ARGOCD_APP_NAMESPACE.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ParametersArgs {
    /// Values file to describe. Default: the values-files parameter, else values.yaml.
    #[arg(short = 'f', long = "values", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub values: Vec<String>,
}

fn generate(args: &GenerateArgs) -> anyhow::Result<Printed> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut request = request(&args.input, &cwd)?;
    request.allow_empty = args.allow_empty;
    request.format = match args.output {
        OutputFormat::Yaml => Format::Yaml,
        OutputFormat::Json => Format::Json,
    };
    request.write_ahead = true;
    let values = apps::take_values(&mut request)?;
    let accepted = apps::accepted_with(&request, values)?;
    Ok(Printed {
        stdout: generate::print(&request, accepted.objects, accepted.text),
        stderr: accepted.report.lines(),
        found: false,
    })
}

fn ignore_differences(args: &IgnoreArgs) -> anyhow::Result<Printed> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let request = request(&args.input, &cwd)?;
    let (objects, report) = apps::objects(&request)?;
    let namespace = args
        .namespace
        .clone()
        .or_else(|| request.app.namespace.clone());
    let snippet = serde_json::to_value(ownership::snippet(&objects, namespace.as_deref()))?;
    let stdout = match args.output {
        OutputFormat::Yaml => yaml::emit(&snippet),
        OutputFormat::Json => escape::json(serde_json::to_string_pretty(&snippet)?) + "\n",
    };
    Ok(Printed {
        stdout,
        stderr: report.lines(),
        found: false,
    })
}

/// The announcement reflects the values file in the current directory; with
/// none there, only the static parameters are announced.
fn parameters(args: &ParametersArgs) -> anyhow::Result<Printed> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let settings = argocd::settings(&ProcessEnv)?;
    let repo = Repo::discover(&cwd, None, env("ARGOCD_APP_SOURCE_PATH").as_deref())?;
    let files = if args.values.is_empty() {
        settings.values_files
    } else {
        args.values.clone()
    };
    let services = if files.iter().all(|f| cwd.join(f).is_file()) {
        let sources = read_all(&repo, &cwd, &files, "--values", false)?;
        let values = values::load(&sources, None)?;
        let map: BTreeMap<String, String> = values
            .services
            .iter()
            .map(|s| {
                (
                    s.name.to_string(),
                    format!("{} {}", s.mode.as_str(), s.hostname),
                )
            })
            .collect();
        (!map.is_empty()).then_some(map)
    } else {
        None
    };
    Ok(Printed {
        stdout: argocd::announcement_json(&argocd::announcements(services)),
        stderr: Vec::new(),
        found: false,
    })
}

fn check(args: &CheckArgs) -> anyhow::Result<Printed> {
    if let Some(id) = &args.explain {
        let code = diagnostic::code(id).ok_or_else(|| {
            Error::new(ErrorKind::Usage, format!("no diagnostic {id:?}")).hint(format!(
                "codes: {}",
                diagnostic::CODES
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        return Ok(Printed {
            stdout: diagnostic::explain(code),
            stderr: Vec::new(),
            found: false,
        });
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    // With cluster exports and no values in sight, the cluster alone.
    let cluster_only = !args.cluster_state.is_empty()
        && args.input.values.is_empty()
        && args.input.upstream.is_empty()
        && env("ARGOCD_APP_PARAMETERS").is_none()
        && !cwd.join("values.yaml").exists();
    if cluster_only {
        let repo = Repo::discover(
            &cwd,
            args.input.repo_root.as_deref().map(std::path::Path::new),
            env("ARGOCD_APP_SOURCE_PATH").as_deref(),
        )?;
        repo.set_run_limit(argocd_tailscale_plugin::admin::Limits::from_env()?.max_run_bytes);
        let extra = check::Extra {
            logs: read_all(&repo, &cwd, &args.log, "--log", false)?,
            cluster_state: read_all(&repo, &cwd, &args.cluster_state, "--cluster-state", false)?,
            ..check::Extra::default()
        };
        let diagnostics = check::check_cluster(&extra)?;
        let fallback = extra
            .cluster_state
            .first()
            .map(|s| argocd_tailscale_plugin::location::Location::new(&s.name, 1, 1));
        return Ok(report(args, &diagnostics, &repo, &cwd, fallback));
    }
    let mut request = request(&args.input, &cwd)?;
    let read =
        |file: &Option<String>, key: &str| -> argocd_tailscale_plugin::Result<Option<Source>> {
            file.as_deref()
                .map(|f| read_source(&request.repo, &cwd, f, key))
                .transpose()
        };
    let operator_version = args
        .operator_version
        .as_deref()
        .map(|v| {
            let mut parts = v.trim_start_matches('v').split('.').map(str::parse::<u32>);
            match (parts.next(), parts.next()) {
                (Some(Ok(major)), Some(Ok(minor))) => Ok((major, minor)),
                _ => Err(Error::new(
                    ErrorKind::Usage,
                    format!("--operator-version {v:?} is not X.Y"),
                )
                .hint("e.g. --operator-version 1.90")),
            }
        })
        .transpose()?;
    let extra = check::Extra {
        policy: read(&args.policy, "--policy")?,
        operator_values: read(&args.operator_values, "--operator-values")?,
        project: read(&args.project, "--project")?,
        application: read(&args.application, "--application")?,
        logs: read_all(&request.repo, &cwd, &args.log, "--log", false)?,
        cluster_state: read_all(
            &request.repo,
            &cwd,
            &args.cluster_state,
            "--cluster-state",
            false,
        )?,
    };
    request.operator_version = operator_version;
    request.allow_empty = args.allow_empty;
    let diagnostics = check::check(&request, &extra)?;
    let fallback = request
        .values
        .first()
        .map(|s| argocd_tailscale_plugin::location::Location::new(&s.name, 1, 1));
    Ok(report(args, &diagnostics, &request.repo, &cwd, fallback))
}

/// Prints the findings in the chosen format; exit 1 when one fails the run.
fn report(
    args: &CheckArgs,
    diagnostics: &[diagnostic::Diagnostic],
    repo: &Repo,
    cwd: &std::path::Path,
    fallback: Option<argocd_tailscale_plugin::location::Location>,
) -> Printed {
    let failing = |d: &&diagnostic::Diagnostic| {
        d.severity == diagnostic::Severity::Error
            || (args.deny_warnings && d.severity == diagnostic::Severity::Warning)
    };
    let found = diagnostics.iter().any(|d| failing(&d));
    let stdout = match args.format {
        CheckFormat::Text => diagnostic::text(diagnostics),
        CheckFormat::Json => diagnostic::json(diagnostics),
        CheckFormat::Sarif => {
            let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
            diagnostic::sarif(
                diagnostics,
                &diagnostic::SarifRoot {
                    repo: repo.root(),
                    cwd: &cwd,
                    fallback,
                },
            )
        }
    };
    Printed {
        stdout,
        stderr: Vec::new(),
        found,
    }
}

fn man(args: &ManArgs) -> anyhow::Result<Printed> {
    let stdout = if let Some(dir) = &args.dir {
        let written =
            crate::manual::write_all(dir).map_err(|e| Error::io(&dir.display().to_string(), &e))?;
        written.iter().map(|f| format!("{f}\n")).collect()
    } else {
        crate::manual::page(args.command.as_deref())
            .map_err(|commands| {
                Error::new(
                    ErrorKind::Usage,
                    format!(
                        "no manual page for {:?}",
                        args.command.as_deref().unwrap_or_default()
                    ),
                )
                .hint(format!("pages: {}", commands.join(", ")))
            })?
            .roff
    };
    Ok(Printed {
        stdout,
        stderr: Vec::new(),
        found: false,
    })
}

pub fn run(cli: &Cli) -> anyhow::Result<Printed> {
    match &cli.command {
        Command::Generate(args) => generate(args),
        Command::Parameters(args) => parameters(args),
        Command::IgnoreDifferences(args) => ignore_differences(args),
        Command::Diff(args) => crate::diff_cmd::run(args),
        Command::Check(args) => check(args),
        Command::Completions { shell } => Ok(Printed {
            stdout: crate::completions::script(*shell),
            stderr: Vec::new(),
            found: false,
        }),
        Command::Man(args) => man(args),
        Command::Schema => Ok(Printed {
            stdout: escape::json(serde_json::to_string_pretty(
                &argocd_tailscale_plugin::values::schema::schema(),
            )?) + "\n",
            stderr: Vec::new(),
            found: false,
        }),
    }
}
