//! `check`: the conflicts and auth failures visible in the files, before
//! they reach the cluster.
//!
//! Manifest checks run on the rendered output and on the upstream input as
//! it was before the split repaired it (what the chart would deploy
//! without this plugin). Optional inputs add policy checks (the tailnet
//! policy file), Argo CD checks (AppProject, Application) and a reading of
//! pasted logs.

mod argocd;
mod logs;
mod manifests;
mod policy;

pub use policy::parse_policy;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::backend::{component, find_service, matching_workloads, pod_template};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, ErrorKind, Result};
use crate::expose::{
    ANNOTATION_EXPOSE, ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, INGRESS_CLASS,
    LABEL_PROXY_CLASS, LOAD_BALANCER_CLASS,
};
use crate::generate::{self, Request};
use crate::location::Location;
use crate::manifest::{Identity, OPERATOR_LABEL_PREFIXES, string_at as text};
use crate::names;
use crate::ownership::{self, Role};
use crate::upstream::Object;
use crate::values::{Mode, Source};
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
    /// The operator version as (major, minor), e.g. (1, 90).
    pub operator_version: Option<(u32, u32)>,
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    text(object, &["metadata", "annotations", key])
}

/// An object under examination, with where it is written.
struct Subject {
    object: Value,
    location: Option<Location>,
}

impl Subject {
    fn id(&self) -> Identity {
        Identity::of(&self.object)
    }
}

/// The hostname an object claims on the tailnet, if the operator would give
/// it a device.
fn claim(object: &Value) -> Option<String> {
    let id = Identity::of(object);
    match ownership::role(object)? {
        Role::ServiceIngress => Some(
            annotation(object, ANNOTATION_HOSTNAME)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}-{}", id.namespace, id.name)),
        ),
        Role::Ingress => Some(
            object["spec"]["tls"][0]["hosts"][0]
                .as_str()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
                .unwrap_or_else(|| format!("{}-{}-ingress", id.namespace, id.name)),
        ),
        Role::EgressProxyGroup | Role::EgressStandalone => None,
    }
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The selector through which an exposing object reaches pods.
fn selector_of(object: &Value, all: &[Object]) -> Option<(String, BTreeMap<String, String>)> {
    let id = Identity::of(object);
    match id.kind.as_str() {
        "Service" => Some((id.namespace, string_map(&object["spec"]["selector"])))
            .filter(|(_, s)| !s.is_empty()),
        "Ingress" => {
            let backend =
                object["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
                    .as_str()?;
            let service = find_service(all, &id.namespace, backend)?;
            Some((
                id.namespace.clone(),
                string_map(&service.value["spec"]["selector"]),
            ))
            .filter(|(_, s)| !s.is_empty())
        }
        _ => None,
    }
}

fn containers(object: &Object) -> Vec<&Value> {
    pod_template(&object.value)
        .and_then(|pod| pod["spec"]["containers"].as_array())
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

/// The objects to examine: the output, except that objects which came from
/// upstream are taken as they were before the split repaired them.
fn subjects(run: &generate::Run, request: &Request) -> Vec<Subject> {
    let upstream_ids: BTreeSet<(String, String, String, String)> = run
        .upstream
        .iter()
        .map(|o| {
            let id = Identity::of(&o.value);
            (id.group, id.kind, id.namespace, id.name)
        })
        .collect();
    let mut out: Vec<Subject> = run
        .upstream
        .iter()
        .map(|o| Subject {
            object: o.value.clone(),
            location: Some(o.location.clone()),
        })
        .collect();
    for object in &run.objects {
        let id = Identity::of(object);
        if upstream_ids.contains(&(
            id.group.clone(),
            id.kind.clone(),
            id.namespace.clone(),
            id.name.clone(),
        )) {
            continue;
        }
        // A generated object points at the service that asked for it.
        let service = run.values.services.iter().find(|s| {
            s.namespace == id.namespace
                && (id.name == format!("{}-ts-lb", s.name)
                    || id.name == format!("{}-tailscale", s.name))
        });
        out.push(Subject {
            object: object.clone(),
            location: service
                .map(|s| s.location.clone())
                .or_else(|| request.values.first().map(|v| Location::start_of(&v.name))),
        });
    }
    out
}

fn parse_yaml(source: &Source, what: &str) -> Result<Value> {
    let node = yaml::parse_single(&source.text, &source.name)?.ok_or_else(|| {
        Error::new(ErrorKind::Usage, format!("the {what} file is empty"))
            .at(Location::start_of(&source.name))
    })?;
    node.to_json()
}

/// Runs every check. Inputs that cannot be read are an error (exit 2);
/// findings are diagnostics, sorted by severity, code and place.
pub fn check(request: &Request, extra: &Extra) -> Result<Vec<Diagnostic>> {
    let run = generate::run(request)?;
    let subjects = subjects(&run, request);
    let mut out = Vec::new();
    manifests::manifest_checks(&subjects, &run, extra, &mut out);
    manifests::chart_service_checks(&run, &mut out);
    policy::policy_checks(&run.objects, extra, &mut out)?;
    argocd::argocd_checks(&run.objects, request, extra, &mut out)?;
    logs::log_checks(extra, &mut out);
    out.sort_by(|a, b| {
        (a.severity, a.code, &a.file, a.line, &a.object, &a.message)
            .cmp(&(b.severity, b.code, &b.file, b.line, &b.object, &b.message))
    });
    out.dedup_by(|a, b| {
        a.code == b.code && a.object == b.object && a.message == b.message && a.file == b.file
    });
    Ok(out)
}

/// A source read by the caller, for tests and the binary alike.
pub fn source(name: &str, text: String) -> Source {
    Source {
        name: Arc::from(name),
        text,
    }
}
