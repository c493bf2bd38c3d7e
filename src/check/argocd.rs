//! Checks against the Argo CD AppProject and Application.

use super::*;

/// Argo CD matches project destinations and ignoreDifferences kinds as
/// globs, as it matches a directory source's include.
fn glob(pattern: &str, text: &str) -> bool {
    crate::glob::matches(pattern, text)
}

/// An Application's sync options.
pub(crate) fn sync_options(application: &Value) -> Vec<&str> {
    application
        .pointer("/spec/syncPolicy/syncOptions")
        .and_then(Value::as_array)
        .map(|o| o.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A sync option that deletes and recreates what it syncs.
pub(crate) fn recreates(option: &str) -> bool {
    matches!(option.trim(), "Replace=true" | "Force=true")
}

/// The JSON pointers an Application's `ignoreDifferences` ignores on the
/// object of this group, kind, namespace and name.
pub(crate) fn ignored_pointers(
    application: &Value,
    group: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> BTreeSet<String> {
    application
        .pointer("/spec/ignoreDifferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|h| {
            h["group"].as_str().unwrap_or("") == group
                && glob(h["kind"].as_str().unwrap_or(""), kind)
                && h["name"].as_str().is_none_or(|n| n.is_empty() || n == name)
                && h["namespace"]
                    .as_str()
                    .is_none_or(|n| n.is_empty() || n == namespace)
        })
        .flat_map(|h| h["jsonPointers"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

pub(super) fn argocd_checks(
    objects: &[Value],
    request: &Request,
    extra: &Extra,
    out: &mut Vec<Diagnostic>,
) -> Result<()> {
    if let Some(source) = &extra.project {
        let project = parse_yaml(source, "AppProject")?;
        let at = Location::start_of(&source.name);
        let patterns: Vec<String> = project["spec"]["destinations"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|x| x["namespace"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let namespaces: BTreeSet<String> = objects
            .iter()
            .filter_map(|o| {
                text(o, &["metadata", "namespace"])
                    .map(str::to_string)
                    .or_else(|| request.app.namespace.clone())
            })
            .collect();
        for ns in namespaces {
            if !patterns.iter().any(|p| glob(p, &ns)) {
                out.push(
                    Diagnostic::new(
                        "TS201",
                        format!(
                            "namespace {ns} is not among the project's destinations ({})",
                            patterns.join(", ")
                        ),
                    )
                    .at(Some(&at)),
                );
            }
        }
    }
    if let Some(source) = &extra.application {
        let application = parse_yaml(source, "Application")?;
        let at = Location::start_of(&source.name);
        let spec = &application["spec"];
        let destination = spec["destination"]["namespace"]
            .as_str()
            .or(request.app.namespace.as_deref());
        let needed = ownership::ignore_differences(objects, destination);
        let self_heal = spec["syncPolicy"]["automated"]["selfHeal"]
            .as_bool()
            .unwrap_or(false);
        for entry in &needed {
            let pointers = ignored_pointers(
                &application,
                &entry.group,
                &entry.kind,
                &entry.namespace,
                &entry.name,
            );
            let missing: Vec<&str> = entry
                .json_pointers
                .iter()
                .filter(|p| !pointers.contains(*p))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                let severity = if self_heal {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                out.push(
                    Diagnostic::new(
                        "TS202",
                        format!(
                            "{} {}/{}: {} not ignored{}",
                            entry.kind,
                            entry.namespace,
                            entry.name,
                            missing.join(", "),
                            if self_heal {
                                " while selfHeal is on"
                            } else {
                                ""
                            }
                        ),
                    )
                    .severity(severity)
                    .at(Some(&at)),
                );
            }
        }
        let options = sync_options(&application);
        if !needed.is_empty() && !options.contains(&"RespectIgnoreDifferences=true") {
            out.push(
                Diagnostic::new(
                    "TS204",
                    "spec.syncPolicy.syncOptions lacks RespectIgnoreDifferences=true",
                )
                .at(Some(&at)),
            );
        }
        if options.iter().any(|o| recreates(o)) && objects.iter().any(|o| claim(o).is_some()) {
            out.push(Diagnostic::new("TS203", "the Application syncs with Replace=true or Force=true and renders exposed Services").at(Some(&at)));
        }
    }
    for object in objects.iter().filter(|o| claim(o).is_some()) {
        if let Some(opts) = annotation(object, "argocd.argoproj.io/sync-options")
            && opts.split(',').any(recreates)
        {
            out.push(
                Diagnostic::new(
                    "TS203",
                    format!("argocd.argoproj.io/sync-options is {opts:?}"),
                )
                .object(Identity::of(object).to_string()),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_argo_cd_style_patterns() {
        assert!(glob("*", "teleport"));
        assert!(glob("team-*", "team-a"));
        assert!(!glob("team-*", "other"));
        assert!(glob("teleport", "teleport"));
        assert!(glob("*-prod", "db-prod"));
    }
}
