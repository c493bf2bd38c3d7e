//! argocd-tailscale-plugin renders conflict-free manifests that expose
//! Kubernetes services on a tailnet through the Tailscale operator, for
//! Argo CD's Config Management Plugin sidecar and for local use.
//!
//! Data flows one way: [`values`] (read) → [`upstream`] and [`helm`]
//! (resolve) → [`backend`] and [`expose`] (plan) → [`render`] → [`split`]
//! (repair) → [`patch`] → [`gate`] → [`yaml`] (emit); [`generate`] runs it.

pub mod admin;
pub mod apps;
pub mod argocd;
pub mod backend;
pub mod check;
pub mod child;
pub mod claims;
pub mod diagnostic;
pub mod diff;
pub mod direct;
pub mod directory;
pub mod emit;
pub mod error;
pub mod escape;
pub mod expose;
pub mod gate;
pub mod generate;
pub mod glob;
pub mod guard;
pub mod helm;
pub mod kustomize;
pub mod labels;
pub mod location;
pub mod manifest;
pub mod names;
pub mod overrides;
pub mod ownership;
pub mod patch;
pub mod preset;
pub mod render;
pub mod repo;
pub mod report;
pub mod revision;
pub mod sandbox;
pub mod signals;
pub mod split;
pub mod tree;
pub mod upstream;
pub mod values;
pub mod view;
pub mod yaml;
pub mod yaml11;

pub use error::{Error, ErrorKind, Result};

/// Every allocation goes through the guard, which watches template renders.
#[global_allocator]
static ALLOCATOR: guard::Guard = guard::Guard;
