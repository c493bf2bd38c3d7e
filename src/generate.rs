//! The `generate` pipeline for a services directory: resolve → plan →
//! render → repair → patch → gate → emit. It knows nothing of apps
//! directories, which sit above it (`apps`).
//!
//! The whole stream is built in memory and handed back only when every step
//! succeeded, so a caller can never print part of it (DESIGN promise 5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::admin::Limits;
use crate::backend;
use crate::diagnostic::{Diagnostic, Severity};
use crate::directory;
use crate::error::{Error, ErrorKind, Result};
use crate::escape;
use crate::expose;
use crate::gate::{self, Body, Item, Origin};
use crate::helm;
use crate::kustomize;
use crate::location::Location;
use crate::manifest::{self, Identity};
use crate::overrides::TemplateDir;
use crate::patch;
use crate::render::Templates;
use crate::repo::Repo;
use crate::report::Finding;
use crate::report::Report;
use crate::split;
use crate::tree::Tree;
use crate::upstream::{self, Object};
use crate::values::{Mode, Source, Upstream, Values};
use crate::yaml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A `---`-separated YAML stream, quoted for YAML 1.1 readers.
    #[default]
    Yaml,
    /// Concatenated JSON objects, one per line, which Argo CD also reads.
    Json,
}

/// Everything a run reads, already located; `repo` bounds what files may
/// still be opened (upstream files, charts).
#[derive(Clone)]
pub struct Request {
    /// The values sources. A caller that owns the request may take their
    /// texts once read (`apps::take_values`); after that only the names
    /// are used, to place errors about the run as a whole.
    pub values: Vec<Source>,
    /// Upstream manifests named on the command line, already read.
    pub upstream: Vec<Source>,
    /// A directory of template overrides, already resolved inside the repository.
    pub templates: Option<TemplateDir>,
    pub repo: Repo,
    pub cwd: PathBuf,
    pub allow_empty: bool,
    /// Repairs and warnings become errors.
    pub strict: bool,
    pub format: Format,
    pub render_timeout: Duration,
    pub app: AppContext,
    /// The operator version as (major, minor), for version-dependent rules.
    pub operator_version: Option<(u32, u32)>,
    /// The sidecar administrator's limits and network allow-list.
    pub limits: Limits,
    /// Keep the upstream objects as read, before the split (for `check`).
    pub keep_upstream: bool,
    /// Write the printed form while the gate runs, on a second thread
    /// (for `generate`): it is ready when the gate accepts the stream and
    /// dropped unread when the gate refuses it.
    pub write_ahead: bool,
}

/// What Argo CD says about the Application being rendered, when it runs
/// the plugin (all optional: locally there is none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppContext {
    /// `ARGOCD_APP_NAMESPACE`: the destination namespace.
    pub namespace: Option<String>,
    /// `ARGOCD_APP_SOURCE_REPO_URL`, for child Applications' sources.
    pub repo_url: Option<String>,
    /// `ARGOCD_APP_SOURCE_TARGET_REVISION`.
    pub target_revision: Option<String>,
    /// How many apps directories enclose this render.
    pub depth: usize,
}

/// The default time a rendering child (`helm template`, `kustomize build`)
/// may take: well inside Argo CD's 60 s request deadline, which the
/// repository transfer shares.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(45);

