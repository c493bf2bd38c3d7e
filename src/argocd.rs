//! The Argo CD side of the CMP contract: parameters and settings in, the
//! parameter announcement out.
//!
//! `ARGOCD_APP_PARAMETERS` (JSON) is the canonical input; absent, `null` and
//! `[]` all mean "none". A setting is then looked up as `PARAM_<NAME>`,
//! `ARGOCD_ENV_<NAME>`, then `<NAME>`. Argo CD never sends the defaults it
//! announces, so they are applied here.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;

/// The parameters this plugin understands. plugin.yaml announces the same
/// ones (a test keeps the two in step).
pub const VALUES_FILES: &str = "values-files";
pub const UPSTREAM_FILES: &str = "upstream-files";
pub const STRICT: &str = "strict";
/// Informational: the services of the values file and how each is exposed.
pub const SERVICES: &str = "services";

/// One entry of `ARGOCD_APP_PARAMETERS`. An entry may carry more than one
/// of `string`, `array` and `map`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    #[serde(default)]
    pub string: Option<String>,
    #[serde(default)]
    pub array: Option<Vec<String>>,
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
}

/// The environment of one run, as a lookup. Tests pass a map; the binary
/// passes the process environment.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Argo CD's escaping for `PARAM_` names: upper case, and every character
/// outside `[A-Z0-9_]` becomes `_`.
pub fn escaped(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Parses `ARGOCD_APP_PARAMETERS`.
pub fn parse_parameters(text: Option<&str>) -> Result<Vec<Parameter>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let file: Arc<str> = Arc::from("ARGOCD_APP_PARAMETERS");
    let parsed: Option<Vec<Parameter>> = serde_json::from_str(text).map_err(|e| {
        Error::new(ErrorKind::Usage, format!("not a JSON list of parameters: {e}"))
            .at(Location::new(&file, e.line() as u64, e.column() as u64))
            .hint("Argo CD sends [{\"name\": ..., \"string\"|\"array\"|\"map\": ...}]; check the Application's spec.source.plugin.parameters")
    })?;
    Ok(parsed.unwrap_or_default())
}

/// The settings of one run, resolved from parameters and environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub values_files: Vec<String>,
    pub upstream_files: Vec<String>,
    pub strict: bool,
    /// Where the settings came from, for notes on stderr.
    pub notes: Vec<String>,
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `PARAM_<N>_<i>` for i = 0, 1, … as long as they exist.
fn param_array(env: &dyn Env, name: &str) -> Option<Vec<String>> {
    let prefix = format!("PARAM_{}", escaped(name));
    let items: Vec<String> = (0..)
        .map_while(|i| env.get(&format!("{prefix}_{i}")))
        .collect();
    (!items.is_empty()).then_some(items)
}

/// A list setting: the JSON parameter, `PARAM_<N>_<i>`, then a
/// comma-separated `PARAM_<N>`, `ARGOCD_ENV_<N>` or `<N>`.
fn list_setting(
    params: &[Parameter],
    env: &dyn Env,
    name: &str,
    notes: &mut Vec<String>,
) -> Option<Vec<String>> {
    if let Some(p) = params.iter().find(|p| p.name == name) {
        notes.push(format!("{name} from ARGOCD_APP_PARAMETERS"));
        return Some(match (&p.array, &p.string) {
            (Some(items), _) => items.clone(),
            (None, Some(text)) => split_list(text),
            (None, None) => Vec::new(),
        });
    }
    if let Some(items) = param_array(env, name) {
        notes.push(format!("{name} from PARAM_{}_<i>", escaped(name)));
        return Some(items);
    }
    scalar_env(env, name, notes).map(|text| split_list(&text))
}

