//! The repository boundary (DESIGN promise 7): nothing outside it is read.
//!
//! In the CMP sidecar the repository is the working directory minus
//! `ARGOCD_APP_SOURCE_PATH`; locally it is the enclosing git work tree, or
//! the current directory when there is none; `--repo-root` overrides both.
//! Every path is resolved with symlinks followed and then checked, so a link
//! that points outside is refused, not followed.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::yaml::MAX_INPUT_BYTES;

#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
    /// Bytes this run has read, shared by every clone (an apps directory's
    /// children read under their parent's budget).
    budget: Arc<RunBudget>,
}

/// What one run may read in all (DESIGN promise 7: bounded per run, not per
/// file): values, upstream files, stdin and helm's output together.
#[derive(Debug)]
struct RunBudget {
    used: AtomicU64,
    limit: AtomicU64,
}

impl Default for RunBudget {
    fn default() -> RunBudget {
        RunBudget {
            used: AtomicU64::new(0),
            limit: AtomicU64::new(crate::admin::Limits::default().max_run_bytes),
        }
    }
}

fn usage(message: String) -> Error {
    Error::new(ErrorKind::Usage, message)
}

fn canonical(path: &Path, shown: &str) -> Result<PathBuf> {
    fs::canonicalize(path).map_err(|e| Error::io(shown, &e))
}

impl Repo {
    /// Finds the repository root for a run in `cwd`.
    pub fn discover(
        cwd: &Path,
        explicit: Option<&Path>,
        app_source_path: Option<&str>,
    ) -> Result<Repo> {
        if let Some(root) = explicit {
            let root = canonical(&cwd.join(root), &root.display().to_string())?;
            return Ok(Repo {
                root,
                budget: Arc::default(),
            });
        }
        let cwd = canonical(cwd, ".")?;
        if let Some(source) = app_source_path.filter(|s| !s.is_empty()) {
            // Argo CD passes spec.source.path as written: `./apps`, `apps/`
            // and `.` all occur.
            let parts: Vec<&std::ffi::OsStr> = Path::new(source)
                .components()
                .filter_map(|c| match c {
                    Component::Normal(part) => Some(part),
                    _ => None,
                })
                .collect();
            let relative: PathBuf = parts.iter().collect();
            let mut root = cwd.as_path();
            for _ in 0..parts.len() {
                root = root.parent().unwrap_or(root);
            }
            if parts.is_empty() || cwd.ends_with(&relative) {
                return Ok(Repo {
                    root: root.to_path_buf(),
                    budget: Arc::default(),
                });
            }
            return Err(usage(format!(
                "ARGOCD_APP_SOURCE_PATH is {source:?}, but the working directory {} does not end with it",
                cwd.display()
            ))
            .hint("run in the application's source directory, or pass --repo-root"));
        }
        let git_root = cwd.ancestors().find(|dir| dir.join(".git").exists());
        Ok(Repo {
            root: git_root.unwrap_or(&cwd).to_path_buf(),
            budget: Arc::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Sets the run's byte budget (the administrator's
    /// `TAILSCALE_PLUGIN_MAX_RUN_BYTES`).
    pub fn set_run_limit(&self, bytes: u64) {
        self.budget.limit.store(bytes, Ordering::SeqCst);
    }

    /// Counts `bytes` about to be read from `shown` against the run's
    /// budget; refuses them, before they are read, when they would cross it.
    pub fn charge(&self, bytes: u64, shown: &str) -> Result<()> {
        let limit = self.budget.limit.load(Ordering::SeqCst);
        let before = self.budget.used.fetch_add(bytes, Ordering::SeqCst);
        if before.saturating_add(bytes) > limit {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "{shown} ({bytes} bytes) takes this run past its budget of {limit} bytes of input ({before} read before it)"
                ),
            )
            .hint(format!(
                "render less in one application, or ask the sidecar's administrator to raise {}",
                crate::admin::MAX_RUN_BYTES
            )));
        }
        Ok(())
    }

