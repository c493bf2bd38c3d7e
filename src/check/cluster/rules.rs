//! The diagnosis of a running cluster's exposure (TS401–TS410), from a
//! snapshot of its exports. Each finding names the object at fault, where
//! it is in the export, why, and the one command that fixes it.

use std::collections::BTreeMap;

use compact_str::CompactString;
use serde_json::Value;

use super::state::{Object, SecretKeys, Snapshot};
use crate::check::argocd::{ignored_pointers, recreates, sync_options};
use crate::claims;
use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::string_at;

/// The operator's labels on what it creates for a parent resource.
const PARENT: &str = "tailscale.com/parent-resource";
const PARENT_NS: &str = "tailscale.com/parent-resource-ns";
const PARENT_TYPE: &str = "tailscale.com/parent-resource-type";
/// The annotation on a proxy's headless Service that holds its device's
/// MagicDNS name.
const MAGIC_DNS_NAME: &str = "tailscale.com/magic-dnsname";
const FINALIZERS: &[&str] = &[
    "tailscale.com/finalizer",
    "tailscale.com/service-pg-finalizer",
    "tailscale.com/ingress-pg-finalizer",
];
/// Event reasons the operator puts on an Ingress it will not serve, and
/// what each means.
const INGRESS_EVENTS: &[(&str, &str)] = &[
    (
        "HTTPSNotEnabled",
        "HTTPS certificates (and MagicDNS) are not enabled on the tailnet",
    ),
    (
        "InvalidIngressConfiguration",
        "the Ingress breaks a rule of HA Ingresses (one TLS entry with one host, a valid hostname and tags, an Available ProxyGroup of type ingress, a hostname no other HA Ingress uses)",
    ),
    (
        "NoValidBackends",
        "no rule has a backend the operator can use (a Service in the same namespace with a cluster IP)",
    ),
    (
        "InvalidIngressBackend",
        "a backend or a rule is not supported (a resource backend, or a rules[].host other than the TLS host)",
    ),
    ("PathUndefined", "a rule has no path"),
    ("INVALIDCONFIG", "the Ingress's configuration is invalid"),
    (
        "INVALIDSERVICE",
        "the Ingress's hostname or tags are invalid",
    ),
    (
        "ProxyGroupNotFound",
        "the ProxyGroup it names does not exist",
    ),
    (
        "IngressSvcInvalid",
        "the Tailscale Service for it is invalid",
    ),
    (
        "InvalidTailscaleService",
        "a Tailscale Service of that name exists and belongs to something else",
    ),
    (
        "TailscaleServiceFeatureFlagNotEnabled",
        "the tailnet does not have Tailscale Services",
    ),
];

fn at(d: Diagnostic, object: &Object) -> Diagnostic {
    d.at(Some(&object.location)).object(object.describe())
}

/// The user objects the operator exposes, with the hostname each claims.
fn exposed(snapshot: &Snapshot) -> Vec<(&Object, CompactString)> {
    snapshot
        .services
        .iter()
        .chain(&snapshot.ingresses)
        .filter_map(|o| claims::claim(&o.value, o.namespace()).map(|c| (o, c.hostname)))
        .collect()
}

/// A standalone proxy: its StatefulSet, found by the operator's labels.
fn proxy_of<'a>(snapshot: &'a Snapshot, parent: &Object) -> Option<&'a Object> {
    let kind = if parent.kind() == "Ingress" {
        "ingress"
    } else {
        "svc"
    };
    snapshot.stateful_sets.iter().find(|s| {
        s.label(PARENT) == Some(parent.name())
            && s.label(PARENT_NS) == Some(parent.namespace())
            && s.label(PARENT_TYPE) == Some(kind)
    })
}

/// The device name the cluster shows for an exposed object: the status the
/// operator wrote, else its proxy's headless Service's MagicDNS name.
fn device_name<'a>(snapshot: &'a Snapshot, parent: &'a Object) -> Option<(&'a str, &'a Object)> {
    if let Some(name) = parent.load_balancer_hostname() {
        return Some((name, parent));
    }
    let proxy = proxy_of(snapshot, parent)?;
    snapshot
        .services
        .iter()
        .find(|s| s.namespace() == proxy.namespace() && s.name() == proxy.name())
        .and_then(|headless| headless.annotation(MAGIC_DNS_NAME).map(|n| (n, headless)))
}

