//! From the merged YAML tree to the typed model, one key at a time.
//!
//! Hand-written rather than derived so that every error carries the file,
//! line, column and dotted key path of the node at fault, unknown keys get a
//! "did you mean", and rules about a key sit next to where it is read.

use super::fields::{
    Index, boolean, checked, field, invalid, join, mapping, port, proxy_group, selector, string,
    suggest, tags,
};
use super::shape;
use super::{Backend, Defaults, Mode, PortRef, Service, Values};
use crate::error::{Error, Result};
use crate::names;
use crate::report::Finding;
use crate::yaml::{Key, Node, NodeValue};
use std::fmt::Display;
use std::sync::Arc;

/// Longest service key whose `<key>-ts-lb` is still a 63-character Service name.
const MAX_DIRECT_KEY: usize = names::MAX_LABEL - "-ts-lb".len();

fn defaults(node: &Node) -> Result<Defaults> {
    let entries = mapping(node, "defaults", &shape::DEFAULTS)?;
    let mut out = Defaults::default();
    if let Some(n) = field(entries, "namespace") {
        out.namespace = Some(checked(
            n,
            "defaults.namespace",
            names::dns1123_label,
            NAMESPACE_HINT,
        )?);
    }
    if let Some(n) = field(entries, "tags") {
        out.tags = tags(n, "defaults.tags")?;
    }
    if let Some(n) = field(entries, "proxyGroup") {
        out.proxy_group = proxy_group(n, "defaults.proxyGroup")?;
    }
    Ok(out)
}

const NAMESPACE_HINT: &str = "a namespace is a DNS-1123 label: lower-case letters, digits and '-'";

fn mode(entries: &[(Key, Node)], path: &(impl Display + ?Sized)) -> Result<Mode> {
    let direct = field(entries, "direct")
        .map(|n| Ok::<_, Error>((boolean(n, &join(path, "direct"))?, n)))
        .transpose()?;
    let expose = match field(entries, "expose") {
        None => None,
        Some(n) => {
            let p = join(path, "expose");
            let value = string(n, &p)?;
            let mode = match value.as_str() {
                "direct" => Mode::Direct,
                "ingress" => Mode::Ingress,
                "annotate" => Mode::Annotate,
                other => {
                    let mut err = invalid(&n.location, &p, format!("unknown mode {other:?}"));
                    err = match suggest(other, &Mode::NAMES) {
                        Some(s) => err.hint(format!(
                            "did you mean {s:?}? (one of direct, ingress, annotate)"
                        )),
                        None => err.hint("one of direct, ingress, annotate"),
                    };
                    return Err(err);
                }
            };
            Some((mode, n))
        }
    };
    match (expose, direct) {
        (Some((mode, _)), None) => Ok(mode),
        (None, Some((true, _))) => Ok(Mode::Direct),
        // The protected-services chart renders an Ingress for every service
        // that is not `direct`; keep that meaning.
        (None, Some((false, _))) | (None, None) => Ok(Mode::Ingress),
        (Some((mode, n)), Some((direct, _))) => {
            if direct == (mode == Mode::Direct) {
                Ok(mode)
            } else {
                Err(invalid(
                    &n.location,
                    &join(path, "expose"),
                    format!("expose: {} contradicts direct: {direct}", mode.as_str()),
                )
                .hint("drop the old `direct` key and keep `expose`"))
            }
        }
    }
}

