//! Names, labels and annotations: the metadata every object shares and
//! the selector every object uses, derived once from the plan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::plan::Plan;

/// The metadata of an object named `name`: the service's namespace,
/// labels and annotations.
pub(crate) fn meta(p: &Plan, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: p.namespace.clone(),
        labels: Some(p.labels.clone()),
        annotations: if p.annotations.is_empty() { None } else { Some(p.annotations.clone()) },
        ..ObjectMeta::default()
    }
}

/// The pod template's metadata: the labels, and the pod annotations.
pub(super) fn pod_meta(p: &Plan) -> ObjectMeta {
    ObjectMeta {
        labels: Some(p.labels.clone()),
        annotations: if p.pod_annotations.is_empty() { None } else { Some(p.pod_annotations.clone()) },
        ..ObjectMeta::default()
    }
}

/// The identity labels (never the version): what every selector matches.
pub(crate) fn selector(p: &Plan) -> LabelSelector {
    LabelSelector { match_labels: Some(p.selector.clone()), ..LabelSelector::default() }
}
