//! The `generate` pipeline: read → plan → render → check → order → emit.
//!
//! The whole stream is built in memory and handed back only when every step
//! succeeded, so a caller can never print part of it (DESIGN promise 5).

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::expose;
use crate::location::Location;
use crate::manifest::{self, Identity};
use crate::render::{TemplateDir, Templates};
use crate::values::{self, Source};
use crate::yaml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A `---`-separated YAML stream, quoted for YAML 1.1 readers.
    #[default]
    Yaml,
    /// Concatenated JSON objects, one per line, which Argo CD also reads.
    Json,
}

pub struct Request {
    pub values: Vec<Source>,
    /// A directory of template overrides, already resolved inside the repository.
    pub templates: Option<TemplateDir>,
    pub allow_empty: bool,
    pub format: Format,
}

#[derive(Debug)]
pub struct Output {
    pub objects: Vec<Value>,
    pub text: String,
    /// Notes for stderr; they never stop rendering.
    pub warnings: Vec<String>,
}

/// Renders the objects, checked, canonical and in output order.
pub fn objects(request: &Request) -> Result<(Vec<Value>, Vec<String>)> {
    let values = values::load(&request.values)?;
    let plan = expose::plan(&values)?;
    let templates = Templates::new(request.templates.clone());
    let mut objects: Vec<(Identity, Value, Location)> = Vec::new();
    for exposure in &plan {
        for rendered in templates.render(exposure)? {
            let object = manifest::canonical(rendered.object);
            objects.push((Identity::of(&object), object, rendered.location));
        }
    }
    // Stable sort: of two equal identities the first planned stays first,
    // so the error below always names the same pair.
    objects.sort_by(|a, b| a.0.order(&b.0));
    if let Some(pair) = objects.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::new(
            ErrorKind::Template,
            format!(
                "{} is rendered twice (first at {}); Argo CD refuses duplicate resources",
                pair[1].0, pair[0].2
            ),
        )
        .at(pair[1].2.clone())
        .hint("give each object its own name (a template override may have fixed one)"));
    }
    let objects = objects.into_iter().map(|(_, object, _)| object).collect();
    Ok((objects, values.warnings))
}

pub fn generate(request: &Request) -> Result<Output> {
    let (objects, warnings) = objects(request)?;
    if objects.is_empty() && !request.allow_empty {
        let mut err = Error::new(
            ErrorKind::Empty,
            "the values select nothing to render; refusing to print an empty stream",
        )
        .key("services")
        .hint("empty output with Argo CD's prune deletes every resource of the app; enable a service, or pass --allow-empty if that is intended");
        if let Some(first) = request.values.first() {
            err = err.at(Location::start_of(&first.name));
        }
        return Err(err);
    }
    let text = match request.format {
        Format::Yaml => yaml::emit_stream(&objects),
        Format::Json => objects
            .iter()
            .map(|o| serde_json::to_string(o).expect("JSON values serialize") + "\n")
            .collect(),
    };
    Ok(Output {
        objects,
        text,
        warnings,
    })
}
