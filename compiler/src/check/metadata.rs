//! `namespace`, `labels`, `annotations` and `pod-annotations`: the
//! metadata of every object, with the identity labels svcc derives (and
//! reserves) so selectors stay consistent. All merge in `merge::layer`
//! (`namespace` replaces, the maps key by key).

use std::collections::BTreeMap;

use super::Cx;
use super::merge::Merger;
use super::merge::merge_map;
use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Expose, Map, Names, ObjectMetadata};
use crate::plan::{PlanName, PlanNames, PlanObjectMetadata};
use crate::settings as s;
use crate::source::Spanned;

/// The version label: the image tag, or `version`.
const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// The labels svcc derives; a spec may not set them (SVC0312).
pub const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
];

pub(super) struct Metadata {
    pub namespace: Option<String>,
    /// The spec's labels and the derived ones.
    pub labels: BTreeMap<String, String>,
    /// The identity labels a selector uses (never a version).
    pub selector: BTreeMap<String, String>,
    /// The Services' selector: `selector` without its `service=#false`
    /// labels, a subset of the pods' labels.
    pub service_selector: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The spec's pod annotations; the scrape and security blocks add theirs.
    pub pod_annotations: BTreeMap<String, String>,
}

/// The spec's metadata settings.
pub(super) struct Written<'b> {
    pub namespace: &'b Option<Spanned<String>>,
    pub labels: &'b Map<Spanned<String>>,
    pub annotations: &'b Map<Spanned<String>>,
    pub pod_annotations: &'b Map<Spanned<String>>,
    pub selector: &'b Option<Spanned<crate::model::Selector>>,
    /// `version "…"`: the version label instead of the image tag.
    pub version: &'b Option<Spanned<String>>,
}

impl<'b> Written<'b> {
    pub fn of(b: &'b crate::model::Body) -> Self {
        Written {
            namespace: &b.namespace,
            labels: &b.labels,
            annotations: &b.annotations,
            pod_annotations: &b.pod_annotations,
            selector: &b.selector,
            version: &b.version,
        }
    }
}

/// Labels a selector must not hold: they change with every release, or
/// the controllers set them per ReplicaSet (SVC0363).
const UNSTABLE: &[(&str, &str)] = &[
    ("app.kubernetes.io/version", "changes with every release"),
    ("pod-template-hash", "is set by the Deployment controller, per ReplicaSet"),
    ("rollouts-pod-template-hash", "is set by Argo Rollouts, per ReplicaSet"),
    ("controller-revision-hash", "is set by the controller, per revision"),
];

/// The `app.kubernetes.io/version` label is the spec's `version`, else
/// `image_tag` when it is a valid label value.
pub(super) fn resolve(cx: &Cx<'_>, w: &Written<'_>, image_tag: Option<&str>, diags: &mut Diagnostics) -> Metadata {
    let mut labels = BTreeMap::new();
    for (k, v) in w.labels {
        if RESERVED_LABELS.contains(&k.as_str()) {
            diags.push(
                Diagnostic::error(Code::ReservedLabel, format!("label `{k}` is set by svcc"))
                    .at(v.span, "derived from the service")
                    .help(if k == VERSION_LABEL {
                        format!("state the version with `version {}` (default: the image tag), or one object's in `object KIND {{ labels {{ … }} }}`", crate::diagnostic::kdl_string(&v.value))
                    } else {
                        "remove it; svcc derives the standard `app.kubernetes.io/*` labels so selectors stay consistent".to_string()
                    }),
            );
            continue;
        }
        labels.insert(k.clone(), v.value.clone());
    }
    let mut identity = BTreeMap::new();
    identity.insert("app.kubernetes.io/name".to_string(), cx.service.to_string());
    identity.insert("app.kubernetes.io/instance".to_string(), cx.service.to_string());
    labels.extend(identity.clone());
    let selector = match w.selector {
        Some(given) => legacy_selector(given, w.labels, &identity, diags),
        None => identity,
    };
    labels.extend(selector.clone());
    let mut service_selector = selector.clone();
    if let Some(given) = w.selector {
        service_selector.retain(|k, _| !given.value.workload_only.iter().any(|o| &o.value == k));
    }
    labels.insert("app.kubernetes.io/managed-by".to_string(), "svcc".to_string());
    if let Some(v) = w.version.as_ref().map(|v| v.value.as_str()).or(image_tag)
        && crate::values::check_label_value(v).is_ok()
    {
        labels.insert("app.kubernetes.io/version".to_string(), v.to_string());
    }
    let strings = |m: &Map<Spanned<String>>| m.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    let namespace = match w.namespace {
        Some(n) => Some(n.value.clone()),
        None if cx.named_env => Some(cx.env.to_string()),
        None => None,
    };
    Metadata {
        namespace,
        labels,
        selector,
        service_selector,
        annotations: strings(w.annotations),
        pod_annotations: strings(w.pod_annotations),
    }
}

