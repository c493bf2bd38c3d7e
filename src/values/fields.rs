//! Typed readers for values nodes: each turns one YAML node into a Rust
//! value or an error that names file, line, column and key path.

use std::collections::BTreeSet;
use std::fmt::{self, Display};

use compact_str::CompactString;

use super::PortRef;
use super::shape::Object;
use crate::error::{Error, ErrorKind, Result};
use crate::labels::Labels;
use crate::location::Location;
use crate::names;
use crate::yaml::{Key, Node, NodeValue};

pub(super) fn invalid(
    node_location: &Location,
    path: &(impl Display + ?Sized),
    message: impl Into<String>,
) -> Error {
    Error::new(ErrorKind::Values, message)
        .at(node_location.clone())
        .key(path.to_string())
}

pub(super) fn type_hint(path: &(impl Display + ?Sized)) -> String {
    format!("see the values reference in the README for the shape of `{path}`")
}

/// `path.key`, spelled only when an error names it: most fields are read
/// without one, and a run reads thousands.
pub(super) fn join<'a, P: Display + ?Sized>(path: &'a P, key: &'a str) -> Join<'a, P> {
    Join(path, key)
}

pub(super) struct Join<'a, P: ?Sized>(&'a P, &'a str);

impl<P: Display + ?Sized> Display for Join<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent = self.0.to_string();
        if parent.is_empty() {
            f.write_str(self.1)
        } else {
            write!(f, "{parent}.{}", self.1)
        }
    }
}

/// `path[index]`, spelled only when an error names it.
pub(super) struct Index<'a, P: ?Sized>(pub(super) &'a P, pub(super) usize);

impl<P: Display + ?Sized> Display for Index<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

/// The known key closest to `unknown`, if it is close enough to be a typo.
pub(super) fn suggest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| s.to_ascii_lowercase().replace(['-', '_'], "");
    let unknown_folded = fold(unknown);
    known
        .iter()
        .map(|k| (strsim::levenshtein(&unknown_folded, &fold(k)), *k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// The entries of a mapping node, after refusing keys its shape does not
/// have.
pub(super) fn mapping<'a>(
    node: &'a Node,
    path: &(impl Display + ?Sized),
    shape: &Object,
) -> Result<&'a [(Key, Node)]> {
    let Some(entries) = node.as_map() else {
        return Err(invalid(
            &node.location,
            path,
            format!("expected a mapping, found {}", node.type_name()),
        )
        .hint(type_hint(path)));
    };
    for (key, _) in entries {
        if !shape.has(&key.name) {
            let known = shape.keys();
            let mut err = invalid(
                &key.location,
                &join(path, &key.name),
                format!("unknown key {:?}", key.name),
            );
            err = match suggest(&key.name, &known) {
                Some(hint) => err.hint(format!("did you mean {hint:?}?")),
                None => err.hint(format!("known keys here: {}", known.join(", "))),
            };
            return Err(err);
        }
    }
    Ok(entries)
}

pub(super) fn field<'a>(entries: &'a [(Key, Node)], name: &str) -> Option<&'a Node> {
    entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v)
}

pub(super) fn string(node: &Node, path: &(impl Display + ?Sized)) -> Result<String> {
    match &node.value {
        NodeValue::Str(s) => Ok(s.as_str().to_owned()),
        _ => Err(invalid(
            &node.location,
            path,
            format!("expected a string, found {}", node.type_name()),
        )
        .hint(type_hint(path))),
    }
}

pub(super) fn boolean(node: &Node, path: &(impl Display + ?Sized)) -> Result<bool> {
    match &node.value {
        NodeValue::Bool(b) => Ok(*b),
        NodeValue::Str(s)
            if ["yes", "no", "on", "off", "y", "n"].contains(&s.to_ascii_lowercase().as_str()) =>
        {
            Err(invalid(
                &node.location,
                path,
                format!("expected true or false, found the string {s:?}"),
            )
            .hint("write true or false; this reader does not treat yes/no/on/off as booleans"))
        }
        _ => Err(invalid(
            &node.location,
            path,
            format!("expected true or false, found {}", node.type_name()),
        )),
    }
}

pub(super) fn checked(
    node: &Node,
    path: &(impl Display + ?Sized),
    rule: fn(&str) -> Result<(), String>,
    what: &str,
) -> Result<String> {
    let value = string(node, path)?;
    rule(&value).map_err(|why| {
        invalid(&node.location, path, format!("{value:?} {why}")).hint(what.to_string())
    })?;
    Ok(value)
}

