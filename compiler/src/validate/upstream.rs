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
//!    and the pod templates of the Rollout and of an AnalysisTemplate's job
//!    metrics (upstream leaves container `resources` and pod `volumes`
//!    unchecked; svcc's is the Kubernetes 1.33 pod template the Deployment
//!    has, so those pods are held to exactly the Deployment's rules). The
//!    definitions those use join the schema's `$defs`.
//! 3. The root requires `apiVersion`, `kind` and `metadata`, as svcc's own
//!    schemas do.
//! 4. For the kinds in [`SHARED`], a subschema that occurs more than once
//!    (at least [`SHARE_BYTES`] long) is written once, under `$defs`, and
//!    referred to wherever it occurs: Argo CD's Application repeats its
//!    source schema for `source`, `sources` and its status, and the
//!    ApplicationSet repeats the whole Application template for each of its
//!    generators and their nested matrix and merge generators (2 MB). The
//!    schema is the same; only its size changes (the tables build.rs
//!    compiles from it must fit in a compiler's memory).

use serde_json::{Map, Value, json};

use crate::lower::Kind;

/// The fields of a custom kind whose schema comes from svcc's Rust type
/// rather than from upstream: the kind (`None` for all), and the field as a
/// JSON pointer into the object.
/// `*` stands for every item of an array.
pub const OWN: &[(Option<Kind>, &str)] = &[
    (None, "/metadata"),
    (Some(Kind::Rollout), "/spec/template"),
    (Some(Kind::AnalysisTemplate), "/spec/metrics/*/provider/job/spec/template"),
];

/// The kinds whose repeated subschemas are shared (module documentation,
/// step 4).
pub const SHARED: &[Kind] = &[Kind::Application, Kind::ApplicationSet];

/// The smallest subschema (as compact JSON) that is shared.
pub const SHARE_BYTES: usize = 1024;

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
        Kind::Application => upstream!("argoproj.io/application_v1alpha1.json"),
        Kind::ApplicationSet => upstream!("argoproj.io/applicationset_v1alpha1.json"),
        Kind::AppProject => upstream!("argoproj.io/appproject_v1alpha1.json"),
        Kind::Kustomization => upstream!("kustomize.toolkit.fluxcd.io/kustomization_v1.json"),
        Kind::ExternalSecret => upstream!("external-secrets.io/externalsecret_v1.json"),
        Kind::HTTPRoute => upstream!("gateway.networking.k8s.io/httproute_v1.json"),
        Kind::GRPCRoute => upstream!("gateway.networking.k8s.io/grpcroute_v1.json"),
        Kind::Certificate => upstream!("cert-manager.io/certificate_v1.json"),
        Kind::ScaledObject => upstream!("keda.sh/scaledobject_v1alpha1.json"),
        _ => return None,
    })
}

/// The schema svcc validates a custom kind with: the upstream schema,
/// converted as the module documentation says, with the parts listed in
/// [`OWN`] from `own`, the schema of svcc's Rust type for the kind.
pub fn schema(kind: Kind, own: &Value) -> Result<Value, String> {
    convert(kind, own, SHARED.contains(&kind))
}

/// [`schema`], with repeated subschemas shared or not (step 4).
fn convert(kind: Kind, own: &Value, share: bool) -> Result<Value, String> {
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
    let shared = if share { share_repeats(&mut upstream, kind.as_str()) } else { Map::new() };
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
    let mut defs = definitions(own, wanted);
    defs.extend(shared);
    out.insert("$defs".into(), Value::Object(defs));
    Ok(Value::Object(out))
}

/// The subschemas of `schema` (schema positions only) in document order,
/// each with its path: property names joined by `.`, and `_items`,
/// `_values` (`additionalProperties`) or `_anyOfN`/`_allOfN` for the other
/// keywords (characters a `$ref` URI fragment may hold).
fn subschemas<'v>(schema: &'v Value, path: &str, out: &mut Vec<(String, &'v Value)>) {
    let Value::Object(m) = schema else { return };
    if let Some(Value::Object(props)) = m.get("properties") {
        for (k, v) in props {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            out.push((p.clone(), v));
            subschemas(v, &p, out);
        }
    }
    for (key, mark) in [("items", "_items"), ("additionalProperties", "_values")] {
        if let Some(v @ Value::Object(_)) = m.get(key) {
            let p = format!("{path}.{mark}");
            out.push((p.clone(), v));
            subschemas(v, &p, out);
        }
    }
    for key in ["anyOf", "allOf"] {
        if let Some(Value::Array(subs)) = m.get(key) {
            for (i, v) in subs.iter().enumerate() {
                let p = format!("{path}._{key}{i}");
                out.push((p.clone(), v));
                subschemas(v, &p, out);
            }
        }
    }
}

