//! The fast readers against serde-saphyr: whatever the line reader or the
//! event reader reads, the full reader reads the same — nodes, types and
//! places — on random documents, on random line structures and on every
//! YAML file of the repository; and manifests read through them are the
//! objects serde-saphyr reads.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{
    Node, emit, fast, lines, parse_documents_fully, parse_manifests, parse_manifests_fully,
};

type Reader = fn(&str, &Arc<str>) -> Option<Vec<Node>>;

const READERS: [(&str, Reader); 2] = [("line reader", lines::parse), ("event reader", fast::parse)];

fn file() -> Arc<str> {
    Arc::from("t.yaml")
}

/// `reader`'s reading, when there is one, is the full reading: the same
/// nodes, types and positions. `Ok(false)`: it left the text to the others.
pub(super) fn agrees(reader: Reader, text: &str) -> Result<bool, String> {
    let Some(read) = reader(text, &file()) else {
        return Ok(false);
    };
    let full = parse_documents_fully(text, &file())
        .map_err(|e| format!("the full reader refused what a fast reader read: {e}\n{text}"))?;
    if read != full {
        return Err(format!("fast {read:#?}\nfull {full:#?}\n{text}"));
    }
    Ok(true)
}

fn all_agree(text: &str) -> Result<(), TestCaseError> {
    for (_, reader) in READERS {
        agrees(reader, text).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9./_-]{0,10}",
        1 => proptest::sample::select(&[
            "true", "false", "null", "~", "", "True", "NULL", "yes", "no", "on", "0", "7",
            "-3", "0123", "1_000", "1.5", "1e3", ".inf", "0x1F", "12:30", "2026-11-30",
            "a b", "a: b", "#x", "- a", "-v", "+x", "-inf", "+.inf", "-nan", "-Infinity", "-_", "+1", "-.5", "-a", "a,b", "[a]", "{a}", "a#b", "a #b", "'q'",
            "\"q\"", "\u{e9}", "\u{2028}", "x:", ":x", "?x", "*x", "&x", "!x", "%x", "@x",
        ][..]).prop_map(str::to_string),
        1 => "[ -~]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => word().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..4)
                .prop_map(|e| Value::Object(e.into_iter().collect())),
        ]
    })
}

