//! `upstream:` (manifests rendered by someone else) and `patches:` (RFC 6902
//! operations applied last), as the values file names them.
//!
//! Relative paths resolve against the directory of the values file that
//! wrote them, so an entry means the same thing whichever `-f` merged it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fields::{field, invalid, join, mapping, optional_string, string};
use super::shape;
use crate::error::Result;
use crate::location::Location;
use crate::names;
use crate::yaml::{Node, NodeValue};

/// Manifests to post-process.
#[derive(Debug, Clone, PartialEq)]
pub enum Upstream {
    /// A YAML or JSON manifest file (several documents, `kind: List` allowed).
    File {
        path: String,
        /// `upstream[i].file`, for messages.
        key_path: String,
        /// The directory `path` is relative to (that of the values file).
        base: PathBuf,
        location: Location,
    },
    /// A chart rendered by `helm template`.
    Helm(HelmSource),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HelmSource {
    /// A chart directory or archive inside the repository, or an `oci://`
    /// or `https://` reference that helm itself fetches.
    pub chart: String,
    pub release: String,
    pub namespace: Option<String>,
    pub version: Option<String>,
    pub values_files: Vec<String>,
    /// Inline chart values, passed to helm as one more values file.
    pub values: Option<Value>,
    pub base: PathBuf,
    pub location: Location,
    /// `upstream[i].helm`, for messages.
    pub key_path: String,
}

/// Which objects a patch applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchTarget {
    pub api_version: Option<String>,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchSpec {
    pub target: PatchTarget,
    pub ops: json_patch::Patch,
    pub location: Location,
    pub key_path: String,
}

/// The directory a values file lives in, as the user wrote its path.
pub fn base_of(location: &Location) -> PathBuf {
    if location.file.starts_with('<') {
        return PathBuf::new();
    }
    Path::new(&*location.file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn list<'a>(node: &'a Node, path: &str) -> Result<&'a [Node]> {
    match &node.value {
        NodeValue::Seq(items) => Ok(items),
        NodeValue::Null => Ok(&[]),
        _ => Err(invalid(
            &node.location,
            path,
            format!("expected a list, found {}", node.type_name()),
        )),
    }
}

fn helm(node: &Node, path: &str) -> Result<HelmSource> {
    let entries = mapping(node, path, &shape::HELM)?;
    let chart = optional_string(entries, "chart", path)?.ok_or_else(|| {
        invalid(&node.location, path, "helm source has no chart")
            .hint("chart: a chart directory relative to this values file, e.g. chart: ../charts/teleport-cluster")
    })?;
    let release = optional_string(entries, "release", path)?.ok_or_else(|| {
        invalid(&node.location, path, "helm source has no release name")
            .hint("release: the Helm release name, which the chart's labels and names follow")
    })?;
    names::dns1123_label(&release).map_err(|why| {
        invalid(
            &node.location,
            &join(path, "release"),
            format!("release {release:?} {why}"),
        )
    })?;
    let namespace = optional_string(entries, "namespace", path)?;
    if let Some(ns) = &namespace {
        names::dns1123_label(ns).map_err(|why| {
            invalid(
                &node.location,
                &join(path, "namespace"),
                format!("namespace {ns:?} {why}"),
            )
        })?;
    }
    let values_files = match field(entries, "valuesFiles") {
        None => Vec::new(),
        Some(n) => list(n, &join(path, "valuesFiles"))?
            .iter()
            .enumerate()
            .map(|(i, item)| string(item, &format!("{path}.valuesFiles[{i}]")))
            .collect::<Result<_>>()?,
    };
    let values = match field(entries, "values") {
        None => None,
        Some(n) if n.as_map().is_some() => Some(n.to_json()?),
        Some(n) => {
            return Err(invalid(
                &n.location,
                &join(path, "values"),
                format!(
                    "expected a mapping of chart values, found {}",
                    n.type_name()
                ),
            ));
        }
    };
    Ok(HelmSource {
        chart,
        release,
        namespace,
        version: optional_string(entries, "version", path)?,
        values_files,
        values,
        base: base_of(&node.location),
        location: node.location.clone(),
        key_path: path.to_string(),
    })
}

pub fn upstream(node: &Node) -> Result<Vec<Upstream>> {
    list(node, "upstream")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("upstream[{i}]");
            let entries = mapping(item, &path, &shape::UPSTREAM)?;
            match (field(entries, "file"), field(entries, "helm")) {
                (Some(file), None) => Ok(Upstream::File {
                    path: string(file, &join(&path, "file"))?,
                    key_path: join(&path, "file"),
                    base: base_of(&file.location),
                    location: file.location.clone(),
                }),
                (None, Some(h)) => Ok(Upstream::Helm(helm(h, &join(&path, "helm"))?)),
                _ => Err(invalid(
                    &item.location,
                    &path,
                    "an upstream entry has exactly one of `file` or `helm`",
                )
                .hint("upstream: [{file: rendered.yaml}] or [{helm: {chart: ..., release: ...}}]")),
            }
        })
        .collect()
}

pub fn patches(node: &Node) -> Result<Vec<PatchSpec>> {
    list(node, "patches")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("patches[{i}]");
            let entries = mapping(item, &path, &shape::PATCH)?;
            let target_node = field(entries, "target").ok_or_else(|| {
                invalid(&item.location, &path, "a patch has no target")
                    .hint("target: {kind: Service, namespace: teleport, name: teleport-ts-lb}")
            })?;
            let target_path = join(&path, "target");
            let t = mapping(target_node, &target_path, &shape::TARGET)?;
            let required = |key: &str| {
                optional_string(t, key, &target_path)?.ok_or_else(|| {
                    invalid(&target_node.location, &target_path, format!("the target has no {key}"))
                        .hint("a target names one object: {apiVersion?, kind, namespace?, name}")
                })
            };
            let target = PatchTarget {
                api_version: optional_string(t, "apiVersion", &target_path)?,
                kind: required("kind")?,
                namespace: optional_string(t, "namespace", &target_path)?,
                name: required("name")?,
            };
            let ops_node = field(entries, "ops").ok_or_else(|| {
                invalid(&item.location, &path, "a patch has no ops")
                    .hint("ops: [{op: add, path: /metadata/labels/team, value: platform}]")
            })?;
            let ops_path = join(&path, "ops");
            let ops: json_patch::Patch = serde_json::from_value(ops_node.to_json()?).map_err(|e| {
                invalid(&ops_node.location, &ops_path, format!("not an RFC 6902 operation list: {e}"))
                    .hint("each op is {op: add|remove|replace|move|copy|test, path: /json/pointer, value or from}")
            })?;
            Ok(PatchSpec {
                target,
                ops,
                location: item.location.clone(),
                key_path: path,
            })
        })
        .collect()
}
