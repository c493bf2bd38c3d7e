//! `schema`: the JSON Schema of the values file, held against every values
//! file the project ships and against typos the decoder refuses.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::support::{case_args, compare, repo_root, run_in};

fn schema() -> Value {
    let out = run_in(&repo_root(), &["schema".into()], &[], None);
    serde_json::from_str(out.success()).unwrap()
}

fn read_values(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap();
    let name: Arc<str> = Arc::from(path.display().to_string());
    argocd_tailscale_plugin::yaml::parse_single(&text, &name)
        .unwrap()
        .map(|node| node.to_json().unwrap())
        .unwrap_or(Value::Null)
}

/// The values files a case reads: the `-f` files of its arguments, else
/// `values.yaml`.
fn values_files(dir: &Path) -> Vec<PathBuf> {
    let args = case_args(dir);
    let named: Vec<PathBuf> = args
        .windows(2)
        .filter(|w| w[0] == "-f" || w[0] == "--values")
        .map(|w| dir.join(&w[1]))
        .collect();
    if named.is_empty() {
        vec![dir.join("values.yaml")]
    } else {
        named
    }
    .into_iter()
    .filter(|f| f.is_file())
    .collect()
}

fn dirs(under: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(repo_root().join(under))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Every values file of ours under testdata/ and examples/ that the
/// decoder accepts (testdata/errors holds the refused ones, testdata/charts
/// and testdata/corpus charts' own values).
fn shipped_values() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in dirs("testdata/cases")
        .into_iter()
        .chain(dirs("testdata/check"))
        .chain(dirs("testdata/check/codes"))
        .chain(dirs("testdata/cluster"))
        .chain(dirs("examples/teleport-story"))
    {
        files.extend(values_files(&dir));
    }
    files.sort();
    files.dedup();
    files
}

#[test]
fn the_shipped_schema_file_is_what_schema_prints() {
    let out = run_in(&repo_root(), &["schema".into()], &[], None);
    let failures = compare(&repo_root().join("values.schema.json"), out.success());
    assert!(failures.is_none(), "{failures:?}");
}

#[test]
fn every_shipped_values_file_validates() {
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    let files = shipped_values();
    assert!(files.len() > 40, "{files:?}");
    for file in files {
        let values = read_values(&file);
        let problems: Vec<String> = validator
            .iter_errors(&values)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_what_the_decoder_rejects_for_its_shape() {
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    let example = repo_root().join("examples/teleport-story/teleport/values.yaml");
    let text = fs::read_to_string(&example).unwrap();
    assert!(text.contains("hostname:"));
    let typo = text.replacen("hostname:", "hostnme:", 1);
    let name: Arc<str> = Arc::from("typo.yaml");
    let node = argocd_tailscale_plugin::yaml::parse_single(&typo, &name)
        .unwrap()
        .unwrap();
    assert!(
        !validator.is_valid(&node.to_json().unwrap()),
        "hostnme is refused"
    );
    // Error cases whose values have the wrong shape: unknown keys and
    // modes, wrong types, out-of-range ports, both or neither of a pair.
    for case in [
        "unknown-top-level-key",
        "expose-unknown-mode",
        "port-zero",
        "namespace-upper-case",
        "upstream-entry-both-file-and-helm",
        "selector-empty",
        "selector-boolean-value",
        "enabled-yes-string",
        "hostname-with-domain",
        "tag-without-prefix",
    ] {
        let file = repo_root()
            .join("testdata/errors")
            .join(case)
            .join("values.yaml");
        assert!(
            !validator.is_valid(&read_values(&file)),
            "{case}: the schema accepts what the decoder refuses"
        );
    }
}

#[test]
fn every_example_names_the_schema_for_its_editor() {
    for dir in dirs("examples/teleport-story") {
        for file in values_files(&dir) {
            let text = fs::read_to_string(&file).unwrap();
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("# yaml-language-server: $schema="))
                .unwrap_or_else(|| panic!("{} has no modeline", file.display()));
            let target = file.parent().unwrap().join(line.trim());
            assert_eq!(
                fs::canonicalize(&target).ok(),
                fs::canonicalize(repo_root().join("values.schema.json")).ok(),
                "{}: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn every_key_of_the_schema_is_in_the_readme_values_reference() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let schema = schema();
    let mut keys = Vec::new();
    let mut collect = |properties: &Value| {
        for key in properties.as_object().unwrap().keys() {
            keys.push(key.clone());
        }
    };
    collect(&schema["properties"]);
    for def in schema["$defs"].as_object().unwrap().values() {
        collect(&def["properties"]);
    }
    for key in keys {
        assert!(
            readme.contains(&format!("{key}:")) || readme.contains(&format!("`{key}`")),
            "README does not document {key}"
        );
    }
}
