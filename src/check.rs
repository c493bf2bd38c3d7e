//! `check`: the conflicts and auth failures visible in the files, before
//! they reach the cluster.
//!
//! Manifest checks run on the rendered output and on the upstream input as
//! it was before the split repaired it (what the chart would deploy
//! without this plugin). Optional inputs add policy checks (the tailnet
//! policy file), Argo CD checks (AppProject, Application) and a reading of
//! pasted logs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::backend::{component, find_service, matching_workloads, pod_template};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, ErrorKind, Result};
use crate::expose::{
    ANNOTATION_EXPOSE, ANNOTATION_HOSTNAME, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, INGRESS_CLASS,
    LABEL_PROXY_CLASS, LOAD_BALANCER_CLASS,
};
use crate::generate::{self, Request};
use crate::location::Location;
use crate::manifest::{Identity, OPERATOR_LABEL_PREFIXES};
use crate::names;
use crate::ownership;
use crate::upstream::Object;
use crate::values::{Mode, Source};
use crate::yaml;

/// Everything `check` reads besides what `generate` reads.
#[derive(Default)]
pub struct Extra {
    /// The tailnet policy file (HuJSON).
    pub policy: Option<Source>,
    /// The operator's Helm values (operatorConfig.defaultTags, proxyConfig.defaultTags).
    pub operator_values: Option<Source>,
    pub project: Option<Source>,
    pub application: Option<Source>,
    /// Pasted operator or proxy logs.
    pub logs: Vec<Source>,
    /// The operator version as (major, minor), e.g. (1, 90).
    pub operator_version: Option<(u32, u32)>,
}

fn text<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(object, |v, k| v.get(k))?.as_str()
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    text(object, &["metadata", "annotations", key])
}

/// An object under examination, with where it is written.
struct Subject {
    object: Value,
    location: Option<Location>,
}

impl Subject {
    fn id(&self) -> Identity {
        Identity::of(&self.object)
    }
}