/// `selector { … }`: the given labels, as they are, when none changes
/// between releases (SVC0363) and none disagrees with `labels` or the
/// identity labels (SVC0364).
fn legacy_selector(
    given: &Spanned<crate::model::Selector>,
    labels: &Map<Spanned<String>>,
    identity: &BTreeMap<String, String>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in &given.value.labels {
        if let Some((_, why)) = UNSTABLE.iter().find(|(u, _)| u == k) {
            diags.push(
                Diagnostic::error(Code::SelectorNotStable, format!("selector label `{k}` {why}"))
                    .at(v.span, "would change the selector")
                    .help(format!("remove `{k}` from `selector`: the workload's pods carry it anyway"))
                    .note("a Deployment's selector is immutable: once applied, a changed selector is refused, and the only way out is to delete the workload and create it again, which takes the service down"),
            );
            continue;
        }
        let other = labels
            .get(k)
            .map(|l| (l.value.as_str(), Some(l.span)))
            .or_else(|| identity.get(k).map(|x| (x.as_str(), None)));
        if let Some((value, at)) = other
            && value != v.value
        {
            let mut d = Diagnostic::error(
                Code::SelectorDisagrees,
                format!("selector label `{k}` is `{}`, but the pods are labelled `{value}`", v.value),
            )
            .at(v.span, "selects on this value")
            .help("a selector must match its own pods: give the label one value, in `selector` only");
            d = match at {
                Some(at) => d.also(at, "the pods' label"),
                None => d.note("svcc labels every pod with `app.kubernetes.io/name` and `app.kubernetes.io/instance` set to the service name"),
            };
            diags.push(d);
            continue;
        }
        out.insert(k.clone(), v.value.clone());
    }
    out
}

/// Object by object, by name; its labels and annotations key by key.
pub(super) fn merge_objects(base: &Map<ObjectMetadata>, over: &Map<ObjectMetadata>) -> Map<ObjectMetadata> {
    let mut out = base.clone();
    for (key, o) in over {
        let ObjectMetadata { name, labels, annotations } = o;
        let merged = match base.get(key) {
            Some(b) => ObjectMetadata {
                name: b.name.clone(),
                labels: merge_map(&b.labels, labels),
                annotations: merge_map(&b.annotations, annotations),
            },
            None => ObjectMetadata { name: name.clone(), labels: labels.clone(), annotations: annotations.clone() },
        };
        out.insert(key.clone(), merged);
    }
    out
}

/// The objects `object` can name, besides an `expose` Service.
pub const OBJECTS: &[&str] = &[
    "workload",
    "service",
    "preview-service",
    "canary-service",
    "service-account",
    "autoscaler",
    "disruption-budget",
    "service-monitor",
    "prometheus-rule",
    "analysis-templates",
];