/// `teleport-1` for `teleport-1.tail1234.ts.net.`, with its base and number.
fn suffixed(device: &str) -> Option<(String, &str)> {
    let label = device.trim_end_matches('.').split('.').next()?;
    let (base, number) = label.rsplit_once('-')?;
    (!base.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (base.to_ascii_lowercase(), label))
}

/// The sync options of an Application that recreate what they sync.
fn recreating_options(app: &Object) -> Vec<&str> {
    sync_options(&app.value)
        .into_iter()
        .filter(|o| recreates(o))
        .collect()
}

/// The Application whose resources list this object, if any.
fn application_of<'a>(snapshot: &'a Snapshot, object: &Object) -> Option<&'a Object> {
    snapshot.applications.iter().find(|app| {
        app.value
            .pointer("/status/resources")
            .and_then(Value::as_array)
            .is_some_and(|resources| {
                resources.iter().any(|r| {
                    r.get("kind").and_then(Value::as_str) == Some(object.kind())
                        && r.get("name").and_then(Value::as_str) == Some(object.name())
                        && r.get("namespace").and_then(Value::as_str).unwrap_or("")
                            == object.namespace()
                })
            })
    })
}

/// TS401: a device whose name got a `-N` suffix, and who holds the name.
fn second_devices(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let exposed = exposed(snapshot);
    let devices: Vec<(&Object, &str, &Object, CompactString)> = exposed
        .iter()
        .filter_map(|(o, hostname)| {
            device_name(snapshot, o)
                .map(|(device, seen_on)| (*o, device, seen_on, hostname.clone()))
        })
        .collect();
    for (object, device, seen_on, hostname) in &devices {
        let Some((base, label)) = suffixed(device) else {
            continue;
        };
        if base != hostname.to_ascii_lowercase() {
            // The name asked for ends in -N itself.
            continue;
        }
        let holder = devices.iter().find(|(other, other_device, _, _)| {
            !std::ptr::eq(*other, *object)
                && other_device
                    .trim_end_matches('.')
                    .split('.')
                    .next()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&base))
        });
        let claimants: Vec<&&Object> = exposed
            .iter()
            .filter(|(other, h)| !std::ptr::eq(*other, *object) && h.eq_ignore_ascii_case(hostname))
            .map(|(o, _)| o)
            .collect();
        let seen = if std::ptr::eq(*seen_on, *object) {
            "its status".to_string()
        } else {
            format!("{MAGIC_DNS_NAME} on {}", seen_on.describe())
        };
        let (why, fix) = if let Some((holder, holder_device, _, _)) = holder {
            (
                format!(
                    "{} holds {:?} ({holder_device}) and claims the same hostname: two objects claim one name",
                    holder.describe(),
                    base
                ),
                format!(
                    "remove the second claim where it comes from (the values or the chart; argocd-tailscale-plugin generate keeps one claim per hostname), or now: {}; then delete the device {label:?} in the admin console",
                    unclaim(object)
                ),
            )
        } else if let Some(other) = claimants.first() {
            (
                format!("{} claims the same hostname", other.describe()),
                "expose the component from one object only; argocd-tailscale-plugin generate removes the second claim".to_string(),
            )
        } else {
            let replace = application_of(snapshot, object)
                .map(recreating_options)
                .filter(|o| !o.is_empty());
            let cause = match replace {
                Some(options) => format!(
                    "no other object claims {base:?}; the Application syncs with {}, which deletes and recreates the Service, and the old device lived on",
                    options.join(", ")
                ),
                None => format!(
                    "no other object in the export claims {base:?}: an earlier device of that name lives on (a Service recreated, for example by an Argo CD Replace or Force sync, or another cluster)"
                ),
            };
            (
                cause,
                format!(
                    "remove the old device {base:?} in the Tailscale admin console (Machines), then restart the proxy so it takes the name: kubectl delete pod -n {} -l {PARENT}={}",
                    proxy_of(snapshot, object).map_or("tailscale", |p| p.namespace()),
                    object.name()
                ),
            )
        };
        out.push(at(
            Diagnostic::new(
                "TS401",
                format!(
                    "the device for hostname {hostname:?} is {label:?} ({seen}); {why}. Fix: {fix}"
                ),
            ),
            object,
        ));
    }
}

