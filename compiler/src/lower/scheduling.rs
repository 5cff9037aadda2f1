//! `node-selector` and `tolerations`, and the spread of the pods over
//! zones and nodes.

use k8s_openapi::api::core::v1::{Toleration, TopologySpreadConstraint};

use super::selector;
use crate::plan::Plan;

/// The pod's node selector.
pub(super) fn node_selector(p: &Plan) -> Option<std::collections::BTreeMap<String, String>> {
    if p.node_selector.is_empty() { None } else { Some(p.node_selector.clone()) }
}

/// The pod's tolerations; `*` tolerates every taint.
pub(super) fn tolerations(p: &Plan) -> Vec<Toleration> {
    p.tolerations
        .iter()
        .map(|t| Toleration {
            key: if t.key == "*" { None } else { Some(t.key.clone()) },
            // An empty key matches every taint only with `Exists`.
            operator: if t.key == "*" { Some("Exists".to_string()) } else { t.operator.clone() },
            value: t.value.clone(),
            effect: t.effect.clone(),
            toleration_seconds: t.seconds,
        })
        .collect()
}

/// Spread the pods over zones, then nodes, as far as the cluster allows.
pub(super) fn spread(p: &Plan) -> Vec<TopologySpreadConstraint> {
    ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        .into_iter()
        .map(|key| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.to_string(),
            when_unsatisfiable: "ScheduleAnyway".to_string(),
            label_selector: Some(selector(p)),
            ..TopologySpreadConstraint::default()
        })
        .collect()
}
