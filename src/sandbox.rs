//! A private copy of what a rendering child (helm, kustomize) may read
//! (DESIGN promise 7). helm follows every symlink in a chart and reads
//! `.Files` freely, and kustomize reads what an overlay names, so neither
//! sees the repository itself: the chart and its values files, or the
//! overlay and its bases, are copied into a temporary directory first, symlinks followed only where
//! they resolve inside the repository, archive members that are links or
//! climb out refused, and the whole copy held to a size and file budget.
//! helm's own cache, configuration and data directories live in the
//! sandbox too, with no repositories and no registry credentials.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::admin::{self, Limits};
use crate::error::{Error, ErrorKind, Result};

/// How deep a chart's directories may nest (a symlink loop inside the
/// repository ends here rather than filling the disk).
const MAX_DEPTH: usize = 32;

pub struct Sandbox {
    dir: tempfile::TempDir,
    root: PathBuf,
    bytes: u64,
    files: u64,
    max_bytes: u64,
    max_files: u64,
}

fn refused(message: String) -> Error {
    Error::new(ErrorKind::Io, message).hint(
        "a chart or an overlay may only read files inside the repository; copy what it needs into it",
    )
}

impl Sandbox {
    /// A new, empty sandbox for a repository rooted at `root`.
    pub fn new(root: &Path, limits: &Limits) -> Result<Sandbox> {
        let dir = tempfile::Builder::new()
            .prefix("argocd-tailscale-plugin-")
            .tempdir()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create a sandbox: {e}")))?;
        let sandbox = Sandbox {
            dir,
            root: root.to_path_buf(),
            bytes: 0,
            files: 0,
            max_bytes: limits.max_chart_bytes,
            max_files: limits.max_chart_files,
        };
        for sub in ["home", "cache", "config", "data", "plugins", "in"] {
            fs::create_dir_all(sandbox.path().join(sub)).map_err(|e| {
                Error::new(ErrorKind::Io, format!("cannot prepare the sandbox: {e}"))
            })?;
        }
        // No repositories and no registry logins: helm can reach nothing
        // it was not given.
        let empty =
            |name: &str, text: &str| fs::write(sandbox.path().join("config").join(name), text);
        empty("repositories.yaml", "apiVersion: \"\"\nrepositories: []\n")
            .and_then(|()| empty("registry.json", "{}\n"))
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot prepare the sandbox: {e}")))?;
        Ok(sandbox)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment helm runs with: nothing of ours (no KUBECONFIG, no
    /// credentials), only PATH and directories inside the sandbox.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let at = |sub: &str| self.path().join(sub).into_os_string();
        let mut env = vec![
            ("HOME".into(), at("home")),
            ("HELM_CACHE_HOME".into(), at("cache")),
            ("HELM_CONFIG_HOME".into(), at("config")),
            ("HELM_DATA_HOME".into(), at("data")),
            ("HELM_PLUGINS".into(), at("plugins")),
            (
                "HELM_REPOSITORY_CONFIG".into(),
                at("config/repositories.yaml"),
            ),
            ("HELM_REPOSITORY_CACHE".into(), at("cache/repository")),
            ("HELM_REGISTRY_CONFIG".into(), at("config/registry.json")),
            ("KUBECONFIG".into(), at("config/kubeconfig")),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH".into(), path));
        }
        // An administrator who allows remote charts may route them through
        // a proxy; the proxy settings are the sidecar's own.
        for name in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] {
            if let Some(value) = std::env::var_os(name) {
                env.push((name.into(), value));
            }
        }
        env
    }

