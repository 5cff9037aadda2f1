//! Stage 5: every generated object is checked against the JSON Schema of
//! its kind before anything is written. The built-in kinds' schemas are
//! generated from the same Rust types the objects are built from
//! (k8s-openapi's schemars support); the custom kinds' are the complete
//! upstream CRD schemas (`upstream`), with svcc's own `metadata` and pod
//! template. `engine` evaluates them, implementing exactly the keywords they
//! use, on static tables build.rs compiles from `schemas/validation.json`.
//!
//! A violation is reported at the spec token the offending value came from:
//! the object's provenance table maps JSON pointers to spans, and the
//! nearest recorded ancestor of the failing pointer wins.

use std::sync::OnceLock;

pub mod engine;
pub mod upstream;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lower::{Kind, Object};

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

/// The JSON Schema of a kind, generated once per process: a custom kind's
/// from its upstream CRD schema (`upstream::schema`), a built-in kind's
/// from its Rust type.
pub fn schema_ref(kind: Kind) -> &'static serde_json::Value {
    static CELLS: [OnceLock<serde_json::Value>; Kind::ALL.len()] = [const { OnceLock::new() }; Kind::ALL.len()];
    CELLS[kind as usize].get_or_init(|| {
        let own = type_schema(kind);
        if !kind.is_custom() {
            return own;
        }
        // The embedded upstream files are checked by `upstream::tests`.
        upstream::schema(kind, &own).unwrap_or_else(|e| panic!("the upstream schema of {kind:?}: {e}"))
    })
}

/// The JSON Schema of svcc's Rust type for a kind (schemars). For a custom
/// kind it describes only what svcc sets; `tests/schemas.rs` checks it is
/// a part of the upstream schema.
pub fn type_schema(kind: Kind) -> serde_json::Value {
    kind.generate_schema().to_value()
}

/// The schema svcc validates with: every kind's schema in one document,
/// their `$defs` merged (the same Rust types give the same definitions, so
/// the pod template is read once for the Deployment and the Rollout),
/// and per kind an `if kind == K then $ref K`. Descriptions are dropped:
/// they do not validate anything. Checked in as `schemas/validation.json`
/// (kept current by `tests/schemas.rs`), because reading that compact file
/// is much cheaper than generating and merging the nine schemas at every
/// start; the per-kind files beside it are the readable ones for editors.
pub fn validation_schema() -> serde_json::Value {
    // Schema keywords only: a field named `description` stays.
    fn strip(v: &mut serde_json::Value, names: bool) {
        match v {
            serde_json::Value::Object(m) => {
                if !names {
                    m.remove("description");
                }
                for (k, sub) in m.iter_mut() {
                    strip(sub, !names && (k == "properties" || k == "$defs"));
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|sub| strip(sub, false)),
            _ => {}
        }
    }
    let mut defs = serde_json::Map::new();
    let mut all_of = Vec::new();
    for kind in Kind::ALL {
        let serde_json::Value::Object(mut root) = schema(kind) else { continue };
        if let Some(serde_json::Value::Object(d)) = root.remove("$defs") {
            defs.extend(d);
        }
        root.remove("$schema");
        let name = kind_def(kind);
        all_of.push(serde_json::json!({
            "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
            "then": { "$ref": format!("#/$defs/{name}") },
        }));
        defs.insert(name, serde_json::Value::Object(root));
    }
    let mut v = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "allOf": all_of,
    });
    strip(&mut v, false);
    v
}

