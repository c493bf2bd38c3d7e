//! The one module that knows the YAML crate.
//!
//! Reading: YAML 1.2 semantics with strict scalars (`yes` stays a string,
//! `0123` stays a string), duplicate keys refused, budgets against alias bombs
//! and deep nesting, and a position on every node so that later stages can
//! point at the exact line and column.
//!
//! Writing: Kubernetes and Argo CD read YAML 1.1 (go-yaml v2), where plain
//! `yes`, `on`, `0123`, `1_000`, `12:30` and `<<` are not strings. serde-saphyr
//! quotes every such string, as values and as keys; serde_yaml 0.9 does not,
//! which is why this crate is not used. Keep it that way: nothing outside this
//! module may emit YAML.

use std::fmt;

#[cfg(test)]
mod agreement;
mod fast;
mod lines;
use std::sync::Arc;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;
use crate::tree::Tree;

/// Largest YAML text accepted from one source; larger inputs are refused
/// before parsing so that they cannot exhaust memory.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting accepted. Kubernetes manifests stay far below this; the
/// limit exists so hostile input fails fast instead of recursing.
pub const MAX_DEPTH: usize = 64;

/// A parsed YAML node with the position it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(CompactString),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: CompactString,
    pub location: Location,
}

impl Node {
    /// What a user would call this kind of value in an error message.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::UInt(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The JSON object model used everywhere after reading.
    pub fn to_json(&self) -> Result<Value> {
        Ok(match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::UInt(u) => Value::from(*u),
            NodeValue::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(Error::new(
                        ErrorKind::Syntax,
                        format!("{f} cannot be represented in a Kubernetes object"),
                    )
                    .at(self.location.clone())
                    .hint("quote it if it is meant as a string"));
                }
            },
            NodeValue::Str(s) => Value::String(s.as_str().to_owned()),
            NodeValue::Seq(items) => {
                Value::Array(items.iter().map(Node::to_json).collect::<Result<_>>()?)
            }
            NodeValue::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.name.as_str().to_owned(), v.to_json()?);
                }
                Value::Object(map)
            }
        })
    }
}

/// The node shape serde-saphyr fills in; children carry spans, which are
/// attached to a file name afterwards.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Raw, E> {
                Ok(Raw::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Raw, E> {
                Ok(Raw::UInt(u))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Raw, E> {
                Ok(Raw::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Raw, E> {
                Ok(Raw::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Raw, E> {
                Ok(Raw::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Raw::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(Raw::Map(entries))
            }
        }
        deserializer.deserialize_any(RawVisitor)
    }
}

fn attach(raw: Spanned<Raw>, file: &Arc<str>) -> Node {
    let location = Location::new(file, raw.referenced.line(), raw.referenced.column());
    let value = match raw.value {
        Raw::Null => NodeValue::Null,
        Raw::Bool(b) => NodeValue::Bool(b),
        Raw::Int(i) => NodeValue::Int(i),
        Raw::UInt(u) => NodeValue::UInt(u),
        Raw::Float(f) => NodeValue::Float(f),
        Raw::Str(s) => NodeValue::Str(s.into()),
        Raw::Seq(items) => NodeValue::Seq(items.into_iter().map(|i| attach(i, file)).collect()),
        Raw::Map(entries) => NodeValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        location: Location::new(file, k.referenced.line(), k.referenced.column()),
                        name: k.value.into(),
                    };
                    (key, attach(v, file))
                })
                .collect(),
        ),
    };
    Node { value, location }
}

/// Documents one stream may hold.
const MAX_DOCUMENTS: usize = 1_000_000;

/// Events that aliases may replay in one parse. Charts and values hardly
/// use aliases; a "billion laughs" document replays millions, and refusing
/// it early keeps the refusal under a second and a few MB.
pub const MAX_ALIAS_REPLAY: usize = 20_000;

/// Events and nodes a document of `len` bytes may produce. Without
/// aliases, every event costs at least half a byte of text (`{a,b}` is six
/// events in five bytes), so twice the length bounds any honest document
/// however large; aliases are counted on their own, above.
fn structure_budget(len: usize) -> usize {
    len.saturating_mul(2).saturating_add(1024)
}

fn read_options(len: usize) -> serde_saphyr::Options {
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY;
    serde_saphyr::options! {
        alias_limits: alias_limits,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_events: structure_budget(len),
            max_nodes: structure_budget(len),
            // A chart with thousands of objects is real; the size limit bounds it.
            max_documents: MAX_DOCUMENTS,
            max_total_scalar_bytes: MAX_INPUT_BYTES * 2,
        },
    }
}

