//! Names, labels and annotations: the metadata every object shares and
//! the selector every object uses, derived once from the plan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};

use std::collections::BTreeMap;

use super::{Kind, Object};
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
/// `metrics { select { … } }` replaces them (checked against the
/// Service's labels, SVC0244).
pub(crate) fn service_selector(p: &Plan, select: Option<&BTreeMap<String, String>>) -> LabelSelector {
    // Every Service carries the identity labels, whatever the pods' selector.
    let labels: BTreeMap<String, String> = select.cloned().unwrap_or_else(|| {
        [NAME_LABEL, MANAGED_BY].into_iter().filter_map(|k| Some((k.to_string(), p.labels.get(k)?.clone()))).collect()
    });
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

/// The `object` word that names `o` (`workload`, `service-account`, …, or
/// an `expose` name).
fn role(p: &Plan, o: &Object) -> Option<String> {
    let word = match o.kind {
        Kind::Deployment | Kind::Rollout => "workload",
        Kind::ServiceAccount => "service-account",
        Kind::HorizontalPodAutoscaler => "autoscaler",
        Kind::PodDisruptionBudget => "disruption-budget",
        Kind::ServiceMonitor => "service-monitor",
        Kind::PrometheusRule => "prometheus-rule",
        Kind::AnalysisTemplate => "analysis-templates",
        Kind::Service if o.name == p.names.service.name => "service",
        Kind::Service if o.name == p.names.preview_service.name && p.services.iter().all(|s| s.name.name != o.name) => {
            "preview-service"
        }
        Kind::Service if p.names.canary_service.as_ref().is_some_and(|c| c.name == o.name) => "canary-service",
        Kind::Service => return Some(o.name.clone()),
        // The GitOps engine's objects are not the service's.
        _ => return None,
    };
    Some(word.to_string())
}

/// `object`'s labels and annotations on the object they name, each traced
/// to its spec value.
pub(super) fn object_metadata(p: &Plan, o: &mut Object) {
    let Some(m) = role(p, o).and_then(|r| p.objects.get(&r)) else { return };
    let Some(meta) = o.value.get_mut("metadata").and_then(|v| v.as_object_mut()) else { return };
    for (field, entries) in [("labels", &m.labels), ("annotations", &m.annotations)] {
        if entries.is_empty() {
            continue;
        }
        let map = meta.entry(field).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        let Some(map) = map.as_object_mut() else { continue };
        for (k, (v, span)) in entries {
            map.insert(k.clone(), serde_json::Value::String(v.clone()));
            let pointer = format!("/metadata/{field}/{}", k.replace('~', "~0").replace('/', "~1"));
            o.provenance.insert(pointer, super::origin_of(p, *span, ""));
        }
        // Keys in order, as every other map svcc writes.
        let sorted: BTreeMap<String, serde_json::Value> = std::mem::take(map).into_iter().collect();
        map.extend(sorted);
    }
    let sorted: BTreeMap<String, serde_json::Value> = std::mem::take(meta).into_iter().collect();
    meta.extend(sorted);
}
