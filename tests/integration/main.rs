//! One integration-test crate: every test drives the real binary.
//!
//! Goldens: `testdata/cases/<case>/` (success: `expected.yaml`, optional
//! `expected.stderr`) and `testdata/errors/<case>/` (failure:
//! `expected.stderr`). Set `UPDATE_GOLDENS=1` to rewrite them from the
//! current binary, then review the diff.

mod budgets;
mod check;
mod claims;
mod cluster;
mod cmp;
mod completions;
mod conflicts;
mod deploy;
mod determinism;
mod diff;
mod errors;
mod gate;
mod generate;
mod golden;
mod help;
mod hostile;
mod invariant;
mod manual;
mod properties;
mod readme;
mod sandbox;
mod schema;
mod security;
mod sources;
mod support;
mod upstream;
mod workflows;
mod yaml11;