/// `schemas/validation.json`: compact, one line.
pub fn validation_schema_text() -> String {
    let mut s = serde_json::to_string(&validation_schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// The tables build.rs compiled from `schemas/validation.json`.
mod tables {
    use super::engine::{Format, Node};
    use regex_automata::util::wire::AlignAs;
    use std::borrow::Cow;
    include!(concat!(env!("OUT_DIR"), "/validation_schema.rs"));
}

/// The validation schema: static data (its patterns as DFAs), nothing to
/// read or build at start.
static VALIDATOR: engine::Schema = engine::Schema::from_static(
    tables::NODES,
    tables::LOCATIONS,
    tables::DEFS,
    tables::PATTERNS,
    tables::PATTERN_DFAS,
    tables::ROOT,
);

/// The name of a kind's root in the validation schema's `$defs`.
fn kind_def(kind: Kind) -> String {
    format!("{KIND_DEF_PREFIX}{}", kind.as_str())
}
const KIND_DEF_PREFIX: &str = "kind-";

pub use engine::{Field, Violation, child_pointer, push_segment};

/// The root node of a kind's schema in the validation schema, and the
/// schema to walk from it with `engine::Schema::field`.
pub fn kind_schema(kind: Kind) -> Option<(&'static engine::Schema, usize)> {
    Some((&VALIDATOR, VALIDATOR.definition(&kind_def(kind))?))
}

/// Every way `value` (an object of any kind) breaks `schemas/validation.json`.
pub fn violations(value: &serde_json::Value) -> Vec<Violation> {
    VALIDATOR.violations(value)
}

/// A schema path in the combined schema, as it reads in the kind's own
/// schema (`svcc schema KIND`): the kind's root `/$defs/kind-K/...` is
/// that schema's `/...`; shared definitions keep their `/$defs/...` path.
fn kind_schema_path(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/$defs/").and_then(|p| p.strip_prefix(KIND_DEF_PREFIX)) else { return path };
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    }
}

pub fn validate(objects: &[Object], diags: &mut Diagnostics) {
    for obj in objects {
        for err in VALIDATOR.violations(&obj.value) {
            let pointer = err.instance_path.clone();
            let span = obj.span_at(&pointer);
            let by_patch = obj.patched_at(&pointer);
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
                kind_schema_path(&err.schema_path),
                obj.kind.as_str()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_tables_equal_reading_validation_json() {
        let read = engine::Schema::from_json(include_str!("../../../schemas/validation.json")).unwrap();
        let built = &VALIDATOR;
        assert_eq!(read.to_rust(), built.to_rust(), "build.rs's tables differ from schemas/validation.json");
        assert!(Kind::ALL.iter().all(|k| kind_schema(*k).is_some()), "a kind without a root in the schema");
        assert!(built.definition("kind-Nope").is_none());
    }

    #[test]
    fn every_schema_uses_only_keywords_the_engine_implements() {
        for kind in Kind::ALL {
            if let Err(e) = engine::Schema::from_json(&schema_text(kind)) {
                panic!("{kind:?}: {e}");
            }
        }
        if let Err(e) = engine::Schema::from_json(include_str!("../../../schemas/validation.json")) {
            panic!("schemas/validation.json: {e}");
        }
    }

    /// Every pattern of the validation schema compiles, and build.rs
    /// compiled each into a DFA that answers as the run-time regex does.
    #[test]
    fn every_pattern_has_a_dfa_that_agrees_with_the_regex() {
        // Values around each pattern's edges, `|`-separated.
        let probes = "|0|10s|1h30m|1y2w3d4h5m6s7ms|10 seconds|s|-1|30|1.5|1e3|+1.5E-3|100m|2Gi|1Ki|.5|5.|1.2.3|0B|\
                      10MB|1.5GiB|5KB|B|abort|ABORT|Warn|warn |x|http://a|https://a.b/c|socks5://h:1|ftp://a|\
                      http://|é|1é|\n10s|10s\n";
        let mut probes: Vec<&str> = probes.split('|').collect();
        let long = "9".repeat(5000);
        probes.push(&long);
        assert_eq!(VALIDATOR.broken_patterns(&probes), Vec::<String>::new());
        assert_eq!(VALIDATOR.compiled_patterns(), VALIDATOR.patterns().len(), "a pattern without a DFA");
        assert!(!VALIDATOR.patterns().is_empty());
    }

    #[test]
    fn the_combined_validator_dispatches_on_kind() {
        let v = &VALIDATOR;
        let bad = serde_json::json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {},
            "spec": { "selector": {}, "template": {}, "replicas": "three" } });
        let errors: Vec<(String, String)> =
            v.violations(&bad).into_iter().map(|e| (e.instance_path, e.schema_path)).collect();
        assert_eq!(
            errors,
            [(
                "/spec/replicas".to_string(),
                "/$defs/io.k8s.api.apps.v1.DeploymentSpec/properties/replicas/type".to_string()
            )]
        );
        // The same document is a fine Service: the Deployment rule applies only to Deployments.
        let as_service = serde_json::json!({ "apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {} });
        assert!(v.violations(&as_service).is_empty());
        assert_eq!(kind_schema_path("/$defs/kind-Deployment/properties/spec"), "/properties/spec");
        assert_eq!(kind_schema_path("/$defs/kind-Deployment"), "/");
        assert_eq!(
            kind_schema_path("/$defs/io.k8s.api.apps.v1.DeploymentSpec/required"),
            "/$defs/io.k8s.api.apps.v1.DeploymentSpec/required"
        );
    }
}
