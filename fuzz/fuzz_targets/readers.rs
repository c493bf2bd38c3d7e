//! The fast YAML readers against serde-saphyr: whatever the line reader or
//! the event reader reads from any text, serde-saphyr reads the same; and
//! a JSON object read back as a tree (an override's output) is what it is
//! read as JSON.
#![no_main]

use argocd_tailscale_plugin::yaml::fast_readers_agree;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(fast_readers_agree(text), "a fast reader disagrees on {text:?}");
    }
});
