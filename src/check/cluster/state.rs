//! What `kubectl get … -o yaml|json` exported, as plain data: the kinds the
//! diagnosis reads, each object with the file and line it came from.
//!
//! Secrets are reduced to their name, namespace and the **names**
//! of their keys the moment they are read: their values (and annotations,
//! where `last-applied-configuration` would repeat them) are dropped before
//! anything else sees the object, so no finding can print, store or hash
//! them. Objects of kinds the diagnosis does not read are ignored.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;
use crate::manifest::string_at;
use crate::values::Source;
use crate::yaml::{self, Node};

/// One exported object and where it is in the export.
#[derive(Debug, Clone)]
pub struct Object {
    pub value: Value,
    pub location: Location,
}

impl Object {
    pub fn name(&self) -> &str {
        string_at(&self.value, &["metadata", "name"]).unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        string_at(&self.value, &["metadata", "namespace"]).unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        string_at(&self.value, &["kind"]).unwrap_or("")
    }

    /// `Kind namespace/name`, as findings name objects.
    pub fn describe(&self) -> String {
        if self.namespace().is_empty() {
            format!("{} {}", self.kind(), self.name())
        } else {
            format!("{} {}/{}", self.kind(), self.namespace(), self.name())
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        string_at(&self.value, &["metadata", "labels", key])
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        string_at(&self.value, &["metadata", "annotations", key])
    }

    /// A status condition of this type: (status, reason, message).
    pub fn condition(&self, kind: &str) -> Option<(&str, &str, &str)> {
        self.value
            .pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
            .map(|c| {
                let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
                (field("status"), field("reason"), field("message"))
            })
    }

    pub fn finalizers(&self) -> Vec<&str> {
        self.value
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The first `status.loadBalancer.ingress[].hostname`: the device's
    /// MagicDNS name, as the operator writes it.
    pub fn load_balancer_hostname(&self) -> Option<&str> {
        self.value
            .pointer("/status/loadBalancer/ingress")?
            .as_array()?
            .iter()
            .find_map(|i| i.get("hostname").and_then(Value::as_str))
    }
}

/// A Secret, without its values.
#[derive(Debug, Clone)]
pub struct SecretKeys {
    pub name: String,
    pub namespace: String,
    /// The names under `data`, `stringData` and `binaryData`.
    pub keys: BTreeSet<String>,
    pub location: Location,
}

/// Everything read from the exports, by kind.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub services: Vec<Object>,
    pub ingresses: Vec<Object>,
    pub stateful_sets: Vec<Object>,
    pub pods: Vec<Object>,
    pub secrets: Vec<SecretKeys>,
    pub events: Vec<Object>,
    pub deployments: Vec<Object>,
    pub proxy_groups: Vec<Object>,
    pub proxy_classes: Vec<Object>,
    pub applications: Vec<Object>,
    /// Kinds seen and not read, for the note that says so.
    pub ignored: BTreeSet<String>,
}

fn export_error(location: &Location, message: String) -> Error {
    Error::new(ErrorKind::Upstream, message)
        .at(location.clone())
        .hint("give what `kubectl get … -o yaml` (or -o json) prints: a List, or objects separated by ---")
}

/// A Secret as the diagnosis may know it: its name, namespace and the
/// names of its keys, read from the document without converting a single value.
fn secret(node: &Node) -> SecretKeys {
    let text = |n: Option<&Node>| match n.map(|n| &n.value) {
        Some(yaml::NodeValue::Str(s)) => s.as_str().to_owned(),
        _ => String::new(),
    };
    let metadata = node.get("metadata");
    let keys = ["data", "stringData", "binaryData"]
        .iter()
        .filter_map(|field| node.get(field).and_then(Node::as_map))
        .flat_map(|entries| entries.iter().map(|(k, _)| k.name.as_str().to_owned()))
        .collect();
    SecretKeys {
        name: text(metadata.and_then(|m| m.get("name"))),
        namespace: text(metadata.and_then(|m| m.get("namespace"))),
        keys,
        location: node.location.clone(),
    }
}

impl Snapshot {
    fn add(&mut self, node: &Node) -> Result<()> {
        let kind = match node.get("kind").map(|k| &k.value) {
            Some(yaml::NodeValue::Str(kind)) => kind.as_str().to_owned(),
            _ => {
                return Err(export_error(
                    &node.location,
                    "an exported document without a kind".into(),
                ));
            }
        };
        if kind.ends_with("List") {
            if let Some(items) = node.get("items") {
                let yaml::NodeValue::Seq(items) = &items.value else {
                    return Err(export_error(
                        &items.location,
                        format!("the {kind}'s items are not a list"),
                    ));
                };
                for item in items {
                    self.add(item)?;
                }
            }
            return Ok(());
        }
        let location = node.location.clone();
        if kind == "Secret" {
            self.secrets.push(secret(node));
            return Ok(());
        }
        let api_version = match node.get("apiVersion").map(|v| &v.value) {
            Some(yaml::NodeValue::Str(v)) => v.as_str().to_owned(),
            _ => String::new(),
        };
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        let bucket = match (group, kind.as_str()) {
            ("", "Service") => &mut self.services,
            ("networking.k8s.io", "Ingress") => &mut self.ingresses,
            ("apps", "StatefulSet") => &mut self.stateful_sets,
            ("apps", "Deployment") => &mut self.deployments,
            ("", "Pod") => &mut self.pods,
            ("" | "events.k8s.io", "Event") => &mut self.events,
            ("tailscale.com", "ProxyGroup") => &mut self.proxy_groups,
            ("tailscale.com", "ProxyClass") => &mut self.proxy_classes,
            ("argoproj.io", "Application") => &mut self.applications,
            _ => {
                self.ignored.insert(kind);
                return Ok(());
            }
        };
        let value = node.to_json()?;
        if string_at(&value, &["metadata", "name"]).is_none_or(str::is_empty) {
            return Err(export_error(
                &location,
                format!("an exported {kind} without metadata.name"),
            ));
        }
        bucket.push(Object { value, location });
        Ok(())
    }

    /// Events about an object, newest last as exported.
    pub fn events_for(&self, kind: &str, namespace: &str, name: &str) -> Vec<&Object> {
        self.events
            .iter()
            .filter(|e| {
                let involved = |field: &str| {
                    string_at(&e.value, &["involvedObject", field])
                        .or_else(|| string_at(&e.value, &["regarding", field]))
                        .unwrap_or("")
                };
                involved("kind") == kind
                    && involved("name") == name
                    && involved("namespace") == namespace
            })
            .collect()
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<&SecretKeys> {
        self.secrets
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Object> {
        self.pods
            .iter()
            .find(|p| p.namespace() == namespace && p.name() == name)
    }
}

/// Reads every export into one snapshot. A document that is not a
/// Kubernetes object fails closed with its place; kinds the diagnosis does
/// not need are ignored.
pub fn read(exports: &[Source]) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    for source in exports {
        for doc in yaml::parse_documents(&source.text, &source.name)? {
            if doc.as_map().is_none() {
                return Err(export_error(
                    &doc.location,
                    format!("a document of {} that is not an object", source.name),
                ));
            }
            snapshot.add(&doc)?;
        }
    }
    Ok(snapshot)
}
