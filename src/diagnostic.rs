//! Findings of `check`: each with a stable code, a severity, where it is,
//! what will happen in the cluster and how to fix it. Separate from
//! program errors, which stop a run (cargo-deny's split).

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use serde::Serialize;
use serde_json::{Value, json};

use crate::location::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    /// Found in the inputs and repaired by `generate`: it does not reach
    /// the cluster, and is shown so the chart can be fixed at its source.
    Repaired,
}

impl Severity {
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Repaired => "repaired",
        }
    }

    fn sarif_level(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Repaired => "note",
        }
    }
}

/// One entry of the catalogue; README.md documents each one.
pub struct Code {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What will happen in the cluster.
    pub explanation: &'static str,
    pub fix: &'static str,
}

pub const CODES: &[Code] = &[
    Code {
        id: "TS001",
        name: "duplicate-hostname",
        severity: Severity::Error,
        title: "two objects claim the same tailnet hostname",
        explanation: "The operator creates one device per exposed object and does not check names: the second device gets the hostname with a -1 suffix, MagicDNS points the name at whichever registered first, and clients reach the wrong component at random after a restart.",
        fix: "Expose each component from one object only. With teleport-cluster, do not put Tailscale annotations under root annotations.service (the chart copies them onto the auth Service); let the plugin generate <name>-ts-lb instead.",
    },
    Code {
        id: "TS002",
        name: "workload-exposed-twice",
        severity: Severity::Error,
        title: "one workload is exposed by more than one object",
        explanation: "Each exposing object gets its own proxy and device, so the same pods appear on the tailnet under two names with two sets of ACLs; removing one later leaves the other behind.",
        fix: "Keep one exposing object per workload: one entry in services, and no exposure on the chart's own Service.",
    },
    Code {
        id: "TS003",
        name: "non-target-component",
        severity: Severity::Error,
        title: "exposure selects a component that is not the one to expose",
        explanation: "The exposing Service sends tailnet traffic to pods of another component (for Teleport, `app: teleport-cluster` selects the auth pods, not the proxy): ports such as 3025 reach the tailnet, and the service users wanted answers nothing.",
        fix: "Select exactly the pods the backend Service selects (Teleport proxy: app.kubernetes.io/name, app.kubernetes.io/instance and app.kubernetes.io/component: proxy); give the chart's manifests as upstream so the plugin copies the selector.",
    },
    Code {
        id: "TS004",
        name: "selector-matches-nothing",
        severity: Severity::Warning,
        title: "a selector matches no workload",
        explanation: "The Service has no endpoints: the proxy starts, the device appears on the tailnet, and every connection is refused or times out.",
        fix: "Copy the backend Service's spec.selector, or let the plugin derive it from the upstream manifests.",
    },
    Code {
        id: "TS005",
        name: "selector-matches-several-components",
        severity: Severity::Error,
        title: "a selector matches workloads of several components",
        explanation: "Connections are spread over pods of different components, so some of them land on pods that do not serve the protocol.",
        fix: "Add the app.kubernetes.io/component label of the component to expose to the selector.",
    },
    Code {
        id: "TS006",
        name: "target-port-not-exposed",
        severity: Severity::Error,
        title: "a targetPort that no selected container exposes",
        explanation: "Traffic is forwarded to a port nobody listens on. Teleport's proxy listens on 3080 behind the chart's port 443; a hand-written targetPort: 443 reaches nothing.",
        fix: "Use the backend Service's targetPort for that port (Teleport multiplex: 443 -> 3080); the plugin copies it from the upstream manifests or a preset.",
    },
    Code {
        id: "TS007",
        name: "expose-not-true",
        severity: Severity::Error,
        title: "tailscale.com/expose is not exactly \"true\"",
        explanation: "The operator compares the value with the string \"true\"; True, yes, on or an unquoted YAML boolean turned into something else expose nothing, silently.",
        fix: "Write tailscale.com/expose: \"true\", quoted.",
    },
    Code {
        id: "TS008",
        name: "expose-on-headless",
        severity: Severity::Error,
        title: "tailscale.com/expose on a headless Service",
        explanation: "The operator exposes only Services with a cluster IP (or ExternalName); on a headless Service (clusterIP: None) the annotation is silently ignored.",
        fix: "Expose a Service with a cluster IP, or use expose: direct, which generates one.",
    },
    Code {
        id: "TS009",
        name: "empty-proxy-group",
        severity: Severity::Error,
        title: "tailscale.com/proxy-group is empty",
        explanation: "With the key present but empty, the standalone reconciler skips the Service and the ProxyGroup reconcilers need a name: no reconciler serves it, and nothing is exposed.",
        fix: "Remove the annotation, or name an existing ProxyGroup.",
    },
    Code {
        id: "TS010",
        name: "invalid-hostname",
        severity: Severity::Error,
        title: "a tailnet hostname that is not one DNS label of at most 63 characters",
        explanation: "The operator refuses the Service (event INVALIDSERVICE, TailscaleProxyReady=False). Without a hostname annotation the default <namespace>-<name> is used, and it can exceed 63 characters.",
        fix: "Set tailscale.com/hostname (or hostname in the values) to one DNS label: letters, digits and '-', at most 63 characters.",
    },
    Code {
        id: "TS011",
        name: "invalid-tags",
        severity: Severity::Error,
        title: "tags that are not tag:<letter>[letters, digits, -]",
        explanation: "From operator v1.86 the Service is refused; before, the API refuses to mint the proxy's auth key (requested tags are invalid or not permitted) and the proxy never logs in. Spaces after commas are sent to the API as they are.",
        fix: "Write tags as tag:k8s,tag:other without spaces.",
    },
    Code {
        id: "TS012",
        name: "ingress-rule-host-dropped",
        severity: Severity::Warning,
        title: "an Ingress rule host the operator drops",
        explanation: "The operator serves rules without a host, or with exactly the first TLS host; any other rule is dropped with event InvalidIngressBackend, and its paths are not served.",
        fix: "Leave rules[].host out; the tailnet name comes from tls[0].hosts[0].",
    },
    Code {
        id: "TS013",
        name: "ingress-rule-without-http",
        severity: Severity::Error,
        title: "an Ingress rule without http",
        explanation: "A rule without http has no backend; the operator's handler does not expect it, and the Ingress serves nothing (or the reconcile fails).",
        fix: "Give every rule an http section with at least one path, or use defaultBackend.",
    },
    Code {
        id: "TS014",
        name: "operator-internal-label",
        severity: Severity::Error,
        title: "operator-internal labels on a user object",
        explanation: "tailscale.com/managed and tailscale.com/parent-resource* mark the operator's own children; on a user object they make the operator treat it as one, and can cause 'found multiple matching StatefulSet objects' errors.",
        fix: "Remove those labels from the manifests (generate removes them and reports it).",
    },
    Code {
        id: "TS015",
        name: "proxy-class-annotation-too-old",
        severity: Severity::Warning,
        title: "tailscale.com/proxy-class as an annotation for an operator older than 1.86",
        explanation: "Before v1.86 the operator reads the ProxyClass only from the label; the annotation is silently ignored and the proxy runs with the default class.",
        fix: "Use the tailscale.com/proxy-class label (proxyClass in the values renders the label).",
    },
    Code {
        id: "TS016",
        name: "chart-service-load-balancer",
        severity: Severity::Error,
        title: "the chart's own Service is a LoadBalancer of class tailscale",
        explanation: "Argo CD applies the chart's Service and the operator writes its finalizer and status.loadBalancer: two writers on one object. Any later change to the chart's Service (type, annotations) also moves the device.",
        fix: "Keep the chart's Service a ClusterIP (service.type: ClusterIP) and expose through <name>-ts-lb, which only the plugin renders (expose: direct); generate repairs the chart's Service and reports it.",
    },
    Code {
        id: "TS017",
        name: "operator-owned-field",
        severity: Severity::Error,
        title: "an object renders a field the cluster writes",
        explanation: "The operator writes status and its finalizer on every object it serves. A rendered status is dropped by the API server or fought over; a rendered metadata.finalizers list makes every sync strip the operator's finalizer, so deleting the object can leave its proxy and device behind.",
        fix: "Remove status and metadata.finalizers from the manifests, templates and patches; the plugin's ignore-differences entries cover what the operator writes.",
    },
    Code {
        id: "TS018",
        name: "rejected-by-api-server",
        severity: Severity::Error,
        title: "a name, label or annotation the API server rejects",
        explanation: "Kubernetes validates names (DNS labels and subdomains), label keys and values (at most 63 characters of letters, digits, '-', '_' and '.'), annotation keys and the total size of annotations. One invalid object fails the whole Argo CD sync.",
        fix: "Change the value to one the API server accepts; for a label value, at most 63 characters, starting and ending with a letter or digit.",
    },
    Code {
        id: "TS101",
        name: "tag-not-owned",
        severity: Severity::Error,
        title: "a proxy tag is not owned by the operator's tag",
        explanation: "The operator mints each proxy's auth key with the proxy's tags; if its own tag does not own them in tagOwners, key creation fails with 'requested tags [...] are invalid or not permitted' (in the operator's log) and the proxy never logs in.",
        fix: "In the policy file: \"tagOwners\": {\"<proxy tag>\": [\"<operator tag>\"]}.",
    },
    Code {
        id: "TS102",
        name: "operator-tag-missing",
        severity: Severity::Error,
        title: "the operator's tag is not in tagOwners",
        explanation: "The OAuth client must carry the operator's tag, and the operator's device takes it; a tag that tagOwners does not define cannot be used, so the operator itself cannot join.",
        fix: "Add \"<operator tag>\": [] (or its owners) to tagOwners, and give the OAuth client that tag.",
    },
    Code {
        id: "TS103",
        name: "ha-needs-auto-approvers",
        severity: Severity::Warning,
        title: "ProxyGroup-backed exposure without autoApprovers.services",
        explanation: "HA Services and Ingresses become Tailscale Services; without an autoApprovers.services entry for the proxies' tags each waits for manual approval, and Argo CD shows them Progressing.",
        fix: "Add \"autoApprovers\": {\"services\": {\"<tag>\": [\"<tag>\"]}} for the ProxyGroup's tags.",
    },
    Code {
        id: "TS104",
        name: "funnel-needs-node-attribute",
        severity: Severity::Error,
        title: "Funnel without the funnel node attribute",
        explanation: "tailscale.com/funnel: \"true\" needs the funnel attribute for the proxy's tags; without it the Ingress stays tailnet-only.",
        fix: "Add {\"target\": [\"<proxy tag>\"], \"attr\": [\"funnel\"]} to nodeAttrs.",
    },
    Code {
        id: "TS105",
        name: "invalid-auto-approvers",
        severity: Severity::Error,
        title: "autoApprovers has a section that does not exist",
        explanation: "autoApprovers takes routes, exitNode and services; any other key (such as a tag) is refused when the policy is saved, so the policy in use is not this file.",
        fix: "Move the entry under routes, exitNode or services, e.g. \"services\": {\"tag:k8s\": [\"tag:k8s\"]}.",
    },
    Code {
        id: "TS199",
        name: "not-checkable",
        severity: Severity::Info,
        title: "checks no file can answer",
        explanation: "OAuth client scopes (Devices Core, Auth Keys and Services write, tag of the operator), HTTPS and MagicDNS for Ingress, device approval and tailnet lock are settings of the tailnet, not of these files.",
        fix: "Check them in the admin console: OAuth client scopes and tags; DNS: MagicDNS and HTTPS certificates; device approval; tailnet lock (the operator cannot sign node keys).",
    },
    Code {
        id: "TS201",
        name: "namespace-not-allowed",
        severity: Severity::Error,
        title: "a namespace the AppProject does not allow",
        explanation: "Argo CD refuses to sync objects into a namespace outside the project's destinations; the whole sync fails.",
        fix: "Add the namespace to the AppProject's spec.destinations, or move the object.",
    },
    Code {
        id: "TS202",
        name: "ignore-differences-not-covered",
        severity: Severity::Error,
        title: "the Application does not ignore what the operator writes",
        explanation: "The operator writes finalizers and status (and spec.externalName on egress Services); with selfHeal Argo CD keeps reverting what it sees as drift, which is what the optimistic-lock lines and endless OutOfSync are about.",
        fix: "Use the entries `argocd-tailscale-plugin ignore-differences` prints, or render the Application from an apps directory.",
    },
    Code {
        id: "TS203",
        name: "replace-or-force",
        severity: Severity::Error,
        title: "Replace=true or Force=true on an exposed Service",
        explanation: "Argo CD deletes and recreates the Service; the operator creates a new device, and the name gets a -1 suffix while the old device still exists.",
        fix: "Remove Replace=true and Force=true from the sync options; change immutable fields by renaming the Service.",
    },
    Code {
        id: "TS204",
        name: "respect-ignore-differences-missing",
        severity: Severity::Warning,
        title: "ignoreDifferences without RespectIgnoreDifferences=true",
        explanation: "ignoreDifferences only hides drift in the diff; a sync still applies the rendered value (an egress placeholder externalName, for one), and the operator writes it back.",
        fix: "Add RespectIgnoreDifferences=true (and ServerSideApply=true) to spec.syncPolicy.syncOptions.",
    },
    Code {
        id: "TS301",
        name: "proxy-not-logged-in",
        severity: Severity::Error,
        title: "a proxy that is not logged in and has no auth key",
        explanation: "machineAuthorized=false with authURL=true, or 'tailscaled daemon started with a config file, but tailscale is not logged in', means the proxy presented no auth key: the operator mints a key once and removes it after the first login, so a proxy whose state was lost (device deleted in the admin console, state Secret wiped, logout) cannot log in again. Operators before v1.96.2 never reissue the key. This is the crash loop; Argo CD's selfHeal is not the cause.",
        fix: "Delete the proxy's Secrets (standalone: ts-<name>-xxxxx-0 in the operator's namespace; ProxyGroup: <pg>-<i> and <pg>-<i>-config) so the operator mints a fresh key, then let the pod restart.",
    },
    Code {
        id: "TS302",
        name: "optimistic-lock-noise",
        severity: Severity::Info,
        title: "optimistic lock errors in the operator's log",
        explanation: "Since operator v1.78 these are logged at info level and not retried: another writer updated the object first, and the next watch event reconciles it. They do not break anything and are not why a proxy crash-loops.",
        fix: "Nothing to fix; look for TS301, TS303 or TS304 lines instead.",
    },
    Code {
        id: "TS303",
        name: "invalid-auth-key",
        severity: Severity::Error,
        title: "the proxy's auth key is invalid or expired",
        explanation: "Keys are single-use and expire; a proxy that did not log in before expiry, or reuses a consumed key, is refused.",
        fix: "Delete the proxy's Secrets so the operator mints a new key; check the OAuth client is valid.",
    },
    Code {
        id: "TS304",
        name: "tags-not-permitted",
        severity: Severity::Error,
        title: "the operator may not request the proxy's tags",
        explanation: "The OAuth client's tags do not own the proxy's tags, so no auth key is minted and the proxy never starts.",
        fix: "In tagOwners, make the operator's tag own every proxy tag; the operator's tag must equal the OAuth client's tag.",
    },
    Code {
        id: "TS401",
        name: "second-device-for-hostname",
        severity: Severity::Error,
        title: "a proxy's device got a -N suffix: two devices for one hostname",
        explanation: "The control plane makes names unique by appending -1, -2: the name asked for belongs to another device (a second object claiming it, or an older device of a Service Argo CD recreated), so clients resolving the name reach the other one.",
        fix: "Expose each component from one object; remove the stale device in the admin console and restart the proxy so it takes the name.",
    },
    Code {
        id: "TS402",
        name: "proxy-lost-auth-state",
        severity: Severity::Error,
        title: "a proxy lost its auth state and has no key to log in again",
        explanation: "The operator (v1.80-v1.90) mints a one-time auth key when it creates a proxy's config and removes it after the first login. Once the state Secret loses device_id or the current profile (a device deleted in the console, a wiped Secret, a logout), tailscaled must log in again without a key: the pod crash-loops with \"tailscale is not logged in\", whatever Argo CD does.",
        fix: "Delete the proxy's state and config Secrets (the command is in the message): the operator mints a fresh key.",
    },
    Code {
        id: "TS403",
        name: "proxy-not-ready",
        severity: Severity::Error,
        title: "TailscaleProxyReady is False",
        explanation: "The operator set the condition False: ProxyInvalid (an invalid hostname or tags; no proxy is made), ProxyFailed (creating the proxy failed, often a missing ProxyClass) or ProxyPending (not authenticated yet; Argo CD shows Progressing).",
        fix: "Act on the reason and the operator's message; for ProxyPending that lasts, look for TS402.",
    },
    Code {
        id: "TS404",
        name: "ingress-service-invalid",
        severity: Severity::Error,
        title: "TailscaleIngressSvcValid is False",
        explanation: "The HA Service or Ingress is invalid: a hostname another HA resource uses, invalid tags, or a ProxyGroup that is not Available or not of type ingress. The operator never sets it True again by itself (v1.84-v1.90), so a stale False can outlive the fix.",
        fix: "Fix what the message names; if it is already fixed, the condition is stale.",
    },
    Code {
        id: "TS405",
        name: "ingress-service-not-configured",
        severity: Severity::Error,
        title: "TailscaleIngressSvcConfigured is False",
        explanation: "No ProxyGroup replica advertises the Tailscale Service: the backend has no ready endpoint, or the Service waits for approval (autoApprovers.services in the policy).",
        fix: "Make the backend's pods ready, and auto-approve the Service for the ProxyGroup's tags.",
    },
    Code {
        id: "TS406",
        name: "ingress-without-address",
        severity: Severity::Error,
        title: "an Ingress of class tailscale has no address",
        explanation: "The operator writes status.loadBalancer once the proxy serves HTTPS; without it the Ingress is not reachable and Argo CD shows it Progressing. The operator's events on the Ingress say why (HTTPSNotEnabled, InvalidIngressConfiguration, NoValidBackends, ...).",
        fix: "Act on the event reasons in the message; with none, look at the proxy (TS402).",
    },
    Code {
        id: "TS407",
        name: "finalizer-without-operator",
        severity: Severity::Error,
        title: "deletion waits on the operator's finalizer while the operator is not running",
        explanation: "Only the operator removes tailscale.com/finalizer (and the ProxyGroup finalizers) after cleaning up the proxy; deleted first or together with its Services, it leaves them Terminating forever.",
        fix: "Start the operator again; if it is gone for good, remove the finalizer and the proxy's leftovers by hand. Keep the operator in its own Argo CD application.",
    },
    Code {
        id: "TS408",
        name: "operator-fields-out-of-sync",
        severity: Severity::Error,
        title: "an Application shows fields the operator owns as OutOfSync",
        explanation: "The operator rewrites an egress Service's spec.externalName; without an ignoreDifferences entry for it and RespectIgnoreDifferences=true, Argo CD writes the placeholder back on every sync and the two loop.",
        fix: "Add what argocd-tailscale-plugin ignore-differences prints to the Application.",
    },
    Code {
        id: "TS409",
        name: "replace-or-force-sync",
        severity: Severity::Error,
        title: "an Application syncs exposed objects with Replace or Force",
        explanation: "Replace and Force delete and recreate the object: each time, the operator makes a new device while the old one keeps the name, so the new one gets a -1 suffix, and finalizers may be dropped.",
        fix: "Remove Replace=true and Force=true from the Application's syncOptions.",
    },
    Code {
        id: "TS410",
        name: "drift-from-generate",
        severity: Severity::Error,
        title: "the live exposure differs from what generate renders",
        explanation: "A generated -ts-lb Service is missing from the cluster, or live with another selector, ports or tailscale.com annotations: what runs is not what the repository says.",
        fix: "Sync the Application; a new loadBalancerClass or tags need a new Service name, since the operator applies them once.",
    },
    Code {
        id: "TS499",
        name: "cluster-export-incomplete",
        severity: Severity::Info,
        title: "what the cluster export did not hold",
        explanation: "Findings need evidence from several kinds: proxies and their Secrets in the operator's namespace, Pods, Events, the operator's Deployment and the Applications. What the export lacks was not checked; kinds it does not read are ignored.",
        fix: "Export the missing kinds with the commands in the README.",
    },
];

