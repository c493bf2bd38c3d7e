//! The gate: every promise of DESIGN §4 checked on the final stream, on
//! exactly the objects that would be printed, after the split and the
//! patches. `generate` fails on its errors; `check` reports its findings.
//! One implementation serves both, so they cannot disagree.
//!
//! Each finding points at its cause: the values key that asked for a
//! generated object, the upstream file and line an object came from, or the
//! patch operation that last touched the field at fault.

mod rules;

use serde_json::Value;

use crate::direct::Planned;

use crate::diagnostic::{Diagnostic, Severity};
use crate::location::Location;
use crate::manifest::Identity;
use crate::tree::Tree;
use crate::values::{Service, Values};
use crate::view::View;

pub use rules::run;

/// Where an object of the stream came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Rendered for `values.services[index]`.
    Generated { service: usize },
    /// Read from upstream manifests (a file, a chart), at this document.
    Upstream(Location),
    /// Rendered by the plugin for something else (an apps directory's
    /// Application), at this place.
    Rendered(Location),
}

/// One patch operation that changed an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    /// `patches[i].ops[j]`.
    pub key_path: String,
    pub op: String,
    /// The JSON pointer the operation wrote.
    pub path: String,
    pub location: Location,
}

/// An object of the stream: JSON (read, or patched), an override
/// template's output read back as a [`Tree`], or a built-in object still
/// held as its plan, which is checked and printed without being built as
/// JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Tree(Tree),
    Planned(Planned),
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        Body::Json(value)
    }
}

impl Body {
    pub fn identity(&self) -> Identity {
        match self {
            Body::Json(value) => Identity::of(value),
            Body::Tree(tree) => Identity::of(tree),
            Body::Planned(planned) => planned.identity(),
        }
    }

    /// The object as JSON.
    pub fn into_value(self) -> Value {
        match self {
            Body::Json(value) => value,
            Body::Tree(tree) => tree.to_value(),
            Body::Planned(planned) => planned.to_value(),
        }
    }

    /// Calls `read` with a view of the object.
    pub fn with_view<R>(&self, read: impl FnOnce(View<'_>) -> R) -> R {
        match self {
            Body::Json(value) => read(View::Json(value)),
            Body::Tree(tree) => read(View::Tree(tree)),
            Body::Planned(planned) => read(View::of(&planned.node())),
        }
    }
}

/// An object of the stream with where it came from and what patched it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub body: Body,
    pub origin: Origin,
    pub touches: Vec<Touch>,
}

impl Item {
    pub fn new(body: impl Into<Body>, origin: Origin) -> Item {
        Item {
            body: body.into(),
            origin,
            touches: Vec::new(),
        }
    }

    pub fn id(&self) -> Identity {
        self.body.identity()
    }
}

/// What the gate knows besides the stream.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Argo CD's destination namespace, for objects that leave theirs out.
    pub default_namespace: Option<String>,
    /// The operator version as (major, minor), for version-dependent rules.
    pub operator_version: Option<(u32, u32)>,
}

/// The place a finding points at, and how to name it in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub location: Location,
    pub key: Option<String>,
    /// `services.teleport`, `patches[0].ops[1] (add /spec/selector)` or
    /// `rendered.yaml:12:1`.
    pub by: String,
}

fn overlaps(field: &str, written: &str) -> bool {
    let under = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/")) || b.is_empty();
    under(field, written) || under(written, field)
}

/// The cause of a finding about `item` that concerns the fields at
/// `pointers`: the last patch operation that wrote one of them, else where
/// the object came from.
pub fn cause(item: &Item, values: &Values, pointers: &[&str]) -> Cause {
    if let Some(touch) = item
        .touches
        .iter()
        .rev()
        .find(|t| pointers.iter().any(|p| overlaps(p, &t.path)))
    {
        return Cause {
            location: touch.location.clone(),
            key: Some(touch.key_path.clone()),
            by: format!("{} ({} {})", touch.key_path, touch.op, touch.path),
        };
    }
    match &item.origin {
        Origin::Generated { service } => {
            let service: &Service = &values.services[*service];
            Cause {
                location: service.location.clone(),
                key: Some(service.key_path()),
                by: service.key_path(),
            }
        }
        Origin::Upstream(location) | Origin::Rendered(location) => Cause {
            location: location.clone(),
            key: None,
            by: location.to_string(),
        },
    }
}

/// A finding about `item`, located at its cause.
pub(crate) fn finding(
    code: &'static str,
    item: &Item,
    values: &Values,
    pointers: &[&str],
    message: String,
) -> Diagnostic {
    let cause = cause(item, values, pointers);
    Diagnostic::new(code, message)
        .at(Some(&cause.location))
        .key_path(cause.key)
        .object(item.id().to_string())
}

/// Whether any finding stops `generate`.
pub fn has_errors(findings: &[Diagnostic]) -> bool {
    findings.iter().any(|d| d.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_is_the_cause_only_of_the_fields_it_wrote() {
        assert!(overlaps("/metadata/labels/a", "/metadata/labels"));
        assert!(overlaps("/metadata/labels", "/metadata/labels/a"));
        assert!(overlaps("/spec/selector", "/spec/selector"));
        assert!(!overlaps("/spec/selector", "/spec/selectorx"));
        assert!(!overlaps("/spec/ports/0/targetPort", "/metadata/labels"));
    }
}