/// The hostname an object claims on the tailnet, if the operator would give
/// it a device.
fn claim(object: &Value) -> Option<String> {
    let id = Identity::of(object);
    match id.kind.as_str() {
        "Service" => {
            let exposed = annotation(object, ANNOTATION_EXPOSE) == Some("true")
                || text(object, &["spec", "loadBalancerClass"]) == Some(LOAD_BALANCER_CLASS);
            if !exposed || crate::split::is_egress(object) {
                return None;
            }
            Some(
                annotation(object, ANNOTATION_HOSTNAME)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}-{}", id.namespace, id.name)),
            )
        }
        "Ingress" if text(object, &["spec", "ingressClassName"]) == Some(INGRESS_CLASS) => Some(
            object["spec"]["tls"][0]["hosts"][0]
                .as_str()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
                .unwrap_or_else(|| format!("{}-{}-ingress", id.namespace, id.name)),
        ),
        _ => None,
    }
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The selector through which an exposing object reaches pods.
fn selector_of(object: &Value, all: &[Object]) -> Option<(String, BTreeMap<String, String>)> {
    let id = Identity::of(object);
    match id.kind.as_str() {
        "Service" => Some((id.namespace, string_map(&object["spec"]["selector"])))
            .filter(|(_, s)| !s.is_empty()),
        "Ingress" => {
            let backend =
                object["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
                    .as_str()?;
            let service = find_service(all, &id.namespace, backend)?;
            Some((
                id.namespace.clone(),
                string_map(&service.value["spec"]["selector"]),
            ))
            .filter(|(_, s)| !s.is_empty())
        }
        _ => None,
    }
}

fn containers(object: &Object) -> Vec<&Value> {
    pod_template(&object.value)
        .and_then(|pod| pod["spec"]["containers"].as_array())
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

/// The objects to examine: the output, except that objects which came from
/// upstream are taken as they were before the split repaired them.
fn subjects(run: &generate::Run, request: &Request) -> Vec<Subject> {
    let upstream_ids: BTreeSet<(String, String, String, String)> = run
        .upstream
        .iter()
        .map(|o| {
            let id = Identity::of(&o.value);
            (id.group, id.kind, id.namespace, id.name)
        })
        .collect();
    let mut out: Vec<Subject> = run
        .upstream
        .iter()
        .map(|o| Subject {
            object: o.value.clone(),
            location: Some(o.location.clone()),
        })
        .collect();
    for object in &run.objects {
        let id = Identity::of(object);
        if upstream_ids.contains(&(
            id.group.clone(),
            id.kind.clone(),
            id.namespace.clone(),
            id.name.clone(),
        )) {
            continue;
        }
        // A generated object points at the service that asked for it.
        let service = run.values.services.iter().find(|s| {
            s.namespace == id.namespace
                && (id.name == format!("{}-ts-lb", s.name)
                    || id.name == format!("{}-tailscale", s.name))
        });
        out.push(Subject {
            object: object.clone(),
            location: service
                .map(|s| s.location.clone())
                .or_else(|| request.values.first().map(|v| Location::start_of(&v.name))),
        });
    }
    out
}

fn manifest_checks(
    subjects: &[Subject],
    run: &generate::Run,
    extra: &Extra,
    out: &mut Vec<Diagnostic>,
) {
    let workloads_source = &run.upstream;
    // TS001: one device per hostname.
    let mut claims: BTreeMap<String, Vec<&Subject>> = BTreeMap::new();
    for s in subjects {
        if let Some(host) = claim(&s.object) {
            claims.entry(host.to_ascii_lowercase()).or_default().push(s);
        }
    }
    for (host, claimers) in &claims {
        if claimers.len() > 1 {
            let names: Vec<String> = claimers.iter().map(|c| c.id().to_string()).collect();
            for c in &claimers[1..] {
                out.push(
                    Diagnostic::new(
                        "TS001",
                        format!("hostname {host:?} is claimed by {}", names.join(" and ")),
                    )
                    .at(c.location.as_ref())
                    .object(c.id().to_string()),
                );
            }
        }
    }
    // Which pods each exposing object reaches.
    let target_components: BTreeMap<String, BTreeSet<String>> = {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for service in run
            .values
            .services
            .iter()
            .filter(|s| s.mode != Mode::Ingress)
        {
            if let Some(backend) =
                find_service(workloads_source, &service.namespace, &service.backend.name)
            {
                let selector = string_map(&backend.value["spec"]["selector"]);
                for w in matching_workloads(workloads_source, &service.namespace, &selector) {
                    map.entry(service.namespace.clone())
                        .or_default()
                        .insert(component(w));
                }
            }
        }
        map
    };
    let mut exposed_workloads: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in subjects {
        let id = s.id();
        let exposes = claim(&s.object).is_some();
        if exposes
            && let Some((ns, selector)) = selector_of(&s.object, workloads_source)
            && !workloads_source.is_empty()
        {
            let selected = matching_workloads(workloads_source, &ns, &selector);
            let shown = serde_json::to_string(&selector).unwrap_or_default();
            if selected.is_empty() {
                out.push(
                    Diagnostic::new("TS004", format!("selector {shown} matches no workload"))
                        .at(s.location.as_ref())
                        .object(id.to_string()),
                );
            }
            let components: BTreeSet<String> = selected.iter().map(|w| component(w)).collect();
            if components.len() > 1 {
                out.push(
                    Diagnostic::new(
                        "TS005",
                        format!(
                            "selector {shown} matches components {}",
                            components.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .at(s.location.as_ref())
                    .object(id.to_string()),
                );
            }
            if let Some(targets) = target_components.get(&ns) {
                let wrong: Vec<&String> = components
                    .iter()
                    .filter(|c| !targets.contains(*c))
                    .collect();
                if !wrong.is_empty() {
                    out.push(
                        Diagnostic::new(
                            "TS003",
                            format!(
                                "selector {shown} selects component {} (workloads {}), but the service to expose runs as component {}",
                                wrong.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", "),
                                selected.iter().map(|w| Identity::of(&w.value).to_string()).collect::<Vec<_>>().join(", "),
                                targets.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .at(s.location.as_ref())
                        .object(id.to_string()),
                    );
                }
            }
            for w in &selected {
                let wid = Identity::of(&w.value);
                // Hook Jobs carry the component's labels only while they run.
                if wid.kind != "Job" {
                    exposed_workloads
                        .entry(wid.to_string())
                        .or_default()
                        .push(id.to_string());
                }
            }
            // TS006: the port the Service forwards to.
            if id.kind == "Service" && !selected.is_empty() {
                let declared: Vec<(Option<String>, u64)> = selected
                    .iter()
                    .flat_map(|w| containers(w))
                    .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                    .map(|p| {
                        (
                            p["name"].as_str().map(str::to_string),
                            p["containerPort"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect();
                if !declared.is_empty() {
                    for port in s.object["spec"]["ports"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        let target = port
                            .get("targetPort")
                            .or_else(|| port.get("port"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        let found = match &target {
                            Value::Number(n) => {
                                declared.iter().any(|(_, p)| Some(*p) == n.as_u64())
                            }
                            Value::String(name) => declared
                                .iter()
                                .any(|(n, _)| n.as_deref() == Some(name.as_str())),
                            _ => true,
                        };
                        if !found {
                            let ports: Vec<String> = declared
                                .iter()
                                .map(|(n, p)| match n {
                                    Some(n) => format!("{n} {p}"),
                                    None => p.to_string(),
                                })
                                .collect();
                            out.push(
                                Diagnostic::new("TS006", format!("targetPort {target} is not a port of the selected containers ({})", ports.join(", ")))
                                    .at(s.location.as_ref())
                                    .object(id.to_string()),
                            );
                        }
                    }
                }
            }
        }
    }
    for (workload, by) in &exposed_workloads {
        if by.len() > 1 {
            out.push(
                Diagnostic::new(
                    "TS002",
                    format!("{workload} is exposed by {}", by.join(" and ")),
                )
                .object(workload.clone()),
            );
        }
    }
    for s in subjects {
        object_checks(s, extra, out);
    }
}

/// Checks that need one object only.
fn object_checks(s: &Subject, extra: &Extra, out: &mut Vec<Diagnostic>) {
    let id = s.id();
    let object = &s.object;
    let push = |out: &mut Vec<Diagnostic>, code: &'static str, message: String| {
        out.push(
            Diagnostic::new(code, message)
                .at(s.location.as_ref())
                .object(id.to_string()),
        );
    };
    if let Some(labels) = object["metadata"]["labels"].as_object() {
        for key in labels
            .keys()
            .filter(|k| OPERATOR_LABEL_PREFIXES.iter().any(|p| k.starts_with(p)))
        {
            push(out, "TS014", format!("label {key} is operator-internal"));
        }
    }
    let is_service = id.kind == "Service";
    let is_tailscale_ingress =
        id.kind == "Ingress" && text(object, &["spec", "ingressClassName"]) == Some(INGRESS_CLASS);
    if let Some(value) = object["metadata"]["annotations"].get(ANNOTATION_EXPOSE) {
        if value.as_str() != Some("true") {
            push(
                out,
                "TS007",
                format!("tailscale.com/expose is {value}, not \"true\""),
            );
        } else if is_service && text(object, &["spec", "clusterIP"]) == Some("None") {
            push(
                out,
                "TS008",
                "tailscale.com/expose on a headless Service".into(),
            );
        }
    }
    if annotation(object, ANNOTATION_PROXY_GROUP) == Some("") {
        push(out, "TS009", "tailscale.com/proxy-group is \"\"".into());
    }
    if is_service && claim(object).is_some() {
        let hostname = claim(object).unwrap_or_default();
        if let Err(why) = names::hostname(&hostname) {
            let source = if annotation(object, ANNOTATION_HOSTNAME).is_some() {
                "tailscale.com/hostname"
            } else {
                "the default <namespace>-<name>"
            };
            push(
                out,
                "TS010",
                format!("hostname {hostname:?} ({source}) {why}"),
            );
        }
    }
    if let Some(tags) = annotation(object, ANNOTATION_TAGS) {
        for tag in tags.split(',') {
            if let Err(why) = names::tag(tag) {
                push(out, "TS011", format!("tag {tag:?} {why}"));
            }
        }
    }
    if is_tailscale_ingress {
        let tls_host = object["spec"]["tls"][0]["hosts"][0].as_str();
        for (i, rule) in object["spec"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(host) = rule["host"].as_str()
                && Some(host) != tls_host
            {
                push(
                    out,
                    "TS012",
                    format!(
                        "rules[{i}].host {host:?} differs from the TLS host; the operator drops the rule"
                    ),
                );
            }
            if rule.get("http").is_none() {
                push(out, "TS013", format!("rules[{i}] has no http"));
            }
        }
    }
    if object["metadata"]["annotations"]
        .get(LABEL_PROXY_CLASS)
        .is_some()
        && extra.operator_version.is_some_and(|v| v < (1, 86))
    {
        push(
            out,
            "TS015",
            "tailscale.com/proxy-class is an annotation; this operator reads only the label".into(),
        );
    }
}

/// TS016: the chart's own Service exposed as a LoadBalancer of class tailscale.
fn chart_service_checks(run: &generate::Run, out: &mut Vec<Diagnostic>) {
    for o in &run.upstream {
        if o.value["kind"] == "Service"
            && text(&o.value, &["spec", "loadBalancerClass"]) == Some(LOAD_BALANCER_CLASS)
        {
            let id = Identity::of(&o.value);
            out.push(
                Diagnostic::new(
                    "TS016",
                    format!(
                        "{id} from the upstream manifests is a LoadBalancer of class tailscale"
                    ),
                )
                .at(Some(&o.location))
                .object(id.to_string()),
            );
        }
    }
}

fn parse_yaml(source: &Source, what: &str) -> Result<Value> {
    let node = yaml::parse_single(&source.text, &source.name)?.ok_or_else(|| {
        Error::new(ErrorKind::Usage, format!("the {what} file is empty"))
            .at(Location::start_of(&source.name))
    })?;
    node.to_json()
}

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

fn policy_checks(objects: &[Value], extra: &Extra, out: &mut Vec<Diagnostic>) -> Result<()> {
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

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.len() >= head.len() + tail.len()
                && text.starts_with(head)
                && glob_rest(tail, &text[head.len()..])
        }
    }
}

fn glob_rest(pattern: &str, text: &str) -> bool {
    (0..=text.len()).any(|i| text.is_char_boundary(i) && glob(pattern, &text[i..]))
}

fn argocd_checks(
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
        let have = spec["ignoreDifferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let self_heal = spec["syncPolicy"]["automated"]["selfHeal"]
            .as_bool()
            .unwrap_or(false);
        for entry in &needed {
            let covering = have.iter().filter(|h| {
                h["group"].as_str().unwrap_or("") == entry.group
                    && glob(h["kind"].as_str().unwrap_or(""), &entry.kind)
                    && h["name"]
                        .as_str()
                        .is_none_or(|n| n.is_empty() || n == entry.name)
                    && h["namespace"]
                        .as_str()
                        .is_none_or(|n| n.is_empty() || n == entry.namespace)
            });
            let pointers: BTreeSet<String> = covering
                .flat_map(|h| h["jsonPointers"].as_array().cloned().unwrap_or_default())
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
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
        let options: Vec<String> = spec["syncPolicy"]["syncOptions"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !needed.is_empty() && !options.iter().any(|o| o == "RespectIgnoreDifferences=true") {
            out.push(
                Diagnostic::new(
                    "TS204",
                    "spec.syncPolicy.syncOptions lacks RespectIgnoreDifferences=true",
                )
                .at(Some(&at)),
            );
        }
        if options
            .iter()
            .any(|o| o == "Replace=true" || o == "Force=true")
            && objects.iter().any(|o| claim(o).is_some())
        {
            out.push(Diagnostic::new("TS203", "the Application syncs with Replace=true or Force=true and renders exposed Services").at(Some(&at)));
        }
    }
    for object in objects.iter().filter(|o| claim(o).is_some()) {
        if let Some(opts) = annotation(object, "argocd.argoproj.io/sync-options")
            && opts
                .split(',')
                .any(|o| o.trim() == "Replace=true" || o.trim() == "Force=true")
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

/// What pasted log lines say, line by line.
fn log_checks(extra: &Extra, out: &mut Vec<Diagnostic>) {
    for source in &extra.logs {
        let mut noise_seen = false;
        for (i, line) in source.text.lines().enumerate() {
            let at = Location::new(&source.name, i as u64 + 1, 1);
            let lower = line.to_ascii_lowercase();
            let diagnostic = if (lower.contains("machineauthorized=false")
                && lower.contains("authurl=true"))
                || lower.contains("tailscale is not logged in")
            {
                Some(Diagnostic::new(
                    "TS301",
                    format!("the proxy presented no auth key: {}", line.trim()),
                ))
            } else if lower.contains("invalid key") {
                Some(Diagnostic::new(
                    "TS303",
                    format!("the auth key was refused: {}", line.trim()),
                ))
            } else if lower.contains("invalid or not permitted") {
                Some(Diagnostic::new(
                    "TS304",
                    format!("the proxy's tags were refused: {}", line.trim()),
                ))
            } else if lower.contains("optimistic lock") && !noise_seen {
                noise_seen = true;
                Some(Diagnostic::new(
                    "TS302",
                    "optimistic lock errors: noise since operator v1.78",
                ))
            } else {
                None
            };
            if let Some(d) = diagnostic {
                // One finding per code and log: a crash loop repeats itself.
                if !out
                    .iter()
                    .any(|x| x.code == d.code && x.file.as_deref() == Some(&*source.name))
                {
                    out.push(d.at(Some(&at)));
                }
            }
        }
    }
}

/// Runs every check. Inputs that cannot be read are an error (exit 2);
/// findings are diagnostics, sorted by severity, code and place.
pub fn check(request: &Request, extra: &Extra) -> Result<Vec<Diagnostic>> {
    let run = generate::run(request)?;
    let subjects = subjects(&run, request);
    let mut out = Vec::new();
    manifest_checks(&subjects, &run, extra, &mut out);
    chart_service_checks(&run, &mut out);
    policy_checks(&run.objects, extra, &mut out)?;
    argocd_checks(&run.objects, request, extra, &mut out)?;
    log_checks(extra, &mut out);
    out.sort_by(|a, b| {
        (a.severity, a.code, &a.file, a.line, &a.object, &a.message)
            .cmp(&(b.severity, b.code, &b.file, b.line, &b.object, &b.message))
    });
    out.dedup_by(|a, b| {
        a.code == b.code && a.object == b.object && a.message == b.message && a.file == b.file
    });
    Ok(out)
}

/// A source read by the caller, for tests and the binary alike.
pub fn source(name: &str, text: String) -> Source {
    Source {
        name: Arc::from(name),
        text,
    }
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
