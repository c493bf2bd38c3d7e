//! DESIGN promise 4 end to end: label keys and values that a YAML 1.1
//! reader would turn into booleans, numbers or null reach Kubernetes as the
//! strings the user wrote.

use crate::support::Test;

#[test]
fn ambiguous_selector_strings_reach_a_yaml_1_1_reader_unchanged() {
    let words = [
        "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "0123", "08", "1_000", "1e3",
        "0x1F", "null",
    ];
    let mut values = String::from(
        "services:\n  t:\n    namespace: t\n    expose: direct\n    backend: {name: t, port: 443}\n    selector:\n",
    );
    let mut expected = serde_json::Map::new();
    for (i, word) in words.iter().enumerate() {
        // Quoted in the values file: the user means the string.
        values.push_str(&format!("      k{i}: \"{word}\"\n"));
        expected.insert(format!("k{i}"), serde_json::json!(word));
    }
    // Keys that are ambiguous themselves, written plain: this reader keeps
    // them as strings, and so must the output.
    for key in ["on", "y", "no"] {
        values.push_str(&format!("      {key}: x\n"));
        expected.insert(key.to_string(), serde_json::json!("x"));
    }
    let out = Test::new()
        .write("values.yaml", &values)
        .args(&["generate"])
        .run();
    let docs = argocd_tailscale_plugin::yaml11::read(out.success()).unwrap();
    assert_eq!(docs.len(), 1);
    let mut expected_sorted: Vec<_> = expected.into_iter().collect();
    expected_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let selector = docs[0]["spec"]["selector"].as_object().unwrap();
    let got: Vec<_> = selector
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(got, expected_sorted, "output:\n{}", out.stdout);
}
