//! The schemas of the custom kinds (Rollout, AnalysisTemplate,
//! ServiceMonitor, PrometheusRule): the complete upstream CRD schemas in
//! `schemas/upstream/` (Argo Rollouts v1.9.0 and prometheus-operator, see
//! `schemas/upstream/SOURCES.md`), so that patches reach every field the
//! CRD has and validation knows every rule it states, not only the fields
//! svcc sets (the structs in `crate::crd`).
//!
//! Each upstream schema is converted, not edited by hand:
//!
//! 1. Every object schema that has neither `additionalProperties` nor
//!    `x-kubernetes-preserve-unknown-fields: true` gets
//!    `additionalProperties: false`. That is how the API server treats a
//!    CRD's structural schema: it drops (prunes) any field the schema does
//!    not declare, or with strict field validation refuses it. The copies
//!    already close nested objects; this closes the root too (`sepc:` is an
//!    error) and the empty objects Argo Rollouts declares as
//!    `{type: object}`.
//! 2. A few fields take their schema from svcc's own Rust types ([`OWN`]),
//!    where upstream states less than Kubernetes does: `metadata` (upstream
//!    says only `type: object`; the API server checks it as an ObjectMeta)
//!    and the Rollout's pod template (upstream leaves container `resources`
//!    and pod `volumes` unchecked; svcc's is the Kubernetes 1.33 pod
//!    template the Deployment has, so a Rollout's pod is held to exactly
//!    the Deployment's rules). The definitions those use join the schema's
//!    `$defs`.
//! 3. The root requires `apiVersion`, `kind` and `metadata`, as svcc's own
//!    schemas do.

use serde_json::{Map, Value, json};

use crate::lower::Kind;

/// The fields of a custom kind whose schema comes from svcc's Rust type
/// rather than from upstream: the kind (`None` for all), and the field as a
/// JSON pointer into the object.
pub const OWN: &[(Option<Kind>, &str)] = &[(None, "/metadata"), (Some(Kind::Rollout), "/spec/template")];

/// The upstream schema of a custom kind: its path under
/// `schemas/upstream/` (`GROUP/STEM_VERSION.json`) and its text.
pub fn file(kind: Kind) -> Option<(&'static str, &'static str)> {
    macro_rules! upstream {
        ($path:literal) => {
            ($path, include_str!(concat!("../../../schemas/upstream/", $path)))
        };
    }
    Some(match kind {
        Kind::Rollout => upstream!("argoproj.io/rollout_v1alpha1.json"),
        Kind::AnalysisTemplate => upstream!("argoproj.io/analysistemplate_v1alpha1.json"),
        Kind::ServiceMonitor => upstream!("monitoring.coreos.com/servicemonitor_v1.json"),
        Kind::PrometheusRule => upstream!("monitoring.coreos.com/prometheusrule_v1.json"),
        _ => return None,
    })
}

/// The schema svcc validates a custom kind with: the upstream schema,
/// converted as the module documentation says, with the parts listed in
/// [`OWN`] from `own`, the schema of svcc's Rust type for the kind.
pub fn schema(kind: Kind, own: &Value) -> Result<Value, String> {
    let (path, text) = file(kind).ok_or_else(|| format!("{kind:?} has no upstream schema"))?;
    let mut upstream: Value = serde_json::from_str(text).map_err(|e| format!("schemas/upstream/{path}: {e}"))?;
    close_objects(&mut upstream);
    let mut wanted = Vec::new();
    for (_, pointer) in OWN.iter().filter(|(k, _)| k.is_none_or(|k| k == kind)) {
        let ours = field_schema(own, own, pointer).ok_or_else(|| format!("svcc's {kind:?} has no {pointer}"))?;
        refs(ours, &mut wanted);
        let theirs = field_schema_mut(&mut upstream, pointer).ok_or_else(|| format!("{path} has no {pointer}"))?;
        *theirs = ours.clone();
    }
    let Value::Object(root) = upstream else { return Err(format!("{path} is not an object")) };
    let mut out = Map::new();
    out.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    out.insert("title".into(), json!(kind.as_str()));
    out.extend(root);
    if let Some(Value::Array(required)) = out.get_mut("required") {
        for name in ["apiVersion", "kind", "metadata"] {
            if !required.iter().any(|r| r == name) {
                required.push(json!(name));
            }
        }
    }
    out.insert("$defs".into(), Value::Object(definitions(own, wanted)));
    Ok(Value::Object(out))
}

