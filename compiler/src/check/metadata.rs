//! `namespace`, `labels`, `annotations` and `pod-annotations`: the
//! metadata of every object, with the identity labels svcc derives (and
//! reserves) so selectors stay consistent. All merge in `merge::layer`
//! (`namespace` replaces, the maps key by key).

use std::collections::BTreeMap;

use super::Cx;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Map;
use crate::source::Spanned;

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
}

/// `version` is the image tag (the `app.kubernetes.io/version` label when
/// it is a valid label value).
pub(super) fn resolve(cx: &Cx<'_>, w: &Written<'_>, version: Option<&str>, diags: &mut Diagnostics) -> Metadata {
    let mut labels = BTreeMap::new();
    for (k, v) in w.labels {
        if RESERVED_LABELS.contains(&k.as_str()) {
            diags.push(
                Diagnostic::error(Code::ReservedLabel, format!("label `{k}` is set by svcc"))
                    .at(v.span, "derived from the service")
                    .help("remove it; svcc derives the standard `app.kubernetes.io/*` labels so selectors stay consistent"),
            );
            continue;
        }
        labels.insert(k.clone(), v.value.clone());
    }
    let mut selector = BTreeMap::new();
    selector.insert("app.kubernetes.io/name".to_string(), cx.service.to_string());
    selector.insert("app.kubernetes.io/instance".to_string(), cx.service.to_string());
    labels.extend(selector.clone());
    labels.insert("app.kubernetes.io/managed-by".to_string(), "svcc".to_string());
    if let Some(v) = version
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
        annotations: strings(w.annotations),
        pod_annotations: strings(w.pod_annotations),
    }
}
