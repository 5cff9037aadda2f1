//! `resources`: the container's requests and limits.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::plan::PlanContainer;
use crate::source::Span;

/// A container's resources (at the JSON pointer `at`), each quantity
/// recorded where it was written.
pub(super) fn resources(c: &PlanContainer, at: &str, prov: &mut BTreeMap<String, Span>) -> ResourceRequirements {
    for (k, (_, span)) in &c.requests {
        prov.insert(format!("{at}/resources/requests/{k}"), *span);
    }
    for (k, (_, span)) in &c.limits {
        prov.insert(format!("{at}/resources/limits/{k}"), *span);
    }
    ResourceRequirements {
        requests: quantities(&c.requests),
        limits: quantities(&c.limits),
        ..ResourceRequirements::default()
    }
}

fn quantities(m: &BTreeMap<&'static str, (String, Span)>) -> Option<BTreeMap<String, Quantity>> {
    if m.is_empty() {
        return None;
    }
    Some(m.iter().map(|(k, (v, _))| (k.to_string(), Quantity(v.clone()))).collect())
}
