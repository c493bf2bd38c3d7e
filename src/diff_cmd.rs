//! `diff`: what a change does to the rendered manifests, object by object.
//!
//! Three sources: two manifest files; every app directory rendered at a git
//! revision and in the working tree; or the golden cases against their
//! `expected.yaml` (with `--update` to rewrite them).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, ValueEnum, ValueHint};
use serde_json::Value;

use argocd_tailscale_plugin::diff::{self, AppDiff, MARKDOWN_LIMIT};
use argocd_tailscale_plugin::repo::{self, Repo};
use argocd_tailscale_plugin::{Error, ErrorKind, revision, upstream};
use argocd_tailscale_plugin::{apps, escape, generate};

use crate::input::{GenerateArgs, InputArgs, Printed, request};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    /// Unified diffs for a terminal.
    Text,
    /// A pull-request comment: summary table and one collapsible section per object.
    Markdown,
    /// A machine-readable list of changes.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Two manifest files (YAML or JSON; "-" reads stdin): the old and the new stream.
    #[arg(value_name = "OLD NEW", num_args = 0.., value_hint = ValueHint::FilePath)]
    pub paths: Vec<String>,
    /// Render each app directory (the PATHs, default ".") at this git revision and in
    /// the working tree, and compare.
    #[arg(long, value_name = "REF", conflicts_with = "golden")]
    pub base: Option<String>,
    /// Render every golden case under DIR and compare with its expected.yaml.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub golden: Option<PathBuf>,
    /// With --golden: rewrite the expected.yaml files that differ, and say which.
    #[arg(long, requires = "golden")]
    pub update: bool,
    /// Leave out the fields Argo CD will ignore (the computed ignoreDifferences).
    #[arg(long)]
    pub mask_ignored: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Colour for text output; auto means on a terminal, unless NO_COLOR is set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// With --base: values files of each app directory (default: the values-files
    /// parameter, else values.yaml).
    #[arg(short = 'f', long = "values", value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub values: Vec<String>,
    /// The repository root: nothing outside it is read, and golden cases
    /// resolve their paths inside it. Default: the enclosing git work tree,
    /// else the current directory.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub repo_root: Option<PathBuf>,
}

/// The repository a diff reads, from the current directory.
fn repository(args: &DiffArgs) -> anyhow::Result<(PathBuf, Repo)> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = Repo::discover(&cwd, args.repo_root.as_deref(), None)?;
    Ok((cwd, repo))
}

fn usage(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Usage, message)
}

fn read_stream(repo: &Repo, cwd: &Path, path: &str) -> anyhow::Result<Vec<Value>> {
    let (name, text) = if path == "-" {
        (
            "<stdin>".to_string(),
            repo::read_limited(std::io::stdin().lock(), "<stdin>")?,
        )
    } else {
        (path.to_string(), repo.read(cwd, path, "diff")?)
    };
    Ok(upstream::read(&text, &Arc::from(name))?
        .objects
        .into_iter()
        .map(|o| o.value)
        .collect())
}

/// Renders one app directory of a repository (the working tree, or an
/// exported revision) into its objects.
fn render_dir(root: &Path, app: &Path, values: &[String]) -> anyhow::Result<Option<Vec<Value>>> {
    let dir = root.join(app);
    if !dir.is_dir() {
        return Ok(None);
    }
    let input = InputArgs {
        values: values.to_vec(),
        upstream: Vec::new(),
        strict: false,
        templates: None,
        render_timeout: generate::RENDER_TIMEOUT.as_secs(),
        repo_root: Some(root.to_path_buf()),
    };
    // A values file that does not exist yet (or any more) is an empty side.
    let wanted: Vec<String> = if values.is_empty() {
        vec!["values.yaml".into()]
    } else {
        values.to_vec()
    };
    if !wanted.iter().all(|v| dir.join(v).is_file()) {
        return Ok(None);
    }
    let request = request(&input, &dir)?;
    let (objects, _report) = apps::objects(&request)?;
    Ok(Some(objects))
}

fn base(args: &DiffArgs, reference: &str) -> anyhow::Result<Vec<AppDiff>> {
    let (cwd, repo) = repository(args)?;
    let export = tempfile::tempdir().context("cannot create a temporary directory")?;
    revision::export(repo.root(), reference, export.path())?;
    let dirs = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let mut apps = Vec::new();
    for dir in dirs {
        let resolved = repo.resolve(&cwd, &dir, "diff")?;
        let relative = resolved
            .strip_prefix(repo.root())
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let old = render_dir(export.path(), &relative, &args.values)
            .map_err(|e| e.context(format!("rendering {} at {reference}", relative.display())))?;
        let new = render_dir(repo.root(), &relative, &args.values).map_err(|e| {
            e.context(format!(
                "rendering {} in the working tree",
                relative.display()
            ))
        })?;
        if old.is_none() && new.is_none() {
            return Err(usage(format!(
                "{dir} has no values file at {reference} nor in the working tree"
            ))
            .hint("name app directories that hold a values.yaml, or pass -f")
            .into());
        }
        let name = if relative.as_os_str().is_empty() {
            ".".into()
        } else {
            relative.display().to_string()
        };
        apps.push(AppDiff {
            app: name,
            changes: diff::compare(
                &old.unwrap_or_default(),
                &new.unwrap_or_default(),
                args.mask_ignored,
            ),
        });
    }
    Ok(apps)
}

