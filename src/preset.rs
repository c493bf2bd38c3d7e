//! Chart presets: what a chart's Service selects and where it forwards,
//! kept as data (YAML), for when the chart's rendered manifests are not
//! given. Read like any values file, never rendered as a template.
//!
//! The release name is the one thing that varies: `releaseLabels` names
//! the selector labels whose value is the Helm release.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::labels::Labels;
use crate::location::Location;
use crate::overrides::{TemplateDir, user_file};
use crate::yaml;

/// The presets compiled into the binary.
pub const EMBEDDED: &[(&str, &str)] = &[(
    "teleport-cluster",
    include_str!("../templates/presets/teleport-cluster.yaml"),
)];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PresetFile {
    /// For people reading the file; not used.
    #[serde(default, rename = "description")]
    _description: String,
    selector: BTreeMap<String, String>,
    #[serde(default)]
    release_labels: Vec<String>,
    ports: Vec<Value>,
}

/// A preset for one release: its selector and the backend Service's ports.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub selector: Labels,
    pub ports: Vec<Value>,
    /// Where it was read, for messages.
    pub location: Location,
}

fn text_of(name: &str, dir: Option<&TemplateDir>) -> Result<Option<(String, Arc<str>)>> {
    let file = format!("presets/{name}.yaml");
    if let Some(dir) = dir {
        let found = user_file(&dir.path, &file).map_err(|why| {
            Error::new(ErrorKind::Io, why).hint("keep presets inside the --templates directory")
        })?;
        if let Some(path) = found {
            let shown = format!("{}/{file}", dir.shown.trim_end_matches('/'));
            let handle = std::fs::File::open(&path).map_err(|e| Error::io(&shown, &e))?;
            let text = crate::repo::read_file(handle, &shown)?;
            return Ok(Some((text, Arc::from(shown))));
        }
    }
    Ok(EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, text)| {
        (
            text.to_string(),
            Arc::from(format!("templates/{file} (embedded)")),
        )
    }))
}

/// Loads preset `name` (a `--templates` directory's `presets/<name>.yaml`
/// first, then the embedded ones) for `release`. `None` when there is none.
pub fn load(name: &str, dir: Option<&TemplateDir>, release: &str) -> Result<Option<Preset>> {
    let Some((text, shown)) = text_of(name, dir)? else {
        return Ok(None);
    };
    let Some(node) = yaml::parse_single(&text, &shown)? else {
        return Err(
            Error::new(ErrorKind::Template, format!("preset {name:?} is empty"))
                .at(Location::start_of(&shown)),
        );
    };
    let file: PresetFile = serde_json::from_value(node.to_json()?).map_err(|e| {
        Error::new(
            ErrorKind::Template,
            format!("preset {name:?} does not fit the preset shape: {e}"),
        )
        .at(node.location.clone())
        .hint("a preset has `selector` (labels), optional `releaseLabels` (labels whose value is the release name) and `ports` ([{name, port, targetPort}])")
    })?;
    let mut selector: Labels = file.selector.into_iter().collect();
    for label in file.release_labels {
        selector.insert(label, release.to_string());
    }
    Ok(Some(Preset {
        selector,
        ports: file.ports,
        location: node.location,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_fills_the_release_labels() {
        let preset = load("teleport-cluster", None, "tp").unwrap().unwrap();
        assert_eq!(&preset.selector["app.kubernetes.io/instance"], "tp");
        assert_eq!(&preset.selector["app.kubernetes.io/component"], "proxy");
        assert!(load("nothing-here", None, "x").unwrap().is_none());
    }
}
