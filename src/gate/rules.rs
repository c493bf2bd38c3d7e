//! The rules the gate applies: those between exposures (one device per
//! hostname, one exposure per workload, only the target component, a
//! targetPort that is listened on) and those of one object (the keys the
//! operator reads, the fields it owns, what the API server accepts).

use std::collections::BTreeSet;

use std::cell::RefCell;

use compact_str::{CompactString, format_compact};

// Index maps: looked up, never iterated into the output.
use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use super::{Body, Item, Options, Origin, cause, finding};
use crate::claims::{
    self, CLAIM_POINTERS, Claim, ContainerPort, HostnameSource, Role, container_ports,
    matching_workloads, shown_component, string_map,
};
use crate::claims::{
    ANNOTATION_EXPOSE, ANNOTATION_PROXY_GROUP, ANNOTATION_TAGS, INGRESS_CLASS, LABEL_PROXY_CLASS,
};
use crate::diagnostic::Diagnostic;
use crate::labels::Labels;
use crate::manifest::{Identity, OPERATOR_LABEL_PREFIXES};
use crate::names;
use crate::values::{Service, Values};
use crate::view::View;

/// Annotations together may not exceed this (the API server's limit).
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The `names` rules whose verdicts [`Passed`] remembers.
#[derive(Clone, Copy)]
enum Rule {
    Namespace,
    LabelKey,
    LabelValue,
    Tag,
}

impl Rule {
    fn check(self, text: &str) -> Result<(), String> {
        match self {
            Rule::Namespace => names::dns1123_label(text),
            Rule::LabelKey => names::label_key(text),
            Rule::LabelValue => names::label_value(text),
            Rule::Tag => names::tag(text),
        }
    }
}

/// Strings a rule already accepted in this stream: namespaces, label keys
/// and values and tags recur on thousands of objects, and finding one here
/// costs less than checking it again. Refusals are not remembered; each is
/// a finding.
#[derive(Default)]
struct Passed([RefCell<FxHashSet<String>>; 4]);

impl Passed {
    fn check(&self, rule: Rule, text: &str) -> Result<(), String> {
        let seen = &self.0[rule as usize];
        if seen.borrow().contains(text) {
            return Ok(());
        }
        rule.check(text)?;
        seen.borrow_mut().insert(text.to_string());
        Ok(())
    }
}

/// Indexes grouped by a borrowed key, in ascending order within a key:
/// sorted pairs searched by halves, so a catalog of 10,000 names costs one
/// vector instead of a vector per name.
struct Groups<'a>(Vec<(&'a str, usize)>);