/// The golden cases: each directory with an expected.yaml, rendered with
/// its `args` file (default `generate -f values.yaml`).
fn golden(args: &DiffArgs, dir: &Path, notes: &mut Vec<String>) -> anyhow::Result<Vec<AppDiff>> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.yaml").is_file())
        .collect();
    cases.sort();
    if cases.is_empty() {
        return Err(usage(format!(
            "no golden cases (directories with expected.yaml) under {}",
            dir.display()
        ))
        .into());
    }
    // Every case reads inside the one repository the diff runs in (its git
    // work tree, --repo-root, or the current directory), so a copy of the
    // cases that is not a git work tree renders the same.
    let (_, repo) = repository(args)?;
    let root = repo.root().to_path_buf();
    let mut apps = Vec::new();
    for case in cases {
        if case.join("requires-helm").exists() && !argocd_tailscale_plugin::helm::runs() {
            notes.push(format!("skipped {}: helm is not installed", case.display()));
            continue;
        }
        if case.join("requires-kustomize").exists()
            && argocd_tailscale_plugin::kustomize::command().is_none()
        {
            notes.push(format!(
                "skipped {}: kustomize is not installed",
                case.display()
            ));
            continue;
        }
        let words: Vec<String> = match std::fs::read_to_string(case.join("args")) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
            Err(_) => vec!["generate".into(), "-f".into(), "values.yaml".into()],
        };
        let case_args = CaseArgs::try_parse_from(words)
            .with_context(|| format!("{}: the args file is not a command line", case.display()))?;
        if case_args.command != "generate" {
            return Err(usage(format!("{}: a golden case runs generate", case.display())).into());
        }
        let mut generate_args = case_args.generate;
        // A case's args come from the repository: they choose among its
        // files, never where the repository ends.
        if generate_args.input.repo_root.is_some() {
            return Err(usage(format!(
                "{}: a golden case's args file may not set --repo-root",
                escape::controls(&case.display().to_string())
            ))
            .into());
        }
        generate_args.input.repo_root = Some(root.clone());
        let mut request = request(&generate_args.input, &case)?;
        request.allow_empty = generate_args.allow_empty;
        let output = apps::generate(&request)
            .map_err(|e| anyhow::Error::from(e).context(format!("case {}", case.display())))?;
        let expected_path = case.join("expected.yaml");
        let expected = std::fs::read_to_string(&expected_path)?;
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if expected == output.text {
            continue;
        }
        let expected_objects: Vec<Value> =
            upstream::read(&expected, &Arc::from(expected_path.display().to_string()))?
                .objects
                .into_iter()
                .map(|o| o.value)
                .collect();
        let mut changes = diff::compare(&expected_objects, &output.objects, args.mask_ignored);
        if changes.is_empty() {
            // Same objects, other bytes: key order or quoting changed.
            changes.push(diff::Change {
                change: diff::ChangeKind::Changed,
                group: String::new(),
                kind: "Stream".into(),
                namespace: String::new(),
                name: "expected.yaml".into(),
                diff: similar::TextDiff::from_lines(&expected, &output.text)
                    .unified_diff()
                    .header("a/expected.yaml", "b/expected.yaml")
                    .to_string(),
            });
        }
        if args.update {
            std::fs::write(&expected_path, &output.text)?;
            notes.push(format!("updated {}", expected_path.display()));
        }
        apps.push(AppDiff { app: name, changes });
    }
    Ok(apps)
}

fn color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// A golden case's `args` file: `generate` and its flags.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct CaseArgs {
    command: String,
    #[command(flatten)]
    generate: GenerateArgs,
}

pub fn run(args: &DiffArgs) -> anyhow::Result<Printed> {
    let mut notes = Vec::new();
    let apps = if let Some(dir) = &args.golden {
        if !args.paths.is_empty() {
            return Err(usage("--golden takes no OLD NEW files").into());
        }
        golden(args, dir, &mut notes)?
    } else if let Some(reference) = &args.base {
        base(args, reference)?
    } else {
        let [old, new] = args.paths.as_slice() else {
            return Err(
                usage("diff needs two files (OLD NEW), --base REF or --golden DIR")
                    .hint("argocd-tailscale-plugin diff old.yaml new.yaml")
                    .into(),
            );
        };
        if old == "-" && new == "-" {
            return Err(usage("only one of OLD and NEW can be standard input").into());
        }
        let (cwd, repo) = repository(args)?;
        let old_objects = read_stream(&repo, &cwd, old).context("the old side")?;
        let new_objects = read_stream(&repo, &cwd, new).context("the new side")?;
        // The app is the file compared; standard input has no name of its own.
        let app = if new == "-" { old } else { new };
        vec![AppDiff {
            app: app.clone(),
            changes: diff::compare(&old_objects, &new_objects, args.mask_ignored),
        }]
    };
    // Once rewritten, golden cases no longer differ.
    let differences = !args.update && apps.iter().any(|a| !a.changes.is_empty());
    let stdout = match args.format {
        DiffFormat::Text => diff::text(&apps, color(args.color)),
        DiffFormat::Markdown => diff::markdown(&apps, MARKDOWN_LIMIT),
        DiffFormat::Json => diff::json(&apps),
    };
    Ok(Printed {
        stdout,
        stderr: notes.into_iter().map(|n| format!("note: {n}")).collect(),
        found: differences,
    })
}
