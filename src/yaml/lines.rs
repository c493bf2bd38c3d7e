//! The line reader: block YAML as people and the writer lay it out, read
//! line by line without a tokenizer. Values files are almost all of this
//! shape — `key: value` lines, nested by indentation, `- ` items, one-line
//! flow collections such as `{name: x, port: 443}`, comments — and a
//! general YAML parser spends most of its time on what such lines cannot
//! hold.
//!
//! Anything outside that shape answers `None` and the event reader
//! (`fast`) reads the document instead, then serde-saphyr: a byte that is
//! not printable ASCII (tabs, CR, BOM, Unicode), an indicator that starts
//! an anchor, alias, tag, block scalar or complex key, a directive or a
//! document end marker, a key or value left empty (null by absence), a
//! scalar continued on the next line, a flow collection over more than one
//! line, a quoted scalar with an escape, a duplicate key, a scalar whose
//! type it does not decide with certainty, an indentation that does not
//! line up. So it never has to be right about an error: errors are always
//! the full reader's. The tests of `agreement` (property tests, every YAML
//! file of the repository) and the `readers` fuzz target hold it to the
//! full reader, positions included.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::fast::{certainly_string, plain};
use super::{Key, MAX_DEPTH, MAX_DOCUMENTS, MAX_INPUT_BYTES, Node, NodeValue};
use crate::location::Location;

/// A line with content: not blank, not only a comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    /// 1-based.
    number: u32,
    /// Spaces before `body`; for a compact entry after `- `, the column
    /// its content starts at, as if it began a line of its own.
    indent: u32,
    body: &'a str,
}

/// Maps with more keys than this find duplicates through a set.
const SMALL_MAP: usize = 12;

struct Reader<'a, 'f> {
    lines: Vec<Line<'a>>,
    pos: usize,
    /// The whole text, which every line's body is a part of.
    text: &'a str,
    file: &'f Arc<str>,
    depth: usize,
    /// The entries and items of the collections being read, nested ones
    /// on top: each collection is moved out into a vector of exactly its
    /// size once read. Grown by doubling instead, the maps of a values
    /// file would hold a quarter of their memory unused.
    entries: Vec<(Key, Node)>,
    items: Vec<Node>,
}

/// Every document of `text`, or `None` to leave it to the event reader.
pub fn parse(text: &str, file: &Arc<str>) -> Option<Vec<Node>> {
    if text.len() > MAX_INPUT_BYTES
        || !text
            .bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return None;
    }
    // Room for every line: a values file of 10,000 services has 90,000.
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut documents: Vec<Vec<Line>> = vec![Vec::with_capacity(lines)];
    for (index, raw) in text.split('\n').enumerate() {
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = raw.len() - body.len();
        if indent == 0 && body.starts_with(['%', '.', '-']) && body.len() >= 3 {
            if body.starts_with("---") {
                if body != "---" {
                    return None; // content after the marker
                }
                documents.push(Vec::new());
                if documents.len() > MAX_DOCUMENTS {
                    return None;
                }
                continue;
            }
            if body.starts_with("...") || body.starts_with('%') {
                return None;
            }
        } else if indent == 0 && body.starts_with('%') {
            return None;
        }
        documents.last_mut()?.push(Line {
            number: u32::try_from(index + 1).ok()?,
            indent: u32::try_from(indent).ok()?,
            body: body.trim_end_matches(' '),
        });
    }
    let mut docs = Vec::new();
    for lines in documents {
        if lines.is_empty() {
            continue;
        }
        let mut reader = Reader {
            lines,
            pos: 0,
            text,
            file,
            depth: 0,
            entries: Vec::new(),
            items: Vec::new(),
        };
        let root = reader.block(-1, false)?;
        if reader.pos != reader.lines.len() {
            return None;
        }
        // An empty document is no object, as for the other readers.
        if root.value != NodeValue::Null {
            docs.push(root);
        }
    }
    Some(docs)
}

/// `- ` or a lone `-`: a sequence entry.
fn is_entry(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// Where a block mapping key ends (the `:`), if `body` starts with a plain
/// key this reader is certain of.
fn key_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let end = (0..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|&b| b == b' '))?;
    plain_key(&body[..end]).then_some(end)
}

/// A key of the characters keys are made of (`app.kubernetes.io/name`),
/// certainly a string.
fn plain_key(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-'))
        && certainly_string(key)
}

