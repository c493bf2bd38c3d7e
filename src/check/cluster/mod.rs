//! `check --cluster-state`: the exposure of a running cluster, diagnosed
//! from what `kubectl get … -o yaml` exported. The plugin stays a pure
//! function of files (DESIGN §8): it never talks to a cluster.

mod rules;
mod state;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::values::Source;

/// Reads the exports (failing closed on what is not an export) and
/// diagnoses them; `rendered` is generate's output for the same
/// repository, when values were given, for the drift findings.
pub fn diagnose(exports: &[Source], rendered: Option<&[Value]>) -> Result<Vec<Diagnostic>> {
    let snapshot = state::read(exports)?;
    Ok(rules::diagnose(&snapshot, rendered))
}