/// The command that takes an object's claim away without deleting it.
fn unclaim(object: &Object) -> String {
    let (ns, name) = (object.namespace(), object.name());
    match object.kind() {
        "Ingress" => format!(
            "kubectl patch ingress -n {ns} {name} --type=merge -p '{{\"spec\":{{\"ingressClassName\":null}}}}'"
        ),
        _ if object.annotation(claims::ANNOTATION_EXPOSE).is_some() => format!(
            "kubectl annotate service -n {ns} {name} {}- {}-",
            claims::ANNOTATION_EXPOSE,
            claims::ANNOTATION_HOSTNAME
        ),
        _ => format!(
            "kubectl patch service -n {ns} {name} --type=merge -p '{{\"spec\":{{\"type\":\"ClusterIP\",\"loadBalancerClass\":null}}}}'"
        ),
    }
}

/// A proxy replica: the Pod and the Secrets that hold its state and its
/// configuration (one Secret for a standalone proxy).
struct Replica<'a> {
    owner: String,
    /// The Service or Ingress a standalone proxy serves: (kind, namespace,
    /// name); none for a ProxyGroup replica.
    parent: Option<(&'a str, &'a str, &'a str)>,
    namespace: String,
    pod: String,
    state: Option<&'a SecretKeys>,
    config: Option<&'a SecretKeys>,
    /// The Secrets to delete so the operator mints a fresh auth key.
    to_delete: Vec<String>,
}

