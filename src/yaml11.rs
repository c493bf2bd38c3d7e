//! How a YAML 1.1 reader sees a document: the reading of Kubernetes, kubectl
//! and Argo CD (go-yaml v2 through `sigs.k8s.io/yaml`), where a plain `yes`
//! is a boolean, `0123` an octal number and `<<` a merge key.
//!
//! The emitter in [`crate::yaml`] must never let a string be read as
//! anything else (DESIGN promise 4); this module is the independent judge
//! the tests use, and the `check` command uses it to warn about plain
//! scalars in values files that Helm users would read differently.

use serde_json::{Map, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// What a plain scalar resolves to under YAML 1.1.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i128),
    Float(String),
    Timestamp(String),
    Merge,
    Str(String),
}

fn is_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

fn int(text: &str) -> Option<i128> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // go-yaml v2 removes every underscore before parsing an integer.
    let body = body.replace('_', "");
    let magnitude = if let Some(hex) = body.strip_prefix("0x") {
        is_digits(hex, 16).then(|| i128::from_str_radix(hex, 16).ok())??
    } else if let Some(bin) = body.strip_prefix("0b") {
        is_digits(bin, 2).then(|| i128::from_str_radix(bin, 2).ok())??
    } else if body.len() > 1 && body.starts_with('0') {
        // A leading zero means octal; "08" is not an integer in go-yaml v2,
        // but a 1.1 reader may still take it as one, so it stays ambiguous
        // (see `ambiguous_number`).
        is_digits(&body[1..], 8).then(|| i128::from_str_radix(&body[1..], 8).ok())??
    } else {
        is_digits(&body, 10).then(|| body.parse::<i128>().ok())??
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, plus `.inf` and `.nan`.
fn float(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if [".inf", "+.inf", "-.inf", ".nan"].contains(&lower.as_str()) {
        return true;
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => is_digits(frac, 10),
        Some((whole, frac)) => is_digits(whole, 10) && (frac.is_empty() || is_digits(frac, 10)),
        None => is_digits(mantissa, 10),
    };
    let exponent_ok =
        exponent.is_none_or(|e| is_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok
}

/// Base-60 numbers of YAML 1.1 (`12:30`, `1:20:00.5`).
fn sexagesimal(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut parts = body.split(':');
    let first = parts.next().unwrap_or_default().replace('_', "");
    if !is_digits(&first, 10) || first.starts_with('0') {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return false;
    }
    rest.iter().enumerate().all(|(i, part)| {
        let part = if i + 1 == rest.len() {
            part.split_once('.').map_or(*part, |(whole, frac)| {
                if frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
                    whole
                } else {
                    "x"
                }
            })
        } else {
            part
        };
        (1..=2).contains(&part.len())
            && is_digits(part, 10)
            && part.parse::<u32>().is_ok_and(|n| n < 60)
    })
}

/// `yyyy-m-d`, optionally followed by a time: the YAML 1.1 timestamp forms.
fn timestamp(text: &str) -> bool {
    let date = text.split(['T', 't', ' ']).next().unwrap_or_default();
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = parts.len() == 3
        && parts[0].len() == 4
        && parts.iter().all(|p| is_digits(p, 10))
        && (1..=2).contains(&parts[1].len())
        && (1..=2).contains(&parts[2].len());
    if !date_ok {
        return false;
    }
    let rest = &text[date.len()..];
    rest.is_empty()
        || rest
            .trim_start_matches(['T', 't', ' ', '\t'])
            .starts_with(|c: char| c.is_ascii_digit())
}

/// Resolves a plain (unquoted) scalar as a YAML 1.1 reader does.
pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Bool(false);
        }
        "<<" => return Resolved::Merge,
        _ => {}
    }
    if let Some(i) = int(text) {
        return Resolved::Int(i);
    }
    if float(text) || sexagesimal(text) || ambiguous_number(text) {
        return Resolved::Float(text.to_string());
    }
    if timestamp(text) {
        return Resolved::Timestamp(text.to_string());
    }
    Resolved::Str(text.to_string())
}

