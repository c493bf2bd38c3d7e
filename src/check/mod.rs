//! `check`: the conflicts and auth failures visible in the files, before
//! they reach the cluster.
//!
//! Manifest checks run on the rendered output and on the upstream input as
//! it was before the split repaired it (what the chart would deploy
//! without this plugin). Optional inputs add policy checks (the tailnet
//! policy file), Argo CD checks (AppProject, Application) and a reading of
//! pasted logs.

pub(crate) mod argocd;
pub mod cluster;
mod logs;
mod policy;

pub use policy::parse_policy;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::apps;
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, ErrorKind, Result};
use crate::expose::{ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS};
use crate::gate::{self, Body, Item, Origin};
use crate::generate::{self, Request};
use crate::location::Location;
use crate::manifest::{Identity, string_at as text};
use crate::ownership;
use crate::values::Source;
use crate::yaml;

/// Everything `check` reads besides what `generate` reads.
#[derive(Default)]
pub struct Extra {
    /// The tailnet policy file (HuJSON).
    pub policy: Option<Source>,
    /// The operator's Helm values (operatorConfig.defaultTags, proxyConfig.defaultTags).
    pub operator_values: Option<Source>,
    pub project: Option<Source>,
    pub application: Option<Source>,
    /// Pasted operator or proxy logs.
    pub logs: Vec<Source>,
    /// `kubectl get … -o yaml|json` exports of the cluster.
    pub cluster_state: Vec<Source>,
}

/// Whether the operator would give an object a device.
fn claim(object: &Value) -> Option<crate::claims::Claim> {
    crate::claims::claim(object, "")
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    text(object, &["metadata", "annotations", key])
}

fn parse_yaml(source: &Source, what: &str) -> Result<Value> {
    let node = yaml::parse_single(&source.text, &source.name)?.ok_or_else(|| {
        Error::new(ErrorKind::Usage, format!("the {what} file is empty"))
            .at(Location::start_of(&source.name))
    })?;
    node.to_json()
}

/// An error that `check` knows by a code becomes that finding.
fn finding_of(err: &Error, code: &'static str) -> Diagnostic {
    let mut message = err.message.clone();
    if let Some(hint) = &err.hint {
        message.push_str(&format!(" ({hint})"));
    }
    Diagnostic::new(code, message)
        .severity(Severity::Error)
        .at(err.location.as_ref())
        .key_path(err.key_path.clone())
}

/// What the upstream manifests alone would have put in the cluster, that
/// the final stream no longer has: the split's repairs, reported with the
/// finding the chart would have caused.
fn repaired(run: &generate::Run, request: &Request) -> Vec<Diagnostic> {
    let items: Vec<Item> = run
        .upstream
        .iter()
        .map(|o| Item::new(o.value.clone(), Origin::Upstream(o.location.clone())))
        .collect();
    let options = gate::Options {
        default_namespace: run.values.defaults.namespace.clone(),
        operator_version: request.operator_version,
    };
    let ids = items.iter().map(Item::id).collect();
    gate::run(&items, ids, &run.values, &options)
        .into_iter()
        .filter(|f| matches!(f.severity, Severity::Error | Severity::Warning))
        .filter(|f| {
            !run.findings
                .iter()
                .any(|g| g.code == f.code && g.object == f.object)
        })
        .map(|f| {
            let how = f
                .object
                .as_deref()
                .and_then(|object| {
                    run.report
                        .repairs
                        .iter()
                        .find(|r| r.message.starts_with(&format!("{object}: ")))
                })
                .map(|r| format!("; generate repaired it: {}", r.message))
                .unwrap_or_else(|| "; generate repaired it".into());
            let message = format!("the upstream manifests alone: {}{how}", f.message);
            Diagnostic {
                severity: Severity::Repaired,
                message,
                ..f
            }
        })
        .collect()
}