    /// The size of a file inside the repository, without reading it.
    pub fn size(&self, base: &Path, path: &str, key: &str) -> Result<u64> {
        let resolved = self.resolve(base, path, key)?;
        fs::metadata(&resolved)
            .map(|m| m.len())
            .map_err(|e| Error::io(path, &e))
    }

    /// Resolves `path` (relative to `base`) and refuses it unless it stays
    /// inside the repository once symlinks are followed.
    pub fn resolve(&self, base: &Path, path: &str, key: &str) -> Result<PathBuf> {
        let joined = base.join(path);
        let resolved = canonical(&joined, path).map_err(|e| e.key(key))?;
        if !resolved.starts_with(&self.root) {
            let how = if Path::new(path).is_absolute() {
                "is an absolute path outside the repository"
            } else if Path::new(path)
                .components()
                .any(|c| c == Component::ParentDir)
            {
                "climbs out of the repository with '..'"
            } else {
                "is a symlink (or goes through one) that points outside the repository"
            };
            return Err(
                Error::new(ErrorKind::Io, format!("{path:?} {how}; refused"))
                    .key(key)
                    .hint("keep every file inside the repository (the git work tree, the working directory minus ARGOCD_APP_SOURCE_PATH, or --repo-root)"),
            );
        }
        Ok(resolved)
    }

    /// Reads a text file inside the repository, refusing oversized files
    /// before reading them.
    pub fn read(&self, base: &Path, path: &str, key: &str) -> Result<String> {
        let resolved = self.resolve(base, path, key)?;
        let size = fs::metadata(&resolved)
            .map(|m| m.len())
            .map_err(|e| Error::io(path, &e))?;
        self.charge(size, path).map_err(|e| e.key(key))?;
        read_file(
            fs::File::open(&resolved).map_err(|e| Error::io(path, &e))?,
            path,
        )
    }
}

/// Reads at most [`MAX_INPUT_BYTES`] (plus one byte to detect more).
pub fn read_limited(reader: impl Read, shown: &str) -> Result<String> {
    read_into(reader, Vec::new(), shown)
}

/// [`read_limited`] for a file, read into room for its size: grown from
/// nothing, a large values file is copied a dozen times on the way.
pub fn read_file(file: fs::File, shown: &str) -> Result<String> {
    let size = file.metadata().map_or(0, |m| m.len());
    let room = usize::try_from(size).unwrap_or(0).min(MAX_INPUT_BYTES) + 1;
    read_into(file, Vec::with_capacity(room), shown)
}

fn read_into(reader: impl Read, mut bytes: Vec<u8>, shown: &str) -> Result<String> {
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(shown, &e))?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Error::new(
            ErrorKind::Io,
            format!("{shown} is larger than the limit of {MAX_INPUT_BYTES} bytes"),
        )
        .hint("split it into smaller files"));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "{shown} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_source_path_is_stripped_from_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("apps/teleport");
        fs::create_dir_all(&app).unwrap();
        let repo = Repo::discover(&app, None, Some("apps/teleport")).unwrap();
        assert_eq!(repo.root(), fs::canonicalize(dir.path()).unwrap());
    }

    #[test]
    fn paths_outside_are_refused_and_inside_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let repo_dir = dir.path().join("repo");
        fs::create_dir_all(&repo_dir).unwrap();
        fs::write(dir.path().join("secret.yaml"), "x: 1").unwrap();
        fs::write(repo_dir.join("ok.yaml"), "x: 1").unwrap();
        std::os::unix::fs::symlink("../secret.yaml", repo_dir.join("link.yaml")).unwrap();
        let repo = Repo::discover(&repo_dir, Some(Path::new(".")), None).unwrap();
        assert!(repo.read(&repo_dir, "ok.yaml", "-f").is_ok());
        for (path, says) in [
            ("../secret.yaml", "'..'"),
            ("link.yaml", "symlink"),
            (dir.path().join("secret.yaml").to_str().unwrap(), "absolute"),
        ] {
            let err = repo.read(&repo_dir, path, "-f").unwrap_err();
            assert!(err.message.contains(says), "{path}: {}", err.message);
        }
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        let err = read_limited(&big[..], "big.yaml").unwrap_err();
        assert!(err.message.contains("larger than the limit"));
    }
}