/// Digit strings with a leading zero that are not octal (`08`, `09`): go-yaml
/// v2 reads them as floats, other 1.1 readers as decimals; never strings.
fn ambiguous_number(text: &str) -> bool {
    let body = text
        .strip_prefix(['-', '+'])
        .unwrap_or(text)
        .replace('_', "");
    body.len() > 1 && body.starts_with('0') && is_digits(&body, 10)
}

/// The JSON a YAML 1.1 reader would hand Kubernetes, in the shape
/// `sigs.k8s.io/yaml` produces: non-string keys become their string form.
fn scalar_json(resolved: Resolved) -> Value {
    match resolved {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => {
            i64::try_from(i).map_or_else(|_| Value::String(format!("int:{i}")), Value::from)
        }
        Resolved::Float(f) => Value::String(format!("float:{f}")),
        Resolved::Timestamp(t) => Value::String(format!("timestamp:{t}")),
        Resolved::Merge => Value::String("merge:<<".into()),
        Resolved::Str(s) => Value::String(s),
    }
}

fn key_string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Reads a YAML stream the way a YAML 1.1 reader types it. Non-string
/// scalars show up as JSON booleans, numbers and null, or as strings marked
/// `float:`, `timestamp:` and `merge:`, so a comparison with the intended
/// strings fails loudly.
pub fn read(text: &str) -> Result<Vec<Value>, String> {
    enum Frame {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut finished: Option<Value> = None;
    for event in Parser::new_from_str(text) {
        let (event, _span) = event.map_err(|e| e.to_string())?;
        let node = match event {
            Event::Scalar(value, style, _, tag) => {
                if style == ScalarStyle::Plain && tag.is_none() {
                    scalar_json(resolve_plain(&value))
                } else {
                    Value::String(value.into_owned())
                }
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(items)) => Value::Array(items),
                Some(Frame::Map(map, _)) => Value::Object(map),
                None => return Err("unbalanced collection".into()),
            },
            Event::Alias(_) => return Err("aliases are not expected in rendered output".into()),
            Event::DocumentEnd => {
                if let Some(doc) = finished.take() {
                    docs.push(doc);
                }
                continue;
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => finished = Some(node),
            Some(Frame::Seq(items)) => items.push(node),
            Some(Frame::Map(map, pending)) => match pending.take() {
                None => *pending = Some(key_string(node)),
                Some(key) => {
                    map.insert(key, node);
                }
            },
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go_yaml_v2() {
        assert_eq!(resolve_plain("yes"), Resolved::Bool(true));
        assert_eq!(resolve_plain("Off"), Resolved::Bool(false));
        assert_eq!(resolve_plain("0123"), Resolved::Int(83));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("<<"), Resolved::Merge);
        assert!(matches!(resolve_plain("1e3"), Resolved::Float(_)));
        assert!(matches!(resolve_plain("12:30"), Resolved::Float(_)));
        assert!(matches!(resolve_plain("08"), Resolved::Float(_)));
        assert!(matches!(
            resolve_plain("2024-01-01"),
            Resolved::Timestamp(_)
        ));
        for s in [
            "teleport", "tag:k8s", "v1.2.3", "1.2.3", "proxy", "a-1", "12:60",
        ] {
            assert_eq!(resolve_plain(s), Resolved::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn reads_plain_words_as_a_1_1_reader_does() {
        let docs = read("a: yes\n\"on\": \"on\"\nb: [0123, '0123']\n---\nc: 1\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0],
            serde_json::json!({"a": true, "on": "on", "b": [83, "0123"]})
        );
        let keys = read("on: 1\n").unwrap();
        assert_eq!(keys[0], serde_json::json!({"true": 1}));
    }
}
