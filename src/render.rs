//! Templates: the default ones embedded in the binary, each overridable by
//! a file of the same name in a user directory.
//!
//! Templates named `*.yaml` print every `{{ }}` as JSON (minijinja's JSON
//! auto-escape), so a value can never add YAML structure. What a template
//! renders is parsed back and checked; only the parsed objects go on, so
//! template whitespace and quoting never reach the output.

use std::sync::Arc;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::direct::Planned;
use crate::error::{Error, ErrorKind, Result};
use crate::expose::Exposure;
use crate::gate::Body;
use crate::guard;
use crate::location::Location;
use crate::manifest;
use crate::overrides::TemplateDir;
use crate::overrides::user_file;
use crate::view::View;
use crate::yaml::{self, MAX_INPUT_BYTES};

/// The defaults, compiled in so the binary works without the repository.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("direct.yaml", include_str!("../templates/direct.yaml")),
    ("ingress.yaml", include_str!("../templates/ingress.yaml")),
    (
        "application.yaml",
        include_str!("../templates/application.yaml"),
    ),
];

/// Instructions one render may execute; bounds a template loop that would
/// otherwise outlive Argo CD's request deadline.
const FUEL: u64 = 2_000_000;

pub struct Templates {
    /// Made on first use: a run whose templates are all written directly
    /// never needs one.
    env: std::sync::OnceLock<Environment<'static>>,
    user_dir: Option<TemplateDir>,
    /// The built-in templates no file in `user_dir` overrides, decided once
    /// per run: their objects are built straight from the context
    /// (`direct`), without rendering text and reading it back.
    built_in: Vec<&'static str>,
    /// Where each embedded name's template comes from, as messages show
    /// it, decided once per run (looking for an override takes system
    /// calls, and a run renders once per service).
    origins: Vec<(&'static str, Arc<str>)>,
}

/// An object a template produced, and where it starts in the rendered
/// text: JSON read back, or ([`Templates::render`]) a built-in object
/// still held as its plan.
pub struct Rendered<T = Value> {
    pub object: T,
    pub location: Location,
}

/// The name a user would look for: the override's path in `user_dir`
/// when `found` there, or the default's.
fn origin(user_dir: Option<&TemplateDir>, name: &str, found: bool) -> Arc<str> {
    match user_dir {
        Some(dir) if found => Arc::from(format!("{}/{name}", dir.shown.trim_end_matches('/'))),
        _ => Arc::from(format!("templates/{name} (embedded)")),
    }
}

fn embedded(name: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

impl Templates {
    /// `user_dir` must already be resolved inside the repository.
    pub fn new(user_dir: Option<TemplateDir>) -> Templates {
        let mut built_in = Vec::new();
        let mut origins = Vec::new();
        for (name, _) in EMBEDDED {
            let found = user_dir.as_ref().map(|dir| user_file(&dir.path, name));
            if !matches!(found, Some(Ok(Some(_)) | Err(_))) {
                built_in.push(*name);
            }
            let overridden = matches!(found, Some(Ok(Some(_))));
            origins.push((*name, origin(user_dir.as_ref(), name, overridden)));
        }
        Templates {
            env: std::sync::OnceLock::new(),
            user_dir,
            built_in,
            origins,
        }
    }

    /// The environment, with the repository's directory as the loader's
    /// first place to look.
    fn environment(&self) -> &Environment<'static> {
        self.env.get_or_init(|| {
            let mut env = Environment::new();
            env.set_undefined_behavior(UndefinedBehavior::Strict);
            env.set_auto_reload(false);
            env.set_fuel(Some(FUEL));
            let dir = self.user_dir.as_ref().map(|d| d.path.clone());
            env.set_loader(move |name| {
                if let Some(dir) = &dir {
                    match user_file(dir, name) {
                        Ok(Some(path)) => {
                            let text = crate::repo::read_file(
                                std::fs::File::open(&path).map_err(|e| {
                                    minijinja::Error::new(
                                        minijinja::ErrorKind::TemplateNotFound,
                                        e.to_string(),
                                    )
                                })?,
                                &path.display().to_string(),
                            )
                            .map_err(|e| {
                                minijinja::Error::new(
                                    minijinja::ErrorKind::InvalidOperation,
                                    e.message,
                                )
                            })?;
                            return Ok(Some(text));
                        }
                        Ok(None) => {}
                        Err(why) => {
                            return Err(minijinja::Error::new(
                                minijinja::ErrorKind::InvalidOperation,
                                why,
                            ));
                        }
                    }
                }
                Ok(embedded(name).map(str::to_string))
            });
            env
        })
    }

    /// The name a user would look for: the override's path or the default's.
    fn origin(&self, name: &str) -> Arc<str> {
        if let Some((_, origin)) = self.origins.iter().find(|(n, _)| *n == name) {
            return origin.clone();
        }
        let found = self
            .user_dir
            .as_ref()
            .is_some_and(|dir| matches!(user_file(&dir.path, name), Ok(Some(_))));
        origin(self.user_dir.as_ref(), name, found)
    }

    fn error(&self, err: &minijinja::Error, template: &str, key_path: &str) -> Error {
        let name = err.name().unwrap_or(template);
        let line = err.line().unwrap_or(1) as u64;
        let mut message = format!("template failed for {key_path}: {}", err.kind());
        if let Some(detail) = err.detail() {
            message.push_str(": ");
            message.push_str(detail);
        }
        let hint = match err.kind() {
            minijinja::ErrorKind::UndefinedError => {
                "every variable must exist; test optional ones with `is defined`"
            }
            minijinja::ErrorKind::OutOfFuel => {
                "the template runs too long; look for a loop that does not end"
            }
            _ => "fix the template at that line",
        };
        Error::new(ErrorKind::Template, message)
            .at(Location::new(&self.origin(name), line, 1))
            .hint(hint)
    }

    /// Renders one exposure into the objects it describes. A built-in
    /// template nothing overrides is not rendered as text: its object is
    /// written from the plan as the template lays it out (the property test
    /// `direct_objects_equal_rendered_ones` holds the two together). An
    /// override that renders one JSON object, as the built-ins are written
    /// to, is read back as a [`Tree`].
    pub fn render(&self, exposure: &Exposure) -> Result<Vec<Rendered<Body>>> {
        let name = exposure.template;
        if !(self.built_in.contains(&name) && crate::direct::has_layout(name)) {
            let tags = exposure.service().tags_annotation();
            let key_path = exposure.key_path();
            let (text, shown) = self.render_string(name, &exposure.context(&tags), &key_path)?;
            if let Some(tree) = yaml::parse_json_tree(&text, &shown) {
                let tree = tree.map_err(not_yaml)?;
                let location = Location::start_of(&shown);
                checked(View::Tree(&tree), location.clone())?;
                return Ok(vec![Rendered {
                    object: Body::Tree(tree),
                    location,
                }]);
            }
            // Not one JSON object: read as YAML, without trying JSON again.
            return Ok(read_back(yaml::parse_yaml_manifests(&text, &shown))?
                .into_iter()
                .map(|r| Rendered {
                    object: Body::Json(r.object),
                    location: r.location,
                })
                .collect());
        }
        // Not overridden, so the origin is the embedded one. A planned
        // object always passes `manifest::check` (its keys are the
        // layout's; the property test holds it), so none is made here.
        Ok(vec![Rendered {
            object: Body::Planned(Planned::new(exposure)),
            location: Location::start_of(&Arc::from(format!(
                "templates/{name} (embedded) (rendered for {})",
                exposure.key_path()
            ))),
        }])
    }

    /// Renders template `name` with `context` into checked objects;
    /// `key_path` names what it renders for, in messages.
    pub fn render_named(
        &self,
        name: &str,
        context: Value,
        key_path: &str,
    ) -> Result<Vec<Rendered>> {
        self.render_text(name, &context, key_path)
    }

    /// Renders template `name` as text through minijinja and reads the text
    /// back as JSON: the contract of the built-in templates.
    pub fn render_text(
        &self,
        name: &str,
        context: &impl serde::Serialize,
        key_path: &str,
    ) -> Result<Vec<Rendered>> {
        let (text, shown) = self.render_string(name, context, key_path)?;
        read_back(yaml::parse_manifests(&text, &shown))
    }

    /// Renders template `name` as text, with the name messages give the
    /// text.
    fn render_string(
        &self,
        name: &str,
        context: &impl serde::Serialize,
        key_path: &str,
    ) -> Result<(String, Arc<str>)> {
        // Templates from the repository render under the memory and
        // signal watch; the embedded ones are ours.
        let watch = self.user_dir.as_ref().map(|dir| {
            guard::arm(format!(
                "{}/{name} (rendered for {key_path})",
                dir.shown.trim_end_matches('/')
            ))
        });
        let text = self
            .environment()
            .get_template(name)
            .and_then(|t| t.render(Serde(context)))
            .map_err(|e| self.error(&e, name, key_path))?;
        drop(watch);
        let shown: Arc<str> = Arc::from(format!("{} (rendered for {key_path})", self.origin(name)));
        if text.len() > MAX_INPUT_BYTES {
            return Err(Error::new(
                ErrorKind::Template,
                format!(
                    "template {name} rendered {} bytes for {key_path}, more than the limit of {MAX_INPUT_BYTES}",
                    text.len()
                ),
            )
            .at(Location::start_of(&shown))
            .hint("a template lays out one object per service; look for a loop that repeats text"));
        }
        Ok((text, shown))
    }
}

/// A rendered text's objects as read, each checked.
fn read_back(docs: Result<Vec<yaml::Document>>) -> Result<Vec<Rendered>> {
    docs.map_err(not_yaml)?
        .into_iter()
        .map(|doc| {
            checked(View::Json(&doc.value), doc.location.clone())?;
            Ok(Rendered {
                object: doc.value,
                location: doc.location,
            })
        })
        .collect()
}

/// A reading error of a rendered text, as a template's error.
fn not_yaml(e: Error) -> Error {
    Error {
        kind: ErrorKind::Template,
        ..e
    }
    .hint("the template rendered text that is not YAML; build whole values inside {{ }} instead of gluing text to them")
}

/// `object`, rendered at `location`, if the plugin may emit it.
fn checked(object: View, location: Location) -> Result<()> {
    manifest::check(object).map_err(|why| {
        Error::new(ErrorKind::Template, why)
            .at(location)
            .hint("a template renders only Kubernetes objects, and never fields the operator owns")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backing, BackingPort};
    use crate::expose::Fields;
    use crate::values::{Backend, Mode, PortRef, Service};
    use crate::view::View;
    use proptest::prelude::*;

    /// Strings that test a layout: YAML's special words and indicators,
    /// quotes and escapes, line and Unicode separators, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9-]{1,20}",
            Just("yes".to_string()),
            Just("null".to_string()),
            Just("0123".to_string()),
            Just("- item".to_string()),
            Just("key: value".to_string()),
            Just("#comment".to_string()),
            Just("\"quoted\" and 'single'".to_string()),
            Just("back\\slash".to_string()),
            Just("line\nbreak\ttab".to_string()),
            Just("sep\u{2028}arator\u{85}".to_string()),
            Just("{{ not a template }}".to_string()),
            "\\PC{0,12}",
        ]
    }

