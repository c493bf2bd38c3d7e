//! The upstream manifest reader: any bytes give objects or an error.
#![no_main]

use std::sync::Arc;

use argocd_tailscale_plugin::upstream;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = upstream::read(text, &Arc::from("rendered.yaml"));
    }
});
