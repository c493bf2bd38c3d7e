//! The values reader: any bytes give values or an error, never a panic.
#![no_main]

use std::sync::Arc;

use argocd_tailscale_plugin::values::{self, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let source = Source { name: Arc::from("values.yaml"), text: text.to_string() };
        let _ = values::load(&[source], None);
    }
});
