//! `kustomize build` of an overlay, as a child in the sandbox (DESIGN
//! promise 7): the overlay and every local base and component it reaches
//! are copied in at their places relative to the repository root (symlinks
//! followed only inside it), remote bases are refused before anything runs
//! unless the administrator's allow-list admits them, and Argo CD's
//! Kustomize options are set on the copy as `kustomize edit` would set
//! them, never on the repository.
//!
//! Kustomize's own load restrictor keeps every file a kustomization names
//! inside that kustomization's directory, so copying the directories
//! reached through `resources`, `bases` and `components` copies everything
//! the build reads. `--enable-helm` is never passed: a `helmCharts`
//! generator is refused with a pointer to the Helm source.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::admin::{self, Limits};
use crate::child;
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repo;
use crate::sandbox::Sandbox;
use crate::values::KustomizeSource;
use crate::yaml::{self, Node, NodeValue};

/// The names kustomize looks for in a directory, in its order.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The fields whose entries are other kustomizations or files to build.
const REFERENCES: &[&str] = &["resources", "bases", "components"];

/// How many kustomization directories one build may reach.
const MAX_DIRECTORIES: usize = 1_000;

fn source_error(source: &KustomizeSource, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(source.location.clone())
        .key(source.key_path.clone())
}

/// Whether an executable named `name` is on `PATH`.
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The program and its leading arguments: `KUSTOMIZE_BINARY build`, else
/// `kustomize build`, else `kubectl kustomize`.
pub fn command() -> Option<(OsString, Vec<OsString>)> {
    if let Some(binary) = std::env::var_os("KUSTOMIZE_BINARY") {
        return Some((binary, vec!["build".into()]));
    }
    if on_path("kustomize") {
        return Some(("kustomize".into(), vec!["build".into()]));
    }
    on_path("kubectl").then(|| ("kubectl".into(), vec!["kustomize".into()]))
}

/// A resource that kustomize would fetch: a URL, a git reference or a
/// hosted repository's short form.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|host| entry.starts_with(host))
        || ["?ref=", "?version=", "?submodules=", "?timeout="]
            .iter()
            .any(|q| entry.contains(q))
}

