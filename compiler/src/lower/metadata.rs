//! Names, labels and annotations: the metadata every object shares and
//! the selector every object uses, derived once from the plan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};

use std::collections::BTreeMap;

use crate::plan::{Plan, PlanName};
use crate::source::Span;

/// The label that carries the image tag: only on the workload and its pod
/// template, so a tag bump changes one file, not every object.
pub(crate) const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// The label that names the service on every object.
const NAME_LABEL: &str = "app.kubernetes.io/name";

/// The label every object svcc writes carries (`managed-by: svcc`).
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The name of an object, recording the `names` entry that set it (a
/// derived name is traced to the service name by `super::object`).
pub(crate) fn named<'n>(n: &'n PlanName, prov: &mut BTreeMap<String, Span>) -> &'n str {
    if let Some(span) = n.span {
        prov.insert("/metadata/name".to_string(), span);
    }
    &n.name
}

/// The metadata of an object named `name`: the service's namespace,
/// labels (without the version) and annotations.
pub(crate) fn meta(p: &Plan, name: &str) -> ObjectMeta {
    let mut m = workload_meta(p, name);
    if let Some(labels) = &mut m.labels {
        labels.remove(VERSION_LABEL);
    }
    m
}

/// The metadata of the Deployment or Rollout: every label, the version
/// included (it says which release the workload runs).
pub(crate) fn workload_meta(p: &Plan, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: p.namespace.clone(),
        labels: Some(p.labels.clone()),
        annotations: if p.annotations.is_empty() { None } else { Some(p.annotations.clone()) },
        ..ObjectMeta::default()
    }
}

/// What a ServiceMonitor selects the service's Services by: the name and
/// `managed-by`, not `app.kubernetes.io/instance`, which Argo CD's label
/// tracking (the default before Argo CD 3) rewrites on every object it
/// manages; selecting by it would silently stop the scrape.
pub(crate) fn service_selector(p: &Plan) -> LabelSelector {
    // Every Service carries the identity labels, whatever the pods' selector.
    let labels: BTreeMap<String, String> =
        [NAME_LABEL, MANAGED_BY].into_iter().filter_map(|k| Some((k.to_string(), p.labels.get(k)?.clone()))).collect();
    let match_expressions = p.services.iter().any(|s| s.extra).then(|| {
        vec![LabelSelectorRequirement {
            key: super::ports::EXPOSE_LABEL.to_string(),
            operator: "DoesNotExist".to_string(),
            values: None,
        }]
    });
    LabelSelector { match_labels: Some(labels), match_expressions }
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
