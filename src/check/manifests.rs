//! Checks of the objects themselves: hostnames, selectors, ports and the
//! keys the operator reads.

use super::*;

pub(super) fn manifest_checks(
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
    if is_service
        && let Some(hostname) = claim(object)
        && let Err(why) = names::hostname(&hostname)
    {
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
pub(super) fn chart_service_checks(run: &generate::Run, out: &mut Vec<Diagnostic>) {
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