impl Request {
    /// A request with defaults, for the given values sources.
    pub fn new(values: Vec<Source>, repo: Repo, cwd: PathBuf) -> Request {
        Request {
            values,
            upstream: Vec::new(),
            templates: None,
            repo,
            cwd,
            allow_empty: false,
            strict: false,
            format: Format::Yaml,
            render_timeout: RENDER_TIMEOUT,
            app: AppContext::default(),
            operator_version: None,
            limits: Limits::default(),
            keep_upstream: false,
            write_ahead: false,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub objects: Vec<Value>,
    pub text: String,
    /// Repairs, warnings and notes for stderr; they never stop rendering
    /// unless the request is strict.
    pub report: Report,
}

fn shown_path(base: &Path, path: &str) -> Arc<str> {
    Arc::from(base.join(path).display().to_string())
}

fn nothing_from(location: Location, what: String, hint: &str) -> Error {
    Error::new(ErrorKind::Empty, format!("{what} yields no objects"))
        .at(location)
        .hint(format!("{hint}; a missing source would make Argo CD's prune delete what it rendered before (pass --allow-empty if that is intended)"))
}

/// Reads one upstream stream, refusing a source, or a `List` in it, that
/// yields nothing unless the request allows it.
fn read_stream(
    request: &Request,
    text: &str,
    name: &Arc<str>,
    what: String,
    hint: &str,
) -> Result<Vec<Object>> {
    let read = upstream::read(text, name)?;
    if !request.allow_empty {
        if let Some(list) = &read.empty_list {
            return Err(nothing_from(
                list.clone(),
                format!("a List in {what}"),
                "remove the empty List or give it items",
            ));
        }
        if read.objects.is_empty() {
            return Err(nothing_from(Location::start_of(name), what, hint));
        }
    }
    Ok(read.objects)
}

/// The objects a rendering child printed: its output counts against the
/// run's budget, and a render that yields nothing is placed at the values
/// entry that asked for it.
fn rendered_objects(
    request: &Request,
    text: &str,
    shown: &Arc<str>,
    (location, key_path): (&Location, &String),
    what: String,
    hint: &str,
) -> Result<Vec<Object>> {
    let place = |e: Error| e.at(location.clone()).key(key_path.clone());
    request
        .repo
        .charge(text.len() as u64, shown)
        .map_err(place)?;
    read_stream(request, text, shown, what, hint).map_err(|e| {
        if e.kind == ErrorKind::Empty {
            place(e)
        } else {
            e
        }
    })
}

/// Refuses, before reading any of them, upstream files whose sizes
/// together take the run past its byte budget: nothing is read, so a
/// repository that names one large file forty times costs nothing.
fn check_sizes(request: &Request, values: &Values) -> Result<()> {
    let mut total = 0u64;
    for source in &values.upstream {
        if let Upstream::File {
            path,
            key_path,
            base,
            location,
        } = source
        {
            total += request
                .repo
                .size(&request.cwd.join(base), path, key_path)
                .map_err(|e| e.at(location.clone()))?;
            if total > request.limits.max_run_bytes {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the upstream files up to {path} add up to {total} bytes, more than this run's budget of {} bytes",
                        request.limits.max_run_bytes
                    ),
                )
                .at(location.clone())
                .key(key_path.clone())
                .hint(format!(
                    "render less in one application, or ask the sidecar's administrator to raise {}",
                    crate::admin::MAX_RUN_BYTES
                )));
            }
        }
    }
    Ok(())
}

