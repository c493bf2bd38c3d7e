//! `--help` of every subcommand, completions and the man page, all
//! generated from the same clap definitions; the help texts are goldens in
//! testdata/help/ (UPDATE_GOLDENS=1 rewrites them).

use crate::support::{compare, repo_root, run_in};

const COMMANDS: &[&str] = &[
    "",
    "generate",
    "parameters",
    "ignore-differences",
    "diff",
    "check",
    "completions",
    "man",
    "schema",
];

#[test]
fn help_texts_match_their_goldens() {
    let mut failures = Vec::new();
    for command in COMMANDS {
        let mut args: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        args.push("--help".into());
        let out = run_in(&repo_root(), &args, &[], None);
        assert_eq!(out.code, 0, "{command}: {}", out.stderr);
        let name = if command.is_empty() {
            "argocd-tailscale-plugin"
        } else {
            command
        };
        failures.extend(compare(
            &repo_root()
                .join("testdata/help")
                .join(format!("{name}.txt")),
            &out.stdout,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