impl<'a> Groups<'a> {
    fn new(mut pairs: Vec<(&'a str, usize)>) -> Groups<'a> {
        pairs.sort_unstable();
        Groups(pairs)
    }

    fn get<'s>(&'s self, key: &'s str) -> impl Iterator<Item = usize> + 's {
        let start = self.0.partition_point(|&(k, _)| k < key);
        self.0[start..]
            .iter()
            .take_while(move |&&(k, _)| k == key)
            .map(|&(_, i)| i)
    }
}

/// What one exposing object claims and reaches.
struct Exposure {
    item: usize,
    claim: Claim,
    namespace: CompactString,
    /// The values service that asked for it, if any.
    service: Option<usize>,
    /// Workloads reached; `None` when the stream holds no workload in the
    /// namespace, so nothing can be known.
    selected: Option<Vec<usize>>,
    /// Workloads the exposure may reach: those its backend Service selects
    /// (promise 2); `None` when unknown.
    targets: Option<Vec<usize>>,
    /// `namespace/Service` of each backend Service it fronts.
    backends: Vec<CompactString>,
}

struct Context<'a> {
    items: &'a [Item],
    /// What each JSON or read-back item holds, as the rules read it;
    /// `Missing` for a planned one, which is read through a tree built when its turn
    /// comes ([`Context::with_view`]) and never kept: planned objects are
    /// Services and Ingresses, never workloads, so no other object's rule
    /// looks into them but for a backend's selector.
    json: Vec<View<'a>>,
    /// Each item's identity, read once (rules ask for it many times).
    ids: Vec<Identity>,
    values: &'a Values,
    options: &'a Options,
    /// Core Services of the stream by name, so lookups stay linear in the
    /// stream's size (10,000 services are a real catalog).
    services_by_name: Groups<'a>,
    /// Workloads by namespace; `""` holds those that leave it to Argo CD.
    workloads_by_namespace: Groups<'a>,
    /// Values services by backend Service name.
    asked_by_backend: Groups<'a>,
    passed: Passed,
}

impl<'a> Context<'a> {
    fn new(
        items: &'a [Item],
        ids: Vec<Identity>,
        values: &'a Values,
        options: &'a Options,
    ) -> Context<'a> {
        let json: Vec<View> = items
            .iter()
            .map(|item| match &item.body {
                Body::Json(value) => View::Json(value),
                Body::Tree(tree) => View::Tree(tree),
                Body::Planned(_) => View::Missing,
            })
            .collect();
        let mut services_by_name = Vec::new();
        let mut workloads_by_namespace = Vec::new();
        for (i, (item, &object)) in items.iter().zip(&json).enumerate() {
            let (kind, api_version, name) = match &item.body {
                Body::Json(_) | Body::Tree(_) => (
                    object.get("kind").as_str(),
                    object.get("apiVersion").as_str(),
                    object.at(&["metadata", "name"]).as_str(),
                ),
                Body::Planned(planned) => (
                    Some(planned.kind()),
                    Some(planned.api_version()),
                    Some(planned.name()),
                ),
            };
            if kind == Some("Service")
                && api_version == Some("v1")
                && let Some(name) = name
            {
                services_by_name.push((name, i));
            }
            if claims::pod_template(object).is_some() {
                let ns = object
                    .at(&["metadata", "namespace"])
                    .as_str()
                    .unwrap_or_default();
                workloads_by_namespace.push((ns, i));
            }
        }
        let asked_by_backend = values
            .services
            .iter()
            .enumerate()
            .map(|(i, service)| (service.backend.name.as_str(), i))
            .collect();
        Context {
            items,
            json,
            ids,
            values,
            options,
            services_by_name: Groups::new(services_by_name),
            workloads_by_namespace: Groups::new(workloads_by_namespace),
            asked_by_backend: Groups::new(asked_by_backend),
            passed: Passed::default(),
        }
    }

    /// The Service `name` in `namespace`.
    fn find_service(&self, namespace: &str, name: &str) -> Option<usize> {
        self.services_by_name
            .get(name)
            .find(|&i| self.in_namespace(i, namespace))
    }

    /// Workloads that may sit in `namespace`.
    fn workloads_in<'s>(&'s self, namespace: &'s str) -> impl Iterator<Item = usize> + 's {
        let here = self.workloads_by_namespace.get(namespace);
        let anywhere = (!namespace.is_empty())
            .then(|| self.workloads_by_namespace.get(""))
            .into_iter()
            .flatten();
        here.chain(anywhere)
    }

    /// Whether item `index` sits in `namespace` (`claims::in_namespace`,
    /// read from its identity).
    fn in_namespace(&self, index: usize, namespace: &str) -> bool {
        let own = &self.ids[index].namespace;
        own.is_empty() || own == namespace
    }

