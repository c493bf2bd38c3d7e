//! The naming rules of Kubernetes and Tailscale, as pure predicates.
//!
//! Each function returns `Err(reason)` with a sentence a user can act on, so
//! callers only add where the value came from.

/// Longest DNS label (RFC 1123) and Kubernetes object name of label form.
pub const MAX_LABEL: usize = 63;

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// A tailnet hostname: one DNS label, 1–63 bytes, letters, digits and `-`,
/// starting and ending with a letter or digit (the operator's `ValidLabel`).
pub fn hostname(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!(
            "is {} characters long; a tailnet hostname is one DNS label of at most {MAX_LABEL}",
            s.len()
        ));
    }
    if s.contains('.') {
        return Err("contains '.'; a tailnet hostname is one DNS label, the tailnet domain is added by Tailscale".into());
    }
    if !s.chars().all(|c| is_alnum(c) || c == '-') {
        return Err("may contain only letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1123 label: lower-case letters, digits and `-`, at most 63
/// characters (namespaces, most object names).
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > MAX_LABEL {
        return Err(format!(
            "is {} characters long, more than {MAX_LABEL}",
            s.len()
        ));
    }
    // Bytes: a character outside ASCII fails as its bytes do.
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err("may contain only lower-case letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1035 label, the rule for Service names: a DNS-1123 label that
/// starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(
            "must start with a lower-case letter (a Service name is a DNS-1035 label)".into(),
        );
    }
    Ok(())
}

/// A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253
/// characters (Ingress and ProxyGroup names, label-key prefixes).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() <= 253 && is_subdomain(s.as_bytes()) {
        return Ok(());
    }
    if s.len() > 253 {
        return Err(format!("is {} characters long, more than 253", s.len()));
    }
    for part in s.split('.') {
        dns1123_label(part).map_err(|why| format!("part {part:?} {why}"))?;
    }
    Ok(())
}

/// A Tailscale ACL tag: `tag:` then a letter, then letters, digits and `-`.
pub fn tag(s: &str) -> Result<(), String> {
    if s.contains(char::is_whitespace) {
        return Err("contains white space; the operator sends tags to the API untrimmed".into());
    }
    let Some(name) = s.strip_prefix("tag:") else {
        return Err("must start with \"tag:\"".into());
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return Err("must have a letter right after \"tag:\"".into()),
    }
    if !chars.all(|c| is_alnum(c) || c == '-') {
        return Err("may contain only letters, digits and '-' after \"tag:\"".into());
    }
    Ok(())
}

/// A port name (IANA service name): 1–15 characters, lower-case letters,
/// digits and `-`, at least one letter, no leading, trailing or double `-`.
pub fn port_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err("must be 1 to 15 characters long".into());
    }
    // Bytes: a character outside ASCII fails as its bytes do.
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err("may contain only lower-case letters, digits and '-'".into());
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("must not start or end with '-' or contain \"--\"".into());
    }
    Ok(())
}

