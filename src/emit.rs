//! The YAML writer for the output stream: block layout written directly,
//! byte for byte as serde-saphyr's serializer lays it out, with every
//! scalar whose spelling is not obviously plain formatted by serde-saphyr
//! itself (once per distinct string). A document holding what this writer
//! does not lay out (a multi-line string, a float) is written by
//! serde-saphyr whole. The differential test
//! `writes_what_serde_saphyr_writes` holds the two together.

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::tree::Tree;
use crate::view::{Entries, Items, Node, View};

/// How scalars the writer does not spell itself are spelled (serde-saphyr,
/// provided by `yaml`), and how a whole document is written when the
/// writer cannot.
pub trait Fallback {
    /// A single-line string in value position.
    fn value(&self, text: &str) -> String;
    /// A single-line string in key position.
    fn key(&self, text: &str) -> String;
    /// A whole document, ending with a newline.
    fn document(&self, value: &Value) -> String;
}

/// Words a YAML 1.1 or 1.2 reader may take for something other than a
/// string (booleans, null, special floats), in some spelling: never plain
/// here, and never read as a string without the full resolver.
pub(crate) const AMBIGUOUS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
];

/// Bytes a certainly-plain scalar may hold after its first letter.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'/');
        b += 1;
    }
    table
};

/// The longest word of [`AMBIGUOUS`] (a test holds the two together).
pub(crate) const LONGEST_AMBIGUOUS: usize = 5;

/// Whether `text` is certainly written plain, in key and in value
/// position: it starts with a letter, holds only letters, digits and
/// `-._/`, and is no word a reader would resolve. Anything else goes to
/// serde-saphyr, which decides.
fn plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.iter().all(|&b| PLAIN[usize::from(b)])
        && (bytes.len() > LONGEST_AMBIGUOUS
            || !AMBIGUOUS.iter().any(|w| w.eq_ignore_ascii_case(text)))
}

/// What the writer leaves to serde-saphyr's document layout: a line
/// break in a string (a block scalar's layout depends on its place) and a
/// number that is not an integer.
fn unusual_string(text: &str) -> bool {
    text.bytes().any(|b| b == b'\n' || b == b'\r')
}

/// Writes documents, remembering how each distinct string is spelled.
pub struct Writer<'a> {
    fallback: &'a dyn Fallback,
    values: FxHashMap<String, String>,
    keys: FxHashMap<String, String>,
    out: String,
    /// Set when the document being written holds a node the writer leaves
    /// to serde-saphyr; the document is then written again by it.
    unusual: bool,
}

impl<'a> Writer<'a> {
    pub fn new(fallback: &'a dyn Fallback) -> Writer<'a> {
        Writer {
            fallback,
            values: FxHashMap::default(),
            keys: FxHashMap::default(),
            out: String::new(),
            unusual: false,
        }
    }

    /// Appends one document (without `---`), ending with a newline.
    pub fn document<'v>(&mut self, value: impl Into<View<'v>>) {
        let value = value.into();
        // Written optimistically: nearly every document is the writer's.
        let start = self.out.len();
        self.unusual = false;
        if value.is_map() && !value.is_empty() {
            self.map_entries(value.entries(), 0, false);
        } else if value.is_list() && !value.is_empty() {
            self.seq_items(value.items(), 0, false);
        } else {
            self.inline(value);
            self.out.push('\n');
        }
        if self.unusual {
            self.out.truncate(start);
            let document = match value {
                View::Json(value) => self.fallback.document(value),
                view => self.fallback.document(&view.to_value()),
            };
            self.out.push_str(&document);
        }
    }

    /// Makes room for `bytes` more of output.
    pub fn reserve(&mut self, bytes: usize) {
        self.out.reserve(bytes);
    }

