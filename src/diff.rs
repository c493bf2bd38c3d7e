//! Object-aware comparison of two manifest streams, and its reports.
//!
//! Objects are matched by identity (API group, kind, namespace, name), not
//! by position; each is compared in a form with every key sorted, so moving
//! documents or keys around is not a change. A changed object shows a
//! unified diff of that form. Optionally the fields Argo CD will ignore
//! (the computed `ignoreDifferences`) are removed first, as Argo CD does.

use std::collections::BTreeMap;

use crate::escape;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::{Map, Value};
use similar::TextDiff;

use crate::manifest::Identity;
use crate::ownership;
use crate::yaml;

/// GitHub's limit for a comment body is 65,536 characters; stay below it
/// with room for the truncation note.
pub const MARKDOWN_LIMIT: usize = 65_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// A unified diff of the object's sorted YAML (against nothing for added
    /// and removed objects).
    pub diff: String,
}

impl Change {
    pub fn title(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The changes of one application (an app directory, a pair of files, a
/// golden case).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppDiff {
    pub app: String,
    pub changes: Vec<Change>,
}

impl AppDiff {
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.change == kind).count()
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(map.len());
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Removes what Argo CD would ignore: the pointers of every
/// `ignoreDifferences` entry that names the object.
fn mask(object: &mut Value, entries: &[ownership::IgnoreDifference]) {
    let id = Identity::of(&*object);
    for entry in entries {
        let same = entry.group == id.group
            && entry.kind == id.kind
            && entry.name == id.name
            && (entry.namespace.is_empty()
                || id.namespace.is_empty()
                || entry.namespace == id.namespace);
        if !same {
            continue;
        }
        for pointer in &entry.json_pointers {
            let Some((parent, last)) = pointer.rsplit_once('/') else {
                continue;
            };
            let last = last.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Object(map)) = object.pointer_mut(parent) {
                map.remove(&last);
            }
        }
    }
}

fn keyed(objects: &[Value]) -> BTreeMap<(String, String, String, String), Value> {
    objects
        .iter()
        .map(|o| {
            let id = Identity::of(o);
            (
                (
                    id.namespace.into_string(),
                    id.kind.into_string(),
                    id.name.into_string(),
                    id.group.into_string(),
                ),
                sorted(o),
            )
        })
        .collect()
}

fn unified(old: &str, new: &str, label: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", escape::controls(label)),
            &format!("b/{}", escape::controls(label)),
        )
        .to_string()
}

/// Compares two streams. With `mask_ignored`, the fields the computed
/// `ignoreDifferences` of either side name are left out first.
pub fn compare(old: &[Value], new: &[Value], mask_ignored: bool) -> Vec<Change> {
    let (mut old, mut new) = (old.to_vec(), new.to_vec());
    if mask_ignored {
        let mut entries = ownership::ignore_differences(&new, None);
        entries.extend(ownership::ignore_differences(&old, None));
        for object in old.iter_mut().chain(new.iter_mut()) {
            mask(object, &entries);
        }
    }
    let (old, new) = (keyed(&old), keyed(&new));
    let mut keys: Vec<_> = old.keys().chain(new.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (ns, kind, name, group) = key.clone();
            let before = old.get(&key).map(yaml::emit);
            let after = new.get(&key).map(yaml::emit);
            let change = match (&before, &after) {
                (Some(a), Some(b)) if a == b => return None,
                (Some(_), Some(_)) => ChangeKind::Changed,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (None, None) => return None,
            };
            let label = if ns.is_empty() {
                format!("{kind}/{name}")
            } else {
                format!("{kind}/{ns}/{name}")
            };
            Some(Change {
                change,
                diff: unified(
                    before.as_deref().unwrap_or(""),
                    after.as_deref().unwrap_or(""),
                    &label,
                ),
                group,
                kind,
                namespace: ns,
                name,
            })
        })
        .collect()
}

fn summary_line(apps: &[AppDiff]) -> String {
    let total = |k| apps.iter().map(|a| a.count(k)).sum::<usize>();
    format!(
        "{} added, {} removed, {} changed",
        total(ChangeKind::Added),
        total(ChangeKind::Removed),
        total(ChangeKind::Changed)
    )
}

