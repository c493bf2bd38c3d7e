//! DESIGN promise 6: same input, same bytes, whatever order the values
//! file lists its services in.

use crate::support::Test;

/// A values file with `n` services, listed in the order given by `order`.
fn values(order: &[usize]) -> String {
    let mut text = String::from("defaults:\n  tags: [tag:k8s]\nservices:\n");
    for &i in order {
        let ns = format!("ns{}", i % 4);
        if i % 2 == 0 {
            text.push_str(&format!(
                "  svc{i}:\n    namespace: {ns}\n    expose: direct\n    backend: {{name: b{i}, port: {}}}\n    selector: {{app: a{i}, tier: \"on\"}}\n",
                1000 + i
            ));
        } else {
            text.push_str(&format!(
                "  svc{i}:\n    namespace: {ns}\n    expose: ingress\n    backend: {{name: b{i}, port: http}}\n"
            ));
        }
    }
    text
}

/// A small deterministic shuffle (no randomness in tests).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
}

#[test]
fn output_is_identical_across_runs_and_service_orders() {
    let n = 24;
    let reference = Test::new()
        .write("values.yaml", &values(&(0..n).collect::<Vec<_>>()))
        .args(&["generate"])
        .run();
    let expected = reference.success().to_string();
    assert_eq!(expected.matches("\n---\n").count(), n - 1);
    let again = Test::new()
        .write("values.yaml", &values(&(0..n).collect::<Vec<_>>()))
        .args(&["generate"])
        .run();
    assert_eq!(again.success(), expected, "a second run differs");
    for seed in [1, 2, 3, 42] {
        let order = shuffled(n, seed);
        assert_ne!(order, (0..n).collect::<Vec<_>>());
        let out = Test::new()
            .write("values.yaml", &values(&order))
            .args(&["generate"])
            .run();
        assert_eq!(
            out.success(),
            expected,
            "order {order:?} changed the output"
        );
    }
}

#[test]
fn objects_are_sorted_by_namespace_kind_and_name() {
    let out = Test::new()
        .write("values.yaml", &values(&(0..8).collect::<Vec<_>>()))
        .args(&["generate"])
        .run();
    let docs = argocd_tailscale_plugin::yaml11::read(out.success()).unwrap();
    let keys: Vec<(String, String, String)> = docs
        .iter()
        .map(|d| {
            (
                d["metadata"]["namespace"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}