/// Runs every check. Inputs that cannot be read are an error (exit 2);
/// findings are diagnostics, sorted by severity, code and place. The
/// manifest findings are the gate's, on the stream `generate` would print,
/// so `check` and `generate` cannot disagree.
pub fn check(request: &Request, extra: &Extra) -> Result<Vec<Diagnostic>> {
    let mut request = request.clone();
    request.keep_upstream = true;
    let request = &request;
    let run = match apps::values(request).and_then(|values| apps::run(request, values)) {
        Ok(run) => run,
        Err(err) => match err.code_id() {
            Some(code) => return Ok(vec![finding_of(&err, code)]),
            None => return Err(err),
        },
    };
    let mut out = run.findings.clone();
    out.extend(repaired(&run, request));
    let objects: Vec<Value> = run.objects.iter().cloned().map(Body::into_value).collect();
    policy::policy_checks(&objects, extra, &mut out)?;
    argocd::argocd_checks(&objects, request, extra, &mut out)?;
    logs::log_checks(extra, &mut out);
    if !extra.cluster_state.is_empty() {
        out.extend(cluster::diagnose(&extra.cluster_state, Some(&objects))?);
    }
    place(&mut out, &run.values);
    sort(&mut out);
    Ok(out)
}

/// Checks exports of a cluster (and logs) when no values are given: the
/// cluster alone, with no render to compare against.
pub fn check_cluster(extra: &Extra) -> Result<Vec<Diagnostic>> {
    let mut out = cluster::diagnose(&extra.cluster_state, None)?;
    logs::log_checks(extra, &mut out);
    sort(&mut out);
    Ok(out)
}

fn sort(out: &mut Vec<Diagnostic>) {
    out.sort_by(|a, b| {
        (a.severity, a.code, &a.file, a.line, &a.object, &a.message)
            .cmp(&(b.severity, b.code, &b.file, b.line, &b.object, &b.message))
    });
    out.dedup_by(|a, b| {
        a.code == b.code && a.object == b.object && a.message == b.message && a.file == b.file
    });
}

/// Gives a finding with no place of its own the place of the values entry
/// that asked for the exposure: the service its key names, else the
/// service its object or message names. Code scanning drops a result
/// without a location, and a reader needs somewhere to start.
fn place(out: &mut [Diagnostic], values: &crate::values::Values) {
    for d in out.iter_mut().filter(|d| d.file.is_none()) {
        let by_key = d.key.as_deref().and_then(|key| {
            values.services.iter().find(|s| {
                let own = s.key_path();
                key == own || key.starts_with(&format!("{own}."))
            })
        });
        let named = |s: &&std::sync::Arc<crate::values::Service>| {
            let mention = format!("services.{}", s.name);
            d.message.contains(&mention)
                || d.object.as_deref().is_some_and(|o| {
                    o.ends_with(&format!("/{}-ts-lb", s.name))
                        || o.ends_with(&format!("/{}", s.name))
                })
        };
        if let Some(service) = by_key.or_else(|| values.services.iter().find(named)) {
            *d = d.clone().at(Some(&service.location));
        }
    }
}

/// A source read by the caller, for tests and the binary alike.
pub fn source(name: &str, text: String) -> Source {
    Source {
        name: Arc::from(name),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_without_a_place_points_at_the_service_that_asked() {
        let values = crate::values::load(
            &[source(
                "values.yaml",
                "services:\n  web:\n    namespace: a\n    hostname: web\n    backend: {name: web, port: 80}\n  api:\n    namespace: a\n    hostname: api\n    backend: {name: api, port: 80}\n"
                    .into(),
            )],
            None,
        )
        .unwrap();
        let mut out = vec![
            Diagnostic::new("TS002", "twice").key_path(Some("services.api.selector".into())),
            Diagnostic::new("TS002", "twice").object("Service a/web-ts-lb"),
            Diagnostic::new("TS002", "nobody asked"),
        ];
        place(&mut out, &values);
        let places: Vec<_> = out
            .iter()
            .map(|d| (d.file.as_deref(), d.line, d.column))
            .collect();
        assert_eq!(
            places,
            [
                (Some("values.yaml"), Some(6), Some(3)),
                (Some("values.yaml"), Some(2), Some(3)),
                (None, None, None),
            ]
        );
    }
}
