//! The sidecar administrator's settings (DESIGN §9): what widens what the
//! plugin may reach (remote charts) or raise its limits. They are read from
//! the plugin's own environment only, under names no Application author can
//! set: Argo CD hands parameters to the plugin as `PARAM_*` and
//! Application environment as `ARGOCD_ENV_*`, never under these names.

use crate::error::{Error, ErrorKind, Result};

/// Comma-separated chart locations (`oci://…/`, `https://…/`) that Helm
/// sources may fetch from. Unset: no network at all.
pub const ALLOWED_CHARTS: &str = "TAILSCALE_PLUGIN_ALLOWED_CHARTS";
/// Total bytes one run may read: values, upstream files, helm's output and
/// template files together.
pub const MAX_RUN_BYTES: &str = "TAILSCALE_PLUGIN_MAX_RUN_BYTES";
/// Bytes and files a chart may bring into the helm sandbox.
pub const MAX_CHART_BYTES: &str = "TAILSCALE_PLUGIN_MAX_CHART_BYTES";
pub const MAX_CHART_FILES: &str = "TAILSCALE_PLUGIN_MAX_CHART_FILES";
/// Objects one output stream may hold.
pub const MAX_OBJECTS: &str = "TAILSCALE_PLUGIN_MAX_OBJECTS";

/// The limits and the network allow-list of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub allowed_charts: Vec<String>,
    pub max_run_bytes: u64,
    pub max_chart_bytes: u64,
    pub max_chart_files: u64,
    pub max_objects: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            allowed_charts: Vec::new(),
            // Four of the 16 MiB files one input may be; a run stays within
            // a few hundred MB of memory.
            max_run_bytes: 64 * 1024 * 1024,
            max_chart_bytes: 64 * 1024 * 1024,
            max_chart_files: 10_000,
            max_objects: 200_000,
        }
    }
}

fn number(name: &str, value: &str) -> Result<u64> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!("{name}={value:?} is not a positive whole number"),
            )
            .hint("the sidecar's administrator sets it in the sidecar's environment")
        })
}

impl Limits {
    /// From the process environment, as the sidecar's administrator set it.
    pub fn from_env() -> Result<Limits> {
        Limits::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits> {
        let mut limits = Limits::default();
        if let Some(list) = get(ALLOWED_CHARTS) {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if !(entry.starts_with("https://") || entry.starts_with("oci://")) {
                    return Err(Error::new(
                        ErrorKind::Usage,
                        format!("{ALLOWED_CHARTS} lists {entry:?}; only https:// and oci:// locations can be allowed"),
                    )
                    .hint("plain http:// is never allowed: anyone on the path could swap the chart"));
                }
                limits.allowed_charts.push(entry.to_string());
            }
        }
        for (name, field) in [
            (MAX_RUN_BYTES, &mut limits.max_run_bytes),
            (MAX_CHART_BYTES, &mut limits.max_chart_bytes),
            (MAX_CHART_FILES, &mut limits.max_chart_files),
            (MAX_OBJECTS, &mut limits.max_objects),
        ] {
            if let Some(value) = get(name) {
                *field = number(name, &value)?;
            }
        }
        Ok(limits)
    }

    /// Whether a remote chart location is on the allow-list: it must start
    /// with an entry, at a path boundary (`https://a.example/` does not
    /// admit `https://a.example.evil/`).
    pub fn allows_chart(&self, chart: &str) -> bool {
        self.allowed_charts.iter().any(|entry| {
            chart == entry.trim_end_matches('/')
                || chart.starts_with(&format!("{}/", entry.trim_end_matches('/')))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_matches_at_path_boundaries_and_never_plain_http() {
        let limits = Limits::from_lookup(|n| {
            (n == ALLOWED_CHARTS).then(|| "oci://ghcr.io/acme, https://charts.example.com/".into())
        })
        .unwrap();
        assert!(limits.allows_chart("oci://ghcr.io/acme/web"));
        assert!(limits.allows_chart("https://charts.example.com/web-1.0.0.tgz"));
        assert!(!limits.allows_chart("oci://ghcr.io/acme-evil/web"));
        assert!(!limits.allows_chart("https://charts.example.com.evil/web"));
        assert!(
            Limits::from_lookup(|n| (n == ALLOWED_CHARTS).then(|| "http://x/".into())).is_err()
        );
        assert!(Limits::from_lookup(|n| (n == MAX_OBJECTS).then(|| "0".into())).is_err());
    }
}
