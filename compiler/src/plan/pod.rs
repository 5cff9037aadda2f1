//! The pod's containers: the service's own and the others
//! (`container`, `init-container`), each resolved by the same block
//! resolvers.

use std::collections::BTreeMap;

use super::{PlanEnv, PlanEnvFrom, PlanPort, PlanProbe, PlanVolume};
use crate::source::Span;

/// Where a container runs in the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The service's own container, `containers[0]`.
    Main,
    /// `container NAME`: another entry of `containers`.
    Sidecar,
    /// `container NAME sidecar=#true`: an init container with
    /// `restartPolicy: Always` (a Kubernetes native sidecar).
    NativeSidecar,
    /// `init-container NAME`: runs to completion before the others start.
    Init,
}

impl Role {
    /// Whether it goes in `initContainers`.
    pub fn is_init(self) -> bool {
        matches!(self, Role::NativeSidecar | Role::Init)
    }
}

/// One container with every default applied.
#[derive(Clone, Debug)]
pub struct PlanContainer {
    pub name: String,
    pub role: Role,
    /// The `container NAME` token (the service's name for the main one).
    pub span: Span,
    pub image: String,
    pub image_span: Span,
    pub pull_policy: String,
    pub ports: Vec<PlanPort>,
    pub requests: BTreeMap<&'static str, (String, Span)>,
    pub limits: BTreeMap<&'static str, (String, Span)>,
    pub probes: Vec<PlanProbe>,
    pub env: Vec<PlanEnv>,
    pub env_from: Vec<PlanEnvFrom>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Its mounts; the pod's volumes are those of every container, by name.
    pub volumes: Vec<PlanVolume>,
}

/// The pods' affinity; empty when the spec sets none.
#[derive(Clone, Debug, Default)]
pub struct PlanAffinity {
    /// (label, values): the node's label must be one of them.
    pub required_nodes: Vec<(String, Vec<String>)>,
    /// (weight, label, values).
    pub preferred_nodes: Vec<(u32, String, Vec<String>)>,
    /// Keep the service's pods apart (or away from other pods).
    pub anti: Vec<PlanAnti>,
}

/// One pod anti-affinity term.
#[derive(Clone, Debug)]
pub struct PlanAnti {
    pub topology_key: String,
    pub required: bool,
    /// The weight of a preferred term.
    pub weight: u32,
    /// The pods to keep away from (`matchLabels`); empty: the service's
    /// own selector.
    pub labels: BTreeMap<String, String>,
}
