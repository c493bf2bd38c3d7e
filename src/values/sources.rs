//! `upstream:` (manifests rendered by someone else) and `patches:` (RFC 6902
//! operations applied last), as the values file names them.
//!
//! Relative paths resolve against the directory of the values file that
//! wrote them, so an entry means the same thing whichever `-f` merged it.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fields::{boolean, field, invalid, join, mapping, optional_string, selector, string};
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
    /// An overlay built by `kustomize build`.
    Kustomize(KustomizeSource),
    /// A directory of manifest files.
    Directory(DirectorySource),
}

/// `upstream[i].kustomize`: an overlay and Argo CD's Kustomize options.
#[derive(Debug, Clone, PartialEq)]
pub struct KustomizeSource {
    /// The overlay's directory, relative to `base`.
    pub path: String,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
    pub common_labels: BTreeMap<String, String>,
    pub images: Vec<String>,
    pub base: PathBuf,
    pub location: Location,
    /// `upstream[i].kustomize`, for messages.
    pub key_path: String,
}

/// `upstream[i].directory`: Argo CD's directory source.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorySource {
    pub path: String,
    pub recurse: bool,
    pub include: Option<String>,
    pub exclude: Option<String>,
    pub base: PathBuf,
    pub location: Location,
    /// `upstream[i].directory`, for messages.
    pub key_path: String,
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

fn list<'a>(node: &'a Node, path: &(impl Display + ?Sized)) -> Result<&'a [Node]> {
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

fn helm(node: &Node, path: &(impl Display + ?Sized)) -> Result<HelmSource> {
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

/// An image override as `kustomize edit set image` takes it:
/// `name=newName[:tag|@digest]`, `name:tag`, `name@digest`.
fn image_override(text: &str) -> std::result::Result<(), String> {
    let (name, rest) = match text.split_once('=') {
        Some((name, new)) => (name, new),
        None => match text.find(['@', ':']) {
            Some(at) => (&text[..at], &text[at..]),
            None => return Err("sets nothing; write name=newName, name:tag or name@digest".into()),
        },
    };
    if name.is_empty() || rest.is_empty() || text.chars().any(char::is_whitespace) {
        return Err("is not name=newName:tag, name:tag or name@digest".into());
    }
    if let Some((_, digest)) = rest.split_once('@')
        && !digest.contains(':')
    {
        return Err("has a digest without its algorithm (sha256:...)".into());
    }
    Ok(())
}

fn kustomize(node: &Node, path: &(impl Display + ?Sized)) -> Result<KustomizeSource> {
    let entries = mapping(node, path, &shape::KUSTOMIZE)?;
    let overlay = optional_string(entries, "path", path)?.ok_or_else(|| {
        invalid(&node.location, path, "kustomize source has no path")
            .hint("path: the overlay's directory, relative to this values file")
    })?;
    let namespace = optional_string(entries, "namespace", path)?;
    if let (Some(ns), Some(n)) = (&namespace, field(entries, "namespace")) {
        names::dns1123_label(ns).map_err(|why| {
            invalid(
                &n.location,
                &join(path, "namespace"),
                format!("namespace {ns:?} {why}"),
            )
        })?;
    }
    let common_labels = match field(entries, "commonLabels") {
        None => BTreeMap::new(),
        Some(n) => selector(n, &join(path, "commonLabels"))?
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let images = match field(entries, "images") {
        None => Vec::new(),
        Some(n) => list(n, &join(path, "images"))?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let key = format!("{path}.images[{i}]");
                let text = string(item, &key)?;
                image_override(&text).map_err(|why| {
                    invalid(&item.location, &key, format!("image {text:?} {why}"))
                        .hint("as Argo CD's kustomize.images: nginx=registry.example.com/nginx:1.27, nginx:1.27 or nginx@sha256:...")
                })?;
                Ok(text)
            })
            .collect::<Result<_>>()?,
    };
    Ok(KustomizeSource {
        path: overlay,
        name_prefix: optional_string(entries, "namePrefix", path)?,
        name_suffix: optional_string(entries, "nameSuffix", path)?,
        namespace,
        common_labels,
        images,
        base: base_of(&node.location),
        location: node.location.clone(),
        key_path: path.to_string(),
    })
}

fn directory(node: &Node, path: &(impl Display + ?Sized)) -> Result<DirectorySource> {
    let entries = mapping(node, path, &shape::DIRECTORY)?;
    let dir = optional_string(entries, "path", path)?.ok_or_else(|| {
        invalid(&node.location, path, "directory source has no path")
            .hint("path: the directory of manifests, relative to this values file")
    })?;
    let glob = |key: &str| -> Result<Option<String>> {
        let Some(n) = field(entries, key) else {
            return Ok(None);
        };
        let pattern = string(n, &join(path, key))?;
        crate::glob::compile(&pattern).map_err(|why| {
            invalid(&n.location, &join(path, key), format!("{pattern:?} is not a glob: {why}"))
                .hint("a glob such as '*.yaml', 'base/*' or '{a,b}/*.yaml', matched against paths relative to the directory")
        })?;
        Ok(Some(pattern))
    };
    Ok(DirectorySource {
        path: dir,
        recurse: match field(entries, "recurse") {
            Some(n) => boolean(n, &join(path, "recurse"))?,
            None => false,
        },
        include: glob("include")?,
        exclude: glob("exclude")?,
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
            let kinds = ["file", "helm", "kustomize", "directory"];
            let present: Vec<(&str, &Node)> = kinds
                .iter()
                .filter_map(|k| field(entries, k).map(|n| (*k, n)))
                .collect();
            let [(kind, n)] = present.as_slice() else {
                return Err(invalid(
                    &item.location,
                    &path,
                    "an upstream entry has exactly one of `file`, `helm`, `kustomize` or `directory`",
                )
                .hint("upstream: [{file: rendered.yaml}], [{helm: {chart: ..., release: ...}}], [{kustomize: {path: ...}}] or [{directory: {path: ...}}]"));
            };
            let key = join(&path, kind);
            Ok(match *kind {
                "file" => Upstream::File {
                    path: string(n, &key)?,
                    key_path: key.to_string(),
                    base: base_of(&n.location),
                    location: n.location.clone(),
                },
                "helm" => Upstream::Helm(helm(n, &key)?),
                "kustomize" => Upstream::Kustomize(kustomize(n, &key)?),
                _ => Upstream::Directory(directory(n, &key)?),
            })
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