/// The kustomization file of `dir`, if it has one.
fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Shown relative to the repository root, as the user knows the path.
fn shown(repo: &Repo, path: &Path) -> String {
    path.strip_prefix(repo.root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

struct Reach<'a> {
    source: &'a KustomizeSource,
    repo: &'a Repo,
    limits: &'a Limits,
    /// Every kustomization directory reached, canonical.
    dirs: BTreeSet<PathBuf>,
}

impl Reach<'_> {
    /// Reads the kustomization in `dir` and follows its references.
    fn visit(&mut self, dir: &Path) -> Result<()> {
        if !self.dirs.insert(dir.to_path_buf()) {
            return Ok(());
        }
        if self.dirs.len() > MAX_DIRECTORIES {
            return Err(source_error(
                self.source,
                format!("the overlay reaches more than {MAX_DIRECTORIES} kustomizations"),
            ));
        }
        let Some(file) = kustomization_file(dir) else {
            return Err(source_error(
                self.source,
                format!(
                    "{} has no kustomization.yaml (nor kustomization.yml or Kustomization)",
                    shown(self.repo, dir)
                ),
            )
            .hint("a kustomize source names a directory with a kustomization file; for plain manifests use a directory source"));
        };
        let name: Arc<str> = Arc::from(shown(self.repo, &file));
        let size = std::fs::metadata(&file)
            .map_err(|e| Error::io(&name, &e))?
            .len();
        self.repo.charge(size, &name)?;
        let text = crate::repo::read_file(
            std::fs::File::open(&file).map_err(|e| Error::io(&name, &e))?,
            &name,
        )?;
        let Some(root) = yaml::parse_single(&text, &name)? else {
            return Ok(());
        };
        let Some(entries) = root.as_map() else {
            return Err(Error::new(
                ErrorKind::Upstream,
                format!("{name} is not a kustomization (not a mapping)"),
            )
            .at(root.location.clone()));
        };
        for (key, value) in entries {
            match key.name.as_str() {
                "helmCharts" | "helmGlobals" | "helmChartInflationGenerator" => {
                    return Err(Error::new(
                        ErrorKind::Upstream,
                        format!("{name} inflates Helm charts ({}), which needs kustomize --enable-helm; the plugin never passes it", key.name),
                    )
                    .at(key.location.clone())
                    .key(key.name.clone())
                    .hint("render the chart with a Helm source (upstream: [{helm: {chart: ..., release: ...}}]) and keep the overlay for the rest"));
                }
                field if REFERENCES.contains(&field) => {
                    let NodeValue::Seq(items) = &value.value else {
                        continue;
                    };
                    for (i, item) in items.iter().enumerate() {
                        let NodeValue::Str(entry) = &item.value else {
                            continue;
                        };
                        self.follow(dir, entry, item, &format!("{field}[{i}]"))?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn follow(&mut self, dir: &Path, entry: &str, node: &Node, key: &str) -> Result<()> {
        if is_remote(entry) {
            if entry.starts_with("https://") && self.limits.allows_chart(entry) {
                return Ok(());
            }
            return Err(Error::new(
                ErrorKind::Upstream,
                format!("{entry:?} is a remote base; fetching it would reach the network, which this sidecar does not allow for it"),
            )
            .at(node.location.clone())
            .key(key.to_string())
            .hint(format!(
                "vendor the base into the repository, or ask the sidecar's administrator to list its https:// location in {} (the setting that admits remote charts)",
                admin::ALLOWED_CHARTS
            )));
        }
        let resolved = self
            .repo
            .resolve(dir, entry, key)
            .map_err(|e| e.at(node.location.clone()))?;
        if resolved.is_dir() {
            self.visit(&resolved)?;
        }
        // A file is inside its kustomization's directory (kustomize's load
        // restrictor refuses it otherwise), so it is copied with it.
        Ok(())
    }
}

/// Drops directories inside another one of the set: copying the outer one
/// copies them.
fn outermost(dirs: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    // Sorted, a directory comes right before what it contains.
    for dir in dirs {
        if !out.iter().any(|outer| dir.starts_with(outer)) {
            out.push(dir.clone());
        }
    }
    out
}

/// Splits `image[:tag|@digest]` where the tag or digest follows the last
/// `/` (a registry's port, `host:5000/x`, keeps its colon).
fn split_reference(image: &str) -> (&str, &str) {
    let tail = image.rfind('/').map_or(0, |i| i + 1);
    match image[tail..].find('@').or_else(|| image[tail..].find(':')) {
        Some(at) => image.split_at(tail + at),
        None => (image, ""),
    }
}

/// One `images` override: `name=newName[:tag|@digest]`, `name:tag` or
/// `name@digest`, as `kustomize edit set image` reads it.
fn image_entry(text: &str) -> (String, Map<String, Value>) {
    let mut fields = Map::new();
    let (name, rest) = match text.split_once('=') {
        Some((name, new)) => {
            let (new_name, suffix) = split_reference(new);
            fields.insert("newName".into(), Value::from(new_name));
            (name, suffix)
        }
        None => split_reference(text),
    };
    if let Some(digest) = rest.strip_prefix('@') {
        fields.insert("digest".into(), Value::from(digest));
    } else if let Some(tag) = rest.strip_prefix(':') {
        fields.insert("newTag".into(), Value::from(tag));
    }
    (name.to_string(), fields)
}

/// Sets Argo CD's Kustomize options on a kustomization, as `kustomize edit`
/// would: prefix, suffix and namespace replaced, labels and images merged.
pub fn apply_options(kustomization: &mut Map<String, Value>, source: &KustomizeSource) {
    for (key, value) in [
        ("namePrefix", &source.name_prefix),
        ("nameSuffix", &source.name_suffix),
        ("namespace", &source.namespace),
    ] {
        if let Some(value) = value {
            kustomization.insert(key.into(), Value::from(value.as_str()));
        }
    }
    if !source.common_labels.is_empty() {
        let labels = kustomization
            .entry("commonLabels")
            .or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        let labels = labels.as_object_mut().expect("an object");
        for (k, v) in &source.common_labels {
            labels.insert(k.clone(), Value::from(v.as_str()));
        }
    }
    if !source.images.is_empty() {
        let images = kustomization
            .entry("images")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !images.is_array() {
            *images = Value::Array(Vec::new());
        }
        let images = images.as_array_mut().expect("an array");
        for text in &source.images {
            let (name, fields) = image_entry(text);
            match images
                .iter_mut()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()))
            {
                Some(Value::Object(existing)) => {
                    // A digest and a tag exclude each other, as edit does.
                    if fields.contains_key("digest") {
                        existing.remove("newTag");
                    }
                    if fields.contains_key("newTag") {
                        existing.remove("digest");
                    }
                    existing.extend(fields);
                }
                _ => {
                    let mut entry = Map::new();
                    entry.insert("name".into(), Value::from(name));
                    entry.extend(fields);
                    images.push(Value::Object(entry));
                }
            }
        }
    }
}

/// Runs `kustomize build` of the overlay in a sandbox and returns its
/// stdout and how messages name it.
pub fn build(
    source: &KustomizeSource,
    repo: &Repo,
    cwd: &Path,
    limits: &Limits,
    timeout: Duration,
) -> Result<(String, Arc<str>)> {
    let key = format!("{}.path", source.key_path);
    let overlay = repo
        .resolve(&cwd.join(&source.base), &source.path, &key)
        .map_err(|e| e.at(source.location.clone()))?;
    let shown_overlay = source.base.join(&source.path).display().to_string();
    let what: Arc<str> = Arc::from(format!("kustomize build {shown_overlay}"));
    if !overlay.is_dir() {
        return Err(
            source_error(source, format!("{shown_overlay} is not a directory"))
                .key(key)
                .hint("path: the overlay's directory, which holds its kustomization.yaml"),
        );
    }
    let mut reach = Reach {
        source,
        repo,
        limits,
        dirs: BTreeSet::new(),
    };
    reach.visit(&overlay)?;
    let (program, mut args) = command().ok_or_else(|| {
        source_error(
            source,
            "kustomize is not installed (neither kustomize nor kubectl is on PATH; KUSTOMIZE_BINARY names another binary)".into(),
        )
        .hint("install kustomize (the sidecar image ships it), or build the overlay yourself and name the output as upstream: [{file: ...}]")
    })?;
    let mut sandbox = Sandbox::new(repo.root(), limits)?;
    let inside = |dir: &Path| -> PathBuf {
        let relative = dir.strip_prefix(repo.root()).unwrap_or(Path::new(""));
        Path::new("repo").join(relative)
    };
    for dir in outermost(&reach.dirs) {
        let name = inside(&dir).display().to_string();
        sandbox
            .copy_in(&dir, &name, &shown(repo, &dir))
            .map_err(|e| e.at(source.location.clone()).key(key.clone()))?;
    }
    let copy = sandbox.path().join("in").join(inside(&overlay));
    set_options(source, &copy)?;
    args.push(copy.into_os_string());
    let describe = child::Describe {
        tool: "kustomize",
        binary_variable: "KUSTOMIZE_BINARY",
        shown: &what,
        timeout,
        instead: "build the overlay yourself and name the output as upstream: [{file: ...}]",
    };
    let at = |e: Error| e.at(source.location.clone()).key(source.key_path.clone());
    let finished = child::run(child::Spec {
        program,
        args,
        stdin: None,
        timeout,
        sandbox: &sandbox,
    })
    .map_err(|failure| describe.failure(failure, at))?;
    if !finished.status.success() {
        // Kustomize names files by their sandbox paths; show them as the
        // repository's.
        let sandbox_in = sandbox.path().join("in").join("repo");
        let err = finished
            .stderr_line(|_| false)
            .replace(&format!("{}/", sandbox_in.display()), "")
            .replace(&sandbox_in.display().to_string(), ".");
        return Err(at(describe.unsuccessful(
            finished.status,
            &err,
            "fix the overlay",
        )));
    }
    let text = String::from_utf8(finished.stdout)
        .map_err(|_| source_error(source, format!("{what} printed output that is not UTF-8")))?;
    Ok((text, what))
}

/// Writes the source's options into the sandbox copy of the overlay's
/// kustomization.
fn set_options(source: &KustomizeSource, overlay: &Path) -> Result<()> {
    let untouched = source.name_prefix.is_none()
        && source.name_suffix.is_none()
        && source.namespace.is_none()
        && source.common_labels.is_empty()
        && source.images.is_empty();
    if untouched {
        return Ok(());
    }
    let file = kustomization_file(overlay).expect("the overlay was read before");
    let name: Arc<str> = Arc::from(file.display().to_string());
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&name, &e))?;
    let mut value = match yaml::parse_single(&text, &name)? {
        Some(node) => node.to_json()?,
        None => Value::Object(Map::new()),
    };
    let Some(map) = value.as_object_mut() else {
        return Err(source_error(
            source,
            "the overlay's kustomization is not a mapping".into(),
        ));
    };
    apply_options(map, source);
    // The copy keeps the original's file name, so kustomize finds it.
    std::fs::write(&file, yaml::emit(&value)).map_err(|e| Error::io(&name, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_bases_are_recognised_in_every_form_kustomize_accepts() {
        for remote in [
            "https://github.com/acme/base//deploy?ref=v1",
            "github.com/acme/base/deploy?ref=v1",
            "git@github.com:acme/base.git",
            "ssh://git@example.com/base.git",
            "git::https://example.com/base",
            "../base?ref=main",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in [
            "../base",
            "deployment.yaml",
            "components/labels",
            "github.yaml",
        ] {
            assert!(!is_remote(local), "{local}");
        }
    }

    #[test]
    fn options_are_set_as_kustomize_edit_sets_them() {
        let source = KustomizeSource {
            path: ".".into(),
            name_prefix: Some("prod-".into()),
            name_suffix: None,
            namespace: Some("shop".into()),
            common_labels: [("team".to_string(), "web".to_string())].into(),
            images: vec![
                "nginx=registry.example.com:5000/nginx:1.27".into(),
                "redis@sha256:abc".into(),
                "busybox:1.36".into(),
            ],
            base: PathBuf::new(),
            location: crate::location::Location::start_of(&Arc::from("v.yaml")),
            key_path: "upstream[0].kustomize".into(),
        };
        let mut k: Map<String, Value> = serde_json::from_str(
            r#"{"namePrefix": "dev-", "commonLabels": {"app": "web"}, "images": [{"name": "redis", "newTag": "7"}]}"#,
        )
        .unwrap();
        apply_options(&mut k, &source);
        assert_eq!(
            Value::Object(k),
            serde_json::json!({
                "namePrefix": "prod-",
                "namespace": "shop",
                "commonLabels": {"app": "web", "team": "web"},
                "images": [
                    {"name": "redis", "digest": "sha256:abc"},
                    {"name": "nginx", "newName": "registry.example.com:5000/nginx", "newTag": "1.27"},
                    {"name": "busybox", "newTag": "1.36"},
                ],
            })
        );
    }
}
