//! Property tests of DESIGN's promises on random catalogs: one device per
//! hostname (1), what Kubernetes reads is what was meant (4), all or
//! nothing (5), and the same bytes for the same catalog in any order (6).

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use argocd_tailscale_plugin::apps;
use argocd_tailscale_plugin::generate::{self, Request};
use argocd_tailscale_plugin::repo::Repo;
use argocd_tailscale_plugin::values::Source;
use argocd_tailscale_plugin::{yaml, yaml11};

/// Strings a YAML 1.1 reader would take for something else, and valid
/// label values all the same.
const AMBIGUOUS: &[&str] = &[
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "null", "0123", "08", "1_000", "1e3",
    "0x1F", "1.5",
];
/// Hostile text for fields that must refuse it.
const HOSTILE: &[&str] = &[
    "a\nb", "---", "# x", "a: b", "- a", "\"q\"", "'q'", "ünï", "🚀", "x y", "", "<<", "{a}",
    "[a]", "&a", "*a", "!x",
];

#[derive(Debug, Clone)]
struct Service {
    name: String,
    namespace: String,
    direct: bool,
    hostname: Option<String>,
    port: u16,
    selector: Vec<(String, String)>,
    tags: Vec<String>,
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(AMBIGUOUS).prop_map(str::to_string),
        "[a-z0-9]([a-z0-9._-]{0,8}[a-z0-9])?",
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        "[a-z][a-z0-9-]{0,12}[a-z0-9]",
        proptest::sample::select(&["apps", "teleport", "monitoring", "on", "yes", "db-1"][..]),
        any::<bool>(),
        proptest::option::of("[a-z0-9][a-z0-9-]{0,10}[a-z0-9]"),
        1u16..=65535,
        proptest::collection::vec(
            ("[a-z][a-z0-9.-]{0,6}[a-z0-9]|on|y|no|yes", label_value()),
            1..4,
        ),
        proptest::collection::vec(
            proptest::sample::select(&["tag:k8s", "tag:web-1", "tag:On"][..])
                .prop_map(str::to_string),
            0..3,
        ),
    )
        .prop_map(
            |(name, namespace, direct, hostname, port, mut selector, tags)| {
                // A label key appears once; the last value wins, as in YAML.
                let mut keys = BTreeSet::new();
                selector.reverse();
                selector.retain(|(k, _)| keys.insert(k.clone()));
                Service {
                    name,
                    namespace: namespace.to_string(),
                    direct,
                    hostname,
                    port,
                    selector,
                    tags,
                }
            },
        )
}

fn catalog() -> impl Strategy<Value = Vec<Service>> {
    proptest::collection::vec(service(), 1..10).prop_map(|mut services| {
        // Keys and hostnames must be unique for a valid catalog.
        let mut seen = BTreeSet::new();
        services.retain(|s| {
            seen.insert(s.name.clone())
                && seen.insert(format!(
                    "host:{}",
                    s.hostname.clone().unwrap_or_else(|| s.name.clone())
                ))
        });
        services
    })
}

fn values_text(services: &[Service]) -> String {
    let mut map = Map::new();
    for s in services {
        let mut entry = json!({
            "namespace": s.namespace,
            "expose": if s.direct { "direct" } else { "ingress" },
            "backend": {"name": format!("b-{}", s.name), "port": s.port},
        });
        if let Some(h) = &s.hostname {
            entry["hostname"] = json!(h);
        }
        if s.direct {
            entry["selector"] = Value::Object(
                s.selector
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect(),
            );
        }
        if !s.tags.is_empty() {
            entry["tags"] = json!(s.tags);
        }
        map.insert(s.name.clone(), entry);
    }
    // The values file is written by our own emitter, so it means exactly
    // what the strategy chose, however hostile the strings.
    yaml::emit(&json!({ "services": map }))
}

fn render(text: &str) -> argocd_tailscale_plugin::Result<generate::Output> {
    let dir = std::env::temp_dir();
    let repo = Repo::discover(&dir, Some(&dir), None).unwrap();
    let request = Request::new(
        vec![Source {
            name: Arc::from("values.yaml"),
            text: text.to_string(),
        }],
        repo,
        dir,
    );
    apps::generate(&request)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn valid_catalogs_keep_every_promise(services in catalog(), seed in any::<u64>()) {
        let text = values_text(&services);
        let output = render(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        // Promise 4: a YAML 1.1 reader reads exactly the objects meant, one
        // document per planned object (no injected documents).
        let read = yaml11::read(&output.text).unwrap();
        prop_assert_eq!(read.len(), services.len());
        prop_assert_eq!(&read, &output.objects);
        for (s, doc) in services.iter().filter(|s| s.direct).map(|s| (s, read.iter().find(|d| d["metadata"]["name"] == format!("{}-ts-lb", s.name)).unwrap())) {
            for (k, v) in &s.selector {
                prop_assert_eq!(&doc["spec"]["selector"][k], &json!(v));
            }
        }
        // Promise 1: no two objects claim one hostname.
        let mut claims = BTreeSet::new();
        for doc in &read {
            let host = doc["metadata"]["annotations"]["tailscale.com/hostname"].as_str()
                .or_else(|| doc["spec"]["tls"][0]["hosts"][0].as_str())
                .unwrap()
                .to_ascii_lowercase();
            prop_assert!(claims.insert(host));
        }
        // Promise 6: the same bytes for the catalog in another order.
        let mut shuffled = services.clone();
        let n = shuffled.len();
        let mut state = seed;
        for i in (1..n).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(render(&values_text(&shuffled)).unwrap().text, output.text);
    }

    #[test]
    fn invalid_catalogs_fail_with_a_located_error(services in catalog(), field in 0usize..5, bad in proptest::sample::select(HOSTILE)) {
        let mut services = services;
        let s = &mut services[0];
        match field {
            0 => s.namespace = bad.to_string(),
            1 => s.hostname = Some(bad.to_string()),
            2 => s.tags = vec![bad.to_string()],
            3 => { s.direct = true; s.selector = vec![("app".into(), format!("{bad}:{bad}"))]; }
            _ => s.name = format!("{bad}{bad}X"),
        }
        let text = values_text(&services);
        // Promise 5: an error, never an output; it names where and what.
        let err = match render(&text) {
            Ok(output) => panic!("accepted an invalid catalog:\n{text}\n{}", output.text),
            Err(e) => e,
        };
        prop_assert!(err.location.is_some(), "{}", err);
        prop_assert!(err.key_path.as_deref().is_some_and(|k| k.starts_with("services")), "{}", err);
    }
}