pub fn code(id: &str) -> Option<&'static Code> {
    CODES
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(id) || c.name == id)
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The key path of the values or patch entry at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The object concerned (`Service teleport/teleport-cluster-auth`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    pub explanation: &'static str,
    pub fix: &'static str,
}

impl Diagnostic {
    pub fn new(id: &'static str, message: impl Into<String>) -> Diagnostic {
        let code = code(id).expect("a catalogued code");
        Diagnostic {
            code: code.id,
            severity: code.severity,
            message: message.into(),
            key: None,
            object: None,
            file: None,
            line: None,
            column: None,
            explanation: code.explanation,
            fix: code.fix,
        }
    }

    pub fn at(mut self, location: Option<&Location>) -> Diagnostic {
        if let Some(l) = location {
            self.file = Some(l.file.to_string());
            self.line = Some(l.line.into());
            self.column = Some(l.column.into());
        }
        self
    }

    pub fn key_path(mut self, key: Option<String>) -> Diagnostic {
        self.key = key;
        self
    }

    pub fn object(mut self, object: impl Into<String>) -> Diagnostic {
        self.object = Some(object.into());
        self
    }

    /// Where the finding points, when it has a place.
    pub fn location(&self) -> Option<Location> {
        let file = self.file.as_deref()?;
        Some(Location::new(
            &std::sync::Arc::from(file),
            self.line.unwrap_or(1),
            self.column.unwrap_or(1),
        ))
    }