fn scalar_env(env: &dyn Env, name: &str, notes: &mut Vec<String>) -> Option<String> {
    let upper = escaped(name);
    for key in [
        format!("PARAM_{upper}"),
        format!("ARGOCD_ENV_{upper}"),
        upper.clone(),
    ] {
        if let Some(value) = env.get(&key) {
            notes.push(format!("{name} from {key}"));
            return Some(value);
        }
    }
    None
}

fn parse_bool(name: &str, text: &str) -> Result<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(Error::new(
            ErrorKind::Usage,
            format!("parameter {name} is {other:?}, not true or false"),
        )
        .key(name.to_string())
        .hint("set it to \"true\" or \"false\"")),
    }
}

/// Resolves the settings. Unknown parameter names are an error, so a typo
/// in an Application cannot silently change nothing.
pub fn settings(env: &dyn Env) -> Result<Settings> {
    let params = parse_parameters(env.get("ARGOCD_APP_PARAMETERS").as_deref())?;
    let known = [VALUES_FILES, UPSTREAM_FILES, STRICT, SERVICES];
    if let Some(unknown) = params.iter().find(|p| !known.contains(&p.name.as_str())) {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("unknown parameter {:?}", unknown.name),
        )
        .at(Location::start_of(&Arc::from("ARGOCD_APP_PARAMETERS")))
        .key(unknown.name.clone())
        .hint(format!("this plugin takes {}", known.join(", "))));
    }
    let mut notes = Vec::new();
    if params.iter().any(|p| p.name == SERVICES) {
        notes.push(
            "the services parameter only shows what the values file exposes; it changes nothing"
                .into(),
        );
    }
    let strict = match params.iter().find(|p| p.name == STRICT) {
        Some(p) => parse_bool(STRICT, p.string.as_deref().unwrap_or(""))?,
        None => match scalar_env(env, STRICT, &mut notes) {
            Some(text) => parse_bool(STRICT, &text)?,
            None => false,
        },
    };
    Ok(Settings {
        values_files: list_setting(&params, env, VALUES_FILES, &mut notes)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec!["values.yaml".into()]),
        upstream_files: list_setting(&params, env, UPSTREAM_FILES, &mut notes).unwrap_or_default(),
        strict,
        notes,
    })
}

/// One entry of the parameter announcement, in Argo CD's JSON shape: every
/// map and array value a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tooltip: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
}

impl Announcement {
    fn new(
        name: &str,
        title: &str,
        tooltip: &str,
        item_type: &str,
        collection_type: &str,
    ) -> Announcement {
        Announcement {
            name: name.into(),
            title: Some(title.into()),
            tooltip: Some(tooltip.into()),
            required: false,
            item_type: Some(item_type.into()),
            collection_type: Some(collection_type.into()),
            string: None,
            array: None,
            map: None,
        }
    }
}

/// The static announcements: the settings above with their defaults.
pub fn static_announcements() -> Vec<Announcement> {
    vec![
        Announcement {
            array: Some(vec!["values.yaml".into()]),
            ..Announcement::new(
                VALUES_FILES,
                "Values files",
                "Values files in the application directory, merged in order as Helm merges -f files",
                "string",
                "array",
            )
        },
        Announcement {
            array: Some(Vec::new()),
            ..Announcement::new(
                UPSTREAM_FILES,
                "Upstream manifests",
                "Manifest files (a chart's rendered output) to post-process, in addition to upstream: in the values",
                "string",
                "array",
            )
        },
        Announcement {
            string: Some("false".into()),
            ..Announcement::new(
                STRICT,
                "Strict",
                "\"true\": refuse to repair upstream objects or to warn; every repair and warning fails the sync",
                "boolean",
                "string",
            )
        },
    ]
}

/// The dynamic announcement: the static ones plus, when the values are
/// known, the services they expose.
pub fn announcements(services: Option<BTreeMap<String, String>>) -> Vec<Announcement> {
    let mut list = static_announcements();
    if let Some(map) = services {
        list.push(Announcement {
            map: Some(map),
            ..Announcement::new(
                SERVICES,
                "Exposed services",
                "What the values file exposes on the tailnet (service: mode hostname); change the values file to change it",
                "string",
                "map",
            )
        });
    }
    list
}

