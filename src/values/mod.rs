//! The values file: what the user asks to expose, read and validated.
//!
//! Compatible with the protected-services chart's shape
//! (`services.<name>.{enabled, direct, namespace, backend.{name,port}}`) and
//! the richer one of DESIGN §3. Reading is separate from the rules that need
//! several services at once (`catalog`), so each error still names the file,
//! line, column and key path it came from.

mod apps;
mod decode;
mod fields;
mod merge;
pub mod schema;
pub mod shape;
mod sources;

use compact_str::CompactString;
use std::fmt;
use std::sync::Arc;

use crate::error::Result;
use crate::labels::Labels;
use crate::location::Location;
use crate::yaml::{self, Node};

pub use apps::{App, AppDefaults, Apps};
pub use decode::decode;
pub use merge::merge;
pub use sources::{
    DirectorySource, HelmSource, KustomizeSource, PatchSpec, PatchTarget, Upstream, base_of,
};

/// How a service reaches the tailnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// L4 passthrough through a generated `<name>-ts-lb` LoadBalancer Service.
    Direct,
    /// L7 HTTPS through a generated `<name>-tailscale` Ingress.
    Ingress,
    /// `tailscale.com/expose` on the backend Service itself.
    Annotate,
}

impl Mode {
    pub const NAMES: [&'static str; 3] = ["direct", "ingress", "annotate"];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Direct => "direct",
            Mode::Ingress => "ingress",
            Mode::Annotate => "annotate",
        }
    }
}

/// A Service port, by number or by name, as Kubernetes' IntOrString.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

impl PortRef {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PortRef::Number(n) => serde_json::Value::from(*n),
            PortRef::Name(s) => serde_json::Value::from(s.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub name: CompactString,
    /// Every port to expose, from `port` or `ports`; never empty.
    pub ports: Vec<PortRef>,
    pub location: Location,
}

impl Backend {
    /// The first (for an Ingress, the only) port.
    pub fn port(&self) -> &PortRef {
        &self.ports[0]
    }
}

/// One enabled entry of `services`, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The key under `services`. The strings of a service are kept inline
    /// when short (names, namespaces and hostnames nearly always are): a
    /// catalog holds thousands of services for the whole run.
    pub name: CompactString,
    /// Where the key was written; errors about the whole entry point here.
    pub location: Location,
    pub namespace: CompactString,
    pub mode: Mode,
    pub hostname: CompactString,
    pub tags: Vec<String>,
    // The strings a service seldom sets are boxed (16 bytes, not a
    // `String`'s 24): with them a service fits mimalloc's 320-byte blocks
    // instead of its 384-byte ones.
    pub proxy_group: Option<Box<str>>,
    pub proxy_class: Option<Box<str>>,
    pub backend: Backend,
    /// Pods the generated Service selects; sorted by key. Shared with the
    /// backing resolved from it.
    pub selector: Option<Arc<Labels>>,
    pub target_port: Option<PortRef>,
    /// Chart knowledge to use when no upstream manifests name the backend.
    pub preset: Option<Box<str>>,
    /// The chart's release name, for presets; default: the backend's name.
    pub release: Option<Box<str>>,
}

impl Service {
    pub fn key_path(&self) -> String {
        format!("services.{}", self.name)
    }

    /// `tailscale.com/tags`: the tags joined by commas, without spaces (the
    /// operator sends the items to the API untrimmed).
    pub fn tags_annotation(&self) -> String {
        self.tags.join(",")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Defaults {
    pub namespace: Option<String>,
    pub tags: Vec<String>,
    pub proxy_group: Option<String>,
    /// `global.proxyGroup` of the protected-services chart: for Ingresses
    /// only, where `defaults.proxyGroup` does not say otherwise.
    pub ingress_proxy_group: Option<String>,
}

/// The whole values model. Services are sorted by name, so the order in
/// which files list them never reaches the output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    pub tailnet: Option<String>,
    pub defaults: Defaults,
    /// Shared with the generated objects that are held as their plan
    /// (`direct::Planned`) until they are printed.
    pub services: Vec<Arc<Service>>,
    pub upstream: Vec<Upstream>,
    pub patches: Vec<PatchSpec>,
    /// Set for an apps directory, whose values list child Applications.
    pub apps: Option<Apps>,
    /// Things worth telling the user that do not stop rendering.
    pub warnings: Vec<crate::report::Finding>,
}

/// One values source: its display name and its text.
#[derive(Clone)]
pub struct Source {
    pub name: Arc<str>,
    pub text: String,
}

/// Parses every source, merges them in order and decodes the result.
pub fn load(sources: &[Source], fallback_namespace: Option<&str>) -> Result<Values> {
    let mut merged: Option<Node> = None;
    for source in sources {
        let Some(node) = yaml::parse_single(&source.text, &source.name)? else {
            continue;
        };
        merged = Some(match merged {
            Some(base) => merge(base, node),
            None => node,
        });
    }
    match merged {
        Some(node) => decode(&node, fallback_namespace),
        None => Ok(Values::default()),
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// A catalog holds thousands of services for the whole run, each in an
    /// `Arc` (16 bytes of counts): at 304 bytes or less a service takes
    /// one of mimalloc's 320-byte blocks, past it a 384-byte one.
    #[test]
    fn a_service_fits_a_320_byte_block() {
        assert!(
            std::mem::size_of::<Service>() + 16 <= 320,
            "{}",
            std::mem::size_of::<Service>()
        );
    }
}