    /// `file:line:col: key: [TS001] object: message`, for lists on stderr.
    pub fn one_line(&self) -> String {
        let mut line = String::new();
        if let Some(location) = self.location() {
            let _ = write!(line, "{location}: ");
        }
        if let Some(key) = &self.key {
            let _ = write!(line, "{key}: ");
        }
        let _ = write!(line, "[{}] ", self.code);
        if let Some(object) = &self.object {
            let _ = write!(line, "{object}: ");
        }
        line.push_str(&self.message);
        line
    }

    pub fn severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }
}

pub fn text(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        // Strings from the repository, shown on one line each.
        let c = |text: &str| crate::escape::controls(text).into_owned();
        let _ = writeln!(out, "{}[{}]: {}", d.severity.word(), d.code, c(&d.message));
        if let Some(file) = &d.file {
            let _ = writeln!(
                out,
                "  --> {}:{}:{}",
                c(file),
                d.line.unwrap_or(1),
                d.column.unwrap_or(1)
            );
        }
        if let Some(key) = &d.key {
            let _ = writeln!(out, "  key: {}", c(key));
        }
        if let Some(object) = &d.object {
            let _ = writeln!(out, "  object: {}", c(object));
        }
        let _ = writeln!(out, "  what happens: {}", d.explanation);
        let _ = writeln!(out, "  fix: {}\n", d.fix);
    }
    let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        out,
        "{}, {}, {}, {}",
        plural(count(Severity::Error), "error", "errors"),
        plural(count(Severity::Warning), "warning", "warnings"),
        plural(count(Severity::Info), "note", "notes"),
        plural(count(Severity::Repaired), "repaired", "repaired")
    );
    out
}