    /// Calls `read` with a view of item `index`; a planned one is built
    /// for the call.
    fn with_view<R>(&self, index: usize, read: impl FnOnce(View<'_>) -> R) -> R {
        match self.json[index] {
            View::Missing => self.items[index].body.with_view(read),
            view => read(view),
        }
    }

    /// The identity of `item`, one of `self.items`.
    fn id(&self, item: &Item) -> &Identity {
        // An element's offset in the slice is its index; no pointer is
        // dereferenced.
        let offset = (item as *const Item as usize) - (self.items.as_ptr() as usize);
        let index = offset / std::mem::size_of::<Item>();
        debug_assert!(std::ptr::eq(&self.items[index], item));
        &self.ids[index]
    }

    fn namespace(&self, item: &Item, fallback: Option<&str>) -> CompactString {
        let id = self.id(item);
        if !id.namespace.is_empty() {
            return id.namespace.clone();
        }
        fallback
            .or(self.options.default_namespace.as_deref())
            .unwrap_or_default()
            .into()
    }

    /// The values service an object belongs to: the one it was rendered
    /// for, or the one whose backend Service it is.
    fn service_of(&self, index: usize) -> Option<usize> {
        let item = &self.items[index];
        if let Origin::Generated { service } = item.origin {
            return Some(service);
        }
        let id = self.id(item);
        if id.kind != "Service" || !id.group.is_empty() {
            return None;
        }
        self.asked_by_backend
            .get(id.name.as_str())
            .find(|&s| self.in_namespace(index, &self.values.services[s].namespace))
    }

    fn workloads(&self, namespace: &str, selector: &Labels) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .workloads_in(namespace)
            .filter(|&w| !matching_workloads([self.json[w]], namespace, selector).is_empty())
            .collect();
        found.sort_unstable();
        found
    }

    fn selector(&self, index: usize) -> Labels {
        self.with_view(index, selector_of)
    }

    fn components(&self, workloads: &[usize]) -> BTreeSet<String> {
        workloads
            .iter()
            .map(|&w| claims::component(self.json[w]).to_string())
            .collect()
    }

    fn describe(&self, index: usize, pointers: &[&str]) -> String {
        let by = cause(&self.items[index], self.values, pointers).by;
        format!("{} ({by})", self.ids[index])
    }

