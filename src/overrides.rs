//! A directory of overrides (templates and presets) in the repository:
//! a file found there replaces the built-in one of the same name, and a
//! symlink that leaves the directory is refused rather than followed.

use std::path::{Path, PathBuf};

/// A directory of template overrides: where it is, and how the user wrote
/// it (for messages, so they point at files the user recognises).
#[derive(Debug, Clone)]
pub struct TemplateDir {
    pub path: PathBuf,
    pub shown: String,
}

/// The user's file for `name`, if there is one. A path that leaves the
/// directory once symlinks are followed is an error, not a fallback.
pub fn user_file(dir: &Path, name: &str) -> std::result::Result<Option<PathBuf>, String> {
    // Same rule as minijinja's own path loader: no `..`, no dot files, no
    // backslashes; then the symlink check below.
    let unsafe_segment = |s: &str| s.is_empty() || s.starts_with('.') || s.contains('\\');
    if name.split('/').any(unsafe_segment) {
        return Ok(None);
    }
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    let resolved = std::fs::canonicalize(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !resolved.starts_with(dir) {
        return Err(format!(
            "template {name:?} in {} is a symlink that points outside the templates directory; refused",
            dir.display()
        ));
    }
    Ok(Some(resolved))
}