pub fn json(diagnostics: &[Diagnostic]) -> String {
    crate::escape::json(serde_json::to_string_pretty(diagnostics).expect("diagnostics serialize"))
        + "\n"
}

/// Where a SARIF log's paths are rooted. Code scanning maps a result onto
/// a repository file only through a URI relative to the checkout
/// (`%SRCROOT%`), so paths shown relative to the working directory are
/// rebased onto the repository root.
pub struct SarifRoot<'a> {
    /// The repository root, canonical.
    pub repo: &'a Path,
    /// The directory the shown paths are relative to, canonical.
    pub cwd: &'a Path,
    /// Where a result goes whose own place is not a file of the
    /// repository (stdin, a chart rendered by helm): the values file that
    /// asked for it. GitHub rejects a log with a result without a location.
    pub fallback: Option<Location>,
}

impl SarifRoot<'_> {
    /// `file` as a `%SRCROOT%`-relative URI, when it names a file inside
    /// the repository.
    fn uri(&self, file: &str) -> Option<String> {
        if file == "-" {
            return None;
        }
        let mut path = PathBuf::new();
        for part in self.cwd.join(file).components() {
            match part {
                Component::ParentDir => {
                    path.pop();
                }
                Component::CurDir => {}
                other => path.push(other),
            }
        }
        let relative = path.strip_prefix(self.repo).ok()?;
        if !path.is_file() || relative.as_os_str().is_empty() {
            return None;
        }
        let parts: Option<Vec<String>> = relative
            .components()
            .map(|c| c.as_os_str().to_str().map(percent_encode))
            .collect();
        Some(parts?.join("/"))
    }
}