    fn names(&self, workloads: &[usize]) -> String {
        workloads
            .iter()
            .map(|&w| self.ids[w].to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What item `index`, read through `object`, claims and reaches.
    fn exposure(&self, index: usize, object: View, role: Option<Role>) -> Option<Exposure> {
        let item = &self.items[index];
        let role = role?;
        let service = self.service_of(index);
        let fallback = service.map(|s| self.values.services[s].namespace.as_str());
        let namespace = self.namespace(item, fallback);
        let claim = claims::claim_as(object, role, &namespace)?;
        let known = self.workloads_in(&namespace).next().is_some();
        let id = self.id(item);
        let mut backends = Vec::with_capacity(1);
        let (selected, targets) = if id.kind == "Ingress" {
            let mut reached = BTreeSet::new();
            for name in claims::ingress_backends(object) {
                if let Some(b) = self.find_service(&namespace, &name) {
                    reached.extend(self.workloads(&namespace, &self.selector(b)));
                }
                backends.push(format_compact!("{namespace}/{name}"));
            }
            let reached: Vec<usize> = reached.into_iter().collect();
            // An Ingress reaches exactly its backends' pods: they are its target.
            let targets = known.then(|| reached.clone());
            (known.then_some(reached), targets)
        } else {
            let selected = known.then(|| self.workloads(&namespace, &selector_of(object)));
            let targets = match service {
                Some(s) => {
                    let s: &Service = &self.values.services[s];
                    backends.push(format_compact!("{namespace}/{}", s.backend.name));
                    self.find_service(&s.namespace, &s.backend.name)
                        .map(|b| self.workloads(&namespace, &self.selector(b)))
                        .filter(|w| known && !w.is_empty())
                }
                None => {
                    backends.push(format_compact!("{namespace}/{}", id.name));
                    // No service in the values asked for it: nothing is a target.
                    Some(Vec::new())
                }
            };
            (selected, targets)
        };
        backends.sort_unstable();
        backends.dedup();
        Some(Exposure {
            item: index,
            claim,
            namespace,
            service,
            selected,
            targets,
            backends,
        })
    }
}

/// A Service's selector, when it is a map of strings.
fn selector_of(object: View) -> Labels {
    string_map(object.at(&["spec", "selector"])).unwrap_or_default()
}

/// Applies every rule; findings come sorted by severity, code and place.
/// `ids` holds each item's identity, in the same order.
pub fn run(
    items: &[Item],
    ids: Vec<Identity>,
    values: &Values,
    options: &Options,
) -> Vec<Diagnostic> {
    debug_assert_eq!(items.len(), ids.len());
    let context = Context::new(items, ids, values, options);
    let mut out = Vec::new();
    // One object at a time: a planned one is read through a tree built
    // for its turn, so the trees of a large stream are never all alive.
    // Room for every item: the vector is not grown (and for a moment held
    // twice) while the stream's printed form is written beside the gate.
    // Room never written costs no resident memory.
    let mut exposures = Vec::with_capacity(items.len());
    for index in 0..items.len() {
        context.with_view(index, |object| {
            // The role decides what the rules look at; it is read once.
            let role = claims::role(object);
            if let Some(exposure) = context.exposure(index, object, role) {
                reach(&context, &exposure, object, &mut out);
                exposures.push(exposure);
            }
            object_rules(&context, index, object, role, &mut out);
        });
    }
    hostnames(&context, &exposures, &mut out);
    workloads_exposed_twice(&context, &exposures, &mut out);
    out.sort_by(|a, b| {
        (
            a.severity, a.code, &a.file, a.line, a.column, &a.object, &a.message,
        )
            .cmp(&(
                b.severity, b.code, &b.file, b.line, b.column, &b.object, &b.message,
            ))
    });
    out.dedup();
    out
}

/// Generated objects first: they are what the values asked for, so the
/// finding lands on the other claimer.
fn asked_first(context: &Context, exposures: &[&Exposure]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..exposures.len()).collect();
    // Of two generated objects, the later values entry is the one at fault.
    order.sort_by_key(|&k| match context.items[exposures[k].item].origin {
        Origin::Generated { service } => (false, service),
        _ => (true, 0),
    });
    order
}

fn ways_out(context: &Context, a: &Exposure, b: &Exposure) -> String {
    let upstream_ingress = [a, b].into_iter().find(|e| {
        matches!(context.items[e.item].origin, Origin::Upstream(_))
            && context.ids[e.item].kind == "Ingress"
    });
    let asked = [a, b].into_iter().find_map(|e| {
        matches!(context.items[e.item].origin, Origin::Generated { .. })
            .then_some(e.service)
            .flatten()
    });
    match (upstream_ingress, asked) {
        (Some(ingress), Some(service)) => format!(
            "; either turn the chart's {} off (or give it another class) and keep {}, or remove {} from the values and keep the chart's Ingress",
            context.ids[ingress.item],
            context.values.services[service].key_path(),
            context.values.services[service].key_path()
        ),
        _ => String::new(),
    }
}

/// TS001: one device per hostname.
fn hostnames(context: &Context, exposures: &[Exposure], out: &mut Vec<Diagnostic>) {
    // Exposures sorted by hostname (MagicDNS names are case-insensitive),
    // each name's claimers in stream order: a sorted vector of inline keys
    // rather than a map of allocated ones, which at 10,000 services was
    // the gate's largest structure.
    let mut by_host: Vec<(CompactString, &Exposure)> =
        exposures.iter().map(|e| (e.claim.key(), e)).collect();
    by_host.sort_by(|a, b| a.0.cmp(&b.0));
    for group in by_host.chunk_by(|a, b| a.0 == b.0).filter(|c| c.len() > 1) {
        let claimers: Vec<&Exposure> = group.iter().map(|(_, e)| *e).collect();
        let order = asked_first(context, &claimers);
        let first = claimers[order[0]];
        for &k in &order[1..] {
            let other = claimers[k];
            out.push(finding(
                "TS001",
                &context.items[other.item],
                context.values,
                CLAIM_POINTERS,
                format!(
                    "hostname {:?} is claimed by {} and by {}; the second device would become {:?}{}",
                    other.claim.hostname,
                    context.describe(first.item, CLAIM_POINTERS),
                    context.describe(other.item, CLAIM_POINTERS),
                    format!("{}-1", other.claim.hostname),
                    ways_out(context, first, other)
                ),
            ));
        }
    }
}

/// TS002: one exposure per workload (and per backend Service, which stands
/// for its pods when the files hold no workload).
fn workloads_exposed_twice(context: &Context, exposures: &[Exposure], out: &mut Vec<Diagnostic>) {
    let all: Vec<&Exposure> = exposures.iter().collect();
    let order = asked_first(context, &all);
    let rank: Vec<usize> = {
        let mut rank = vec![0; all.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k] = r;
        }
        rank
    };
    // Exposures that share a workload or a backend: the only pairs worth
    // comparing, found without comparing every pair.
    #[derive(PartialEq, Eq, Hash)]
    enum Shared<'e> {
        Backend(&'e str),
        Workload(usize),
    }
    let mut by_target: HashMap<Shared, Vec<usize>> = HashMap::default();
    for (k, e) in all.iter().enumerate() {
        for backend in &e.backends {
            by_target
                .entry(Shared::Backend(backend))
                .or_default()
                .push(k);
        }
        for &w in e.selected.iter().flatten() {
            by_target.entry(Shared::Workload(w)).or_default().push(k);
        }
    }
    let mut pairs = BTreeSet::new();
    for sharing in by_target.values().filter(|s| s.len() > 1) {
        for (n, &x) in sharing.iter().enumerate() {
            for &y in &sharing[n + 1..] {
                let (first, second) = if rank[x] < rank[y] { (x, y) } else { (y, x) };
                pairs.insert((rank[first], first, second));
            }
        }
    }
    for (_, a, b) in pairs {
        {
            let (a, b) = (all[a], all[b]);
            let workloads: Vec<usize> = match (&a.selected, &b.selected) {
                (Some(x), Some(y)) => x
                    .iter()
                    .filter(|w| y.contains(w))
                    // Hook Jobs carry the component's labels only while they run.
                    .filter(|&&w| context.ids[w].kind != "Job")
                    .copied()
                    .collect(),
                _ => Vec::new(),
            };
            let backends: Vec<&CompactString> = a
                .backends
                .iter()
                .filter(|x| b.backends.binary_search(x).is_ok())
                .collect();
            if workloads.is_empty() && backends.is_empty() {
                continue;
            }
            let what = if workloads.is_empty() {
                format!(
                    "the pods of Service {}",
                    backends
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                context.names(&workloads)
            };
            out.push(finding(
                "TS002",
                &context.items[b.item],
                context.values,
                &[
                    CLAIM_POINTERS,
                    &["/spec/selector", "/spec/rules", "/spec/defaultBackend"],
                ]
                .concat(),
                format!(
                    "{what} would be exposed twice: by {} and by {}; each gets its own device{}",
                    context.describe(a.item, CLAIM_POINTERS),
                    context.describe(b.item, CLAIM_POINTERS),
                    ways_out(context, a, b)
                ),
            ));
        }
    }
}

/// TS003–TS006: what an exposure reaches.
fn reach(context: &Context, e: &Exposure, object: View, out: &mut Vec<Diagnostic>) {
    let item = &context.items[e.item];
    let is_service = context.ids[e.item].kind == "Service";
    let selector_pointers: &[&str] = &["/spec/selector", "/metadata/annotations", "/spec/type"];
    // Spelled for a finding only.
    let shown = || object.at(&["spec", "selector"]).to_string();
    if e.service.is_none() && is_service {
        out.push(finding(
            "TS003",
            item,
            context.values,
            CLAIM_POINTERS,
            format!(
                "{} is exposed on the tailnet, but no service in the values asks for it",
                context.ids[e.item]
            ),
        ));
        return;
    }
    let Some(selected) = &e.selected else {
        return;
    };
    if selected.is_empty() {
        if is_service {
            out.push(finding(
                "TS004",
                item,
                context.values,
                selector_pointers,
                format!(
                    "selector {} matches no workload in namespace {}; the device would answer nothing",
                    shown(),
                    e.namespace
                ),
            ));
        }
        return;
    }
    let components = context.components(selected);
    if let Some(targets) = &e.targets {
        let wrong: Vec<usize> = selected
            .iter()
            .filter(|w| targets.binary_search(w).is_err())
            .copied()
            .collect();
        if !wrong.is_empty() {
            let service = e.service.map(|s| &context.values.services[s]);
            let allowed: Vec<usize> = targets.clone();
            out.push(finding(
                "TS003",
                item,
                context.values,
                selector_pointers,
                format!(
                    "selector {} reaches {} (component {}), which {} does not select; it selects {} (component {})",
                    shown(),
                    context.names(&wrong),
                    context
                        .components(&wrong)
                        .iter()
                        .map(|c| shown_component(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                    service
                        .map(|s| format!(
                            "the backend Service {}/{} of {}",
                            s.namespace,
                            s.backend.name,
                            s.key_path()
                        ))
                        .unwrap_or_else(|| "its backend".into()),
                    context.names(&allowed),
                    context
                        .components(&allowed)
                        .iter()
                        .map(|c| shown_component(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    if components.len() > 1 {
        out.push(finding(
            "TS005",
            item,
            context.values,
            selector_pointers,
            format!(
                "{} reaches workloads of components {}: {}",
                context.ids[e.item],
                components
                    .iter()
                    .map(|c| shown_component(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                context.names(selected)
            ),
        ));
    }
    if is_service {
        target_ports(context, e, object, selected, out);
    }
}

/// TS006: every port forwards to a port the selected containers declare.
fn target_ports(
    context: &Context,
    e: &Exposure,
    object: View,
    selected: &[usize],
    out: &mut Vec<Diagnostic>,
) {
    let item = &context.items[e.item];
    let declared: Vec<ContainerPort> = selected
        .iter()
        .flat_map(|&w| container_ports(context.json[w]))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if declared.is_empty() {
        return;
    }
    for (i, port) in object.at(&["spec", "ports"]).items().enumerate() {
        let target = match port.get("targetPort") {
            View::Missing => port.get("port"),
            target => target,
        };
        if !claims::target_declared(target, &declared) {
            let pointer = format!("/spec/ports/{i}");
            out.push(finding(
                "TS006",
                item,
                context.values,
                &[pointer.as_str(), "/spec/selector"],
                format!(
                    "port {} forwards to targetPort {target}, which no selected container declares ({}: {})",
                    port.get("port"),
                    context.names(selected),
                    declared
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
}

fn annotation<'a>(object: View<'a>, key: &str) -> Option<&'a str> {
    object.at(&["metadata", "annotations", key]).as_str()
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Rules about one object.
fn object_rules(
    context: &Context,
    index: usize,
    object: View,
    role: Option<Role>,
    out: &mut Vec<Diagnostic>,
) {
    let item = &context.items[index];
    let id = &context.ids[index];
    let values = context.values;
    let mut push = |code: &'static str, pointers: &[&str], message: String| {
        out.push(finding(code, item, values, pointers, message));
    };
    let expose_pointer = "/metadata/annotations/tailscale.com~1expose";
    let annotations = object.at(&["metadata", "annotations"]);
    let expose = annotations.get(ANNOTATION_EXPOSE);
    if !expose.is_missing() {
        if expose.as_str() != Some("true") {
            push(
                "TS007",
                &[expose_pointer],
                format!(
                    "tailscale.com/expose is {expose}, not \"true\"; the operator exposes nothing"
                ),
            );
        } else if id.kind == "Service" && claims::is_headless(object) {
            push(
                "TS008",
                &[expose_pointer, "/spec/clusterIP"],
                "tailscale.com/expose on a headless Service, which the operator ignores".into(),
            );
        }
    }
    if annotation(object, ANNOTATION_PROXY_GROUP) == Some("") {
        push(
            "TS009",
            &["/metadata/annotations/tailscale.com~1proxy-group"],
            "tailscale.com/proxy-group is \"\", which makes every reconciler skip the object"
                .into(),
        );
    }
    let namespace = context.namespace(item, None);
    if let Some(claim) = role.and_then(|role| claims::claim_as(object, role, &namespace))
        && (id.kind == "Service" || claim.source == HostnameSource::TlsHost)
        && let Err(why) = names::hostname(&claim.hostname)
    {
        let source = match claim.source {
            HostnameSource::Annotation => "tailscale.com/hostname",
            HostnameSource::TlsHost => "the first label of tls[0].hosts[0]",
            HostnameSource::Default => "the default <namespace>-<name>",
        };
        push(
            "TS010",
            CLAIM_POINTERS,
            format!("hostname {:?} ({source}) {why}", claim.hostname),
        );
    }
    if let Some(tags) = annotation(object, ANNOTATION_TAGS) {
        for tag in tags.split(',') {
            if let Err(why) = context.passed.check(Rule::Tag, tag) {
                push(
                    "TS011",
                    &["/metadata/annotations/tailscale.com~1tags"],
                    format!("tag {tag:?} {why}"),
                );
            }
        }
    }
    if id.kind == "Ingress"
        && object.at(&["spec", "ingressClassName"]).as_str() == Some(INGRESS_CLASS)
    {
        let tls_host = claims::tls_host(object);
        for (i, rule) in object.at(&["spec", "rules"]).items().enumerate() {
            let pointer = format!("/spec/rules/{i}");
            // An empty host is no host, which the operator serves.
            if let Some(host) = rule.get("host").as_str().filter(|h| !h.is_empty())
                && Some(host) != tls_host
            {
                push(
                    "TS012",
                    &[pointer.as_str(), "/spec/tls"],
                    format!(
                        "rules[{i}].host {host:?} differs from the TLS host; the operator drops the rule"
                    ),
                );
            }
            if rule.get("http").is_missing() {
                push(
                    "TS013",
                    &[pointer.as_str()],
                    format!("rules[{i}] has no http"),
                );
            }
        }
    }
    {
        for key in object
            .at(&["metadata", "labels"])
            .entries()
            .map(|(k, _)| k)
            .filter(|k| OPERATOR_LABEL_PREFIXES.iter().any(|p| k.starts_with(p)))
        {
            let pointer = format!("/metadata/labels/{}", escape_pointer(key));
            push(
                "TS014",
                &[pointer.as_str()],
                format!("label {key} is operator-internal"),
            );
        }
    }
    if !annotations.get(LABEL_PROXY_CLASS).is_missing()
        && context
            .options
            .operator_version
            .is_some_and(|v| v < (1, 86))
    {
        push(
            "TS015",
            &["/metadata/annotations/tailscale.com~1proxy-class"],
            "tailscale.com/proxy-class is an annotation; this operator reads only the label".into(),
        );
    }
    if matches!(item.origin, Origin::Upstream(_))
        && id.kind == "Service"
        && claims::is_tailscale_load_balancer(object)
    {
        push(
            "TS016",
            &["/spec/loadBalancerClass", "/spec/type"],
            format!("{id} from the upstream manifests is a LoadBalancer of class tailscale"),
        );
    }
    if !object.get("status").is_missing() {
        push(
            "TS017",
            &["/status"],
            "the object renders status, which the cluster (here: the Tailscale operator) writes"
                .into(),
        );
    }
    if !object.at(&["metadata", "finalizers"]).is_missing() {
        push(
            "TS017",
            &["/metadata/finalizers"],
            "the object renders metadata.finalizers; the operator adds its own, and an explicit list strips it".into(),
        );
    }
    api_server_rules(id, object, &context.passed, &mut push);
}

/// TS018: names, labels and annotations the API server would refuse.
fn api_server_rules(
    id: &Identity,
    object: View<'_>,
    passed: &Passed,
    push: &mut impl FnMut(&'static str, &[&str], String),
) {
    if let Err(why) = names::object_name(&id.kind, &id.name) {
        push(
            "TS018",
            &["/metadata/name"],
            format!("metadata.name {:?} {why}", id.name),
        );
    }
    if !id.namespace.is_empty()
        && let Err(why) = passed.check(Rule::Namespace, &id.namespace)
    {
        push(
            "TS018",
            &["/metadata/namespace"],
            format!("metadata.namespace {:?} {why}", id.namespace),
        );
    }
    let maps: [(&str, View, bool); 4] = [
        ("/metadata/labels", object.at(&["metadata", "labels"]), true),
        (
            "/metadata/annotations",
            object.at(&["metadata", "annotations"]),
            false,
        ),
        (
            "/spec/template/metadata/labels",
            object.at(&["spec", "template", "metadata", "labels"]),
            true,
        ),
        (
            "/spec/selector/matchLabels",
            object.at(&["spec", "selector", "matchLabels"]),
            true,
        ),
    ];
    for (base, map, labels) in maps {
        let mut size = 0;
        for (key, value) in map.entries() {
            // Spelled only for a finding: most keys have none.
            let pointer = || format!("{base}/{}", escape_pointer(key));
            let shown = || base[1..].replace('/', ".");
            if let Err(why) = passed.check(Rule::LabelKey, key) {
                push(
                    "TS018",
                    &[pointer().as_str()],
                    format!("{} key {key:?} {why}", shown()),
                );
            }
            match value.as_str() {
                None => push(
                    "TS018",
                    &[pointer().as_str()],
                    format!("{}.{key} is {value}, not a string", shown()),
                ),
                Some(v) if labels => {
                    if let Err(why) = passed.check(Rule::LabelValue, v) {
                        push(
                            "TS018",
                            &[pointer().as_str()],
                            format!("{}.{key} value {v:?} {why}", shown()),
                        );
                    }
                }
                Some(v) => size += key.len() + v.len(),
            }
        }
        if size > MAX_ANNOTATIONS_BYTES {
            push(
                "TS018",
                &[base],
                format!(
                    "annotations take {size} bytes, more than the API server's {MAX_ANNOTATIONS_BYTES}"
                ),
            );
        }
    }
    if id.kind == "Service" {
        for (key, value) in object.at(&["spec", "selector"]).entries() {
            let bad = passed.check(Rule::LabelKey, key).err().or_else(|| {
                value.as_str().map_or(Some("is not a string".into()), |v| {
                    passed.check(Rule::LabelValue, v).err()
                })
            });
            if let Some(why) = bad {
                let pointer = format!("/spec/selector/{}", escape_pointer(key));
                push(
                    "TS018",
                    &[pointer.as_str()],
                    format!("spec.selector {key:?}: {why}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_verdict_is_the_rules_own() {
        let passed = Passed::default();
        for _ in 0..2 {
            assert_eq!(
                passed.check(Rule::LabelKey, "app.kubernetes.io/name"),
                Ok(())
            );
            // Refusals are checked, and reported, every time.
            assert_eq!(
                passed.check(Rule::LabelKey, "-bad"),
                names::label_key("-bad")
            );
            assert!(passed.check(Rule::LabelKey, "-bad").is_err());
            // A string one rule accepted is not taken as accepted by another.
            assert!(
                passed
                    .check(Rule::Namespace, "app.kubernetes.io/name")
                    .is_err()
            );
        }
    }
}
