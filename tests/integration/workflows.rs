//! The GitHub workflows (the project's own and the example for GitOps
//! repositories): every action pinned by commit, the release covering the
//! four targets, the pull-request diff split so forks get no 403. actionlint
//! itself runs in `.ci/run`.

use std::fs;
use std::path::PathBuf;

use crate::support::repo_root;

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["/.github/workflows", "/examples/ci"]
        .iter()
        .flat_map(|dir| fs::read_dir(format!("{}{dir}", repo_root().display())).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_action_is_pinned_by_commit_with_its_version_in_a_comment() {
    let files = workflows();
    assert!(files.len() >= 4, "{files:?}");
    let mut uses = 0;
    for file in files {
        for (i, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            let Some(rest) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
            else {
                continue;
            };
            uses += 1;
            let (action, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            let (_, reference) = action.split_once('@').unwrap_or(("", ""));
            assert!(
                reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()),
                "{}:{}: {action} is not pinned by commit",
                file.display(),
                i + 1
            );
            assert!(
                comment.starts_with('v'),
                "{}:{}: no version comment",
                file.display(),
                i + 1
            );
        }
    }
    assert!(uses > 5);
}

#[test]
fn the_release_builds_the_four_targets_with_sums_and_a_multi_arch_image() {
    let release = fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(release.contains(&format!("target: {target},")), "{target}");
    }
    assert!(release.contains("SHA256SUMS"));
    assert!(release.contains("platforms: linux/amd64,linux/arm64"));
    let ci = fs::read_to_string(repo_root().join(".github/workflows/ci.yml")).unwrap();
    assert!(ci.contains("run: bash .ci/run"));
}

#[test]
fn the_pull_request_diff_never_needs_a_write_token_from_a_fork() {
    let diff = fs::read_to_string(repo_root().join("examples/ci/tailscale-diff.yml")).unwrap();
    let comment =
        fs::read_to_string(repo_root().join("examples/ci/tailscale-diff-comment.yml")).unwrap();
    // The pull request's own run reads only, and reports in the summary.
    assert!(diff.contains("permissions:\n  contents: read\n"));
    assert!(
        !diff
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains(": write")),
        "the pull request's run holds no write permission"
    );
    assert!(diff.contains("GITHUB_STEP_SUMMARY"));
    assert!(diff.contains("group: tailscale-diff-${{ github.event.pull_request.number }}"));
    assert!(diff.contains("sha256sum --check"));
    // The follow-up holds the token, finds its comment by marker and
    // author, and checks nothing out.
    assert!(comment.contains("workflow_run:"));
    assert!(comment.contains("c.user.login === me") && comment.contains("startsWith(marker)"));
    assert!(comment.contains("No changes to the rendered manifests"));
    assert!(!comment.contains("actions/checkout"));
}