    /// The line between two documents.
    pub fn separator(&mut self) {
        self.out.push_str("---\n");
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push(' ');
        }
    }

    /// A scalar or an empty collection, on the current line.
    fn inline(&mut self, value: View) {
        match value {
            View::Missing | View::Json(Value::Null) => self.out.push_str("null"),
            View::Json(Value::Bool(true)) => self.out.push_str("true"),
            View::Json(Value::Bool(false)) => self.out.push_str("false"),
            View::Json(Value::Number(n)) => {
                self.unusual |= !(n.is_i64() || n.is_u64());
                let _ = write!(self.out, "{n}");
            }
            View::Node(Node::Int(n)) => {
                let _ = write!(self.out, "{n}");
            }
            View::Json(Value::String(s)) => self.string(s),
            View::Node(Node::Str(s)) => self.string(s),
            View::Json(Value::Array(_)) | View::Node(Node::List(_)) => self.out.push_str("[]"),
            View::Json(Value::Object(_)) | View::Node(Node::Map(_)) => self.out.push_str("{}"),
            View::Node(Node::Json(value)) => self.inline(View::Json(value)),
            View::Tree(Tree::Null) => self.out.push_str("null"),
            View::Tree(Tree::Bool(true)) => self.out.push_str("true"),
            View::Tree(Tree::Bool(false)) => self.out.push_str("false"),
            View::Tree(Tree::Number(n)) => {
                self.unusual |= !(n.is_i64() || n.is_u64());
                let _ = write!(self.out, "{n}");
            }
            View::Tree(Tree::Str(s)) => self.string(s),
            View::Tree(Tree::List(_)) => self.out.push_str("[]"),
            View::Tree(Tree::Map(_)) => self.out.push_str("{}"),
        }
    }

    fn string(&mut self, text: &str) {
        self.scalar(text, false);
    }

    fn key(&mut self, key: &str) {
        self.scalar(key, true);
    }

    /// A single-line string in key or value position: written plain when
    /// it certainly is, else as serde-saphyr spells it (once per string).
    fn scalar(&mut self, text: &str, key: bool) {
        if plain(text) {
            self.out.push_str(text);
            return;
        }
        if unusual_string(text) {
            self.unusual = true;
            return;
        }
        let cache = if key {
            &mut self.keys
        } else {
            &mut self.values
        };
        let spelled = match cache.get(text) {
            Some(spelled) => spelled,
            None => {
                let spelled = if key {
                    self.fallback.key(text)
                } else {
                    self.fallback.value(text)
                };
                cache.entry(text.to_string()).or_insert(spelled)
            }
        };
        self.out.push_str(spelled);
    }

    /// The entries of a non-empty map at `depth`; with `first_line_open`
    /// the first entry continues the line (after `- `).
    fn map_entries(&mut self, entries: Entries, depth: usize, first_line_open: bool) {
        for (i, (key, value)) in entries.enumerate() {
            if i > 0 || !first_line_open {
                self.indent(depth);
            }
            self.key(key);
            self.out.push(':');
            if value.is_map() && !value.is_empty() {
                self.out.push('\n');
                self.map_entries(value.entries(), depth + 2, false);
            } else if value.is_list() && !value.is_empty() {
                // A sequence under a key starts at the key's column.
                self.out.push('\n');
                self.seq_items(value.items(), depth, false);
            } else {
                self.out.push(' ');
                self.inline(value);
                self.out.push('\n');
            }
        }
    }

    /// The items of a non-empty sequence at `depth` (the column of `-`).
    fn seq_items(&mut self, items: Items, depth: usize, first_line_open: bool) {
        for (i, item) in items.enumerate() {
            if i > 0 || !first_line_open {
                self.indent(depth);
            }
            self.out.push_str("- ");
            if item.is_map() && !item.is_empty() {
                self.map_entries(item.entries(), depth + 2, true);
            } else if item.is_list() && !item.is_empty() {
                self.seq_items(item.items(), depth + 2, true);
            } else {
                self.inline(item);
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Strings that decide quoting: YAML 1.1 and 1.2 words, numbers,
    /// timestamps, indicators, whitespace, controls and Unicode separators
    /// (the README's quoting table and then some), and plain ones.
    const HOSTILE: &[&str] = &[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Y",
        "NO",
        "True",
        "FALSE",
        "null",
        "Null",
        "~",
        "",
        "0123",
        "08",
        "1_000",
        "1e3",
        "0x1F",
        "0o17",
        "0b101",
        ".5",
        "+1",
        "-1",
        "1.",
        "12:30",
        "1:20:30",
        "2026-11-30",
        "2026-11-30 10:00:00",
        "<<",
        "=",
        ".inf",
        "-.inf",
        ".nan",
        "nan",
        "inf",
        "---",
        "...",
        "- a",
        "? a",
        ": a",
        "a: b",
        "a #b",
        "a#b",
        "#a",
        "[a]",
        "{a}",
        "a,b",
        "@a",
        "`a",
        "!a",
        "&a",
        "*a",
        "|a",
        ">a",
        "%a",
        "'a'",
        "\"a\"",
        " a",
        "a ",
        "a\tb",
        "\u{7}",
        "\u{85}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}a",
        "é",
        "日本",
        "app.kubernetes.io/name",
        "tailscale.com/hostname",
        "tag:k8s,tag:prod",
        "a/b.c_d-e",
        "TCP",
        "teleport-ts-lb",
        "e1",
        "true1",
        "x:y",
        "a?",
        "?a",
        "a]",
        "a'",
    ];

    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => proptest::sample::select(HOSTILE).prop_map(str::to_string),
            2 => "[a-z][a-z0-9./-]{0,12}",
            1 => "\\PC{0,10}",
        ]
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => string().prop_map(Value::from),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::from),
            1 => Just(Value::Null),
            // What only serde-saphyr writes: the whole document goes there.
            1 => Just(Value::from("two\nlines")),
            1 => Just(json!(1.5)),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((string(), inner), 0..5)
                    .prop_map(|entries| { Value::Object(entries.into_iter().collect()) }),
            ]
        })
    }

    /// Documents are objects, as in the stream.
    fn document() -> impl Strategy<Value = Value> {
        proptest::collection::vec((string(), value()), 0..6)
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
    }

    /// Whether the YAML 1.1 judge reads `value` back as JSON: it marks
    /// floats and integers beyond i64 instead of typing them.
    fn judged(value: &Value) -> bool {
        match value {
            Value::Number(n) => n.is_i64(),
            Value::Array(items) => items.iter().all(judged),
            Value::Object(map) => map.values().all(judged),
            _ => true,
        }
    }

    fn direct(values: &[Value]) -> String {
        crate::yaml::emit_stream(values)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn writes_what_serde_saphyr_writes(docs in proptest::collection::vec(document(), 1..4)) {
            let by_serializer = docs
                .iter()
                .map(crate::yaml::emit_by_serializer)
                .collect::<Vec<_>>()
                .join("---\n");
            let written = direct(&docs);
            prop_assert_eq!(&written, &by_serializer);
            // And a YAML 1.1 reader gets back exactly the documents.
            let back = crate::yaml11::read(&written).map_err(TestCaseError::fail)?;
            if docs.iter().all(judged) {
                prop_assert_eq!(back, docs);
            }
        }
    }

    #[test]
    fn the_writer_lays_out_most_documents_itself() {
        // Not a vacuous difference test: the stream's usual content never
        // falls back to the serializer.
        let doc = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "t-ts-lb", "labels": {"app.kubernetes.io/name": "yes"}},
            "spec": {"ports": [{"port": 443, "targetPort": "https"}], "selector": {}}});
        struct Refuse;
        impl Fallback for Refuse {
            fn value(&self, text: &str) -> String {
                format!("\"{text}\"")
            }
            fn key(&self, text: &str) -> String {
                text.to_string()
            }
            fn document(&self, _: &Value) -> String {
                panic!("the document fell back to the serializer")
            }
        }
        let mut writer = Writer::new(&Refuse);
        writer.document(&doc);
        assert_eq!(
            writer.finish(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: t-ts-lb\n  labels:\n    app.kubernetes.io/name: \"yes\"\nspec:\n  ports:\n  - port: 443\n    targetPort: https\n  selector: {}\n"
        );
    }

    #[test]
    fn the_longest_ambiguous_word_is_known() {
        assert_eq!(
            AMBIGUOUS.iter().map(|w| w.len()).max(),
            Some(LONGEST_AMBIGUOUS)
        );
    }

    /// A document with a line break in a string or a float is written by
    /// the serializer as a whole, even when the writer had started on it.
    #[test]
    fn an_unusual_document_is_written_again_by_the_serializer() {
        struct Whole;
        impl Fallback for Whole {
            fn value(&self, text: &str) -> String {
                format!("'{text}'")
            }
            fn key(&self, text: &str) -> String {
                format!("'{text}'")
            }
            fn document(&self, _: &Value) -> String {
                "WHOLE\n".to_string()
            }
        }
        for unusual in [
            json!({"a": 1, "b": "two\nlines", "c": 2}),
            json!({"a": {"b": [1, 2.5]}}),
            json!({"a": 1, "x\ry": 2}),
        ] {
            let mut writer = Writer::new(&Whole);
            writer.document(&json!({"first": 1}));
            writer.separator();
            writer.document(&unusual);
            assert_eq!(writer.finish(), "first: 1\n---\nWHOLE\n", "{unusual}");
        }
    }
}