fn replicas(snapshot: &Snapshot) -> Vec<Replica<'_>> {
    let mut out = Vec::new();
    for sts in &snapshot.stateful_sets {
        let ns = sts.namespace().to_string();
        match sts.label(PARENT_TYPE) {
            Some(kind @ ("svc" | "ingress")) => {
                let secret = format!("{}-0", sts.name());
                let state = snapshot.secret(&ns, &secret);
                let kind = if kind == "svc" { "Service" } else { "Ingress" };
                let parent_ns = sts.label(PARENT_NS).unwrap_or("");
                let parent = sts.label(PARENT).unwrap_or("");
                out.push(Replica {
                    owner: format!("the proxy of {kind} {parent_ns}/{parent}"),
                    parent: Some((kind, parent_ns, parent)),
                    namespace: ns.clone(),
                    pod: format!("{}-0", sts.name()),
                    state,
                    config: state,
                    to_delete: vec![secret],
                });
            }
            Some("proxygroup") => {
                let pg = sts.label(PARENT).unwrap_or(sts.name()).to_string();
                let count = sts
                    .value
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(2);
                for i in 0..count {
                    let state = format!("{pg}-{i}");
                    let config = format!("{pg}-{i}-config");
                    out.push(Replica {
                        owner: format!("replica {i} of ProxyGroup {pg}"),
                        parent: None,
                        namespace: ns.clone(),
                        pod: format!("{pg}-{i}"),
                        state: snapshot.secret(&ns, &state),
                        config: snapshot.secret(&ns, &config),
                        to_delete: vec![config, state],
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether a Pod's proxy container is crash-looping, and the evidence.
fn crash_looping(pod: &Object) -> Option<String> {
    let statuses = pod.value.pointer("/status/containerStatuses")?.as_array()?;
    statuses.iter().find_map(|c| {
        let waiting = string_at(c, &["state", "waiting", "reason"]).unwrap_or("");
        let restarts = c.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
        let last = string_at(c, &["lastState", "terminated", "message"]).unwrap_or("");
        (waiting == "CrashLoopBackOff" || restarts >= 3).then(|| {
            let mut evidence = format!(
                "container {} restarted {restarts} times",
                string_at(c, &["name"]).unwrap_or("?")
            );
            if !waiting.is_empty() {
                evidence.push_str(&format!(" ({waiting})"));
            }
            if last.contains("not logged in") || last.contains("auth key") {
                evidence.push_str(", last exit: \"tailscale is not logged in\"");
            }
            evidence
        })
    })
}

/// TS402: a proxy that lost its auth state and has no key to log in again.
fn lost_auth(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    for replica in replicas(snapshot) {
        let Some(state) = replica.state else {
            continue;
        };
        let missing: Vec<&str> = ["device_id", "_current-profile"]
            .into_iter()
            .filter(|k| !state.keys.contains(*k))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let pod = snapshot.pod(&replica.namespace, &replica.pod);
        let crash = pod.and_then(crash_looping);
        let parent_not_ready = replica.parent.is_some_and(|(kind, namespace, name)| {
            snapshot
                .services
                .iter()
                .chain(&snapshot.ingresses)
                .any(|o| {
                    (o.kind(), o.namespace(), o.name()) == (kind, namespace, name)
                        && o.condition("TailscaleProxyReady")
                            .is_some_and(|(s, _, _)| s == "False")
                })
        });
        if crash.is_none() && !parent_not_ready {
            // A proxy that has not logged in yet, and is not failing.
            continue;
        }
        let config = match replica.config {
            Some(c) if std::ptr::eq(c, state) => String::new(),
            Some(c) => format!(
                "; its config Secret {} is there, and a config holds a key only until the first login",
                c.name
            ),
            None => "; its config Secret is missing".into(),
        };
        let evidence = crash.unwrap_or_else(|| "its Service's TailscaleProxyReady is False".into());
        let delete = replica.to_delete.join(" ");
        let message = format!(
            "{} has lost its auth state: its state Secret {} has no {}{config}; the pod crash-loops ({evidence}). The operator (v1.80-v1.90) mints a one-time auth key only when it creates the config, and removes it after the first login, so nothing can log in again. Fix: kubectl delete secret -n {} {delete} (the operator mints a fresh key; the pod restarts with it)",
            replica.owner,
            state.name,
            missing.join(" and "),
            replica.namespace
        );
        let mut d = Diagnostic::new("TS402", message).at(Some(&state.location));
        d = d.object(format!("Secret {}/{}", state.namespace, state.name));
        out.push(d);
    }
}

/// TS403–TS405: conditions the operator set False, explained by reason.
fn conditions(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let explain = |reason: &str| match reason {
        "ProxyInvalid" => {
            "the hostname, tags or another setting is invalid (see the message); the operator will not create a proxy"
        }
        "ProxyFailed" => {
            "creating the proxy failed (often a ProxyClass that does not exist or is not ready)"
        }
        "ProxyPending" => {
            "the proxy has not authenticated yet; if this lasts, look for TS402 (lost auth state) or an auth-key error in the operator's log"
        }
        "IngressSvcInvalid" => {
            "the HA Service is invalid (duplicate hostname, bad tags, or a ProxyGroup that is not Available or not of type ingress)"
        }
        "IngressSvcNoBackendsConfigured" => {
            "no ProxyGroup replica advertises the Tailscale Service yet: the backend has no ready endpoint, or the Service is waiting for approval (autoApprovers.services)"
        }
        _ => "see the message",
    };
    for object in snapshot.services.iter().chain(&snapshot.ingresses) {
        for (kind, code) in [
            ("TailscaleProxyReady", "TS403"),
            ("TailscaleIngressSvcValid", "TS404"),
            ("TailscaleIngressSvcConfigured", "TS405"),
        ] {
            let Some(("False", reason, message)) = object.condition(kind) else {
                continue;
            };
            out.push(at(
                Diagnostic::new(
                    code,
                    format!(
                        "{kind} is False, reason {reason}: {}; the operator says: {message:?}",
                        explain(reason)
                    ),
                ),
                object,
            ));
        }
    }
}

/// TS406: a tailscale Ingress without an address, and the events that say why.
fn ingresses_without_address(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    for ingress in &snapshot.ingresses {
        let class = string_at(&ingress.value, &["spec", "ingressClassName"]);
        if class != Some(claims::INGRESS_CLASS) || ingress.load_balancer_hostname().is_some() {
            continue;
        }
        if ingress
            .value
            .pointer("/metadata/deletionTimestamp")
            .is_some()
        {
            continue;
        }
        let events = snapshot.events_for("Ingress", ingress.namespace(), ingress.name());
        let reasons: Vec<String> = events
            .iter()
            .filter_map(|e| {
                let reason = string_at(&e.value, &["reason"])?;
                let meaning = INGRESS_EVENTS.iter().find(|(r, _)| *r == reason)?.1;
                let message = string_at(&e.value, &["message"])
                    .or_else(|| string_at(&e.value, &["note"]))
                    .unwrap_or("");
                Some(format!("{reason}: {meaning} ({message:?})"))
            })
            .collect();
        let why = if reasons.is_empty() {
            "no event of the operator explains it: its proxy has not authenticated (look for TS402) or has no HTTPS certificate yet; Argo CD shows the Ingress as Progressing until it has an address".to_string()
        } else {
            reasons.join("; ")
        };
        out.push(at(
            Diagnostic::new(
                "TS406",
                format!("the Ingress has no status.loadBalancer address, so it is not served on the tailnet: {why}"),
            ),
            ingress,
        ));
    }
}

/// The operator's Deployment and whether it runs.
fn operator_running(snapshot: &Snapshot) -> Option<(bool, &Object)> {
    snapshot
        .deployments
        .iter()
        .find(|d| {
            d.value
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        string_at(c, &["image"])
                            .is_some_and(|i| i.contains("tailscale/k8s-operator"))
                    })
                })
        })
        .map(|d| {
            let available = d
                .value
                .pointer("/status/availableReplicas")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (available > 0, d)
        })
}

/// TS407: deletion waits on the operator's finalizer, and the operator is gone.
fn stuck_finalizers(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let operator = operator_running(snapshot);
    if operator.is_some_and(|(running, _)| running) {
        return;
    }
    for object in snapshot.services.iter().chain(&snapshot.ingresses) {
        if object
            .value
            .pointer("/metadata/deletionTimestamp")
            .is_none()
        {
            continue;
        }
        let Some(finalizer) = object
            .finalizers()
            .into_iter()
            .find(|f| FINALIZERS.contains(f))
        else {
            continue;
        };
        let state = match operator {
            Some((_, d)) => format!("the operator ({}) has no available replica", d.describe()),
            None => "the export has no operator Deployment (was it deleted first?)".into(),
        };
        let kind = object.kind().to_ascii_lowercase();
        let mut d = at(
            Diagnostic::new(
                "TS407",
                format!(
                    "deletion waits on {finalizer}, which only the operator removes, and {state}. Fix: start the operator again so it cleans up the proxy, or, if it is gone for good, remove the finalizer: kubectl patch {kind} -n {} {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}}]' (then delete the proxy's StatefulSet and Secrets in the operator's namespace by hand)",
                    object.namespace(),
                    object.name()
                ),
            ),
            object,
        );
        if operator.is_none() {
            d = d.severity(Severity::Warning);
        }
        out.push(d);
    }
}

fn is_egress(service: &Object) -> bool {
    claims::EGRESS_ANNOTATIONS
        .iter()
        .any(|a| service.annotation(a).is_some())
}

/// TS408 and TS409: Applications fighting the operator, or recreating
/// what it exposes.
fn applications(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let exposed = exposed(snapshot);
    for app in &snapshot.applications {
        let respects = sync_options(&app.value).contains(&"RespectIgnoreDifferences=true");
        let covers = |service: &Object, pointer: &str| {
            ignored_pointers(
                &app.value,
                "",
                "Service",
                service.namespace(),
                service.name(),
            )
            .contains(pointer)
        };
        let out_of_sync: Vec<&Value> = app
            .value
            .pointer("/status/resources")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter(|r| r.get("status").and_then(Value::as_str) == Some("OutOfSync"))
                    .collect()
            })
            .unwrap_or_default();
        for resource in out_of_sync {
            let field = |k: &str| resource.get(k).and_then(Value::as_str).unwrap_or("");
            if field("kind") != "Service" {
                continue;
            }
            let Some(service) = snapshot
                .services
                .iter()
                .find(|s| s.name() == field("name") && s.namespace() == field("namespace"))
            else {
                continue;
            };
            if !is_egress(service) {
                continue;
            }
            let missing = !covers(service, "/spec/externalName");
            if !missing && respects {
                continue;
            }
            let why = if missing {
                "its ignoreDifferences do not cover /spec/externalName".to_string()
            } else {
                "its ignoreDifferences cover /spec/externalName, but its syncOptions lack RespectIgnoreDifferences=true, so every sync writes the placeholder back".to_string()
            };
            out.push(at(
                Diagnostic::new(
                    "TS408",
                    format!(
                        "{} (egress) is OutOfSync: the operator rewrites spec.externalName and Argo CD writes the placeholder back; {why}. Fix: argocd-tailscale-plugin ignore-differences prints the entries and sync options this Application needs",
                        service.describe()
                    ),
                ),
                app,
            ));
        }
        let options = recreating_options(app);
        if options.is_empty() {
            continue;
        }
        let affected: Vec<String> = exposed
            .iter()
            .filter(|(o, _)| application_of(snapshot, o).is_some_and(|a| std::ptr::eq(a, app)))
            .map(|(o, _)| o.describe())
            .collect();
        if affected.is_empty() {
            continue;
        }
        out.push(at(
            Diagnostic::new(
                "TS409",
                format!(
                    "the Application syncs with {}, which deletes and recreates {}: each recreation makes a new device, and the old one keeps the name, so the new one gets a -1 suffix (and finalizers may be dropped). Fix: kubectl -n {} patch application {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/spec/syncPolicy/syncOptions\"}}]', or remove just {} from syncOptions",
                    options.join(", "),
                    affected.join(", "),
                    app.namespace(),
                    app.name(),
                    options.join(" and ")
                ),
            ),
            app,
        ));
    }
}

