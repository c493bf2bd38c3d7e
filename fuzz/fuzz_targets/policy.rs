//! The HuJSON policy parser.
#![no_main]

use argocd_tailscale_plugin::check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check::parse_policy(&check::source("policy.hujson", text.to_string()));
    }
});
