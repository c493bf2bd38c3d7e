//! An apps directory (app-of-apps): its values file lists child
//! Applications instead of services.

use serde_json::Value;

use super::fields::{field, invalid, join, mapping, optional_string};
use super::shape;
use crate::error::Result;
use crate::location::Location;
use crate::names;
use crate::yaml::Node;

/// Defaults shared by the Applications of one apps directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppDefaults {
    pub namespace: Option<String>,
    pub project: Option<String>,
    pub repo_url: Option<String>,
    pub target_revision: Option<String>,
}

/// One child Application.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub name: String,
    /// The child's directory, relative to the repository root.
    pub path: String,
    pub project: Option<String>,
    pub destination: Value,
    pub sync_policy: Option<Value>,
    /// `spec.source.plugin.parameters`, passed through (and read for the
    /// child's own settings).
    pub parameters: Option<Value>,
    /// `spec.source.plugin.env`, passed through.
    pub env: Option<Value>,
    pub location: Location,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Apps {
    pub defaults: AppDefaults,
    pub apps: Vec<App>,
}

fn json_of(
    entries: &[(crate::yaml::Key, Node)],
    key: &str,
    path: &str,
    want_map: bool,
) -> Result<Option<Value>> {
    let Some(node) = field(entries, key) else {
        return Ok(None);
    };
    let value = node.to_json()?;
    let fits = if want_map {
        value.is_object()
    } else {
        value.is_array()
    };
    if !fits {
        let shape = if want_map { "a mapping" } else { "a list" };
        return Err(invalid(
            &node.location,
            &join(path, key),
            format!("expected {shape}, found {}", node.type_name()),
        ));
    }
    Ok(Some(value))
}

pub fn defaults(node: &Node) -> Result<AppDefaults> {
    let entries = mapping(node, "argocd", &shape::ARGOCD)?;
    Ok(AppDefaults {
        namespace: optional_string(entries, "namespace", "argocd")?,
        project: optional_string(entries, "project", "argocd")?,
        repo_url: optional_string(entries, "repoURL", "argocd")?,
        target_revision: optional_string(entries, "targetRevision", "argocd")?,
    })
}

pub fn applications(node: &Node) -> Result<Vec<App>> {
    let Some(entries) = node.as_map() else {
        return Err(invalid(
            &node.location,
            "applications",
            format!(
                "expected a mapping of Application names, found {}",
                node.type_name()
            ),
        ));
    };
    let mut apps = Vec::with_capacity(entries.len());
    for (key, app) in entries {
        let path = format!("applications.{}", key.name);
        names::dns1123_subdomain(&key.name).map_err(|why| {
            invalid(
                &key.location,
                &path,
                format!("Application name {:?} {why}", key.name),
            )
        })?;
        let e = mapping(app, &path, &shape::APPLICATION)?;
        let child = optional_string(e, "path", &path)?.ok_or_else(|| {
            invalid(&key.location, &path, "an application has no path")
                .hint("path: the child directory, relative to the repository root")
        })?;
        let destination = json_of(e, "destination", &path, true)?.ok_or_else(|| {
            invalid(&key.location, &path, "an application has no destination")
                .hint("destination: {server: https://kubernetes.default.svc, namespace: <ns>}")
        })?;
        apps.push(App {
            name: key.name.as_str().to_owned(),
            path: child,
            project: optional_string(e, "project", &path)?,
            destination,
            sync_policy: json_of(e, "syncPolicy", &path, true)?,
            parameters: json_of(e, "parameters", &path, false)?,
            env: json_of(e, "env", &path, false)?,
            location: key.location.clone(),
        });
    }
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(apps)
}
