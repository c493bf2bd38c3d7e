//! SIGTERM and SIGINT as a flag that long waits check.
//!
//! Argo CD sends SIGTERM to the plugin's process group when its deadline
//! passes and SIGKILL 5 s later. Waiting loops (the `helm` child) poll the
//! flag, end their child and return an error; the binary checks it once
//! more before printing, so a stopped run never prints a stream.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the handlers. Without this call (as in unit tests) signals keep
/// their default effect.
pub fn install() -> std::io::Result<()> {
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(flag()))?;
    }
    Ok(())
}

pub fn terminated() -> bool {
    flag().load(Ordering::SeqCst)
}
