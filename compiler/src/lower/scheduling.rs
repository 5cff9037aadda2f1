//! `node-selector`, `tolerations`, `affinity` and `priority-class`, and
//! the spread of the pods over zones and nodes.

use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm, PodAntiAffinity,
    PreferredSchedulingTerm, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm,
};

use super::selector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::plan::{Plan, PlanAnti};

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

/// The pod's affinity: every required node label in one term (all must
/// hold), each preferred one its own weighted term, and the anti-affinity
/// presets on the service's own selector.
pub(super) fn affinity(p: &Plan) -> Option<Affinity> {
    let a = &p.affinity;
    if a.required_nodes.is_empty() && a.preferred_nodes.is_empty() && a.anti.is_empty() {
        return None;
    }
    let requirement = |key: &String, values: &Vec<String>| NodeSelectorRequirement {
        key: key.clone(),
        operator: "In".to_string(),
        values: Some(values.clone()),
    };
    let node = (!a.required_nodes.is_empty() || !a.preferred_nodes.is_empty()).then(|| NodeAffinity {
        required_during_scheduling_ignored_during_execution: (!a.required_nodes.is_empty()).then(|| NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: Some(a.required_nodes.iter().map(|(k, v)| requirement(k, v)).collect()),
                match_fields: None,
            }],
        }),
        preferred_during_scheduling_ignored_during_execution: super::non_empty(
            a.preferred_nodes
                .iter()
                .map(|(weight, k, v)| PreferredSchedulingTerm {
                    weight: i32::try_from(*weight).unwrap_or(100),
                    preference: NodeSelectorTerm {
                        match_expressions: Some(vec![requirement(k, v)]),
                        match_fields: None,
                    },
                })
                .collect(),
        ),
    });
    let term = |t: &PlanAnti| PodAffinityTerm {
        label_selector: Some(if t.labels.is_empty() {
            selector(p)
        } else {
            LabelSelector { match_labels: Some(t.labels.clone()), match_expressions: None }
        }),
        topology_key: t.topology_key.clone(),
        ..PodAffinityTerm::default()
    };
    let pod_anti_affinity = (!a.anti.is_empty()).then(|| PodAntiAffinity {
        required_during_scheduling_ignored_during_execution: super::non_empty(
            a.anti.iter().filter(|t| t.required).map(term).collect(),
        ),
        preferred_during_scheduling_ignored_during_execution: super::non_empty(
            a.anti
                .iter()
                .filter(|t| !t.required)
                .map(|t| WeightedPodAffinityTerm {
                    weight: i32::try_from(t.weight).unwrap_or(100),
                    pod_affinity_term: term(t),
                })
                .collect(),
        ),
    });
    Some(Affinity { node_affinity: node, pod_anti_affinity, pod_affinity: None })
}
