//! The pod beyond the service's container: its other containers.

use super::{Body, Map};
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

/// `affinity { … }` and `priority-class`: where the scheduler places the
/// pods, beyond `node-selector` and `tolerations`.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Replaced as a whole by the layer above.
    pub affinity: Option<Affinity>,
    pub priority_class: Option<Spanned<String>>,
}

/// `affinity { node …; pod-anti-affinity … }`.
#[derive(Clone, Debug)]
pub struct Affinity {
    pub node: Span,
    pub nodes: Vec<NodeAffinity>,
    pub anti: Vec<PodAntiAffinity>,
}

/// `node "kubernetes.io/arch" "amd64" "arm64" [prefer=50]`: a node label
/// whose value must (or, with `prefer=`, should) be one of these.
#[derive(Clone, Debug)]
pub struct NodeAffinity {
    pub key: Spanned<String>,
    pub values: Vec<Spanned<String>>,
    /// `prefer=WEIGHT` (1–100): a preference, not a requirement.
    pub prefer: Option<Spanned<u32>>,
}

/// `pod-anti-affinity "node" [required=#true | prefer=WEIGHT] [{ LABEL
/// VALUE … }]`: keep the service's pods apart, one per node (or zone) —
/// or, with labels, away from the pods that carry them.
#[derive(Clone, Debug)]
pub struct PodAntiAffinity {
    /// `node` or `zone`.
    pub topology: Spanned<String>,
    pub required: Option<Spanned<bool>>,
    /// `prefer=WEIGHT` (1–100) of a preferred term; 100 when not given.
    pub prefer: Option<Spanned<u32>>,
    /// The pods to keep away from; empty: the service's own.
    pub labels: Map<Spanned<String>>,
}
