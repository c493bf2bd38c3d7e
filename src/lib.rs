//! argocd-tailscale-plugin: conflict-free Tailscale operator exposure for Argo CD.
pub mod error;
pub mod location;
pub mod yaml;
