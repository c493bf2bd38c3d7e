//! The event reader: the parser's events built straight into nodes, for
//! the documents values files and manifests are made of. serde-saphyr's
//! deserializer costs more than the parse itself; this reader covers the
//! common subset and answers `None` for everything else — an anchor, an
//! alias, a tag, a duplicate key, a scalar whose type it does not decide
//! with certainty, a budget, a syntax error — so the full reader reads
//! that document and every message stays its own. The tests of
//! `agreement` hold the two together.

use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span};

use super::{Key, MAX_DEPTH, MAX_INPUT_BYTES, Node, NodeValue, structure_budget};
use crate::emit::{AMBIGUOUS, LONGEST_AMBIGUOUS};
use crate::location::Location;

/// Whether a plain scalar is certainly a string: every number YAML knows
/// starts with a digit, a dot, or a sign before a digit or a dot; the
/// other types are `~` and the words of `emit::AMBIGUOUS` (after a sign,
/// `inf` and `nan` are left to the full reader too).
pub(super) fn certainly_string(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    let starts_as_string = if matches!(first, b'+' | b'-') {
        bytes.get(1).is_some_and(u8::is_ascii_alphabetic)
            && !["inf", "nan", "infinity"]
                .iter()
                .any(|w| w.eq_ignore_ascii_case(&text[1..]))
    } else {
        !(first.is_ascii_digit() || matches!(first, b'.' | b'~'))
    };
    starts_as_string
        && (text.len() > LONGEST_AMBIGUOUS
            || !AMBIGUOUS.iter().any(|w| w.eq_ignore_ascii_case(text)))
}

/// A plain scalar's type, when it is certain without the full resolver.
pub(super) fn plain(text: &str) -> Option<NodeValue> {
    match text {
        "" | "~" | "null" => return Some(NodeValue::Null),
        "true" => return Some(NodeValue::Bool(true)),
        "false" => return Some(NodeValue::Bool(false)),
        _ => {}
    }
    if certainly_string(text) {
        return Some(NodeValue::Str(text.into()));
    }
    // A decimal integer without a leading zero or underscore.
    let digits = text.strip_prefix('-').unwrap_or(text);
    let decimal = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !decimal {
        return None;
    }
    if text.starts_with('-') {
        text.parse::<i64>().ok().map(NodeValue::Int)
    } else {
        text.parse::<u64>().ok().map(NodeValue::UInt)
    }
}

enum Frame {
    Seq(Vec<Node>, Location),
    Map(Vec<(Key, Node)>, Location, Option<Key>, FxHashSet<String>),
}

fn location(file: &Arc<str>, span: &Span) -> Location {
    Location::new(file, span.start.line() as u64, span.start.col() as u64 + 1)
}

/// Every document of `text`, or `None` to leave it to the full reader.
pub fn parse(text: &str, file: &Arc<str>) -> Option<Vec<Node>> {
    if text.len() > MAX_INPUT_BYTES {
        return None;
    }
    let budget = structure_budget(text.len());
    let mut events = 0usize;
    let mut documents = 0usize;
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut finished: Option<Node> = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.ok()?;
        events += 1;
        if events > budget {
            return None;
        }
        let node = match event {
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let at = location(file, &span);
                // A key: the string as written.
                if let Some(Frame::Map(_, _, pending @ None, seen)) = stack.last_mut() {
                    if style == ScalarStyle::Plain && !certainly_string(&value) {
                        return None;
                    }
                    if !seen.insert(value.to_string()) {
                        return None;
                    }
                    *pending = Some(Key {
                        name: value.as_ref().into(),
                        location: at,
                    });
                    continue;
                }
                let value = match style {
                    ScalarStyle::Plain => plain(&value)?,
                    _ => NodeValue::Str(value.as_ref().into()),
                };
                Node {
                    value,
                    location: at,
                }
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                return None;
            }
            Event::SequenceStart(..) => {
                if matches!(stack.last(), Some(Frame::Map(_, _, None, _))) {
                    return None; // a complex key
                }
                stack.push(Frame::Seq(Vec::new(), location(file, &span)));
                if stack.len() > MAX_DEPTH {
                    return None;
                }
                continue;
            }
            Event::MappingStart(..) => {
                if matches!(stack.last(), Some(Frame::Map(_, _, None, _))) {
                    return None;
                }
                stack.push(Frame::Map(
                    Vec::new(),
                    location(file, &span),
                    None,
                    FxHashSet::default(),
                ));
                if stack.len() > MAX_DEPTH {
                    return None;
                }
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Frame::Seq(items, location) => Node {
                    value: NodeValue::Seq(items),
                    location,
                },
                Frame::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Frame::Map(entries, location, None, _) => Node {
                    value: NodeValue::Map(entries),
                    location,
                },
                _ => return None,
            },
            Event::DocumentEnd => {
                if let Some(doc) = finished.take()
                    && doc.value != NodeValue::Null
                {
                    docs.push(doc);
                }
                continue;
            }
            Event::DocumentStart(..) => {
                documents += 1;
                // The full reader's document budget, and its message.
                if documents > super::MAX_DOCUMENTS {
                    return None;
                }
                continue;
            }
            Event::StreamStart | Event::StreamEnd => continue,
            _ => return None,
        };
        match stack.last_mut() {
            None => finished = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, _, pending, _)) => {
                let key = pending.take()?;
                entries.push((key, node));
            }
        }
    }
    stack.is_empty().then_some(docs)
}
