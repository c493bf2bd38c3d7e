//! A git revision of the repository, exported into a temporary directory
//! for `diff --base`: `git archive REF` unpacked by `tar`, two child
//! processes joined by a pipe. The working tree and the index are never
//! touched.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, ErrorKind, Result};

fn git_error(reference: &str, message: String) -> Error {
    Error::new(ErrorKind::Usage, message)
        .key(format!("--base {reference}"))
        .hint("name a commit, branch or tag of this repository (e.g. origin/main or HEAD~1)")
}

/// Exports `reference` of the git repository at `root` into `dest`.
pub fn export(root: &Path, reference: &str, dest: &Path) -> Result<()> {
    if reference.starts_with('-') {
        return Err(git_error(
            reference,
            format!("{reference:?} is not a revision"),
        ));
    }
    let mut git = Command::new("git")
        .args(["archive", "--format=tar", reference])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git_error(reference, format!("cannot run git: {e}")))?;
    let archive = git.stdout.take().expect("stdout is piped");
    let tar = Command::new("tar")
        .args(["-x", "-f", "-", "-C"])
        .arg(dest)
        .stdin(archive)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| git_error(reference, format!("cannot run tar: {e}")))?;
    let git = git
        .wait_with_output()
        .map_err(|e| git_error(reference, format!("git failed: {e}")))?;
    if !git.status.success() {
        let why = String::from_utf8_lossy(&git.stderr).trim().to_string();
        return Err(git_error(
            reference,
            format!("git archive {reference} failed: {why}"),
        ));
    }
    if !tar.status.success() {
        let why = String::from_utf8_lossy(&tar.stderr).trim().to_string();
        return Err(git_error(
            reference,
            format!("unpacking {reference} failed: {why}"),
        ));
    }
    Ok(())
}
