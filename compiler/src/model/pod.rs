//! The pod beyond the service's container: its other containers.

use super::Body;
use crate::source::{Span, Spanned};

/// `container NAME [sidecar=#true] { … }` or `init-container NAME { … }`:
/// another container of the pod, with the container settings of a body
/// (`image`, `command`, `args`, `port`, `resources`, `probes`, `env`,
/// `env-from`, `volumes`) and the service's hardening.
#[derive(Clone, Debug)]
pub struct Container {
    pub name: Spanned<String>,
    /// The `container` / `init-container` token.
    pub node: Span,
    /// `init-container`: runs to completion before the others start.
    pub init: bool,
    /// `sidecar=#true`: a Kubernetes native sidecar (an init container with
    /// `restartPolicy: Always`), started before the service's container and
    /// stopped after it.
    pub sidecar: Option<Spanned<bool>>,
    pub body: Body,
}