fn backend(node: &Node, path: &(impl Display + ?Sized)) -> Result<Backend> {
    let entries = mapping(node, path, &shape::BACKEND)?;
    let name_node = field(entries, "name").ok_or_else(|| {
        invalid(&node.location, path, "backend has no name")
            .hint("name the Service that fronts the workload, e.g. backend: {name: teleport-cluster, port: 443}")
    })?;
    let ports = match (field(entries, "port"), field(entries, "ports")) {
        (Some(n), None) => vec![port(n, &join(path, "port"))?],
        (None, Some(n)) => {
            let p = join(path, "ports");
            let NodeValue::Seq(items) = &n.value else {
                return Err(invalid(
                    &n.location,
                    &p,
                    format!("expected a list of ports, found {}", n.type_name()),
                )
                .hint("ports: [tls, sshproxy], by number or by name"));
            };
            if items.is_empty() {
                return Err(invalid(
                    &n.location,
                    &p,
                    "an empty list of ports exposes nothing",
                ));
            }
            let mut out: Vec<PortRef> = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let one = port(item, &Index(&p, i))?;
                if out.contains(&one) {
                    return Err(invalid(
                        &item.location,
                        &Index(&p, i),
                        format!("port {one} is listed twice"),
                    )
                    .hint("list each port once"));
                }
                out.push(one);
            }
            out
        }
        (Some(n), Some(_)) => {
            return Err(invalid(
                &n.location,
                &join(path, "port"),
                "give either `port` or `ports`, not both",
            )
            .hint("ports: [...] lists every port to expose"));
        }
        (None, None) => {
            return Err(invalid(&node.location, path, "backend has no port").hint(
                "give the backend Service's port, by number or by name (or `ports` for several)",
            ));
        }
    };
    Ok(Backend {
        name: checked(
            name_node,
            &join(path, "name"),
            names::dns1035_label,
            "a Service name is a DNS-1035 label: lower-case letters, digits and '-', starting with a letter",
        )?
        .into(),
        ports,
        location: node.location.clone(),
    })
}