/// RFC 3986 path segment encoding: unreserved characters stay, every other
/// byte becomes `%XX`.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A SARIF 2.1.0 log that GitHub code scanning accepts: every result has a
/// location relative to the repository root, every rule its descriptions,
/// help and help URI, every result a fingerprint that survives line moves.
pub fn sarif(diagnostics: &[Diagnostic], root: &SarifRoot) -> String {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let rules: Vec<Value> = CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": c.explanation},
                "help": {
                    "text": c.fix,
                    "markdown": format!("**{}**\n\n{}\n\nFix: {}", c.title, c.explanation, c.fix),
                },
                "helpUri": format!("{repository}/blob/main/README.md#diagnostics"),
                "defaultConfiguration": {"level": c.severity.sarif_level()},
                "properties": {"tags": ["tailscale", "argo-cd"]},
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let own = d.file.as_deref().and_then(|file| {
                root.uri(file)
                    .map(|uri| (uri, d.line.unwrap_or(1), d.column.unwrap_or(1)))
            });
            let place = own.or_else(|| {
                let f = root.fallback.as_ref()?;
                Some((root.uri(&f.file)?, f.line.into(), f.column.into()))
            });
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": CODES.iter().position(|c| c.id == d.code).unwrap_or(0),
                "level": d.severity.sarif_level(),
                "message": {"text": match &d.object {
                    Some(o) => format!("{} ({o})", d.message),
                    None => d.message.clone(),
                }},
                "partialFingerprints": {
                    "argocdTailscalePlugin/v1": fingerprint(d, place.as_ref().map(|p| p.0.as_str())),
                },
            });
            if let Some((uri, line, column)) = place {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": line, "startColumn": column},
                    }
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "argocd-tailscale-plugin",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": repository,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    crate::escape::json(serde_json::to_string_pretty(&log).expect("SARIF serializes")) + "\n"
}

/// What identifies a finding across commits and working directories: its
/// code, object, key and repository file, not its line (which moves when
/// lines are added above it).
fn fingerprint(d: &Diagnostic, uri: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    for part in [
        d.code,
        d.object.as_deref().unwrap_or(""),
        d.key.as_deref().unwrap_or(""),
        uri.unwrap_or(""),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    digest[..16].iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The long form of a code, for `check --explain`.
pub fn explain(code: &Code) -> String {
    format!(
        "{} ({}, {}): {}\n\nWhat happens in the cluster:\n  {}\n\nFix:\n  {}\n",
        code.id,
        code.name,
        code.severity.word(),
        code.title,
        code.explanation,
        code.fix
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_complete() {
        let mut ids: Vec<_> = CODES.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CODES.len());
        for c in CODES {
            assert!(
                !c.explanation.is_empty() && !c.fix.is_empty() && !c.title.is_empty(),
                "{}",
                c.id
            );
        }
        assert_eq!(code("ts001").unwrap().name, "duplicate-hostname");
        assert_eq!(code("duplicate-hostname").unwrap().id, "TS001");
    }
}