/// Announcements as Argo CD reads them: a JSON array, at least `[]`.
pub fn announcement_json(list: &[Announcement]) -> String {
    let value: Value = serde_json::to_value(list).expect("announcements serialize");
    crate::escape::json(serde_json::to_string(&value).expect("JSON values serialize")) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn absent_null_and_empty_parameters_mean_defaults() {
        for text in [None, Some("null"), Some("[]"), Some("  ")] {
            let mut e = env(&[]);
            if let Some(t) = text {
                e.insert("ARGOCD_APP_PARAMETERS".into(), t.into());
            }
            let s = settings(&e).unwrap();
            assert_eq!(
                (s.values_files, s.upstream_files, s.strict),
                (vec!["values.yaml".to_string()], vec![], false)
            );
        }
    }

    #[test]
    fn json_parameters_win_over_param_variables() {
        let e = env(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"values-files","array":["a.yaml","b.yaml"]},{"name":"strict","string":"true"},{"name":"services","map":{"x":"y"}}]"#,
            ),
            ("PARAM_VALUES_FILES_0", "ignored.yaml"),
        ]);
        let s = settings(&e).unwrap();
        assert_eq!(s.values_files, ["a.yaml", "b.yaml"]);
        assert!(s.strict);
    }

    #[test]
    fn settings_fall_back_param_then_argocd_env_then_plain() {
        let s = settings(&env(&[
            ("PARAM_VALUES_FILES_0", "p0.yaml"),
            ("PARAM_VALUES_FILES_1", "p1.yaml"),
            ("ARGOCD_ENV_VALUES_FILES", "e.yaml"),
        ]))
        .unwrap();
        assert_eq!(s.values_files, ["p0.yaml", "p1.yaml"]);
        let s = settings(&env(&[
            ("ARGOCD_ENV_VALUES_FILES", "e1.yaml, e2.yaml"),
            ("VALUES_FILES", "x.yaml"),
        ]))
        .unwrap();
        assert_eq!(s.values_files, ["e1.yaml", "e2.yaml"]);
        let s = settings(&env(&[("STRICT", "true")])).unwrap();
        assert!(s.strict);
    }

    #[test]
    fn malformed_parameters_quote_the_json_position() {
        let err = settings(&env(&[(
            "ARGOCD_APP_PARAMETERS",
            "[{\"name\": \"strict\",]",
        )]))
        .unwrap_err();
        let loc = err.location.unwrap();
        assert_eq!((&*loc.file, loc.line), ("ARGOCD_APP_PARAMETERS", 1));
        assert!(loc.column > 1);
    }

    #[test]
    fn unknown_parameters_are_errors() {
        let err = settings(&env(&[(
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"value-files","array":[]}]"#,
        )]))
        .unwrap_err();
        assert!(err.message.contains("value-files"));
    }

    #[test]
    fn escaping_follows_argo_cd() {
        assert_eq!(escaped("values-files"), "VALUES_FILES");
        assert_eq!(escaped("image.tag"), "IMAGE_TAG");
    }

    #[test]
    fn announcement_values_are_strings() {
        let json: Value =
            serde_json::from_str(&announcement_json(&announcements(Some(BTreeMap::from([
                ("a".into(), "direct a".into()),
            ])))))
            .unwrap();
        for entry in json.as_array().unwrap() {
            for key in ["array", "map"] {
                if let Some(v) = entry.get(key) {
                    let strings = match v {
                        Value::Array(items) => items.iter().all(Value::is_string),
                        Value::Object(map) => map.values().all(Value::is_string),
                        _ => false,
                    };
                    assert!(strings, "{entry}");
                }
            }
        }
        assert_eq!(announcement_json(&[]), "[]\n");
    }
}