fn paint(style: Style, text: &str, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// Terminal text; nothing at all when there is no difference.
pub fn text(apps: &[AppDiff], color: bool) -> String {
    if apps.iter().all(|a| a.changes.is_empty()) {
        return String::new();
    }
    let bold = Style::new().bold();
    let red = AnsiColor::Red.on_default();
    let green = AnsiColor::Green.on_default();
    let cyan = AnsiColor::Cyan.on_default();
    let mut out = String::new();
    for app in apps.iter().filter(|a| !a.changes.is_empty()) {
        for change in &app.changes {
            out.push_str(&paint(
                bold,
                &escape::controls(&format!(
                    "{} {}: {}",
                    app.app,
                    change.change.word(),
                    change.title()
                )),
                color,
            ));
            out.push('\n');
            for line in change.diff.lines() {
                let style = if line.starts_with("+++") || line.starts_with("---") {
                    bold
                } else if line.starts_with('+') {
                    green
                } else if line.starts_with('-') {
                    red
                } else if line.starts_with("@@") {
                    cyan
                } else {
                    Style::new()
                };
                out.push_str(&paint(style, line, color));
                out.push('\n');
            }
        }
    }
    out.push_str(&summary_line(apps));
    out.push('\n');
    out
}

/// A fence longer than any run of backticks in `body`, so a diff can never
/// close its own code block.
fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// Markdown for a pull-request comment: a summary table per app, then one
/// collapsible section per object, never longer than `limit` characters.
pub fn markdown(apps: &[AppDiff], limit: usize) -> String {
    let mut head = String::from("## argocd-tailscale-plugin diff\n\n");
    if apps.iter().all(|a| a.changes.is_empty()) {
        head.push_str("No differences in the rendered manifests.\n");
        return head;
    }
    head.push_str(&format!("{}.\n\n", summary_line(apps)));
    head.push_str("| app | added | removed | changed |\n|---|---:|---:|---:|\n");
    for app in apps {
        head.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            escape::table_cell(&app.app),
            app.count(ChangeKind::Added),
            app.count(ChangeKind::Removed),
            app.count(ChangeKind::Changed)
        ));
    }
    head.push('\n');
    let sections: Vec<String> = apps
        .iter()
        .flat_map(|app| {
            app.changes.iter().map(move |change| {
                let f = fence(&change.diff);
                format!(
                    "<details>\n<summary>{} {}: <code>{}</code> ({})</summary>\n\n{f}diff\n{}{f}\n\n</details>\n\n",
                    match change.change {
                        ChangeKind::Added => "➕",
                        ChangeKind::Removed => "➖",
                        ChangeKind::Changed => "✏️",
                    },
                    change.change.word(),
                    escape::html(&change.title()),
                    escape::html(&app.app),
                    change.diff
                )
            })
        })
        .collect();
    let total = sections.len();
    // Room for the note that says what was left out.
    let budget = limit.saturating_sub(head.chars().count() + 400);
    let mut out = head;
    let mut used = 0;
    let mut shown = 0;
    for section in &sections {
        let size = section.chars().count();
        if used + size > budget {
            break;
        }
        out.push_str(section);
        used += size;
        shown += 1;
    }
    if shown < total {
        out.push_str(&format!(
            "> **Truncated:** {} of {total} object diffs were left out to stay under {limit} characters. Run `argocd-tailscale-plugin diff` locally to see them all.\n",
            total - shown
        ));
    }
    out
}

/// Machine-readable changes.
pub fn json(apps: &[AppDiff]) -> String {
    escape::json(serde_json::to_string_pretty(apps).expect("changes serialize")) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(name: &str, port: u16) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "t"},
               "spec": {"type": "ClusterIP", "ports": [{"port": port, "protocol": "TCP"}]}})
    }

    #[test]
    fn reordered_documents_and_keys_are_no_change() {
        let old = vec![service("a", 80), service("b", 81)];
        let reordered: Value = serde_json::from_str(
            r#"{"spec": {"ports": [{"protocol": "TCP", "port": 81}], "type": "ClusterIP"}, "metadata": {"namespace": "t", "name": "b"}, "kind": "Service", "apiVersion": "v1"}"#,
        )
        .unwrap();
        let new = vec![reordered, service("a", 80)];
        assert!(compare(&old, &new, false).is_empty());
    }

    #[test]
    fn changed_added_and_removed_objects_are_reported() {
        let old = vec![service("a", 80), service("gone", 1)];
        let new = vec![service("a", 8080), service("new", 2)];
        let changes = compare(&old, &new, false);
        let kinds: Vec<_> = changes
            .iter()
            .map(|c| (c.change, c.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::Changed, "a"),
                (ChangeKind::Removed, "gone"),
                (ChangeKind::Added, "new")
            ]
        );
        assert!(
            changes[0].diff.contains("-      port: 80\n")
                || changes[0].diff.contains("-  - port: 80"),
            "{}",
            changes[0].diff
        );
        assert!(changes[0].diff.contains("8080"));
    }

    #[test]
    fn masking_leaves_out_what_argo_cd_ignores() {
        let mut old = service("db", 5432);
        old["metadata"]["annotations"] = json!({"tailscale.com/tailnet-fqdn": "db.x.ts.net"});
        old["spec"]["externalName"] = json!("placeholder");
        let mut new = old.clone();
        new["spec"]["externalName"] = json!("ts-db-abcde.tailscale.svc.cluster.local");
        assert_eq!(
            compare(
                std::slice::from_ref(&old),
                std::slice::from_ref(&new),
                false
            )
            .len(),
            1
        );
        assert!(compare(&[old], &[new], true).is_empty());
    }

    #[test]
    fn markdown_is_truncated_under_the_limit_and_says_so() {
        let old: Vec<Value> = (0..200).map(|i| service(&format!("s{i}"), 80)).collect();
        let new: Vec<Value> = (0..200).map(|i| service(&format!("s{i}"), 81)).collect();
        let apps = vec![AppDiff {
            app: "big".into(),
            changes: compare(&old, &new, false),
        }];
        let limit = 5_000;
        let text = markdown(&apps, limit);
        assert!(text.chars().count() <= limit, "{}", text.chars().count());
        assert!(text.contains("**Truncated:**") && text.contains("of 200 object diffs"));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count()
        );
    }

    #[test]
    fn a_fence_is_longer_than_any_backtick_run() {
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
