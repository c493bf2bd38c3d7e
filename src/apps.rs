//! The layer above `generate`: an app directory is either a services
//! directory, which `generate` renders, or an apps directory (app-of-apps),
//! which renders one Argo CD Application per child, each with the
//! `ignoreDifferences` and sync options that child needs, computed by
//! rendering the child in-process. Every command enters here.
//!
//! This is how the entries reach Argo CD without being written by hand: a
//! plugin cannot set fields of the Application that runs it, but it can
//! render the Applications of an app-of-apps.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::argocd;
use crate::error::{Error, ErrorKind, Result};
use crate::expose::{LABEL_MANAGED_BY, MANAGED_BY};
use crate::gate::{Body, Item, Origin};
use crate::generate::{self, Accepted, Output, Request, Run};
use crate::ownership;
use crate::render::{Rendered, Templates};
use crate::report::Report;
use crate::values;
use crate::values::{App, Apps, Source, Values};

/// The name Applications use for this plugin (`spec.source.plugin.name`).
pub const PLUGIN_NAME: &str = "argocd-tailscale-plugin";

/// How deep apps directories may nest (an apps directory whose child is
/// another apps directory).
const MAX_DEPTH: usize = 8;

fn app_error(app: &App, message: String) -> Error {
    Error::new(ErrorKind::Values, message)
        .at(app.location.clone())
        .key(format!("applications.{}", app.name))
}

/// The child's settings, from the parameters its Application will carry.
fn child_settings(app: &App) -> Result<argocd::Settings> {
    let mut env = std::collections::BTreeMap::new();
    if let Some(parameters) = &app.parameters {
        env.insert("ARGOCD_APP_PARAMETERS".to_string(), parameters.to_string());
    }
    argocd::settings(&env).map_err(|e| {
        app_error(
            app,
            format!("its parameters do not fit this plugin: {}", e.message),
        )
    })
}

/// Renders the child and returns its objects.
fn render_child(app: &App, parent: &Request) -> Result<Vec<Value>> {
    if parent.app.depth >= MAX_DEPTH {
        return Err(app_error(
            app,
            format!("apps directories nest deeper than {MAX_DEPTH}; is one its own child?"),
        ));
    }
    let key = format!("applications.{}.path", app.name);
    let root = parent.repo.root().to_path_buf();
    let dir = parent.repo.resolve(&root, &app.path, &key).map_err(|e| {
        e.at(app.location.clone()).hint(format!(
            "an application's path is relative to the repository root, here {}",
            root.display()
        ))
    })?;
    let settings = child_settings(app)?;
    let read = |file: &String| -> Result<Source> {
        Ok(Source {
            name: Arc::from(format!("{}/{file}", app.path.trim_end_matches('/'))),
            text: parent.repo.read(&dir, file, &key)?,
        })
    };
    let values = settings
        .values_files
        .iter()
        .map(read)
        .collect::<Result<Vec<_>>>()?;
    let upstream = settings
        .upstream_files
        .iter()
        .map(read)
        .collect::<Result<Vec<_>>>()?;
    // Sources are named relative to the repository root, and relative paths
    // in them resolve against their directory, so the child runs from there.
    let mut request = Request::new(values, parent.repo.clone(), root);
    request.upstream = upstream;
    request.strict = settings.strict;
    request.render_timeout = parent.render_timeout;
    request.limits = parent.limits.clone();
    request.app.namespace = app
        .destination
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    request.app.depth = parent.app.depth + 1;
    let (objects, _report) = objects(&request).map_err(|e| Error {
        message: format!(
            "child application {} ({}) does not render: {}",
            app.name, app.path, e.message
        ),
        ..e
    })?;
    Ok(objects)
}

/// Adds the sync options the entries need, unless the child's syncPolicy
/// already sets that option either way.
fn sync_policy(app: &App, needed: &[String]) -> Option<Value> {
    let mut policy = app
        .sync_policy
        .clone()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let options = policy
        .as_object_mut()?
        .entry("syncOptions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = options.as_array_mut() {
        for option in needed {
            let key = option.split('=').next().unwrap_or(option);
            let present = list
                .iter()
                .any(|o| o.as_str().is_some_and(|s| s.split('=').next() == Some(key)));
            if !present {
                list.push(Value::from(option.as_str()));
            }
        }
        if list.is_empty() {
            policy.as_object_mut()?.remove("syncOptions");
        }
    }
    (!policy.as_object()?.is_empty()).then_some(policy)
}