    fn map() -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
        proptest::collection::btree_map(text(), text(), 0..4)
    }

    fn port() -> impl Strategy<Value = PortRef> {
        prop_oneof![
            (1u16..=65535).prop_map(PortRef::Number),
            "[a-z]{1,15}".prop_map(PortRef::Name),
        ]
    }

    /// A service and its backing, with hostile strings everywhere the
    /// plan copies one into an object.
    fn planned() -> impl Strategy<Value = (Service, Backing)> {
        (
            (text(), text(), text(), text()),
            (
                proptest::collection::vec(text(), 0..3),
                proptest::option::of(text()),
                proptest::option::of(text()),
            ),
            map(),
            proptest::collection::vec((proptest::option::of(text()), 1u16..=65535, port()), 1..3),
            (
                proptest::option::of(proptest::collection::vec(text(), 0..3)),
                proptest::option::of(text()),
                port(),
            ),
        )
            .prop_map(
                |(
                    (name, namespace, hostname, backend),
                    (tags, proxy_group, proxy_class),
                    selector,
                    ports,
                    (families, policy, backend_port),
                )| {
                    let at = Location::start_of(&Arc::from("values.yaml"));
                    let service = Service {
                        name: name.into(),
                        location: at.clone(),
                        namespace: namespace.into(),
                        mode: Mode::Direct,
                        hostname: hostname.into(),
                        tags,
                        proxy_group: proxy_group.map(Into::into),
                        proxy_class: proxy_class.map(Into::into),
                        backend: Backend {
                            name: backend.into(),
                            ports: vec![backend_port],
                            location: at,
                        },
                        selector: None,
                        target_port: None,
                        preset: None,
                        release: None,
                    };
                    let mut ip = serde_json::Map::new();
                    if let Some(families) = families {
                        ip.insert("ipFamilies".into(), families.into());
                    }
                    if let Some(policy) = policy {
                        ip.insert("ipFamilyPolicy".into(), policy.into());
                    }
                    let backing = Backing {
                        selector: Arc::new(selector.into_iter().collect()),
                        ip,
                        ports: ports
                            .into_iter()
                            .map(|(name, port, target)| BackingPort { name, port, target })
                            .collect(),
                    };
                    (service, backing)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// The planned objects are what the embedded templates render and
        /// read back, in the canonical form every object takes, and read
        /// and print as that JSON does: editing a template without
        /// `direct.rs` (or the reverse) fails here.
        #[test]
        fn direct_objects_equal_rendered_ones((service, backing) in planned()) {
            let (service, backing) = (Arc::new(service), Arc::new(backing));
            let templates = Templates::new(None);
            let exposures = [
                Exposure { service: 0, template: "direct.yaml", fields: Fields::Direct { service: &service, backing: &backing } },
                Exposure { service: 0, template: "ingress.yaml", fields: Fields::Ingress { service: &service } },
            ];
            for exposure in &exposures {
                let rendered = templates
                    .render_text(exposure.template, &exposure.context(&exposure.service().tags_annotation()), &exposure.key_path())
                    .unwrap();
                prop_assert_eq!(rendered.len(), 1);
                let text_object = manifest::canonical(rendered[0].object.clone());
                let planned = Planned::new(exposure);
                let direct = planned.to_value();
                // Already canonical, and the canonical form of the template's.
                prop_assert_eq!(&manifest::canonical(direct.clone()), &direct);
                prop_assert_eq!(manifest::check(&direct), Ok(()));
                prop_assert_eq!(Some(planned.api_version()), direct["apiVersion"].as_str());
                prop_assert_eq!(&direct, &text_object, "{}", exposure.template);
                // Every question the gate asks gets the JSON's answer.
                let node = planned.node();
                crate::view::agree(View::of(&node), View::Json(&text_object));
                prop_assert_eq!(planned.identity(), manifest::Identity::of(&text_object));
                // The bytes written out are the same too, as YAML and as JSON.
                prop_assert_eq!(
                    yaml::emit_each([View::of(&node)], |w, v| w.document(v)),
                    yaml::emit(&text_object)
                );
                prop_assert_eq!(
                    serde_json::to_string(&View::of(&node)).unwrap(),
                    serde_json::to_string(&text_object).unwrap()
                );
                let via = templates.render(exposure).unwrap();
                prop_assert_eq!(&via[0].object, &Body::Planned(planned));
                prop_assert_eq!(&via[0].location, &rendered[0].location);
            }
        }
    }
}