/// The name part of a label key or a label value: at most 63 characters,
/// alphanumerics with `-`, `_` and `.` inside.
fn label_name(s: &str) -> Result<(), String> {
    if s.len() > MAX_LABEL {
        return Err(format!(
            "is {} characters long, more than {MAX_LABEL}",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    let edges_ok = s.is_empty() || (s.starts_with(is_alnum) && s.ends_with(is_alnum));
    if !edges_ok {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Whether `s` is dot-separated DNS-1123 labels, in one pass: the
/// common case, which needs no message (a test holds it to the labels).
fn is_subdomain(s: &[u8]) -> bool {
    let (mut part, mut last) = (0, b'.');
    for &b in s {
        match b {
            b'.' if part == 0 || last == b'-' => return false,
            b'.' => part = 0,
            b'-' if part == 0 => return false,
            b'a'..=b'z' | b'0'..=b'9' | b'-' => {
                part += 1;
                if part > MAX_LABEL {
                    return false;
                }
            }
            _ => return false,
        }
        last = b;
    }
    part > 0 && last != b'-'
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name.
pub fn label_key(s: &str) -> Result<(), String> {
    let slash = s.bytes().position(|b| b == b'/');
    let name = match slash.map(|at| (&s[..at], &s[at + 1..])) {
        Some((prefix, name)) => {
            dns1123_subdomain(prefix).map_err(|why| format!("prefix {why}"))?;
            name
        }
        None => s,
    };
    if name.is_empty() {
        return Err("has an empty name".into());
    }
    label_name(name)
}

/// A label value: empty, or a name of at most 63 characters.
pub fn label_value(s: &str) -> Result<(), String> {
    label_name(s)
}

/// An annotation key: the same qualified-name rule as a label key.
pub fn annotation_key(s: &str) -> Result<(), String> {
    label_key(s)
}

/// The API server's minimum for any object name: a valid path segment
/// (not `.` or `..`, no `/` or `%`). Kinds such as ClusterRole accept
/// names (`system:metrics`) that no DNS rule would.
pub fn path_segment(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s == "." || s == ".." {
        return Err(format!("may not be {s:?}"));
    }
    if s.contains('/') || s.contains('%') {
        return Err("may not contain '/' or '%'".into());
    }
    Ok(())
}

/// The name rule the API server applies to an object of `kind`: DNS-1035
/// for Services, a DNS-1123 label for Namespaces, a path segment for RBAC
/// objects and kinds this plugin does not know, and a DNS-1123 subdomain
/// for the rest of the built-in kinds.
pub fn object_name(kind: &str, s: &str) -> Result<(), String> {
    match kind {
        "Service" => dns1035_label(s),
        "Namespace" => dns1123_label(s),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => path_segment(s),
        "ConfigMap"
        | "Secret"
        | "ServiceAccount"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "Pod"
        | "Ingress"
        | "IngressClass"
        | "NetworkPolicy"
        | "PersistentVolumeClaim"
        | "PodDisruptionBudget"
        | "HorizontalPodAutoscaler"
        | "Application"
        | "AppProject"
        | "ProxyGroup"
        | "ProxyClass" => dns1123_subdomain(s),
        _ => path_segment(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass acceptance is the label-by-label rule's.
        #[test]
        fn subdomains_are_accepted_as_label_by_label(
            s in "[a-z0-9.-]{0,70}|[a-zA-Z0-9._/-]{0,12}",
            // Labels around the 63-character limit.
            long in proptest::collection::vec("[a-z0-9][a-z0-9-]{60,63}[a-z0-9]", 1..3),
        ) {
            for s in [s, long.join(".")] {
                let by_labels = s.split('.').all(|part| dns1123_label(part).is_ok());
                prop_assert_eq!(is_subdomain(s.as_bytes()), by_labels, "{}", s);
            }
        }
    }

    #[test]
    fn hostnames() {
        for ok in ["teleport", "a", "Grafana-2", &"a".repeat(63)] {
            assert!(hostname(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a.b", "a_b", "a b", &"a".repeat(64)] {
            assert!(hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags() {
        for ok in ["tag:k8s", "tag:K8s-prod-2"] {
            assert!(tag(ok).is_ok(), "{ok}");
        }
        for bad in [
            "k8s",
            "tag:",
            "tag:1k8s",
            "tag:k8s prod",
            "tag:k8s_x",
            " tag:k8s",
            "tag:-a",
        ] {
            assert!(tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_names_are_dns1035() {
        assert!(dns1035_label("teleport-ts-lb").is_ok());
        assert!(dns1035_label("1teleport").is_err());
        assert!(dns1035_label("Teleport").is_err());
        assert!(dns1123_label("1teleport").is_ok());
    }

    #[test]
    fn port_names() {
        for ok in ["https", "tls", "http-2", "h2c"] {
            assert!(port_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "443", "HTTPS", "a--b", "-a", "sixteen-chars-xx"] {
            assert!(port_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert!(label_key("app.kubernetes.io/component").is_ok());
        assert!(label_key("app").is_ok());
        assert!(label_key("Bad_Prefix/x").is_err());
        assert!(label_key("a/").is_err());
        for ok in ["", "yes", "0123", "1_000", "proxy", "v1.2"] {
            assert!(label_value(ok).is_ok(), "{ok}");
        }
        for bad in ["12:30", "a b", "-x", "x#"] {
            assert!(label_value(bad).is_err(), "{bad}");
        }
    }
}