/// Bytes that may not start a plain scalar here (YAML's indicators, and
/// quotes, which are read elsewhere).
fn indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl<'a> Reader<'a, '_> {
    /// How many spaces follow `body`, a part of the text, on its line.
    fn spaces_after(&self, body: &str) -> usize {
        let end = body.as_ptr() as usize - self.text.as_ptr() as usize + body.len();
        self.text.as_bytes()[end..]
            .iter()
            .take_while(|&&b| b == b' ')
            .count()
    }

    fn at(&self, line: u32, column: u32) -> Location {
        Location::new(self.file, u64::from(line), u64::from(column) + 1)
    }

    /// The node starting on the current line, which must be indented more
    /// than its parent — or, for a sequence that is a mapping's value, as
    /// much (`indentless`).
    fn block(&mut self, parent: i64, indentless: bool) -> Option<Node> {
        let line = *self.lines.get(self.pos)?;
        let indent = i64::from(line.indent);
        let entry = is_entry(line.body);
        if !(indent > parent || (indentless && entry && indent == parent)) {
            return None;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let node = if entry {
            self.sequence(line.indent, indent == parent)
        } else if key_end(line.body).is_some() {
            self.mapping(line.indent)
        } else {
            let node = self.inline(line.body, line.number, line.indent)?;
            self.pos += 1;
            Some(node)
        };
        self.depth -= 1;
        node
    }

    fn sequence(&mut self, indent: u32, indentless: bool) -> Option<Node> {
        let first = self.lines[self.pos];
        let start = self.items.len();
        while let Some(&line) = self.lines.get(self.pos) {
            if line.indent != indent || !is_entry(line.body) {
                break;
            }
            let after = &line.body[1..];
            let rest = after.trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
            } else if is_entry(rest) || rest.starts_with('#') {
                return None; // `- - a` and `- # c`: left to the other readers
            } else {
                // The entry's content, as if it began its own line at its
                // column: `- a: 1` then `  b: 2` is the mapping `a, b`.
                let column = indent + 1 + u32::try_from(after.len() - rest.len()).ok()?;
                self.lines[self.pos] = Line {
                    number: line.number,
                    indent: column,
                    body: rest,
                };
            }
            let item = self.block(i64::from(indent), false)?;
            self.items.push(item);
        }
        let items = self.items.drain(start..).collect();
        // The full reader places a sequence at its first `-`, except one
        // at its key's indentation, which it places just past the `-` and
        // one space, or past a `-` alone and the spaces after it; other
        // spacing there is left to it.
        let location = if !indentless {
            self.at(first.number, first.indent)
        } else if first.body == "-" {
            // Past the spaces that end the line, which its body leaves out.
            let spaces = self.spaces_after(first.body);
            self.at(first.number, first.indent + 1 + u32::try_from(spaces).ok()?)
        } else if first.body.as_bytes().get(2).is_some_and(|&b| b != b' ') {
            self.at(first.number, first.indent + 2)
        } else {
            return None;
        };
        Some(Node {
            value: NodeValue::Seq(items),
            location,
        })
    }

    fn mapping(&mut self, indent: u32) -> Option<Node> {
        let first = self.lines[self.pos];
        let start = self.entries.len();
        let mut names: Vec<&'a str> = Vec::new();
        let mut set: Option<FxHashSet<&'a str>> = None;
        while let Some(&line) = self.lines.get(self.pos) {
            if line.indent != indent || is_entry(line.body) {
                break;
            }
            let end = key_end(line.body)?;
            let name = &line.body[..end];
            // Duplicates are the full reader's to report.
            let fresh = match &mut set {
                Some(set) => set.insert(name),
                None if names.len() < SMALL_MAP => {
                    let fresh = !names.contains(&name);
                    names.push(name);
                    fresh
                }
                None => {
                    let mut all: FxHashSet<&'a str> = names.drain(..).collect();
                    let fresh = all.insert(name);
                    set = Some(all);
                    fresh
                }
            };
            if !fresh {
                return None;
            }
            let after = &line.body[end + 1..];
            let rest = after.trim_start_matches(' ');
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.pos += 1;
                self.block(i64::from(indent), true)?
            } else {
                let column = indent + 1 + u32::try_from(end + after.len() - rest.len()).ok()?;
                let node = self.inline(rest, line.number, column)?;
                self.pos += 1;
                node
            };
            let key = Key {
                name: name.into(),
                location: self.at(line.number, line.indent),
            };
            self.entries.push((key, value));
        }
        Some(Node {
            value: NodeValue::Map(self.entries.drain(start..).collect()),
            location: self.at(first.number, first.indent),
        })
    }

    /// A value that ends on its line: a scalar or a flow collection, then
    /// at most a comment.
    fn inline(&mut self, text: &str, number: u32, column: u32) -> Option<Node> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let node = match bytes[0] {
            b'{' | b'[' => self.flow(bytes, &mut i, number, column, 0)?,
            b'"' | b'\'' => self.quoted(bytes, &mut i, number, column)?,
            _ => {
                // A plain scalar runs to a comment (` #`) or the end of the
                // line; another `#`, a `: ` or a final `:` is left to the
                // others (a key, or YAML's finer rules).
                let mut end = bytes.len();
                for (i, &b) in bytes.iter().enumerate() {
                    match b {
                        b'#' if i > 0 && bytes[i - 1] == b' ' => {
                            end = i;
                            break;
                        }
                        b'#' => return None,
                        b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return None,
                        _ => {}
                    }
                }
                let scalar = text[..end].trim_end_matches(' ');
                if !starts_plain(scalar) {
                    return None;
                }
                return Some(Node {
                    value: plain(scalar)?,
                    location: self.at(number, column),
                });
            }
        };
        let rest = &text[i..];
        let trimmed = rest.trim_start_matches(' ');
        (trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len()))
            .then_some(node)
    }

    /// A single- or double-quoted scalar without escapes, from `bytes[*i]`;
    /// `base` is the column of `bytes[0]`.
    fn quoted(&self, bytes: &[u8], i: &mut usize, number: u32, base: u32) -> Option<Node> {
        let quote = bytes[*i];
        let start = *i + 1;
        let len = bytes[start..].iter().position(|&b| b == quote)?;
        let content = &bytes[start..start + len];
        if quote == b'"' && content.contains(&b'\\') {
            return None;
        }
        // A doubled single quote is an escaped one: left to the others.
        if quote == b'\'' && bytes.get(start + len + 1) == Some(&b'\'') {
            return None;
        }
        let node = Node {
            value: NodeValue::Str(std::str::from_utf8(content).ok()?.into()),
            location: self.at(number, base + u32::try_from(*i).ok()?),
        };
        *i = start + len + 1;
        Some(node)
    }

    /// A flow collection that closes on its line, from `bytes[*i]`; `base`
    /// is the column of `bytes[0]`.
    fn flow(
        &mut self,
        bytes: &[u8],
        i: &mut usize,
        number: u32,
        base: u32,
        depth: usize,
    ) -> Option<Node> {
        if self.depth + depth + 1 > MAX_DEPTH {
            return None;
        }
        let open = bytes[*i];
        let location = self.at(number, base + u32::try_from(*i).ok()?);
        let close = if open == b'{' { b'}' } else { b']' };
        *i += 1;
        let (items, entries) = (self.items.len(), self.entries.len());
        skip_spaces(bytes, i);
        if bytes.get(*i) == Some(&close) {
            *i += 1;
        } else {
            loop {
                if open == b'{' {
                    // A plain key, `: `, a value.
                    let start = *i;
                    while bytes.get(*i).is_some_and(|&b| b != b':') {
                        *i += 1;
                    }
                    let key = std::str::from_utf8(&bytes[start..*i]).ok()?;
                    if bytes.get(*i + 1) != Some(&b' ')
                        || !plain_key(key)
                        || self.entries[entries..].iter().any(|(k, _)| k.name == key)
                    {
                        return None;
                    }
                    *i += 2;
                    skip_spaces(bytes, i);
                    let value = self.flow_value(bytes, i, number, base, depth)?;
                    let key = Key {
                        name: key.into(),
                        location: self.at(number, base + u32::try_from(start).ok()?),
                    };
                    self.entries.push((key, value));
                } else {
                    let item = self.flow_value(bytes, i, number, base, depth)?;
                    self.items.push(item);
                }
                skip_spaces(bytes, i);
                match bytes.get(*i) {
                    Some(b',') => {
                        *i += 1;
                        skip_spaces(bytes, i);
                        if bytes.get(*i) == Some(&close) {
                            return None; // a trailing comma
                        }
                    }
                    Some(&b) if b == close => {
                        *i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let value = if open == b'{' {
            NodeValue::Map(self.entries.drain(entries..).collect())
        } else {
            NodeValue::Seq(self.items.drain(items..).collect())
        };
        Some(Node { value, location })
    }

    fn flow_value(
        &mut self,
        bytes: &[u8],
        i: &mut usize,
        number: u32,
        base: u32,
        depth: usize,
    ) -> Option<Node> {
        let column = base + u32::try_from(*i).ok()?;
        match *bytes.get(*i)? {
            b'{' | b'[' => self.flow(bytes, i, number, base, depth + 1),
            b'"' | b'\'' => self.quoted(bytes, i, number, base),
            _ => {
                let start = *i;
                while bytes
                    .get(*i)
                    .is_some_and(|&b| !matches!(b, b',' | b'[' | b']' | b'{' | b'}'))
                {
                    *i += 1;
                }
                let scalar = std::str::from_utf8(&bytes[start..*i])
                    .ok()?
                    .trim_end_matches(' ');
                // A `:` inside a flow scalar stays in it when a character
                // that could go on the scalar follows (`example/app:1`);
                // other `:` and any `#` are left to the others.
                let sb = scalar.as_bytes();
                let odd = sb.iter().enumerate().any(|(i, &b)| {
                    b == b'#'
                        || (b == b':'
                            && sb.get(i + 1).is_none_or(|&n| {
                                matches!(n, b' ' | b',' | b'[' | b']' | b'{' | b'}')
                            }))
                });
                if odd || !starts_plain(scalar) {
                    return None;
                }
                Some(Node {
                    value: plain(scalar)?,
                    location: self.at(number, column),
                })
            }
        }
    }
}

fn skip_spaces(bytes: &[u8], i: &mut usize) {
    while bytes.get(*i) == Some(&b' ') {
        *i += 1;
    }
}

/// Whether a scalar may start plain here: not empty, and not with an
/// indicator (a `-` followed by more than a space starts `-3` or `-x`).
fn starts_plain(scalar: &str) -> bool {
    let bytes = scalar.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    !indicator(first) || (first == b'-' && bytes.get(1).is_some_and(|&b| b != b' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::agreement::agrees;

    fn file() -> Arc<str> {
        Arc::from("t.yaml")
    }

    fn read(text: &str) -> bool {
        agrees(parse, text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn reads_the_shapes_values_files_take() {
        for text in [
            "services:\n  svc-0:\n    enabled: true\n    namespace: team-0\n    backend: {name: backend-0, port: 443}\n",
            "a:\n- 1\n- b: 2\n  c: [x, \"y z\", 'w']\nd: {}\ne: []\n",
            "a:\n  - x\n  -   k: v\n      l: w\n  -\n    m: q\n",
            "# head\n\na: 1 # trailing\n   # odd comment\nb: http://example.com:8080/x\n",
            "---\na: 1\n---\n# empty\n---\nb: [{c: d}, [e, f]]\n",
            "  a: 1\n  b: -3\n  c: 0\n  d: ~\n  e: null\n  f: false\n",
            "k:\n  value on its own line\n",
            "- x\n- z\n",
            "list:\n- a: 1\n  sub:\n  - b\nnext: 2\n",
        ] {
            assert!(read(text), "left to the others: {text:?}");
        }
    }

    /// What it leaves to the others: every one is either not YAML at all
    /// or read differently than a line at a time would suggest.
    #[test]
    fn leaves_what_it_is_not_certain_of() {
        for text in [
            "a: 1\n  b: 2\n",
            "a: one\n  two\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: 1\na: 2\n",
            "a:\nb: 1\n",
            "a: &x 1\nb: *x\n",
            "a: !tag x\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "? a\n: b\n",
            "a: [1,\n  2]\n",
            "a: \"x\\ty\"\n",
            "a: 'it''s'\n",
            "a: yes\n",
            "a: 0123\n",
            "a: 1.5\n",
            "a: b: c\n",
            "a:\tb\n",
            "a: caf\u{e9}\n",
            "--- a\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "a: [x, ]\n",
            "a: {b}\n",
            "a: x#y\n",
            "a: 1\n- b\n",
            "8443: x\n",
            "\"a\": 1\n",
            "a : 1\n",
            "a: - b\n",
            "k:\n- - a\n",
            "k: n\n",
        ] {
            assert!(parse(text, &file()).is_none(), "read {text:?}");
            // And the full reader still has its say.
            let _ = super::super::parse_documents_fully(text, &file());
        }
    }
}