/// Reads every upstream source the values and the command line name.
fn read_upstream(request: &Request, values: &Values) -> Result<Vec<Object>> {
    check_sizes(request, values)?;
    let mut objects = Vec::new();
    for source in &values.upstream {
        match source {
            Upstream::File {
                path,
                key_path,
                base,
                location,
            } => {
                let text = request
                    .repo
                    .read(&request.cwd.join(base), path, key_path)
                    .map_err(|e| e.at(location.clone()))?;
                let name = shown_path(base, path);
                objects.extend(
                    read_stream(
                        request,
                        &text,
                        &name,
                        format!("upstream file {name} ({key_path})"),
                        "check the file, or remove it from upstream",
                    )
                    .map_err(|e| {
                        if e.kind == ErrorKind::Empty {
                            e.at(location.clone()).key(key_path.clone())
                        } else {
                            e
                        }
                    })?,
                );
            }
            Upstream::Helm(helm_source) => {
                let (text, shown) = helm::template(
                    helm_source,
                    &request.repo,
                    &request.cwd,
                    values.defaults.namespace.as_deref(),
                    &request.limits,
                    request.render_timeout,
                )?;
                objects.extend(rendered_objects(
                    request,
                    &text,
                    &shown,
                    (&helm_source.location, &helm_source.key_path),
                    format!("the chart of {} ({shown})", helm_source.key_path),
                    "check the chart's values: with these, it renders nothing",
                )?);
            }
            Upstream::Kustomize(source) => {
                let (text, shown) = kustomize::build(
                    source,
                    &request.repo,
                    &request.cwd,
                    &request.limits,
                    request.render_timeout,
                )?;
                objects.extend(rendered_objects(
                    request,
                    &text,
                    &shown,
                    (&source.location, &source.key_path),
                    format!("the overlay of {} ({shown})", source.key_path),
                    "check the overlay: it builds nothing",
                )?);
            }
            Upstream::Directory(source) => {
                let mut found = Vec::new();
                // Like Argo CD, a file without objects among others is
                // fine; the directory as a whole must yield some.
                for file in directory::read(source, &request.repo, &request.cwd)? {
                    let read = upstream::read(&file.text, &file.name)?;
                    if let (Some(list), false) = (&read.empty_list, request.allow_empty) {
                        return Err(nothing_from(
                            list.clone(),
                            format!("a List in {}", file.name),
                            "remove the empty List or give it items",
                        ));
                    }
                    found.extend(read.objects);
                }
                if found.is_empty() && !request.allow_empty {
                    return Err(nothing_from(
                        source.location.clone(),
                        format!(
                            "the directory {} ({})",
                            source.base.join(&source.path).display(),
                            source.key_path
                        ),
                        "check the path, recurse, include and exclude: no *.yaml, *.yml or *.json file with objects matched",
                    )
                    .key(source.key_path.clone()));
                }
                objects.extend(found);
            }
        }
    }
    for source in &request.upstream {
        objects.extend(read_stream(
            request,
            &source.text,
            &source.name,
            format!("upstream {}", source.name),
            "check the file or the command that produced it",
        )?);
    }
    Ok(objects)
}

/// A run the gate accepted.
#[derive(Debug)]
pub struct Accepted {
    pub objects: Vec<Body>,
    /// The printed form, when it was written while the gate ran.
    pub text: Option<String>,
    pub report: Report,
}

/// A run's objects, unless the gate found an error (or, under `--strict`,
/// anything to repair or warn about). The gate's warnings join the report.
pub fn accept(request: &Request, run: Run) -> Result<Accepted> {
    refuse_errors(&run.findings)?;
    let mut report = run.report;
    for warning in run
        .findings
        .iter()
        .filter(|d| d.severity == Severity::Warning)
    {
        report.warnings.push(Finding::new(
            &warning
                .location()
                .unwrap_or_else(|| Location::start_of(&Arc::from("-"))),
            format!(
                "[{}] {}{}",
                warning.code,
                warning
                    .object
                    .as_deref()
                    .map(|o| format!("{o}: "))
                    .unwrap_or_default(),
                warning.message
            ),
        ));
    }
    if request.strict
        && let Some(err) = report.strict_error()
    {
        return Err(err);
    }
    Ok(Accepted {
        objects: run.objects,
        text: run.text,
        report,
    })
}

/// Everything a run produced, for `check`, which also looks at the inputs.
pub struct Run {
    /// The output objects, in order.
    pub objects: Vec<Body>,
    /// Their printed form, if the request asked for it to be written
    /// while the gate ran.
    pub text: Option<String>,
    /// The gate's findings on exactly these objects.
    pub findings: Vec<Diagnostic>,
    pub report: Report,
    pub values: Values,
    /// The upstream objects as read, before the split repaired them.
    pub upstream: Vec<Object>,
}