/// Step 4: write each subschema of `root` that occurs more than once (and
/// is at least [`SHARE_BYTES`] long) once, as a definition named after the
/// kind and the path of its first occurrence, and refer to it wherever it
/// occurs (inside other definitions too). Returns the definitions.
fn share_repeats(root: &mut Value, kind: &str) -> Map<String, Value> {
    let mut seen: std::collections::BTreeMap<String, (usize, String)> = std::collections::BTreeMap::new();
    let mut all = Vec::new();
    subschemas(root, "", &mut all);
    for (path, v) in all {
        let text = v.to_string();
        if text.len() >= SHARE_BYTES {
            seen.entry(text).or_insert((0, format!("{kind}.{path}"))).0 += 1;
        }
    }
    let mut taken = std::collections::BTreeSet::new();
    let names: std::collections::BTreeMap<String, String> = seen
        .into_iter()
        .filter(|(_, (n, _))| *n > 1)
        .map(|(text, (_, name))| {
            // A property called `_items` could meet a list's items: keep names unique.
            let unique = (1..)
                .map(|i| if i == 1 { name.clone() } else { format!("{name}-{i}") })
                .find(|n| taken.insert(n.clone()));
            (text, unique.unwrap_or(name))
        })
        .collect();
    let mut defs = Map::new();
    replace_repeats(root, &names, &mut defs);
    defs
}

/// Replace every subschema of `schema` that `names` lists by a reference,
/// moving its first copy (with its own repeats replaced) into `defs`.
fn replace_repeats(
    schema: &mut Value,
    names: &std::collections::BTreeMap<String, String>,
    defs: &mut Map<String, Value>,
) {
    let Value::Object(m) = schema else { return };
    let children: Vec<&mut Value> = m
        .iter_mut()
        .flat_map(|(k, v)| match (k.as_str(), v) {
            ("properties", Value::Object(props)) => props.values_mut().collect::<Vec<_>>(),
            ("anyOf" | "allOf", Value::Array(a)) => a.iter_mut().collect(),
            ("items" | "additionalProperties", v @ Value::Object(_)) => vec![v],
            _ => Vec::new(),
        })
        .collect();
    for child in children {
        match names.get(&child.to_string()) {
            Some(name) => {
                if !defs.contains_key(name) {
                    let mut body = child.clone();
                    // Its own repeats, but not itself.
                    replace_repeats(&mut body, names, defs);
                    defs.insert(name.clone(), body);
                }
                *child = json!({ "$ref": format!("#/$defs/{name}") });
            }
            None => replace_repeats(child, names, defs),
        }
    }
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
        loop {
            if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                schema = root.get("$defs")?.get(name)?;
            } else if let Some(some) = schema.get("anyOf").and_then(Value::as_array).and_then(|a| not_null(a)) {
                // An `Option<T>`: schemars writes `anyOf: [T, null]`.
                schema = some;
            } else {
                break;
            }
        }
        schema = match segment {
            "*" => schema.get("items")?,
            _ => schema.get("properties")?.get(segment)?,
        };
    }
    Some(schema)
}

/// The one schema of `any_of` that is not `{type: null}`.
fn not_null(any_of: &[Value]) -> Option<&Value> {
    let mut some = any_of.iter().filter(|s| s.get("type").and_then(Value::as_str) != Some("null"));
    let first = some.next()?;
    some.next().is_none().then_some(first)
}

/// The same in a schema without references (upstream's), to replace it.
fn field_schema_mut<'v>(mut schema: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    for segment in pointer.split('/').skip(1) {
        schema = match segment {
            "*" => schema.get_mut("items")?,
            _ => schema.get_mut("properties")?.get_mut(segment)?,
        };
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

    /// `schema` with every reference to a shared definition replaced by
    /// the definition, and those definitions dropped.
    fn inline_shared(schema: &mut Value, defs: &Map<String, Value>) {
        match schema {
            Value::Object(m) => {
                let shared = m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"));
                if let Some(def) = shared.and_then(|name| defs.get(name)) {
                    *schema = def.clone();
                    inline_shared(schema, defs);
                    return;
                }
                m.values_mut().for_each(|v| inline_shared(v, defs));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| inline_shared(v, defs)),
            _ => {}
        }
    }

    /// Sharing repeated subschemas changes the size of a schema, not what
    /// it says: with the references inlined again, it is the same schema.
    #[test]
    fn shared_subschemas_are_the_same_schema() {
        for kind in SHARED.iter().copied() {
            let own = kind.generate_schema().to_value();
            let mut shared = schema(kind, &own).unwrap();
            let plain = convert(kind, &own, false).unwrap();
            let defs = shared["$defs"].as_object().unwrap().clone();
            let names: Vec<&String> = defs.keys().filter(|k| k.starts_with(&format!("{}.", kind.as_str()))).collect();
            assert!(names.len() > 10, "{kind:?}: {names:?}");
            let own_defs: Map<String, Value> =
                defs.iter().filter(|(k, _)| !names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            let shared_defs: Map<String, Value> =
                defs.iter().filter(|(k, _)| names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            inline_shared(&mut shared, &shared_defs);
            shared["$defs"] = Value::Object(own_defs);
            assert!(shared == plain, "{kind:?}: sharing changed the schema");
            assert!(schema(kind, &own).unwrap().to_string().len() * 2 < plain.to_string().len(), "{kind:?}");
        }
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