/// Close every object schema the API server would prune (module
/// documentation, step 1), going through schema positions only.
fn close_objects(schema: &mut Value) {
    let Value::Object(m) = schema else { return };
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if m.get("type").and_then(Value::as_str) == Some("object") && !preserve && !m.contains_key("additionalProperties") {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        props.values_mut().for_each(close_objects);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = m.get_mut(key) {
            close_objects(sub);
        }
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(Value::Array(subs)) = m.get_mut(key) {
            subs.iter_mut().for_each(close_objects);
        }
    }
}

/// The schema of the field at `pointer` (object keys only), following
/// `$ref`s into `root`'s `$defs`.
fn field_schema<'v>(root: &'v Value, mut schema: &'v Value, pointer: &str) -> Option<&'v Value> {
    for segment in pointer.split('/').skip(1) {
        while let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            schema = root.get("$defs")?.get(name)?;
        }
        schema = schema.get("properties")?.get(segment)?;
    }
    Some(schema)
}

/// The same in a schema without references (upstream's), to replace it.
fn field_schema_mut<'v>(mut schema: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    for segment in pointer.split('/').skip(1) {
        schema = schema.get_mut("properties")?.get_mut(segment)?;
    }
    Some(schema)
}

/// Every `$defs` name `schema` refers to.
fn refs(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(m) => {
            if let Some(name) = m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
                && !out.iter().any(|o| o == name)
            {
                out.push(name.to_string());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The definitions of `own` that `wanted` reach, in `own`'s order.
fn definitions(own: &Value, mut wanted: Vec<String>) -> Map<String, Value> {
    let defs = own.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut i = 0;
    while let Some(name) = wanted.get(i) {
        if let Some(def) = defs.get(name) {
            refs(def, &mut wanted);
        }
        i += 1;
    }
    defs.into_iter().filter(|(name, _)| wanted.contains(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_closed_as_the_api_server_prunes() {
        let mut s = json!({ "type": "object", "properties": {
            "a": { "type": "object", "properties": { "b": { "type": "string" } } },
            "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
            "map": { "type": "object", "additionalProperties": { "type": "object" } },
            "list": { "type": "array", "items": { "type": "object" } },
            "type": { "type": "string" }
        } });
        close_objects(&mut s);
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["properties"]["a"]["additionalProperties"], false);
        assert!(s["properties"]["free"].get("additionalProperties").is_none());
        assert_eq!(s["properties"]["map"]["additionalProperties"]["additionalProperties"], false);
        assert_eq!(s["properties"]["list"]["items"]["additionalProperties"], false);
        assert!(s["properties"]["type"].get("additionalProperties").is_none());
    }

    #[test]
    fn every_custom_kind_has_an_upstream_schema_with_svccs_own_parts() {
        for kind in Kind::ALL {
            assert_eq!(file(kind).is_some(), kind.is_custom(), "{kind:?}");
            if !kind.is_custom() {
                continue;
            }
            let own = kind.generate_schema().to_value();
            let s = schema(kind, &own).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(s["additionalProperties"], false, "{kind:?}");
            for (_, pointer) in OWN.iter().filter(|(k, _)| k.is_none_or(|k| k == kind)) {
                let field = field_schema(&s, &s, pointer).unwrap();
                assert!(field.get("$ref").is_some(), "{kind:?} {pointer}: {field}");
            }
            // Every reference resolves in the schema's own `$defs`.
            let mut wanted = Vec::new();
            refs(&s, &mut wanted);
            for name in wanted {
                assert!(s["$defs"].get(&name).is_some(), "{kind:?}: $defs/{name} is missing");
            }
        }
    }
}