/// Runs the services pipeline on loaded values, up to the gate. A run
/// whose findings hold an error must not be printed; [`accept`] refuses
/// it. Apps directories are the layer above (`apps`).
pub fn run(request: &Request, values: Values) -> Result<Run> {
    let mut report = Report {
        warnings: values.warnings.clone(),
        ..Report::default()
    };
    let templates = Templates::new(request.templates.clone());
    let mut upstream = read_upstream(request, &values)?;

    let mut backings = BTreeMap::new();
    // What the values ask that the chart contradicts; the gate adds its own.
    let mut refused = Vec::new();
    for service in &values.services {
        match service.mode {
            Mode::Direct => {
                let backing = backend::resolve(
                    service,
                    &upstream,
                    request.templates.as_ref(),
                    &mut report,
                    &mut refused,
                )?;
                backings.insert(service.name.clone(), Arc::new(backing));
            }
            Mode::Ingress => backend::check_ingress(service, &upstream)?,
            Mode::Annotate => {}
        }
    }
    let plan = expose::plan(&values, &backings)?;
    if let Some(tailnet) = &values.tailnet {
        for service in &values.services {
            // What users will type: the MagicDNS name, and for L4 the port.
            let port = match (service.mode, backings.get(&service.name)) {
                (Mode::Direct, Some(backing)) => {
                    let ports: Vec<String> =
                        backing.ports.iter().map(|p| p.port.to_string()).collect();
                    format!(":{}", ports.join(","))
                }
                (Mode::Ingress, _) => " (HTTPS)".to_string(),
                _ => String::new(),
            };
            report.note(format!(
                "{}: on the tailnet as {}.{tailnet}{port}",
                service.key_path(),
                service.hostname.to_ascii_lowercase()
            ));
        }
    }
    let mut items: Vec<Item> = Vec::new();
    for exposure in &plan {
        let service = exposure.service;
        for object in templates.render(exposure)? {
            items.push(Item::new(object.object, Origin::Generated { service }));
        }
    }
    // The objects hold what they need of the backings; the plan and the
    // map by name (a megabyte at 10,000 services) are freed before the
    // gate.
    drop(plan);
    drop(backings);
    // Only `check` looks at the upstream objects as read; a copy of a large
    // chart is not made for nothing.
    let upstream_as_read = if request.keep_upstream {
        upstream.clone()
    } else {
        Vec::new()
    };
    split::apply(&mut upstream, &values, &mut report)?;
    for object in &upstream {
        if crate::claims::role(&object.value) == Some(crate::claims::Role::Ingress) {
            report.note(format!(
                "{} ({}) is an Ingress of class tailscale from the upstream manifests; it passes through, and ignore-differences covers it",
                Identity::of(&object.value),
                object.location
            ));
        }
    }
    items.extend(
        upstream
            .into_iter()
            .map(|o| Item::new(o.value, Origin::Upstream(o.location))),
    );

    let Finished {
        objects,
        mut findings,
        text,
    } = finish(request, items, &values)?;
    findings.extend(refused);
    findings.sort_by(|a, b| {
        (a.severity, a.code, &a.file, a.line, a.column, &a.message)
            .cmp(&(b.severity, b.code, &b.file, b.line, b.column, &b.message))
    });
    Ok(Run {
        objects,
        text,
        findings,
        report,
        values,
        upstream: upstream_as_read,
    })
}

/// An empty stream with Argo CD's prune deletes every resource of the app:
/// refused unless asked for, by `generate` and `check` alike.
fn refuse_empty(request: &Request, items: &[Item]) -> Result<()> {
    if !items.is_empty() || request.allow_empty {
        return Ok(());
    }
    let mut err = Error::new(
        ErrorKind::Empty,
        "the values select nothing to render; refusing to print an empty stream",
    )
    .key("services")
    .hint("empty output with Argo CD's prune deletes every resource of the app; enable a service, or pass --allow-empty if that is intended");
    if let Some(first) = request.values.first() {
        err = err.at(Location::start_of(&first.name));
    }
    Err(err)
}

/// The final stream and what the gate found in it.
pub struct Finished {
    pub objects: Vec<Body>,
    pub findings: Vec<Diagnostic>,
    /// The printed form, written while the gate ran, if the request asked.
    pub text: Option<String>,
}

/// Streams shorter than this are written after the gate: a thread costs
/// more than writing them.
const WRITE_AHEAD_FROM: usize = 200;