/// The fields of a generated Service that drift matters for.
fn service_shape(service: &Value) -> BTreeMap<&'static str, Value> {
    let mut shape = BTreeMap::new();
    shape.insert(
        "selector",
        service
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or(Value::Null),
    );
    let ports: Vec<Value> = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "port": p.get("port"),
                        "targetPort": p.get("targetPort").or_else(|| p.get("port")),
                        "protocol": p.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    shape.insert("ports", Value::Array(ports));
    let annotations: serde_json::Map<String, Value> = service
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| k.starts_with("tailscale.com/"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    shape.insert("annotations", Value::Object(annotations));
    shape.insert(
        "loadBalancerClass",
        service
            .pointer("/spec/loadBalancerClass")
            .cloned()
            .unwrap_or(Value::Null),
    );
    shape
}

/// TS410: what generate renders against what is live.
fn drift(snapshot: &Snapshot, rendered: &[Value], out: &mut Vec<Diagnostic>) {
    for generated in rendered {
        if string_at(generated, &["kind"]) != Some("Service")
            || string_at(generated, &["metadata", "labels", claims::LABEL_MANAGED_BY])
                != Some(claims::MANAGED_BY)
        {
            continue;
        }
        let name = string_at(generated, &["metadata", "name"]).unwrap_or("");
        let namespace = string_at(generated, &["metadata", "namespace"]).unwrap_or("");
        let Some(live) = snapshot
            .services
            .iter()
            .find(|s| s.name() == name && s.namespace() == namespace)
        else {
            out.push(
                Diagnostic::new(
                    "TS410",
                    format!("generate renders Service {namespace}/{name}, and the cluster has none: the exposure is not deployed (or the export misses the namespace). Fix: sync the Application (argocd app sync <app>), after checking that nothing else claims its hostname"),
                )
                .object(format!("Service {namespace}/{name}")),
            );
            continue;
        };
        let want = service_shape(generated);
        let have = service_shape(&live.value);
        let differ: Vec<String> = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| {
                format!(
                    "{k}: live {} but generate renders {}",
                    have.get(k).unwrap_or(&Value::Null),
                    v
                )
            })
            .collect();
        if differ.is_empty() {
            continue;
        }
        out.push(at(
            Diagnostic::new(
                "TS410",
                format!(
                    "the live Service differs from what generate renders: {}. Fix: sync the Application so the rendered Service replaces it (a change of loadBalancerClass or the tags annotation needs a new Service name: the operator applies them only once)",
                    differ.join("; ")
                ),
            ),
            live,
        ));
    }
}