/// Each `object`'s labels and annotations, by object (SVC0365 for one that
/// is neither a word of [`OBJECTS`] nor an `expose`; SVC0312 for a label
/// svcc derives, but the version, which no selector holds).
pub(super) fn objects(
    objects: &Map<ObjectMetadata>,
    exposes: &Map<Expose>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, PlanObjectMetadata> {
    let mut out = BTreeMap::new();
    for (key, o) in objects {
        if !OBJECTS.contains(&key.as_str()) && !exposes.contains_key(key) {
            let mut known: Vec<&str> = OBJECTS.to_vec();
            known.extend(exposes.keys().map(String::as_str));
            let mut d = Diagnostic::error(Code::UnknownObject, format!("svcc generates no object `{key}`"))
                .at(o.name.span, "not a generated object");
            d = match did_you_mean(key, &known) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("name one of: {}, or an `expose` Service", OBJECTS.join(", "))),
            };
            diags.push(d);
            continue;
        }
        let mut labels = BTreeMap::new();
        for (k, v) in &o.labels {
            // The version is in no selector: one object may say another.
            if RESERVED_LABELS.contains(&k.as_str()) && k != VERSION_LABEL {
                diags.push(
                    Diagnostic::error(Code::ReservedLabel, format!("label `{k}` is set by svcc"))
                        .at(v.span, "derived from the service")
                        .help("remove it; svcc derives the standard `app.kubernetes.io/*` labels so selectors stay consistent"),
                );
                continue;
            }
            labels.insert(k.clone(), (v.value.clone(), v.span));
        }
        let annotations = o.annotations.iter().map(|(k, v)| (k.clone(), (v.value.clone(), v.span))).collect();
        out.insert(key.clone(), PlanObjectMetadata { labels, annotations });
    }
    out
}

/// Each name replaces the lower layer's.
pub(super) fn merge_names(c: &mut Merger<'_>, base: &Names, over: &Names) -> Names {
    let Names {
        node: b_node,
        workload: b_workload,
        service: b_service,
        preview_service: b_preview_service,
        canary_service: b_canary_service,
        autoscaler: b_autoscaler,
        disruption_budget: b_disruption_budget,
        service_monitor: b_service_monitor,
        prometheus_rule: b_prometheus_rule,
    } = base;
    let Names {
        node,
        workload,
        service,
        preview_service,
        canary_service,
        autoscaler,
        disruption_budget,
        service_monitor,
        prometheus_rule,
    } = over;
    Names {
        node: node.or(*b_node),
        workload: c.pick(&s::NAMES_WORKLOAD, workload, b_workload),
        service: c.pick(&s::NAMES_SERVICE, service, b_service),
        preview_service: c.pick(&s::NAMES_PREVIEW_SERVICE, preview_service, b_preview_service),
        canary_service: c.pick(&s::NAMES_CANARY_SERVICE, canary_service, b_canary_service),
        autoscaler: c.pick(&s::NAMES_AUTOSCALER, autoscaler, b_autoscaler),
        disruption_budget: c.pick(&s::NAMES_DISRUPTION_BUDGET, disruption_budget, b_disruption_budget),
        service_monitor: c.pick(&s::NAMES_SERVICE_MONITOR, service_monitor, b_service_monitor),
        prometheus_rule: c.pick(&s::NAMES_PROMETHEUS_RULE, prometheus_rule, b_prometheus_rule),
    }
}

/// The preview Service of a blue-green update, unless `names` says otherwise.
pub fn preview_service(service: &str) -> String {
    format!("{service}-preview")
}

/// The canary Service of a canary update, unless `names` says otherwise.
pub fn canary_service(service: &str) -> String {
    format!("{service}-canary")
}

/// Every generated object's name: as written in `names`, else derived from
/// the service name. The one place names are derived.
pub(super) fn names(service: &str, n: &Names) -> PlanNames {
    let name = |v: &Option<Spanned<String>>, default: String| match v {
        Some(v) => PlanName { name: v.value.clone(), span: Some(v.span) },
        None => PlanName::derived(default),
    };
    let own = || service.to_string();
    PlanNames {
        workload: name(&n.workload, own()),
        service: name(&n.service, own()),
        preview_service: name(&n.preview_service, preview_service(service)),
        canary_service: match &n.canary_service {
            Some(Spanned { value: Some(v), span }) => Some(PlanName { name: v.clone(), span: Some(*span) }),
            Some(Spanned { value: None, .. }) => None,
            None => Some(PlanName::derived(canary_service(service))),
        },
        autoscaler: name(&n.autoscaler, own()),
        disruption_budget: name(&n.disruption_budget, own()),
        service_monitor: name(&n.service_monitor, own()),
        prometheus_rule: name(&n.prometheus_rule, own()),
    }
}