/// Lines as people write them: random indentation steps, entries,
/// comments, flow collections and plain, quoted and odd scalars.
fn handwritten() -> impl Strategy<Value = String> {
    let line = (
        0usize..6,
        prop_oneof![
            Just(String::new()),
            Just("- ".to_string()),
            Just("-".to_string()),
            Just("-   ".to_string()),
        ],
        prop_oneof![Just(String::new()), word().prop_map(|k| format!("{k}:"))],
        prop_oneof![
            Just(String::new()),
            word().prop_map(|v| format!(" {v}")),
            Just(" {a: 1, b: [x, y]}".to_string()),
            Just(" [\"q\", 'r', {s: t}]".to_string()),
            Just(" # note".to_string()),
            Just(" x # note".to_string()),
        ],
    )
        .prop_map(|(indent, dash, key, value)| {
            format!("{}{dash}{key}{value}", " ".repeat(indent * 2))
        });
    proptest::collection::vec(line, 1..10).prop_map(|lines| lines.join("\n") + "\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Block layout (as the writer lays it out) and flow layout (JSON).
    #[test]
    fn reads_what_the_full_reader_reads(doc in value(), indent in "[ ]{0,2}") {
        let block = emit(&json!({"root": doc}));
        all_agree(&block)?;
        let flow = format!("{indent}{}\n", serde_json::to_string(&json!({"root": doc})).unwrap());
        all_agree(&flow)?;
        all_agree(&format!("# a comment\n\n{block}---\n# another\n{block}"))?;
    }

    /// Plain scalars as people write them, in key and value position, in
    /// block and flow context.
    #[test]
    fn types_plain_scalars_as_the_full_reader_does(
        text in "[A-Za-z0-9 :#.,_/@!%&*'\"~+=?|>\\[\\]{}-]{0,12}",
        other in "[A-Za-z0-9 ._/-]{1,8}",
    ) {
        all_agree(&format!("k: {text}\n"))?;
        all_agree(&format!("{text}: {other}\n"))?;
        all_agree(&format!("- {text}\n- [{other}, {text}]\n"))?;
        all_agree(&format!("k: {{a: {text}, b: [{text}]}}\n"))?;
    }
}

/// Random line structures, most of them not YAML at all: whatever the
/// line reader reads, the full reader reads the same.
#[test]
fn never_reads_other_than_the_full_reader() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 2048,
        ..ProptestConfig::default()
    });
    let read = std::cell::Cell::new(0);
    runner
        .run(&handwritten(), |text| {
            if agrees(lines::parse, &text).map_err(TestCaseError::fail)? {
                read.set(read.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    // Not vacuous: a good share of the random texts are read.
    assert!(read.get() > 40, "{} read", read.get());
}

/// Every YAML file the project holds (values, fixtures, charts' output,
/// goldens), except templates.
fn repository_yaml() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![
        root.join("testdata"),
        root.join("examples"),
        root.join("deploy"),
    ];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && !path.components().any(|c| c.as_os_str() == "templates")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

/// Real inputs, read every way.
#[test]
fn reads_every_file_of_the_repository_as_the_full_reader_does() {
    let files = repository_yaml();
    assert!(files.len() > 200, "{} files", files.len());
    for (name, reader) in READERS {
        let mut read = 0;
        for (path, text) in &files {
            match agrees(reader, text) {
                Ok(true) => read += 1,
                Ok(false) => {}
                Err(e) => panic!("{name}, {path}: {e}"),
            }
        }
        // Not a vacuous agreement: most real files take the fast path.
        assert!(
            read * 2 > files.len(),
            "the {name} read {read} of {}",
            files.len()
        );
    }
}

/// Manifests read through the line or event reader are the objects,
/// with the places, that serde-saphyr reads: every YAML file of the
/// repository, and the writer's layout of random objects.
#[test]
fn reads_manifests_as_the_full_reader_does() {
    fn agree(text: &str, name: &str) -> bool {
        let file = Arc::from(name);
        let full = parse_manifests_fully(text, &file);
        let fast = lines::parse(text, &file).or_else(|| fast::parse(text, &file));
        let Some(nodes) = fast else {
            return false;
        };
        let full = full.unwrap_or_else(|e| panic!("{name}: the full reader refused: {e}"));
        let read = parse_manifests(text, &file).unwrap();
        assert_eq!(read, full, "{name}");
        assert_eq!(nodes.len(), full.len(), "{name}");
        true
    }
    let files = repository_yaml();
    let fast = files
        .iter()
        .filter(|(path, text)| agree(text, path))
        .count();
    assert!(
        fast * 2 > files.len(),
        "{fast} of {} read fast",
        files.len()
    );
    let objects = [
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "labels": {"x": "yes"}},
               "spec": {"ports": [{"port": 443, "targetPort": "https"}], "selector": {"app": "a"}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"},
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "example/c:1", "args": ["-v", "0"]}]}}}}),
    ];
    let stream = objects.iter().map(emit).collect::<Vec<_>>().join("---\n");
    assert!(agree(&stream, "stream.yaml"));
    let flow = objects
        .iter()
        .map(|o| format!("{}\n", serde_json::to_string(o).unwrap()))
        .collect::<Vec<_>>()
        .join("---\n");
    agree(&flow, "flow.yaml");
}

/// A JSON text as a template may render it: maps may repeat a key.
#[derive(Debug, Clone)]
enum Json {
    Leaf(Value),
    List(Vec<Json>),
    Map(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Leaf(value) => out.push_str(&serde_json::to_string(value).unwrap()),
            Json::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Map(entries) => {
                out.push_str("{\n");
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n");
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push_str(": ");
                    value.write(out);
                }
                out.push_str("\n}");
            }
        }
    }
}

