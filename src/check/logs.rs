//! What pasted operator and proxy logs say.

use super::*;

/// What pasted log lines say, line by line.
pub(super) fn log_checks(extra: &Extra, out: &mut Vec<Diagnostic>) {
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