fn context(app: &App, apps: &Apps, parent: &Request, objects: &[Value]) -> Result<Value> {
    let defaults = &apps.defaults;
    let repo_url = defaults
        .repo_url
        .clone()
        .or_else(|| parent.app.repo_url.clone())
        .ok_or_else(|| {
            app_error(app, "no repository URL for the Application's source".into())
                .hint("set argocd.repoURL, or run where Argo CD sets ARGOCD_APP_SOURCE_REPO_URL")
        })?;
    let target_revision = defaults
        .target_revision
        .clone()
        .or_else(|| parent.app.target_revision.clone())
        .unwrap_or_else(|| "HEAD".into());
    let destination_namespace = app.destination.get("namespace").and_then(Value::as_str);
    let snippet = ownership::snippet(objects, destination_namespace);
    let mut plugin = Map::new();
    plugin.insert("name".into(), PLUGIN_NAME.into());
    if let Some(env) = &app.env {
        plugin.insert("env".into(), env.clone());
    }
    if let Some(parameters) = &app.parameters {
        plugin.insert("parameters".into(), parameters.clone());
    }
    Ok(json!({
        "name": app.name,
        "namespace": defaults.namespace.clone().unwrap_or_else(|| "argocd".into()),
        "labels": { LABEL_MANAGED_BY: MANAGED_BY },
        "project": app.project.clone().or_else(|| defaults.project.clone()).unwrap_or_else(|| "default".into()),
        "source": {
            "repoURL": repo_url,
            "targetRevision": target_revision,
            "path": app.path,
            "plugin": plugin,
        },
        "destination": app.destination,
        "ignoreDifferences": snippet.ignore_differences,
        "syncPolicy": sync_policy(app, &snippet.sync_policy.sync_options),
    }))
}

/// Renders the Applications of an apps directory.
pub fn render(apps: &Apps, parent: &Request, templates: &Templates) -> Result<Vec<Rendered>> {
    let mut out = Vec::new();
    for app in &apps.apps {
        let objects = render_child(app, parent)?;
        let context = context(app, apps, parent, &objects)?;
        out.extend(templates.render_named(
            "application.yaml",
            context,
            &format!("applications.{}", app.name),
        )?);
    }
    Ok(out)
}

/// The values of a request: its sources read, merged and decoded.
pub fn values(request: &Request) -> Result<Values> {
    values::load(&request.values, request.app.namespace.as_deref())
}

/// Like [`values`], for a caller that owns the request: the sources' texts
/// are let go once read. The values keep every position as a line and a
/// column, so nothing needs the text again, and a 10,000-service catalog
/// would otherwise hold 1.7 MB to the end of the run. The names stay, for
/// errors about the run as a whole.
pub fn take_values(request: &mut Request) -> Result<Values> {
    let sources: Vec<Source> = request
        .values
        .iter_mut()
        .map(|source| Source {
            name: Arc::clone(&source.name),
            text: std::mem::take(&mut source.text),
        })
        .collect();
    values::load(&sources, request.app.namespace.as_deref())
}

/// Renders an app directory up to the gate: the values decide whether it
/// holds services or applications.
pub fn run(request: &Request, values: Values) -> Result<Run> {
    let Some(apps) = &values.apps else {
        return generate::run(request, values);
    };
    let templates = Templates::new(request.templates.clone());
    let items = render(apps, request, &templates)?
        .into_iter()
        .map(|r| Item::new(r.object, Origin::Rendered(r.location)))
        .collect();
    let generate::Finished {
        objects,
        findings,
        text,
    } = generate::finish(request, items, &values)?;
    Ok(Run {
        objects,
        text,
        findings,
        report: Report::default(),
        values,
        upstream: Vec::new(),
    })
}

/// The objects of an app directory, refused if the gate found an error.
pub fn accepted(request: &Request) -> Result<Accepted> {
    accepted_with(request, values(request)?)
}

/// [`accepted`], for values already read (see [`take_values`]).
pub fn accepted_with(request: &Request, values: Values) -> Result<Accepted> {
    generate::accept(request, run(request, values)?)
}

/// The objects of an app directory as JSON, refused if the gate found an
/// error.
pub fn objects(request: &Request) -> Result<(Vec<Value>, Report)> {
    let accepted = accepted(request)?;
    Ok((
        accepted.objects.into_iter().map(Body::into_value).collect(),
        accepted.report,
    ))
}

/// The stream `generate` prints for an app directory.
pub fn generate(request: &Request) -> Result<Output> {
    Ok(generate::output(request, accepted(request)?))
}