/// TS499: what the export does not hold, so the reader knows what was not
/// checked.
fn coverage(snapshot: &Snapshot, out: &mut Vec<Diagnostic>) {
    let mut missing = Vec::new();
    if snapshot.stateful_sets.is_empty() || snapshot.secrets.is_empty() {
        missing
            .push("proxies and their Secrets (the operator namespace's StatefulSets and Secrets)");
    }
    if snapshot.pods.is_empty() {
        missing.push("Pods (crash loops)");
    }
    if snapshot.events.is_empty() {
        missing.push("Events (why an Ingress has no address)");
    }
    if operator_running(snapshot).is_none() {
        missing.push("the operator's Deployment");
    }
    if snapshot.applications.is_empty() {
        missing.push("Argo CD Applications");
    }
    let mut note = String::new();
    if !missing.is_empty() {
        note = format!(
            "not in the export: {}; what they would show was not checked",
            missing.join(", ")
        );
    }
    if !snapshot.ignored.is_empty() {
        let kinds: Vec<&str> = snapshot.ignored.iter().map(String::as_str).collect();
        if !note.is_empty() {
            note.push_str("; ");
        }
        note.push_str(&format!(
            "objects of kinds this check does not read were ignored: {}",
            kinds.join(", ")
        ));
    }
    if !note.is_empty() {
        out.push(Diagnostic::new("TS499", note));
    }
}

/// Every cluster-state finding. `rendered` is what generate renders for
/// the same repository, when values were given.
pub fn diagnose(snapshot: &Snapshot, rendered: Option<&[Value]>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    second_devices(snapshot, &mut out);
    lost_auth(snapshot, &mut out);
    conditions(snapshot, &mut out);
    ingresses_without_address(snapshot, &mut out);
    stuck_finalizers(snapshot, &mut out);
    applications(snapshot, &mut out);
    if let Some(rendered) = rendered {
        drift(snapshot, rendered, &mut out);
    }
    coverage(snapshot, &mut out);
    out
}
