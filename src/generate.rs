//! The `generate` pipeline: read → resolve → plan → render → repair →
//! patch → order → emit.
//!
//! The whole stream is built in memory and handed back only when every step
//! succeeded, so a caller can never print part of it (DESIGN promise 5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::apps;
use crate::backend;
use crate::error::{Error, ErrorKind, Result};
use crate::expose;
use crate::helm;
use crate::location::Location;
use crate::manifest::{self, Identity};
use crate::patch;
use crate::render::{TemplateDir, Templates};
use crate::repo::Repo;
use crate::report::Report;
use crate::split;
use crate::upstream::{self, Object};
use crate::values::{self, Mode, Source, Upstream, Values};
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
pub struct Request {
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
    pub helm_timeout: Duration,
    pub app: AppContext,
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

/// The default time `helm template` may take: well inside Argo CD's 60 s
/// request deadline, which the repository transfer shares.
pub const HELM_TIMEOUT: Duration = Duration::from_secs(45);

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
            helm_timeout: HELM_TIMEOUT,
            app: AppContext::default(),
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

/// Reads every upstream source the values and the command line name.
fn read_upstream(request: &Request, values: &Values) -> Result<Vec<Object>> {
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
                objects.extend(upstream::read(&text, &shown_path(base, path))?);
            }
            Upstream::Helm(helm_source) => {
                let (text, shown) = helm::template(
                    helm_source,
                    &request.repo,
                    &request.cwd,
                    request.helm_timeout,
                )?;
                objects.extend(upstream::read(&text, &shown)?);
            }
        }
    }
    for source in &request.upstream {
        objects.extend(upstream::read(&source.text, &source.name)?);
    }
    Ok(objects)
}

/// Renders the objects, checked, canonical and in output order.
pub fn objects(request: &Request) -> Result<(Vec<Value>, Report)> {
    run(request).map(|run| (run.objects, run.report))
}

/// Everything a run produced, for `check`, which also looks at the inputs.
pub struct Run {
    /// The output objects, in order.
    pub objects: Vec<Value>,
    pub report: Report,
    pub values: Values,
    /// The upstream objects as read, before the split repaired them.
    pub upstream: Vec<Object>,
}

/// Runs the pipeline.
pub fn run(request: &Request) -> Result<Run> {
    let values = values::load(&request.values, request.app.namespace.as_deref())?;
    if let Some(apps) = &values.apps {
        let templates = Templates::new(request.templates.clone());
        let rendered = apps::render(apps, request, &templates)?;
        let (objects, report) = finish(
            request,
            rendered
                .into_iter()
                .map(|r| (r.object, r.location))
                .collect(),
            &[],
            Report::default(),
        )?;
        return Ok(Run {
            objects,
            report,
            values,
            upstream: Vec::new(),
        });
    }
    let mut report = Report {
        warnings: values.warnings.clone(),
        ..Report::default()
    };
    let templates = Templates::new(request.templates.clone());
    let mut upstream = read_upstream(request, &values)?;

    let mut backings = BTreeMap::new();
    for service in &values.services {
        match service.mode {
            Mode::Direct => {
                let backing = backend::resolve(service, &upstream, &templates, &mut report)?;
                backings.insert(service.name.clone(), backing);
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
    let mut rendered: Vec<(Value, Location)> = Vec::new();
    for exposure in &plan {
        for object in templates.render(exposure)? {
            rendered.push((object.object, object.location));
        }
    }
    let upstream_as_read = upstream.clone();
    split::apply(&mut upstream, &values, &mut report)?;
    rendered.extend(upstream.into_iter().map(|o| (o.value, o.location)));

    let (objects, report) = finish(request, rendered, &values.patches, report)?;
    Ok(Run {
        objects,
        report,
        values,
        upstream: upstream_as_read,
    })
}

/// Patch, canonicalise, order and check the objects of a run.
fn finish(
    request: &Request,
    rendered: Vec<(Value, Location)>,
    patches: &[crate::values::PatchSpec],
    report: Report,
) -> Result<(Vec<Value>, Report)> {
    let (mut objects, locations): (Vec<Value>, Vec<Location>) = rendered
        .into_iter()
        .map(|(object, location)| (manifest::canonical(object), location))
        .unzip();
    patch::apply(&mut objects, patches)?;

    let mut keyed: Vec<(Identity, Value, Location)> = objects
        .into_iter()
        .zip(locations)
        .map(|(object, location)| (Identity::of(&object), object, location))
        .collect();
    // Stable sort: of two equal identities the first (generated before
    // upstream) stays first, so the error below always names the same pair.
    keyed.sort_by(|a, b| a.0.order(&b.0));
    if let Some(pair) = keyed.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::new(
            ErrorKind::Template,
            format!(
                "{} is rendered twice (first at {}); Argo CD refuses duplicate resources",
                pair[1].0, pair[0].2
            ),
        )
        .at(pair[1].2.clone())
        .hint("remove the hand-written copy from the upstream manifests, or give each object its own name"));
    }
    if request.strict
        && let Some(err) = report.strict_error()
    {
        return Err(err);
    }
    Ok((
        keyed.into_iter().map(|(_, object, _)| object).collect(),
        report,
    ))
}

pub fn generate(request: &Request) -> Result<Output> {
    let (objects, report) = objects(request)?;
    if objects.is_empty() && !request.allow_empty {
        let mut err = Error::new(
            ErrorKind::Empty,
            "the values select nothing to render; refusing to print an empty stream",
        )
        .key("services")
        .hint("empty output with Argo CD's prune deletes every resource of the app; enable a service, or pass --allow-empty if that is intended");
        if let Some(first) = request.values.first() {
            err = err.at(Location::start_of(&first.name));
        }
        return Err(err);
    }
    let text = match request.format {
        Format::Yaml => yaml::emit_stream(&objects),
        Format::Json => objects
            .iter()
            .map(|o| serde_json::to_string(o).expect("JSON values serialize") + "\n")
            .collect(),
    };
    Ok(Output {
        objects,
        text,
        report,
    })
}