fn service(
    key: &Key,
    node: &Node,
    defaults: &Defaults,
    warnings: &mut Vec<Finding>,
) -> Result<Option<Service>> {
    let path = join("services", &key.name);
    let entries = mapping(node, &path, &shape::SERVICE)?;
    if let Some(n) = field(entries, "enabled")
        && !boolean(n, &join(&path, "enabled"))?
    {
        return Ok(None);
    }
    names::dns1123_label(&key.name).map_err(|why| {
        invalid(
            &key.location,
            &path,
            format!("service key {:?} {why}", key.name),
        )
        .hint("the key names the generated objects; use lower-case letters, digits and '-'")
    })?;
    let mode = mode(entries, &path)?;
    if mode == Mode::Direct {
        let generated = format!("{}-ts-lb", key.name);
        if key.name.len() > MAX_DIRECT_KEY {
            return Err(invalid(
                &key.location,
                &path,
                format!("the generated Service name {generated:?} is {} characters long, more than 63", generated.len()),
            )
            .hint(format!("shorten the key to {MAX_DIRECT_KEY} characters; set `hostname` to keep the tailnet name")));
        }
        names::dns1035_label(&generated).map_err(|why| {
            invalid(
                &key.location,
                &path,
                format!("the generated Service name {generated:?} {why}"),
            )
        })?;
    }
    let namespace = match field(entries, "namespace") {
        Some(n) => checked(
            n,
            &join(&path, "namespace"),
            names::dns1123_label,
            NAMESPACE_HINT,
        )?,
        None => defaults.namespace.clone().ok_or_else(|| {
            invalid(&key.location, &path, "no namespace")
                .hint("set `namespace` on the service or `defaults.namespace` (in Argo CD, the destination namespace serves too)")
        })?,
    };
    let hostname = match field(entries, "hostname") {
        Some(n) => checked(
            n,
            &join(&path, "hostname"),
            names::hostname,
            "a tailnet hostname is one DNS label: letters, digits and '-', at most 63 characters",
        )
        .map_err(|e| e.code("TS010"))?,
        None => {
            names::hostname(&key.name).map_err(|why| {
                invalid(
                    &key.location,
                    &path,
                    format!("the key, used as the tailnet hostname, {why}"),
                )
                .hint("set `hostname`")
                .code("TS010")
            })?;
            key.name.as_str().to_owned()
        }
    };
    let tags = match field(entries, "tags") {
        Some(n) => tags(n, &join(&path, "tags"))?,
        None => defaults.tags.clone(),
    };
    let proxy_group = match field(entries, "proxyGroup") {
        Some(n) => proxy_group(n, &join(&path, "proxyGroup"))?,
        // `global.proxyGroup` keeps the protected-services chart's meaning:
        // it applies to Ingresses only.
        None if mode == Mode::Ingress => defaults
            .proxy_group
            .clone()
            .or_else(|| defaults.ingress_proxy_group.clone()),
        None => defaults.proxy_group.clone(),
    }
    .map(String::into_boxed_str);
    let proxy_class = field(entries, "proxyClass")
        .map(|n| {
            checked(
                n,
                &join(&path, "proxyClass"),
                names::dns1123_subdomain,
                "name an existing ProxyClass",
            )
            .map(String::into_boxed_str)
        })
        .transpose()?;
    let backend_node = field(entries, "backend").ok_or_else(|| {
        invalid(&key.location, &path, "no backend")
            .hint("name the Service to expose: backend: {name: <service>, port: <port>}")
    })?;
    let backend = backend(backend_node, &join(&path, "backend"))?;
    let selector = field(entries, "selector")
        .map(|n| selector(n, &join(&path, "selector")))
        .transpose()?;
    let target_port = field(entries, "targetPort")
        .map(|n| port(n, &join(&path, "targetPort")))
        .transpose()?;
    if backend.ports.len() > 1 {
        if mode == Mode::Ingress {
            return Err(invalid(
                &backend.location,
                &join(&path, "backend.ports"),
                "an Ingress routes to one backend port",
            )
            .hint("use `port` with expose: ingress, or expose: direct for several TCP ports"));
        }
        if let Some(n) = field(entries, "targetPort") {
            return Err(invalid(&n.location, &join(&path, "targetPort"), "targetPort applies to a single port; with several, each comes from the backend Service")
                .hint("give the chart's manifests as upstream (or a preset), which map each port to its targetPort"));
        }
    }
    if mode != Mode::Direct {
        for (name, present) in [
            ("selector", selector.is_some()),
            ("targetPort", target_port.is_some()),
        ] {
            if let (true, Some(n)) = (present, field(entries, name)) {
                warnings.push(Finding::new(
                    &n.location,
                    format!(
                        "{path}.{name} is used only with expose: direct; ignored for expose: {}",
                        mode.as_str()
                    ),
                ));
            }
        }
    }
    if proxy_class.is_some() && proxy_group.is_some() {
        warnings.push(Finding::new(
            &key.location,
            format!("{path}.proxyClass is ignored by the operator for ProxyGroup-backed resources; set it on the ProxyGroup"),
        ));
    }
    let preset = field(entries, "preset")
        .map(|n| {
            checked(
                n,
                &join(&path, "preset"),
                names::dns1123_label,
                "name a preset file in templates/presets/, e.g. teleport-cluster",
            )
            .map(String::into_boxed_str)
        })
        .transpose()?;
    let release = field(entries, "release")
        .map(|n| {
            checked(
                n,
                &join(&path, "release"),
                names::dns1123_label,
                "the Helm release name of the chart",
            )
            .map(String::into_boxed_str)
        })
        .transpose()?;
    Ok(Some(Service {
        name: key.name.as_str().into(),
        location: key.location.clone(),
        namespace: namespace.into(),
        mode,
        hostname: hostname.into(),
        tags,
        proxy_group,
        proxy_class,
        backend,
        selector: selector.map(Arc::new),
        target_port,
        preset,
        release,
    }))
}

