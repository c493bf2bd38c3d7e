//! The README's two set-up commands stay true: the first renders the
//! bundled example (covered by `generate::bundled_teleport_example…`), the
//! second is exactly what `.ci/run` runs.

use std::fs;

use crate::support::repo_root;

fn setup_commands() -> Vec<String> {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```sh block near the top of the README");
    block
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one() {
    let commands = setup_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(
        commands[0],
        "cargo run --release -- generate -f examples/teleport-story/teleport/values.yaml"
    );
    let ci = fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == commands[1]),
        "{:?} is not in .ci/run",
        commands[1]
    );
}
