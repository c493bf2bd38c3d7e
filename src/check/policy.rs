//! Checks against the tailnet policy file (HuJSON) and the operator's tags.

use super::*;

/// Parses a tailnet policy file: HuJSON (JSON with comments and trailing
/// commas), and nothing looser.
pub fn parse_policy(source: &Source) -> Result<Value> {
    let options = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    jsonc_parser::parse_to_serde_value::<Option<Value>>(&source.text, &options)
        .map_err(|e| {
            Error::new(
                ErrorKind::Syntax,
                format!("not a policy file (HuJSON): {}", e.kind()),
            )
            .at(Location::new(
                &source.name,
                e.line_display() as u64,
                e.column_display() as u64,
            ))
            .hint("a policy file is JSON with // and /* */ comments and trailing commas allowed")
        })?
        .ok_or_else(|| {
            Error::new(ErrorKind::Syntax, "the policy file is empty")
                .at(Location::start_of(&source.name))
        })
}

pub(super) fn policy_checks(
    objects: &[Value],
    extra: &Extra,
    out: &mut Vec<Diagnostic>,
) -> Result<()> {
    let Some(source) = &extra.policy else {
        return Ok(());
    };
    let policy = parse_policy(source)?;
    let at = Location::start_of(&source.name);
    let (operator_tags, default_proxy_tags) = match &extra.operator_values {
        Some(v) => {
            let values = parse_yaml(v, "operator values")?;
            let operator: Vec<String> = values["operatorConfig"]["defaultTags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_else(|| vec!["tag:k8s-operator".into()]);
            let proxy: Vec<String> = match &values["proxyConfig"]["defaultTags"] {
                Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                _ => vec!["tag:k8s".into()],
            };
            (operator, proxy)
        }
        None => (vec!["tag:k8s-operator".into()], vec!["tag:k8s".into()]),
    };
    let owners = policy["tagOwners"].as_object().cloned().unwrap_or_default();
    for tag in &operator_tags {
        if !owners.contains_key(tag) {
            out.push(
                Diagnostic::new(
                    "TS102",
                    format!("the operator's tag {tag} is not in tagOwners"),
                )
                .at(Some(&at)),
            );
        }
    }
    // Every tag a proxy will carry.
    let mut proxy_tags: BTreeSet<String> = BTreeSet::new();
    let mut ha = false;
    let mut funnel = false;
    for object in objects.iter().filter(|o| claim(o).is_some()) {
        match annotation(object, ANNOTATION_TAGS) {
            Some(tags) => proxy_tags.extend(tags.split(',').map(str::to_string)),
            None => proxy_tags.extend(default_proxy_tags.iter().cloned()),
        }
        ha |= annotation(object, ANNOTATION_PROXY_GROUP).is_some_and(|g| !g.is_empty());
        funnel |= annotation(object, "tailscale.com/funnel") == Some("true");
    }
    for tag in &proxy_tags {
        let owned = owners
            .get(tag)
            .and_then(Value::as_array)
            .is_some_and(|list| {
                list.iter().any(|o| {
                    o.as_str()
                        .is_some_and(|o| operator_tags.iter().any(|t| t == o))
                })
            });
        if !owned {
            out.push(
                Diagnostic::new(
                    "TS101",
                    format!(
                        "proxy tag {tag} is not owned by the operator's tag {}",
                        operator_tags.join(", ")
                    ),
                )
                .at(Some(&at)),
            );
        }
    }
    if let Some(approvers) = policy["autoApprovers"].as_object() {
        for key in approvers
            .keys()
            .filter(|k| !["routes", "exitNode", "services"].contains(&k.as_str()))
        {
            out.push(
                Diagnostic::new("TS105", format!("autoApprovers has a section {key:?}"))
                    .at(Some(&at)),
            );
        }
    }
    if ha {
        let covered = policy["autoApprovers"]["services"]
            .as_object()
            .is_some_and(|s| {
                s.values().any(|v| {
                    v.as_array().is_some_and(|a| {
                        a.iter()
                            .any(|t| t.as_str().is_some_and(|t| proxy_tags.contains(t)))
                    })
                })
            });
        if !covered {
            out.push(Diagnostic::new("TS103", "ProxyGroup-backed exposure, but autoApprovers.services approves none of the proxies' tags").at(Some(&at)));
        }
    }
    if funnel {
        let granted = policy["nodeAttrs"].as_array().is_some_and(|attrs| {
            attrs.iter().any(|a| {
                a["attr"]
                    .as_array()
                    .is_some_and(|x| x.iter().any(|v| v == "funnel"))
                    && a["target"].as_array().is_some_and(|t| {
                        t.iter().any(|v| {
                            v.as_str()
                                .is_some_and(|v| proxy_tags.contains(v) || v == "*")
                        })
                    })
            })
        });
        if !granted {
            out.push(Diagnostic::new("TS104", "an Ingress asks for Funnel, but nodeAttrs grants funnel to none of the proxies' tags").at(Some(&at)));
        }
    }
    out.push(Diagnostic::new("TS199", "not checkable from files: OAuth client scopes and tag, HTTPS and MagicDNS, device approval, tailnet lock").at(Some(&at)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_accepts_hujson_and_refuses_json5() {
        let ok = source(
            "p.hujson",
            "{\n  // comment\n  \"tagOwners\": {\"tag:k8s\": [\"tag:k8s-operator\"],},\n}\n".into(),
        );
        assert!(parse_policy(&ok).is_ok());
        let json5 = source("p.hujson", "{\n  tagOwners: {}\n}\n".into());
        let err = parse_policy(&json5).unwrap_err();
        assert_eq!(err.location.unwrap().line, 2);
    }
}