/// Patch, canonicalise, order, and hand the final stream to the gate.
pub fn finish(request: &Request, mut items: Vec<Item>, values: &Values) -> Result<Finished> {
    refuse_empty(request, &items)?;
    if items.len() as u64 > request.limits.max_objects {
        let mut err = Error::new(
            ErrorKind::Upstream,
            format!(
                "the stream would hold {} objects, more than this run's limit of {}",
                items.len(),
                request.limits.max_objects
            ),
        )
        .hint(format!(
            "split the application, or ask the sidecar's administrator to raise {}",
            crate::admin::MAX_OBJECTS
        ));
        if let Some(first) = request.values.first() {
            err = err.at(Location::start_of(&first.name));
        }
        return Err(err);
    }
    for item in &mut items {
        // Planned objects are built in canonical order.
        match &mut item.body {
            Body::Json(value) => *value = manifest::canonical(std::mem::take(value)),
            Body::Tree(tree) => {
                *tree = manifest::canonical_tree(std::mem::replace(tree, Tree::Null));
            }
            Body::Planned(_) => {}
        }
    }
    patch::apply(&mut items, &values.patches)?;

    // Stable sort: of two equal identities the first (generated before
    // upstream) stays first, so the error below always names the same pair.
    // Each identity is read once, here, and handed to the gate.
    // Indexes are sorted, not the items: moving identities and items
    // about would copy hundreds of bytes per comparison.
    let unsorted: Vec<Identity> = items.iter().map(Item::id).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| unsorted[a].order(&unsorted[b]));
    let mut slots: Vec<Option<(Identity, Item)>> =
        unsorted.into_iter().zip(items).map(Some).collect();
    let (ids, items): (Vec<Identity>, Vec<Item>) = order
        .iter()
        .map(|&i| slots[i].take().expect("each index once"))
        .unzip();
    // Emptied, but as large as the stream (two megabytes at 10,000
    // services): freed before the gate, not after it.
    drop((slots, order));
    if let Some(at) = ids.windows(2).position(|w| w[0] == w[1]) {
        let (first, second) = (&items[at], &items[at + 1]);
        let place = |item: &Item| gate::cause(item, values, &[]).location;
        let mut err = Error::new(
            ErrorKind::Template,
            format!(
                "{} is rendered twice (first at {}); Argo CD refuses duplicate resources",
                ids[at + 1],
                place(first)
            ),
        )
        .at(place(second))
        .hint("remove the hand-written copy from the upstream manifests, or give each object its own name");
        if let Some(key) = gate::cause(second, values, &[]).key {
            err = err.key(key);
        }
        return Err(err);
    }
    let options = gate::Options {
        default_namespace: values.defaults.namespace.clone(),
        operator_version: request.operator_version,
    };
    // The stream is final: its printed form does not depend on what the
    // gate finds, so it is written on a second core meanwhile, and only
    // ever printed if the gate accepts.
    let (findings, text) = std::thread::scope(|scope| {
        let writer = (request.write_ahead && items.len() >= WRITE_AHEAD_FROM)
            .then(|| scope.spawn(|| write(request, items.iter().map(|item| &item.body))));
        let findings = gate::run(&items, ids, values, &options);
        let text = writer.map(|w| w.join().expect("writing a stream does not panic"));
        (findings, text)
    });
    Ok(Finished {
        objects: items.into_iter().map(|item| item.body).collect(),
        findings,
        text,
    })
}

/// The gate's errors as the one error a failed run prints: the first in
/// full, the others one line each.
fn refuse_errors(findings: &[Diagnostic]) -> Result<()> {
    let errors: Vec<&Diagnostic> = findings
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    // Most messages name the objects they concern; the others get it here.
    let object = first
        .object
        .as_deref()
        .filter(|o| !first.message.contains(*o))
        .map(|o| format!("{o}: "))
        .unwrap_or_default();
    let mut message = format!("[{}] {object}{}", first.code, first.message);
    for other in &errors[1..] {
        // Escaped here, so that only this separator is a line break.
        message.push_str(crate::error::ALSO);
        message.push_str(&escape::controls(&other.one_line()));
    }
    let mut err = Error::new(ErrorKind::Conflict, message)
        .code(first.code)
        .hint(format!(
            "{} (`check` lists every finding; `check --explain {}` says what happens in the cluster)",
            first.fix, first.code
        ));
    if let Some(location) = first.location() {
        err = err.at(location);
    }
    if let Some(key) = &first.key {
        err = err.key(key.clone());
    }
    Err(err)
}