    fn charge(&mut self, bytes: u64, shown: &str) -> Result<()> {
        self.files += 1;
        self.bytes += bytes;
        if self.files > self.max_files {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{shown}: what the child may read (a chart, an overlay and its bases) has more than {} files", self.max_files),
            )
            .hint(format!(
                "the sidecar's administrator can raise {}",
                admin::MAX_CHART_FILES
            )));
        }
        if self.bytes > self.max_bytes {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{shown}: what the child may read (a chart, an overlay and its bases) is larger than {} bytes", self.max_bytes),
            )
            .hint(format!(
                "the sidecar's administrator can raise {}",
                admin::MAX_CHART_BYTES
            )));
        }
        Ok(())
    }

    /// Where a link inside the repository leads, or an error naming it.
    fn follow(&self, link: &Path, shown: &str) -> Result<PathBuf> {
        let target = fs::canonicalize(link)
            .map_err(|e| refused(format!("{shown} is a symlink that cannot be followed: {e}")))?;
        if !target.starts_with(&self.root) {
            let written = fs::read_link(link)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Err(refused(format!(
                "{shown} is a symlink to {written}, which leads outside the repository; refused"
            )));
        }
        Ok(target)
    }

    /// Copies `source` (a file or a directory, already resolved inside the
    /// repository) into the sandbox as `name`, and returns the copy's path.
    pub fn copy_in(&mut self, source: &Path, name: &str, shown: &str) -> Result<PathBuf> {
        let dest = self.path().join("in").join(name);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot fill the sandbox: {e}")))?;
        }
        self.copy(source, &dest, shown, 0)?;
        Ok(dest)
    }

    fn copy(&mut self, source: &Path, dest: &Path, shown: &str, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(refused(format!(
                "{shown} nests deeper than {MAX_DEPTH} directories (a symlink loop?)"
            )));
        }
        let meta = fs::symlink_metadata(source).map_err(|e| Error::io(shown, &e))?;
        let source = if meta.file_type().is_symlink() {
            self.follow(source, shown)?
        } else {
            source.to_path_buf()
        };
        let meta = fs::metadata(&source).map_err(|e| Error::io(shown, &e))?;
        if meta.is_dir() {
            fs::create_dir_all(dest)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot fill the sandbox: {e}")))?;
            let mut entries: Vec<_> = fs::read_dir(&source)
                .map_err(|e| Error::io(shown, &e))?
                .filter_map(|e| e.ok())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name();
                let inner = format!("{shown}/{}", name.to_string_lossy());
                self.copy(&entry.path(), &dest.join(&name), &inner, depth + 1)?;
            }
            return Ok(());
        }
        if !meta.is_file() {
            // A FIFO or a device would hang or leak; a chart needs neither.
            return Err(refused(format!("{shown} is not a regular file; refused")));
        }
        self.charge(meta.len(), shown)?;
        if is_archive(&source) {
            self.check_archive(&source, shown)?;
        }
        fs::copy(&source, dest).map_err(|e| Error::io(shown, &e))?;
        Ok(())
    }

    /// A packaged chart (`.tgz`) helm unpacks itself: every member must be
    /// a plain file or directory with a relative path that stays inside,
    /// and the unpacked size counts against the budget.
    fn check_archive(&mut self, archive: &Path, shown: &str) -> Result<()> {
        let file = fs::File::open(archive).map_err(|e| Error::io(shown, &e))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = tar
            .entries()
            .map_err(|e| refused(format!("{shown} is not a readable chart archive: {e}")))?;
        for entry in entries {
            let mut entry = entry
                .map_err(|e| refused(format!("{shown} is not a readable chart archive: {e}")))?;
            let path = entry.path().map(|p| p.into_owned()).map_err(|e| {
                refused(format!("{shown} has a member with an unreadable name: {e}"))
            })?;
            let member = format!("{shown}:{}", path.display());
            let climbs = path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
            if climbs {
                return Err(refused(format!(
                    "{member} climbs out of the archive; refused"
                )));
            }
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind.is_dir()) {
                return Err(refused(format!(
                    "{member} is a link or a special file; a chart archive may hold only files and directories"
                )));
            }
            if kind.is_file() {
                // Count what is really inside, not what the header claims.
                let size = std::io::copy(
                    &mut (&mut entry).take(self.max_bytes + 1),
                    &mut std::io::sink(),
                )
                .map_err(|e| refused(format!("{member} cannot be read: {e}")))?;
                self.charge(size, &member)?;
            }
        }
        Ok(())
    }
}

fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tgz") || name.ends_with(".tar.gz")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn links_inside_the_repository_are_copied_and_links_out_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(repo.path()).unwrap();
        let chart = root.join("chart");
        fs::create_dir_all(chart.join("templates")).unwrap();
        fs::write(root.join("shared.yaml"), "kind: x").unwrap();
        std::os::unix::fs::symlink(root.join("shared.yaml"), chart.join("templates/x.yaml"))
            .unwrap();
        let mut sandbox = Sandbox::new(&root, &limits()).unwrap();
        let copy = sandbox.copy_in(&chart, "chart", "chart").unwrap();
        assert_eq!(
            fs::read_to_string(copy.join("templates/x.yaml")).unwrap(),
            "kind: x"
        );
        assert!(
            !fs::symlink_metadata(copy.join("templates/x.yaml"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        std::os::unix::fs::symlink(outside.path().join("secret"), chart.join("files")).unwrap();
        let mut sandbox = Sandbox::new(&root, &limits()).unwrap();
        let err = sandbox.copy_in(&chart, "chart", "chart").unwrap_err();
        assert!(
            err.message.contains("chart/files is a symlink"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("outside the repository"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_file_budget_holds() {
        let repo = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(repo.path()).unwrap();
        for i in 0..5 {
            fs::write(root.join(format!("f{i}")), "x").unwrap();
        }
        let small = Limits {
            max_chart_files: 3,
            ..Limits::default()
        };
        let mut sandbox = Sandbox::new(&root, &small).unwrap();
        let err = sandbox.copy_in(&root, "chart", "chart").unwrap_err();
        assert!(err.message.contains("more than 3 files"), "{}", err.message);
        assert!(err.hint.unwrap().contains(admin::MAX_CHART_FILES));
    }
}