fn json_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        3 => word(),
        1 => proptest::sample::select(&["a", "b", "labels", "name", "apiVersion", "kind", "metadata", "spec", "selector"][..])
            .prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ];
    let leaf = prop_oneof![
        4 => prop_oneof![word(), "\\PC{0,8}", Just("tab\tline\nsep\u{2028}\"q\"\\".to_string())]
            .prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    let tree = leaf
        .prop_map(Json::Leaf)
        .prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::List),
                proptest::collection::vec((key.clone(), inner), 0..6).prop_map(Json::Map),
            ]
        });
    (
        proptest::collection::vec((word(), tree), 0..6),
        "[ \n]{0,2}",
    )
        .prop_map(|(entries, space)| {
            let mut text = space;
            Json::Map(entries).write(&mut text);
            text.push('\n');
            text
        })
}

/// A template's JSON read back as a tree answers as the same text read
/// as JSON does: every question down the tree, the canonical layout and
/// the YAML written from it; and what the JSON reading refuses (a
/// repeated key), the tree reading refuses with the same error.
fn tree_agrees(text: &str) -> Result<(), TestCaseError> {
    use crate::manifest::{canonical, canonical_tree};
    use crate::view::View;
    let tree = super::parse_json_tree(text, &file())
        .ok_or_else(|| TestCaseError::fail(format!("not read as a tree: {text}")))?;
    match (tree, parse_manifests(text, &file())) {
        (Ok(tree), Ok(docs)) => {
            prop_assert_eq!(docs.len(), 1);
            let value = &docs[0].value;
            crate::view::agree(View::Tree(&tree), View::Json(value));
            prop_assert_eq!(
                super::emit_each([View::Tree(&tree)], |w, v| w.document(v)),
                emit(value)
            );
            let tree = canonical_tree(tree);
            let value = canonical(value.clone());
            crate::view::agree(View::Tree(&tree), View::Json(&value));
        }
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        (a, b) => prop_assert!(false, "{a:?} against {b:?}\n{text}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reads_json_as_a_tree_as_it_reads_it_as_json(text in json_text()) {
        tree_agrees(&text)?;
    }
}

/// What random texts reach rarely: a map past the size where a repeated
/// key is looked up in a set, and nesting past the depth budget.
#[test]
fn reads_large_maps_and_deep_nesting_as_a_tree_as_it_reads_them_as_json() {
    let keys = |n: usize| (0..n).map(|i| format!("\"k{i}\": {i}")).collect::<Vec<_>>();
    let mut entries = keys(40);
    tree_agrees(&format!("{{{}}}", entries.join(", "))).unwrap();
    entries.push("\"k17\": 0".to_string());
    tree_agrees(&format!("{{{}}}", entries.join(", "))).unwrap();
    entries.insert(3, "\"k2\": 0".to_string());
    tree_agrees(&format!("{{{}}}", entries.join(", "))).unwrap();
    for depth in [63, 64, 65, 100] {
        let text = format!("{{\"a\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
        tree_agrees(&text).unwrap();
    }
    // Past the budget, both readings refuse (`tree_agrees` held them
    // together above); the tree reading does not leave it to YAML.
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(65), "]".repeat(65));
    assert!(matches!(
        super::parse_json_tree(&deep, &file()),
        Some(Err(_))
    ));
}

/// A sequence at its key's indentation whose first `-` ends its line
/// with spaces: the full reader places it past them (found by
/// `never_reads_other_than_the_full_reader`, one random run in many).
#[test]
fn the_line_reader_places_a_sequence_whose_first_dash_ends_in_spaces_as_the_full_reader_does() {
    for text in [
        "a:\n- \n   q\n",
        "a:\n-  \n   q\n",
        "a:\n-\n   q\n",
        "a:\n  b:\n  - \n    q\n",
        "-a: # note\n- \n   [\"q\", 'r', {s: t}]\n",
    ] {
        assert_eq!(agrees(lines::parse, text), Ok(true), "{text:?}");
    }
}

/// What the fuzz target `readers` asks of any text holds on these.
#[test]
fn the_fuzz_targets_question_holds_on_yaml_json_and_repeated_keys() {
    for text in [
        "a: 1\nb: [x, y]\n",
        "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a\", \"labels\": {\"z\": \"1\", \"a\": \"2\"}}}\n",
        "{\"a\": 1, \"a\": 2}",
        "{a: b}",
        "{\"a\": 1}\n---\n{\"b\": 2}\n",
        "{\"a\": 1e400}",
    ] {
        assert!(super::fast_readers_agree(text), "{text:?}");
    }
}