fn syntax_error(err: &serde_saphyr::Error, file: &Arc<str>) -> Error {
    let (line, column) = err
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let text = plain_message(err);
    let (message, hint) = match budget_breach(&text) {
        Some(what) => (
            format!("input refused: {what}"),
            format!(
                "nesting deeper than {MAX_DEPTH} levels and aliases that multiply nodes are refused; write the structure out plainly"
            ),
        ),
        None if text.starts_with("duplicate mapping key") => (
            text,
            "keep one of the two; other YAML readers would silently take the last".to_string(),
        ),
        None => (text, "fix the YAML syntax at that position".to_string()),
    };
    Error::new(ErrorKind::Syntax, message)
        .at(Location::new(file, line, column))
        .hint(hint)
}

/// "budget breached: Depth { depth: 65 } at …" → what was exceeded, in words.
fn budget_breach(text: &str) -> Option<String> {
    if text.starts_with("alias replay limit exceeded") {
        return Some(format!(
            "aliases expand to more than {MAX_ALIAS_REPLAY} events (an alias bomb?)"
        ));
    }
    let rest = text.split("budget breached: ").nth(1)?;
    let kind = rest.split([' ', '{']).next().unwrap_or(rest);
    Some(match kind {
        "Depth" => format!("nesting deeper than {MAX_DEPTH} levels"),
        "Aliases" | "Anchors" => format!(
            "the document uses too many YAML {} (an alias bomb?)",
            kind.to_ascii_lowercase()
        ),
        "Events" | "Nodes" => format!(
            "the document has more YAML {} than its size allows (an alias bomb?)",
            kind.to_ascii_lowercase()
        ),
        other => format!("the document exceeds the reader's limit on {other}"),
    })
}

/// serde-saphyr prefixes its messages with "error: line L column C: ";
/// the location is printed by our own error, so drop the prefix.
fn plain_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.find(": ") {
        Some(i) if text.starts_with("line ") => &text[i + 2..],
        _ => text,
    };
    let text = text
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(text);
    // Our location is printed in front; drop the repeated one at the end.
    let text = text.split(" at line ").next().unwrap_or(text);
    text.trim_end().to_string()
}

fn check_size(text: &str, file: &Arc<str>) -> Result<()> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "input is {} bytes, more than the limit of {MAX_INPUT_BYTES}",
                text.len()
            ),
        )
        .at(Location::start_of(file))
        .hint("split it into smaller files"));
    }
    Ok(())
}

/// Stack for one parse. The deserializer recurses once per nesting level and
/// an unoptimised build needs tens of KiB per level, so [`MAX_DEPTH`] levels
/// would overflow a default 2 MiB thread before the depth budget speaks.
/// Only the pages actually touched are committed.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

