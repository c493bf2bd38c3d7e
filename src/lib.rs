//! argocd-tailscale-plugin renders conflict-free manifests that expose
//! Kubernetes services on a tailnet through the Tailscale operator, for
//! Argo CD's Config Management Plugin sidecar and for local use.
//!
//! Data flows one way: [`values`] (read) → [`expose`] (plan) → [`render`]
//! → [`manifest`] (check, order) → [`yaml`] (emit); [`generate`] runs it.

pub mod error;
pub mod expose;
pub mod generate;
pub mod location;
pub mod manifest;
pub mod names;
pub mod render;
pub mod repo;
pub mod values;
pub mod yaml;
pub mod yaml11;

pub use error::{Error, ErrorKind, Result};