/// Decodes a merged values tree. `fallback_namespace` (Argo CD's destination
/// namespace) serves services that name none when `defaults.namespace` is unset.
pub fn decode(root: &Node, fallback_namespace: Option<&str>) -> Result<Values> {
    let entries = mapping(root, "", &shape::ROOT)?;
    let mut values = Values::default();
    if let Some(n) = field(entries, "tailnet") {
        let tailnet = string(n, "tailnet")?;
        let valid = tailnet.contains('.') && names::dns1123_subdomain(&tailnet).is_ok();
        if !valid {
            return Err(invalid(
                &n.location,
                "tailnet",
                format!("{tailnet:?} is not a tailnet domain"),
            )
            .hint("give the tailnet's MagicDNS domain, e.g. example.ts.net"));
        }
        values.tailnet = Some(tailnet);
    }
    if let Some(n) = field(entries, "defaults") {
        values.defaults = defaults(n)?;
    }
    if let Some(n) = field(entries, "global") {
        let global = mapping(n, "global", &shape::GLOBAL)?;
        if let Some(n) = field(global, "proxyGroup") {
            values.defaults.ingress_proxy_group = proxy_group(n, "global.proxyGroup")?;
        }
    }
    if values.defaults.namespace.is_none() {
        values.defaults.namespace = fallback_namespace.map(str::to_string);
    }
    if let Some(n) = field(entries, "applications") {
        let mut apps = super::Apps {
            defaults: Default::default(),
            apps: super::apps::applications(n)?,
        };
        if let Some(d) = field(entries, "argocd") {
            apps.defaults = super::apps::defaults(d)?;
        }
        if let Some((key, _)) = entries
            .iter()
            .find(|(k, _)| !["applications", "argocd"].contains(&k.name.as_str()))
        {
            return Err(invalid(
                &key.location,
                &key.name,
                "an apps directory's values list applications only",
            )
            .hint("put services in the child applications' own values files"));
        }
        values.apps = Some(apps);
        return Ok(values);
    }
    if let Some(n) = field(entries, "argocd") {
        return Err(
            invalid(&n.location, "argocd", "`argocd` goes with `applications`")
                .hint("an apps directory lists applications: {<name>: {path, destination, ...}}"),
        );
    }
    if let Some(n) = field(entries, "upstream") {
        values.upstream = super::sources::upstream(n)?;
    }
    if let Some(n) = field(entries, "patches") {
        values.patches = super::sources::patches(n)?;
    }
    if let Some(n) = field(entries, "services") {
        if n.value == NodeValue::Null {
            return Ok(values);
        }
        let Some(services) = n.as_map() else {
            return Err(invalid(
                &n.location,
                "services",
                format!(
                    "expected a mapping of service names, found {}",
                    n.type_name()
                ),
            )
            .hint(
                "services: {<name>: {namespace: <ns>, backend: {name: <service>, port: <port>}}}",
            ));
        };
        let (services, warnings) = decode_services(services, &values.defaults)?;
        values.services = services;
        values.warnings.extend(warnings);
    }
    values.services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(values)
}

/// Catalogs this large are decoded in two halves on two threads: each
/// service is decoded on its own, and 10,000 of them take a tenth of a run.
const DECODE_IN_HALVES_FROM: usize = 2_000;

type Decoded = (Vec<Arc<Service>>, Vec<Finding>);

/// The services of `entries`, in order, with their warnings; the first
/// error in file order, as when they are decoded one after the other.
fn decode_services(entries: &[(Key, Node)], defaults: &Defaults) -> Result<Decoded> {
    if entries.len() < DECODE_IN_HALVES_FROM {
        return one_by_one(entries, defaults);
    }
    let (first, second) = entries.split_at(entries.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| one_by_one(second, defaults));
        let first = one_by_one(first, defaults);
        let second = second
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    });
    let (mut services, mut warnings) = first?;
    let (more, more_warnings) = second?;
    services.extend(more);
    warnings.extend(more_warnings);
    Ok((services, warnings))
}