thread_local! {
    /// Set on threads that already have a parser-sized stack.
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work` on a thread with a parser-sized stack, so that parses inside
/// it need no thread of their own. The binary runs everything this way
/// unless its main thread's stack is enough ([`with_main_or_parser_stack`]).
pub fn with_parser_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if BIG_STACK.with(std::cell::Cell::get) {
        return work();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("main-big-stack".into())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || {
                BIG_STACK.with(|b| b.set(true));
                work()
            })
            .expect("spawning the worker thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The stack an optimised build needs for the deepest input the budgets
/// let through, with eightfold room to spare: under 512 KiB was measured
/// (refused 100-level flow and block nesting in values and upstream files,
/// 62-level upstream objects printed as YAML and as JSON, templates at
/// minijinja's nesting limit); `budgets::` in tests/ runs them at this
/// limit.
pub const OPTIMISED_STACK_BYTES: u64 = 4 * 1024 * 1024;

/// Runs `work` on the calling thread, the process's main thread, when its
/// stack may grow to [`OPTIMISED_STACK_BYTES`] (the main thread's stack
/// grows up to `RLIMIT_STACK`, 8 MiB by default), else as
/// [`with_parser_stack`] does. Creating and tearing down the parser
/// thread (its 64 MiB mapping, its allocator heap) took a fifth of a
/// 10-service run. An unoptimised build always takes the thread: its
/// frames take tens of KiB a nesting level.
pub fn with_main_or_parser_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if !cfg!(debug_assertions) && main_stack_limit() >= OPTIMISED_STACK_BYTES {
        BIG_STACK.with(|b| b.set(true));
        return work();
    }
    with_parser_stack(work)
}

/// How far the main thread's stack may grow: `RLIMIT_STACK`'s soft limit.
fn main_stack_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        limit.rlim_cur
    }
}

/// Reads a multi-document stream. Empty and comment-only documents are
/// dropped, as Argo CD drops them.
pub fn parse_documents(text: &str, file: &Arc<str>) -> Result<Vec<Node>> {
    check_size(text, file)?;
    if let Some(docs) = lines::parse(text, file) {
        return Ok(docs);
    }
    if let Some(docs) = fast::parse(text, file) {
        return Ok(docs);
    }
    parse_documents_fully(text, file)
}

/// Whether every fast reading of `text` (the line reader's, the event
/// reader's) is serde-saphyr's, and a JSON object read as a [`Tree`] is
/// what it is read as JSON (the same object in the canonical layout, or
/// the same error), for the fuzz target `readers`; the tests in
/// `agreement` hold the same on chosen and random inputs.
#[doc(hidden)]
pub fn fast_readers_agree(text: &str) -> bool {
    let file: Arc<str> = Arc::from("fuzz.yaml");
    let full = parse_documents_fully(text, &file);
    let fast = [lines::parse(text, &file), fast::parse(text, &file)]
        .into_iter()
        .flatten()
        .all(|nodes| matches!(&full, Ok(read) if *read == nodes));
    let tree = match parse_json_tree(text, &file) {
        None => true,
        Some(tree) => match (tree, parse_manifests(text, &file)) {
            (Ok(tree), Ok(docs)) => {
                docs.len() == 1
                    && tree.to_value() == docs[0].value
                    && crate::manifest::canonical_tree(tree).to_value()
                        == crate::manifest::canonical(docs[0].value.clone())
            }
            (Err(a), Err(b)) => a == b,
            _ => false,
        },
    };
    fast && tree
}

/// serde-saphyr's reading of a stream: every YAML feature, every message.
fn parse_documents_fully(text: &str, file: &Arc<str>) -> Result<Vec<Node>> {
    let docs: Vec<Option<Spanned<Raw>>> = with_parser_stack(|| {
        serde_saphyr::from_multiple_with_options(text, read_options(text.len()))
    })
    .map_err(|e| syntax_error(&e, file))?;
    Ok(docs
        .into_iter()
        .flatten()
        .map(|raw| attach(raw, file))
        .filter(|node| node.value != NodeValue::Null)
        .collect())
}

/// A document of a manifest stream, as JSON, with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub location: Location,
}

/// The JSON path's counterpart of the YAML reader's depth budget.
fn check_depth(value: &Value, file: &Arc<str>) -> Result<()> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    refuse_depth(depth(value), file)
}

fn refuse_depth(depth: usize, file: &Arc<str>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::Syntax,
            format!("input refused: nesting deeper than {MAX_DEPTH} levels"),
        )
        .at(Location::start_of(file))
        .hint("write the structure out plainly"));
    }
    Ok(())
}

/// A JSON value that refuses duplicate keys (serde_json keeps the last).
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueVisitor;
        impl<'de> Visitor<'de> for UniqueVisitor {
            type Value = Unique;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Unique, E> {
                Ok(Unique(Value::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Unique, E> {
                Ok(Unique(Value::Bool(b)))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Unique, E> {
                Ok(Unique(Value::from(i)))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Unique, E> {
                Ok(Unique(Value::from(u)))
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Unique, E> {
                serde_json::Number::from_f64(f)
                    .map(|n| Unique(Value::Number(n)))
                    .ok_or_else(|| E::custom("a number JSON cannot hold"))
            }
            fn visit_str<E>(self, s: &str) -> Result<Unique, E> {
                Ok(Unique(Value::String(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Unique, E> {
                Ok(Unique(Value::String(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
                let mut items = Vec::new();
                while let Some(Unique(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Unique(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Unique(value) = map.next_value()?;
                    match out.entry(key) {
                        serde_json::map::Entry::Vacant(entry) => {
                            entry.insert(value);
                        }
                        serde_json::map::Entry::Occupied(entry) => {
                            return Err(serde::de::Error::custom(crate::tree::duplicate_key(
                                entry.key(),
                            )));
                        }
                    }
                }
                Ok(Unique(Value::Object(out)))
            }
        }
        deserializer.deserialize_any(UniqueVisitor)
    }
}

/// The fast path for a stream that is one JSON object (what the built-in
/// templates render): `None` when the text is not JSON, so the caller
/// reads it as YAML instead. JSON is YAML, and reads the same either way.
fn parse_json_object(text: &str, file: &Arc<str>) -> Option<Result<Document>> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    // serde_json stops at 128 levels; deeper text falls back to the YAML
    // reader, whose budget refuses it.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = with_parser_stack(|| {
        Unique::deserialize(&mut deserializer).and_then(|v| deserializer.end().map(|()| v))
    });
    match parsed {
        Ok(Unique(value)) => Some(Ok(Document {
            value,
            location: Location::start_of(file),
        })),
        // A duplicate key is an error in either reading; anything else
        // may still be YAML (a flow mapping, a second document).
        Err(e) => repeated_key(&e, file).map(Err),
    }
}

/// A JSON reader's error for a repeated key, as the error every reading
/// gives; `None` for other errors, after which the text may still be YAML
/// (a flow mapping, a second document).
fn repeated_key(e: &serde_json::Error, file: &Arc<str>) -> Option<Error> {
    e.to_string()
        .starts_with(crate::tree::DUPLICATE_KEY)
        .then(|| {
            Error::new(ErrorKind::Syntax, e.to_string())
                .at(Location::new(file, e.line() as u64, e.column() as u64))
                .hint("keep one of the two; other YAML readers would silently take the last")
        })
}

/// A stream that is one JSON object (what templates are written to
/// render) read as a [`Tree`], as [`parse_manifests`] would read it as
/// JSON: `None` when the text is not one JSON object, so the caller reads
/// it with [`parse_yaml_manifests`] instead.
pub fn parse_json_tree(text: &str, file: &Arc<str>) -> Option<Result<Tree>> {
    if let Err(e) = check_size(text, file) {
        return Some(Err(e));
    }
    if !text.trim_start().starts_with('{') {
        return None;
    }
    match with_parser_stack(|| Tree::from_json(text)) {
        Ok(tree) => Some(refuse_depth(tree.depth(), file).map(|()| tree)),
        Err(e) => repeated_key(&e, file).map(Err),
    }
}

/// Reads a manifest stream straight into JSON values, keeping only where
/// each document starts: several times faster than [`parse_documents`],
/// for streams whose errors are reported per document (rendered templates,
/// a chart's output). Floats that JSON cannot hold are refused.
pub fn parse_manifests(text: &str, file: &Arc<str>) -> Result<Vec<Document>> {
    check_size(text, file)?;
    if let Some(document) = parse_json_object(text, file) {
        let document = document?;
        check_depth(&document.value, file)?;
        return Ok(vec![document]);
    }
    parse_yaml_manifests(text, file)
}

/// [`parse_manifests`] for a text that is not one JSON object.
pub fn parse_yaml_manifests(text: &str, file: &Arc<str>) -> Result<Vec<Document>> {
    check_size(text, file)?;
    // The line reader, then the event reader, for what they are certain
    // of; their nodes are the full reader's (their tests say so), and so
    // are the objects built from them (`reads_manifests_as_the_full_reader_does`).
    if let Some(nodes) = lines::parse(text, file).or_else(|| fast::parse(text, file)) {
        return nodes
            .into_iter()
            .map(|node| {
                Ok(Document {
                    value: node.to_json()?,
                    location: node.location,
                })
            })
            .collect();
    }
    parse_manifests_fully(text, file)
}

/// serde-saphyr's reading of a manifest stream: every YAML feature, every
/// message.
fn parse_manifests_fully(text: &str, file: &Arc<str>) -> Result<Vec<Document>> {
    let docs: Vec<Option<Spanned<Value>>> = with_parser_stack(|| {
        serde_saphyr::from_multiple_with_options(text, read_options(text.len()))
    })
    .map_err(|e| syntax_error(&e, file))?;
    Ok(docs
        .into_iter()
        .flatten()
        .filter(|doc| !doc.value.is_null())
        .map(|doc| Document {
            location: Location::new(file, doc.referenced.line(), doc.referenced.column()),
            value: doc.value,
        })
        .collect())
}

/// Reads a file that must hold at most one document (a values file).
/// An empty file is `None`.
pub fn parse_single(text: &str, file: &Arc<str>) -> Result<Option<Node>> {
    let mut docs = parse_documents(text, file)?;
    if docs.len() > 1 {
        let second = docs.swap_remove(1);
        return Err(Error::new(
            ErrorKind::Syntax,
            "a values file holds one YAML document, this one has more",
        )
        .at(second.location)
        .hint("merge the documents, or pass each one with its own -f"));
    }
    Ok(docs.pop())
}

fn write_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        // YAML 1.1 quoting: the reader on the other side is go-yaml v2.
        yaml_12: false,
        indent_step: 2,
        // Long single-line strings stay on one line: folding them into `>`
        // blocks is legal but makes diffs and greps harder.
        folded_wrap_chars: usize::MAX,
    }
}

/// serde-saphyr's own spelling, for what the direct writer leaves to it.
struct Saphyr;

impl Saphyr {
    fn write(value: &Value) -> String {
        serde_saphyr::to_string_with_options(value, write_options())
            .expect("a serde_json::Value always serializes to YAML")
    }
}

impl crate::emit::Fallback for Saphyr {
    fn value(&self, text: &str) -> String {
        // In value position exactly: the one entry of a map.
        let mut map = serde_json::Map::new();
        map.insert("k".into(), Value::from(text));
        let line = Saphyr::write(&Value::Object(map));
        line.strip_prefix("k: ")
            .and_then(|l| l.strip_suffix('\n'))
            .expect("a single-line string is written on the key's line")
            .to_string()
    }

    fn key(&self, text: &str) -> String {
        let mut map = serde_json::Map::new();
        map.insert(text.into(), Value::from(0));
        let line = Saphyr::write(&Value::Object(map));
        line.strip_suffix(": 0\n")
            .expect("a single-line key is written before its value")
            .to_string()
    }

    fn document(&self, value: &Value) -> String {
        let mut out = Saphyr::write(value);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

/// Emits one document, without a leading `---`, ending with a newline.
pub fn emit(value: &Value) -> String {
    let mut writer = crate::emit::Writer::new(&Saphyr);
    writer.document(value);
    writer.finish()
}

/// Emits documents separated by `---` lines. Given owned values, it drops
/// each once written: the text grows as the objects go, so the two never
/// take their full size at once.
pub fn emit_stream<V: std::borrow::Borrow<Value>>(values: impl IntoIterator<Item = V>) -> String {
    emit_each(values, |writer, value| writer.document(value.borrow()))
}

/// A `---`-separated stream of whatever `write` writes as one document
/// for each of `objects`.
pub fn emit_each<T>(
    objects: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut crate::emit::Writer, T),
) -> String {
    let objects = objects.into_iter();
    let mut writer = crate::emit::Writer::new(&Saphyr);
    // Room for the usual object: growing the text by doubling would copy
    // it and, for a moment, hold it twice. Room never written costs no
    // resident memory.
    writer.reserve(objects.size_hint().0.saturating_mul(1024));
    for (i, object) in objects.enumerate() {
        if i > 0 {
            writer.separator();
        }
        write(&mut writer, object);
    }
    writer.finish()
}

/// serde-saphyr's spelling of a document, for the differential test of
/// the direct writer.
#[cfg(test)]
pub(crate) fn emit_by_serializer(value: &Value) -> String {
    crate::emit::Fallback::document(&Saphyr, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> Arc<str> {
        Arc::from("t.yaml")
    }

    #[test]
    fn reads_strict_scalars_as_strings() {
        let doc = parse_single(
            "a: yes\nb: 0123\nc: 1_000\nd: on\ne: 08\nf: true\ng: 3\n",
            &file(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            doc.to_json().unwrap(),
            json!({"a": "yes", "b": "0123", "c": "1_000", "d": "on", "e": "08", "f": true, "g": 3})
        );
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let doc = parse_single("a:\n  b: x\n", &file()).unwrap().unwrap();
        let (key, value) = &doc.get("a").unwrap().as_map().unwrap()[0];
        assert_eq!((key.location.line, key.location.column), (2, 3));
        assert_eq!((value.location.line, value.location.column), (2, 6));
    }

    #[test]
    fn multi_document_skips_empty_and_comment_only_documents() {
        let text = "# head\n---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n";
        let docs = parse_documents(text, &file()).unwrap();
        let json: Vec<_> = docs.iter().map(|d| d.to_json().unwrap()).collect();
        assert_eq!(json, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn duplicate_keys_are_an_error_with_position() {
        let err = parse_single("a: 1\nb:\n  x: 1\n  x: 2\n", &file()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
        let loc = err.location.unwrap();
        assert_eq!((loc.line, loc.column), (4, 3));
        assert!(
            err.message.contains("duplicate mapping key"),
            "{}",
            err.message
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse_documents("a: 1\n---\nb: [\n", &file()).unwrap_err();
        let loc = err.location.unwrap();
        assert_eq!(loc.line, 3);
        assert!(err.message.contains("unclosed bracket"), "{}", err.message);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_single(&text, &file()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}x{}", "[".repeat(100), "]".repeat(100));
        let err = parse_single(&text, &file()).unwrap_err();
        assert!(
            err.message.contains("nesting deeper than 64"),
            "{}",
            err.message
        );
    }

    #[test]
    fn second_document_in_values_file_is_an_error() {
        let err = parse_single("a: 1\n---\nb: 2\n", &file()).unwrap_err();
        assert_eq!(err.location.unwrap().line, 3);
    }

    #[test]
    fn stream_separates_documents() {
        let out = emit_stream(&[json!({"a": 1}), json!({"b": "on"})]);
        assert_eq!(out, "a: 1\n---\nb: \"on\"\n");
    }

    #[test]
    fn long_strings_stay_on_one_line() {
        let long = "word ".repeat(40);
        let out = emit(&json!({ "k": long.trim() }));
        assert_eq!(out.lines().count(), 1, "{out}");
    }

    /// DESIGN promise 4: every string a YAML 1.1 reader could take as
    /// something else comes back as the same string, as a value and as a key.
    #[test]
    fn yaml_1_1_ambiguous_strings_survive_as_values_and_keys() {
        let table = [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "N",
            "Yes",
            "NO",
            "On",
            "OFF",
            "true",
            "False",
            "0123",
            "08",
            "0o17",
            "0b101",
            "1_000",
            "12:30",
            "1:20:30",
            "1e3",
            "-1.5",
            ".inf",
            ".NaN",
            "0x1F",
            "~",
            "null",
            "Null",
            "",
            "<<",
            "=",
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            " leading",
            "trailing ",
            "#comment",
            "a #b",
            "key: value",
            "- item",
            "-",
            "?",
            "? x",
            "*alias",
            "&anchor",
            "!tag",
            "%directive",
            "@at",
            "`tick",
            "|",
            ">",
            "'single'",
            "\"double\"",
            "multi\nline",
            "trailing newline\n",
            "tab\there",
            "---",
            "...",
            "--- x",
            "[x]",
            "{x: y}",
            "a,b",
            "ünïcödé",
            "emoji 🚀",
            "3080",
            "443",
        ];
        let mut object = serde_json::Map::new();
        for (i, s) in table.iter().enumerate() {
            object.insert(format!("v{i}"), json!(s));
            object.insert((*s).to_string(), json!(i));
        }
        let value = Value::Object(object);
        let text = emit(&value);
        let read_back = crate::yaml11::read(&text).unwrap();
        assert_eq!(read_back, vec![value], "emitted:\n{text}");
    }

    #[test]
    fn a_value_cannot_inject_a_second_document() {
        let value = json!({"name": "x\n---\napiVersion: v1\nkind: Secret", "k": "---"});
        let docs = parse_documents(&emit(&value), &file()).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].to_json().unwrap(), value);
    }

    /// Regression: serde-saphyr's default budget stops at 1,024 documents,
    /// which a large chart's output (or a 3,000-object diff) exceeds.
    #[test]
    fn a_stream_of_thousands_of_documents_is_read() {
        let text = (0..3000)
            .map(|i| format!("n: {i}\n"))
            .collect::<Vec<_>>()
            .join("---\n");
        assert_eq!(parse_documents(&text, &file()).unwrap().len(), 3000);
    }

    #[test]
    fn the_json_fast_path_reads_as_the_yaml_reader_does() {
        let text = r#"{"a": "yes", "b": 1.5, "c": [true, null, "0123"], "d": {"e": 8080}}"#;
        let fast = parse_manifests(text, &file()).unwrap();
        let slow = parse_documents(&format!("{text}\n---\n{{}}\n"), &file()).unwrap();
        assert_eq!(fast[0].value, slow[0].to_json().unwrap());
        let err = parse_manifests(r#"{"a": 1, "a": 2}"#, &file()).unwrap_err();
        assert!(
            err.message.contains("duplicate mapping key"),
            "{}",
            err.message
        );
        // Not JSON: read as YAML.
        assert_eq!(
            parse_manifests("{a: b}", &file()).unwrap()[0].value,
            json!({"a": "b"})
        );
    }
}
