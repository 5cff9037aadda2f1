//! Stage 5: every generated object is checked against the JSON Schema of
//! its type before anything is written. Schemas are generated from the same
//! Rust types the objects are built from (k8s-openapi's schemars support),
//! compiled once per process.
//!
//! A violation is reported at the spec token the offending value came from:
//! the object's provenance table maps JSON pointers to spans, and the
//! nearest recorded ancestor of the failing pointer wins.

use std::sync::OnceLock;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lower::{Kind, Object};

fn schema_of(kind: Kind) -> serde_json::Value {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::{Service, ServiceAccount};
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    let schema = match kind {
        Kind::ServiceAccount => schemars::schema_for!(ServiceAccount),
        Kind::Service => schemars::schema_for!(Service),
        Kind::Deployment => schemars::schema_for!(Deployment),
        Kind::Rollout => schemars::schema_for!(crate::crd::Rollout),
        Kind::AnalysisTemplate => schemars::schema_for!(crate::crd::AnalysisTemplate),
        Kind::HorizontalPodAutoscaler => schemars::schema_for!(HorizontalPodAutoscaler),
        Kind::PodDisruptionBudget => schemars::schema_for!(PodDisruptionBudget),
        Kind::ServiceMonitor => schemars::schema_for!(crate::crd::ServiceMonitor),
        Kind::PrometheusRule => schemars::schema_for!(crate::crd::PrometheusRule),
    };
    schema.to_value()
}

/// The JSON Schema svcc validates a kind with.
pub fn schema(kind: Kind) -> serde_json::Value {
    schema_ref(kind).clone()
}

/// The schema of a kind as the text of `schemas/<kind>.json` and `svcc schema`.
pub fn schema_text(kind: Kind) -> String {
    let mut s = serde_json::to_string_pretty(schema_ref(kind)).unwrap_or_default();
    s.push('\n');
    s
}

fn index(kind: Kind) -> usize {
    Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// The JSON Schema of a kind, generated once per process.
pub fn schema_ref(kind: Kind) -> &'static serde_json::Value {
    static CELLS: [OnceLock<serde_json::Value>; Kind::ALL.len()] = [const { OnceLock::new() }; Kind::ALL.len()];
    CELLS[index(kind)].get_or_init(|| schema_of(kind))
}

fn validator(kind: Kind) -> Option<&'static jsonschema::Validator> {
    static CELLS: [OnceLock<Option<jsonschema::Validator>>; Kind::ALL.len()] =
        [const { OnceLock::new() }; Kind::ALL.len()];
    CELLS[index(kind)].get_or_init(|| jsonschema::validator_for(schema_ref(kind)).ok()).as_ref()
}

/// Compile every kind's validator on a background thread, so the cost
/// (most of a small build's time) overlaps parsing, checking and lowering
/// on the other core. Later `validate` calls wait for a validator still
/// being compiled instead of compiling it twice.
pub fn warm_up() {
    let _ = std::thread::Builder::new().name("svcc-schemas".into()).spawn(|| {
        // The heaviest first (the pod template dominates); the main thread
        // meanwhile compiles the small ones it validates first.
        for kind in std::iter::once(Kind::Deployment).chain(Kind::ALL.iter().rev().copied()) {
            let _ = validator(kind);
        }
    });
}

pub fn validate(objects: &[Object], diags: &mut Diagnostics) {
    for obj in objects {
        let Some(v) = validator(obj.kind) else {
            diags.push(
                Diagnostic::error(
                    Code::SchemaViolation,
                    format!("no schema could be compiled for {}", obj.kind.as_str()),
                )
                .at(obj.origin, "generated from here"),
            );
            continue;
        };
        for err in v.iter_errors(&obj.value) {
            let pointer = err.instance_path().as_str().to_string();
            let mut p = pointer.clone();
            let span = loop {
                if let Some(o) = obj.provenance.get(&p) {
                    break o.span().unwrap_or(obj.origin);
                }
                match p.rfind('/') {
                    Some(i) => p.truncate(i),
                    None => break obj.origin,
                }
            };
            let by_patch = obj.patched.iter().any(|p| pointer == *p || pointer.starts_with(&format!("{p}/")));
            let d = if by_patch {
                Diagnostic::error(
                    Code::PatchSchema,
                    format!("this patch makes {} `{}` invalid: {}", obj.kind.as_str(), obj.name, err),
                )
                .at(span, "patched here")
            } else {
                Diagnostic::error(
                    Code::SchemaViolation,
                    format!("generated {} `{}` is invalid: {}", obj.kind.as_str(), obj.name, err),
                )
                .at(span, "this value")
            };
            diags.push(d.help(format!(
                "at {} (schema: {}; `svcc schema {}` prints it)",
                if pointer.is_empty() { "/" } else { &pointer },
                err.schema_path().as_str(),
                obj.kind.as_str()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_compiled_schema() {
        for kind in Kind::ALL {
            let s = schema_of(kind);
            if let Err(e) = jsonschema::validator_for(&s) {
                panic!("{kind:?}: {e}");
            }
            assert!(validator(kind).is_some(), "{kind:?}");
        }
    }
}