pub(super) fn port(node: &Node, path: &(impl Display + ?Sized)) -> Result<PortRef> {
    match &node.value {
        NodeValue::Int(n) if (1..=65535).contains(n) => Ok(PortRef::Number(*n as u16)),
        NodeValue::UInt(n) if (1..=65535).contains(n) => Ok(PortRef::Number(*n as u16)),
        NodeValue::Int(n) => {
            Err(
                invalid(&node.location, path, format!("port {n} is outside 1-65535"))
                    .hint(PORT_HINT),
            )
        }
        NodeValue::UInt(n) => {
            Err(
                invalid(&node.location, path, format!("port {n} is outside 1-65535"))
                    .hint(PORT_HINT),
            )
        }
        NodeValue::Str(s) if s.parse::<u32>().is_ok() => Err(invalid(
            &node.location,
            path,
            format!("port {s:?} is a quoted number; Kubernetes would read it as a port name"),
        )
        .hint(format!("write {s} without quotes"))),
        NodeValue::Str(s) => {
            names::port_name(s).map_err(|why| {
                invalid(&node.location, path, format!("port name {s:?} {why}"))
                    .hint("give a port number 1-65535 or the name of a port of the backend Service")
            })?;
            Ok(PortRef::Name(s.as_str().to_owned()))
        }
        _ => Err(invalid(
            &node.location,
            path,
            format!("expected a port number or name, found {}", node.type_name()),
        )
        .hint(PORT_HINT)),
    }
}

pub(super) const PORT_HINT: &str =
    "a port is a number from 1 to 65535, or a port name such as https";
pub(super) const LABEL_HINT: &str = "label keys and values have at most 63 characters: letters, digits, '-', '_' and '.', starting and ending alphanumeric";

/// Tags as a list, or as the operator's comma-separated annotation string.
pub(super) fn tags(node: &Node, path: &(impl Display + ?Sized)) -> Result<Vec<String>> {
    let items: Vec<(String, &Location)> = match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| Ok((string(item, &Index(path, i))?, &item.location)))
            .collect::<Result<_>>()?,
        NodeValue::Str(s) => s
            .split(',')
            .map(|t| (t.to_string(), &node.location))
            .collect(),
        _ => {
            return Err(invalid(
                &node.location,
                path,
                format!("expected a list of tags, found {}", node.type_name()),
            )
            .hint("tags: [tag:k8s, tag:prod]"));
        }
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (tag, location) in items {
        names::tag(&tag).map_err(|why| {
            invalid(location, path, format!("tag {tag:?} {why}"))
                .hint(
                    "a tag looks like tag:k8s (letters, digits and '-' after \"tag:\", no spaces)",
                )
                .code("TS011")
        })?;
        if seen.insert(tag.clone()) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// `""` means "no ProxyGroup" (the operator ignores a Service whose
/// `proxy-group` annotation is empty, so it is never rendered).
pub(super) fn proxy_group(node: &Node, path: &(impl Display + ?Sized)) -> Result<Option<String>> {
    let value = string(node, path)?;
    if value.is_empty() {
        return Ok(None);
    }
    names::dns1123_subdomain(&value).map_err(|why| {
        invalid(
            &node.location,
            path,
            format!("ProxyGroup name {value:?} {why}"),
        )
        .hint("name an existing ProxyGroup of type ingress, or \"\" for none")
    })?;
    Ok(Some(value))
}

pub(super) fn selector(node: &Node, path: &(impl Display + ?Sized)) -> Result<Labels> {
    let Some(entries) = node.as_map() else {
        return Err(invalid(
            &node.location,
            path,
            format!(
                "expected a mapping of pod labels, found {}",
                node.type_name()
            ),
        ));
    };
    if entries.is_empty() {
        return Err(invalid(
            &node.location,
            path,
            "an empty selector would select every pod in the namespace",
        )
        .hint("give the labels of the pods that serve this service"));
    }
    let mut out = Labels::with_capacity(entries.len());
    for (key, value) in entries {
        let key_path = join(path, &key.name);
        names::label_key(&key.name).map_err(|why| {
            invalid(
                &key.location,
                &key_path,
                format!("label key {:?} {why}", key.name),
            )
            .hint(LABEL_HINT)
        })?;
        let text: CompactString = match &value.value {
            NodeValue::Str(s) => s.clone(),
            NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Bool(_) => {
                return Err(invalid(
                    &value.location,
                    &key_path,
                    format!("label values are strings, found {}", value.type_name()),
                )
                .hint("quote the value"));
            }
            _ => string(value, &key_path)?.into(),
        };
        names::label_value(&text).map_err(|why| {
            invalid(
                &value.location,
                &key_path,
                format!("label value {text:?} {why}"),
            )
            .hint(LABEL_HINT)
        })?;
        out.insert(key.name.clone(), text);
    }
    Ok(out)
}

/// A string field that may be absent.
pub(super) fn optional_string(
    entries: &[(Key, Node)],
    key: &str,
    path: &(impl Display + ?Sized),
) -> Result<Option<String>> {
    field(entries, key)
        .map(|n| string(n, &join(path, key)))
        .transpose()
}
