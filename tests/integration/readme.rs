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

/// The library modules a source file uses (`crate::x`), outside comments
/// and its test module.
fn uses(text: &str) -> std::collections::BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = std::collections::BTreeSet::new();
    for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn the_library_modules_have_no_import_circles() {
    // The README says code flows one way (read -> resolve -> plan -> render
    // -> repair -> patch -> gate -> emit); a circle would make that false.
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    let src = repo_root().join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let module = relative
                .trim_end_matches(".rs")
                .split('/')
                .next()
                .unwrap()
                .to_string();
            // The binary's own modules sit above the library.
            if ["main", "lib", "cli", "diff_cmd", "input"].contains(&module.as_str()) {
                continue;
            }
            let deps = uses(&fs::read_to_string(&path).unwrap());
            graph
                .entry(module.clone())
                .or_default()
                .extend(deps.into_iter().filter(|d| *d != module));
        }
    }
    assert!(graph.len() > 20, "{graph:?}");
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        let circle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(
            circle.is_none(),
            "import circle: {}",
            circle.unwrap().join(" -> ")
        );
    }
}