fn one_by_one(entries: &[(Key, Node)], defaults: &Defaults) -> Result<Decoded> {
    let mut services = Vec::with_capacity(entries.len());
    let mut warnings = Vec::new();
    for (key, node) in entries {
        if let Some(s) = service(key, node, defaults, &mut warnings)? {
            services.push(Arc::new(s));
        }
    }
    Ok((services, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;
    use std::sync::Arc;

    fn decode_text(text: &str) -> Result<Values> {
        let node = parse_single(text, &Arc::from("v.yaml")).unwrap().unwrap();
        decode(&node, None)
    }

    /// `n` services; the one at `bad` has an invalid port, and every third
    /// one a key that draws a warning when `warn`.
    fn catalog(n: usize, bad: Option<usize>) -> String {
        let mut text = String::from("services:\n");
        for i in 0..n {
            let port = if Some(i) == bad { "0" } else { "443" };
            text.push_str(&format!(
                "  s{i:05}:\n    namespace: n\n    backend: {{name: b{i}, port: {port}}}\n"
            ));
            if i % 3 == 0 {
                text.push_str("    direct: false\n    targetPort: 80\n");
            }
        }
        text
    }

    #[test]
    fn a_catalog_decoded_in_halves_is_the_catalog_decoded_in_order() {
        let n = DECODE_IN_HALVES_FROM + 1;
        let node = parse_single(&catalog(n, None), &Arc::from("v.yaml"))
            .unwrap()
            .unwrap();
        let entries = node.get("services").unwrap().as_map().unwrap();
        let defaults = Defaults::default();
        let (halves, warned) = decode_services(entries, &defaults).unwrap();
        let (in_order, warned_in_order) = one_by_one(entries, &defaults).unwrap();
        assert_eq!(halves, in_order);
        assert_eq!(halves.len(), n);
        assert_eq!(warned, warned_in_order);
        assert_eq!(warned.len(), n.div_ceil(3));
        // The first error in file order, whichever half holds it.
        for bad in [[10, 3 * n / 4], [3 * n / 4, 3 * n / 4 + 1]] {
            let mut text = catalog(n, Some(bad[0]));
            text = text.replacen(
                &format!("b{}, port: 443", bad[1]),
                &format!("b{}, port: 0", bad[1]),
                1,
            );
            let node = parse_single(&text, &Arc::from("v.yaml")).unwrap().unwrap();
            let entries = node.get("services").unwrap().as_map().unwrap();
            let halves = decode_services(entries, &defaults).unwrap_err();
            let in_order = one_by_one(entries, &defaults).unwrap_err();
            assert_eq!(halves.to_string(), in_order.to_string());
            assert!(
                halves.to_string().contains(&format!("s{:05}", bad[0])),
                "{halves}"
            );
        }
    }

    #[test]
    fn suggests_close_keys() {
        assert_eq!(suggest("hostnme", &shape::SERVICE.keys()), Some("hostname"));
        assert_eq!(
            suggest("proxy_group", &shape::SERVICE.keys()),
            Some("proxyGroup")
        );
        assert_eq!(suggest("zzzzzz", &shape::SERVICE.keys()), None);
    }

    #[test]
    fn old_direct_shape_maps_to_direct_mode() {
        let v = decode_text(
            "services:\n  t:\n    direct: true\n    namespace: n\n    backend: {name: t, port: 443}\n    selector: {app: t}\n",
        )
        .unwrap();
        assert_eq!(v.services[0].mode, Mode::Direct);
    }

    #[test]
    fn defaults_apply_and_service_overrides_win() {
        let v = decode_text(
            "defaults: {namespace: d, tags: [tag:k8s], proxyGroup: pg}\nservices:\n  a: {backend: {name: a, port: 80}}\n  b: {proxyGroup: \"\", tags: \"tag:x,tag:y\", backend: {name: b, port: http}}\n",
        )
        .unwrap();
        let (a, b) = (&v.services[0], &v.services[1]);
        assert_eq!(
            (
                a.namespace.as_str(),
                a.tags.clone(),
                a.proxy_group.as_deref()
            ),
            ("d", vec!["tag:k8s".to_string()], Some("pg"))
        );
        assert_eq!(
            (b.tags.clone(), b.proxy_group.clone()),
            (vec!["tag:x".to_string(), "tag:y".to_string()], None)
        );
        assert_eq!(*b.backend.port(), PortRef::Name("http".into()));
    }

    #[test]
    fn disabled_services_are_dropped_before_validation() {
        let v = decode_text("services:\n  a: {enabled: false}\n").unwrap();
        assert!(v.services.is_empty());
    }

    #[test]
    fn contradicting_expose_and_direct_is_an_error() {
        let err = decode_text("services:\n  a: {direct: true, expose: ingress, namespace: n, backend: {name: a, port: 80}}\n").unwrap_err();
        assert_eq!(err.key_path.as_deref(), Some("services.a.expose"));
    }
}
