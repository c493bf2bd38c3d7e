//! Argo CD's directory source: the `*.yaml`, `*.yml` and `*.json` files of a
//! directory (and, with `recurse`, of its subdirectories), in the order
//! Argo CD reads them (a depth-first walk with each directory's entries
//! sorted by name), filtered by `include` and `exclude` globs matched
//! against the path relative to the directory.
//!
//! Where the plugin differs, and why: hidden files and directories are
//! skipped (a `.git` or an editor's backup is no manifest); a `.jsonnet`
//! file is an error rather than evaluated (its objects would be missing
//! silently otherwise); a symlink is followed only when it stays inside the
//! repository, and a symlinked directory is not descended into, as Argo
//! CD's walk does not.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::glob;
use crate::repo::Repo;
use crate::values::DirectorySource;

/// How deep `recurse` descends.
const MAX_DEPTH: usize = 32;

/// One manifest file: the name messages show for it, and its text.
pub struct File {
    pub name: Arc<str>,
    pub text: String,
}

fn source_error(source: &DirectorySource, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(source.location.clone())
        .key(source.key_path.clone())
}

/// Whether Argo CD reads a file of this name as manifests.
fn is_manifest(name: &str) -> bool {
    [".yaml", ".yml", ".json"].iter().any(|s| name.ends_with(s))
}

struct Walk<'a> {
    source: &'a DirectorySource,
    repo: &'a Repo,
    include: Option<globset::GlobMatcher>,
    exclude: Option<globset::GlobMatcher>,
    /// How messages name the directory (`base/path`).
    shown: String,
    files: Vec<File>,
}

impl Walk<'_> {
    fn visit(&mut self, dir: &Path, relative: &str, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(source_error(
                self.source,
                format!("{} nests deeper than {MAX_DEPTH} directories", self.shown),
            ));
        }
        let mut entries: Vec<_> = fs::read_dir(dir)
            .map_err(|e| Error::io(&self.shown, &e))?
            .filter_map(|e| e.ok())
            .collect();
        // Go's walk sorts names byte-wise, and so does this.
        entries.sort_by(|a, b| {
            a.file_name()
                .as_encoded_bytes()
                .cmp(b.file_name().as_encoded_bytes())
        });
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let inner = if relative.is_empty() {
                name.clone()
            } else {
                format!("{relative}/{name}")
            };
            let shown = format!("{}/{inner}", self.shown);
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io(&shown, &e))?;
            let (target, is_dir) = if meta.file_type().is_symlink() {
                let target = fs::canonicalize(&path).map_err(|e| Error::io(&shown, &e))?;
                if !target.starts_with(self.repo.root()) {
                    return Err(source_error(
                        self.source,
                        format!("{shown} is a symlink that leads outside the repository; refused"),
                    )
                    .hint("a directory source reads only files inside the repository"));
                }
                // Like Argo CD's walk, a symlinked directory is not entered.
                let is_dir = target.is_dir();
                if is_dir {
                    continue;
                }
                (target, false)
            } else {
                (path, meta.is_dir())
            };
            if is_dir {
                if self.source.recurse {
                    self.visit(&target, &inner, depth + 1)?;
                }
                continue;
            }
            if name.ends_with(".jsonnet") {
                return Err(source_error(
                    self.source,
                    format!(
                        "{shown} is Jsonnet, which Argo CD would evaluate and this plugin does not"
                    ),
                )
                .hint("render it to YAML and name that file, or leave it out with exclude"));
            }
            if !is_manifest(&name) {
                continue;
            }
            if self.exclude.as_ref().is_some_and(|g| g.is_match(&inner)) {
                continue;
            }
            if self.include.as_ref().is_some_and(|g| !g.is_match(&inner)) {
                continue;
            }
            let meta = fs::metadata(&target).map_err(|e| Error::io(&shown, &e))?;
            if !meta.is_file() {
                // A FIFO or a device would block the read or never end.
                return Err(source_error(
                    self.source,
                    format!("{shown} is not a regular file; refused"),
                ));
            }
            let size = meta.len();
            self.repo
                .charge(size, &shown)
                .map_err(|e| e.at(self.source.location.clone()))?;
            let file = fs::File::open(&target).map_err(|e| Error::io(&shown, &e))?;
            let text = crate::repo::read_file(file, &shown)?;
            self.files.push(File {
                name: Arc::from(shown),
                text,
            });
        }
        Ok(())
    }
}

/// The manifest files of `source`, in Argo CD's order. `cwd` is where the
/// values file's directory (`source.base`) is relative to.
pub fn read(source: &DirectorySource, repo: &Repo, cwd: &Path) -> Result<Vec<File>> {
    let key = format!("{}.path", source.key_path);
    let dir = repo
        .resolve(&cwd.join(&source.base), &source.path, &key)
        .map_err(|e| e.at(source.location.clone()))?;
    let shown = source.base.join(&source.path).display().to_string();
    if !dir.is_dir() {
        return Err(source_error(source, format!("{shown} is not a directory"))
            .key(key)
            .hint("a directory source names a directory of manifests; name a single file as upstream: [{file: ...}]"));
    }
    let compile = |pattern: &Option<String>| {
        pattern
            .as_deref()
            .map(|p| glob::compile(p).expect("checked when the values were read"))
    };
    let mut walk = Walk {
        source,
        repo,
        include: compile(&source.include),
        exclude: compile(&source.exclude),
        shown,
        files: Vec::new(),
    };
    walk.visit(&dir, "", 0)?;
    Ok(walk.files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;

    fn source(recurse: bool, include: Option<&str>, exclude: Option<&str>) -> DirectorySource {
        DirectorySource {
            path: "m".into(),
            recurse,
            include: include.map(str::to_string),
            exclude: exclude.map(str::to_string),
            base: std::path::PathBuf::new(),
            location: Location::start_of(&Arc::from("values.yaml")),
            key_path: "upstream[0].directory".into(),
        }
    }

    #[test]
    fn files_come_in_argo_cds_walk_order_with_hidden_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "m/b.yaml",
            "m/a.json",
            "m/b/x.yml",
            "m/B.yaml",
            "m/.hidden.yaml",
            "m/.git/config.yaml",
            "m/notes.txt",
            "m/b/deeper/y.yaml",
        ] {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
        }
        let repo = Repo::discover(root, Some(root), None).unwrap();
        let names = |s: &DirectorySource| -> Vec<String> {
            read(s, &repo, root)
                .unwrap()
                .into_iter()
                .map(|f| f.name.to_string())
                .collect()
        };
        // Byte order: upper case first, and a directory `b` before `b.yaml`.
        assert_eq!(
            names(&source(false, None, None)),
            ["m/B.yaml", "m/a.json", "m/b.yaml"]
        );
        assert_eq!(
            names(&source(true, None, None)),
            [
                "m/B.yaml",
                "m/a.json",
                "m/b/deeper/y.yaml",
                "m/b/x.yml",
                "m/b.yaml"
            ]
        );
        assert_eq!(
            names(&source(true, Some("{b/*,a.json}"), Some("*/deeper/*"))),
            ["m/a.json", "m/b/x.yml"]
        );
    }

    #[test]
    fn a_fifo_named_like_a_manifest_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("m")).unwrap();
        let fifo = std::ffi::CString::new(root.join("m/pipe.yaml").to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let repo = Repo::discover(root, Some(root), None).unwrap();
        let err = read(&source(false, None, None), &repo, root).err().unwrap();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
    }
}