/// The printed form of accepted objects, with the objects as JSON.
pub fn output(request: &Request, accepted: Accepted) -> Output {
    let text = match accepted.text {
        Some(text) => text,
        None => write(request, accepted.objects.iter()),
    };
    Output {
        objects: accepted.objects.into_iter().map(Body::into_value).collect(),
        text,
        report: accepted.report,
    }
}

/// The printed form of accepted objects, for a caller that needs only the
/// text: each object is dropped once written.
pub fn print(request: &Request, objects: Vec<Body>, text: Option<String>) -> String {
    match text {
        Some(text) => text,
        None => write(request, objects),
    }
}

fn write<B: std::borrow::Borrow<Body>>(
    request: &Request,
    objects: impl IntoIterator<Item = B>,
) -> String {
    match request.format {
        Format::Yaml => yaml::emit_each(objects, |writer, object| {
            object.borrow().with_view(|view| writer.document(view));
        }),
        Format::Json => objects
            .into_iter()
            .map(|o| {
                let line = o.borrow().with_view(|view| serde_json::to_string(&view));
                escape::json(line.expect("JSON values serialize")) + "\n"
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` direct services, the last two claiming one hostname when
    /// `clash`.
    fn values(n: usize, clash: bool) -> Source {
        let mut text = String::from("services:\n");
        for i in 0..n {
            text.push_str(&format!(
                "  svc-{i}:\n    namespace: team-{}\n    direct: {}\n    backend: {{name: backend-{i}, port: 443}}\n",
                i % 7,
                i % 2 == 0
            ));
            if i % 2 == 0 {
                text.push_str(&format!(
                    "    selector: {{app: app-{i}}}\n    targetPort: 8443\n"
                ));
            }
            if clash && i + 2 >= n {
                text.push_str("    hostname: same\n");
            }
        }
        Source {
            name: Arc::from("values.yaml"),
            text,
        }
    }

    fn request(source: Source, write_ahead: bool) -> (tempfile::TempDir, Request) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::discover(dir.path(), Some(dir.path()), None).unwrap();
        let mut request = Request::new(vec![source], repo, dir.path().to_path_buf());
        request.write_ahead = write_ahead;
        (dir, request)
    }

    #[test]
    fn a_stream_written_beside_the_gate_is_the_one_written_after_it() {
        let n = 3 * WRITE_AHEAD_FROM;
        let (_dir, ahead) = request(values(n, false), true);
        let (_dir, after) = request(values(n, false), false);
        let written = crate::apps::accepted(&ahead).unwrap();
        let later = crate::apps::accepted(&after).unwrap();
        assert!(written.text.is_some() && later.text.is_none());
        let expected = print(&after, later.objects, None);
        assert_eq!(print(&ahead, written.objects, written.text), expected);
        assert_eq!(expected.matches("\n---\n").count(), n - 1);
    }

    #[test]
    fn values_taken_out_of_the_request_render_as_values_read_in_it() {
        let (_dir, mut taken) = request(values(6, false), false);
        let (_dir, kept) = request(values(6, false), false);
        let read = crate::apps::take_values(&mut taken).unwrap();
        assert!(taken.values.iter().all(|source| source.text.is_empty()));
        let from_taken = crate::apps::accepted_with(&taken, read).unwrap();
        let from_kept = crate::apps::accepted(&kept).unwrap();
        assert_eq!(
            print(&taken, from_taken.objects, from_taken.text),
            print(&kept, from_kept.objects, from_kept.text)
        );
        // Errors about the whole run still name the file.
        let (_dir, mut empty) = request(
            Source {
                name: Arc::from("catalog.yaml"),
                text: "services: {}\n".into(),
            },
            false,
        );
        let read = crate::apps::take_values(&mut empty).unwrap();
        let err = crate::apps::accepted_with(&empty, read).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Empty, "{err}");
        assert!(err.to_string().contains("catalog.yaml:1:1"), "{err}");
    }

    #[test]
    fn a_stream_written_beside_a_refusing_gate_is_never_handed_back() {
        let (_dir, ahead) = request(values(3 * WRITE_AHEAD_FROM, true), true);
        let err = crate::apps::accepted(&ahead).unwrap_err();
        assert_eq!(err.code_id(), Some("TS001"), "{err}");
    }
}
