//! `resources`: the container's requests and limits.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::workload::CONTAINER;
use crate::plan::Plan;
use crate::source::Span;

/// The container's resources, each quantity recorded where it was written.
pub(super) fn resources(p: &Plan, prov: &mut BTreeMap<String, Span>) -> ResourceRequirements {
    for (k, (_, span)) in &p.requests {
        prov.insert(format!("{CONTAINER}/resources/requests/{k}"), *span);
    }
    for (k, (_, span)) in &p.limits {
        prov.insert(format!("{CONTAINER}/resources/limits/{k}"), *span);
    }
    ResourceRequirements {
        requests: quantities(&p.requests),
        limits: quantities(&p.limits),
        ..ResourceRequirements::default()
    }
}

fn quantities(m: &BTreeMap<&'static str, (String, Span)>) -> Option<BTreeMap<String, Quantity>> {
    if m.is_empty() {
        return None;
    }
    Some(m.iter().map(|(k, (v, _))| (k.to_string(), Quantity(v.clone()))).collect())
}
