//! Stage 4½: escape-hatch patches (`docs/patches.md`), applied to the
//! lowered objects before validation, so a patched object is checked
//! against its JSON Schema like any other and a violation is reported at
//! the patch in the spec.
//!
//! Operations address fields with JSON pointers (RFC 6901): `set` replaces
//! the value at a pointer (creating missing parent objects), `merge` merges
//! an object into the one at a pointer (RFC 7386: `#null` deletes a key),
//! `remove` deletes a field that must exist. A patch whose target object
//! or field does not exist is an error, never a silent no-op.
//!
//! Before applying, every field a patch names is looked up in the kind's
//! schema (`validate::engine::Schema::field`); an unknown one gets "did you
//! mean". The built-in kinds' schemas (k8s-openapi) list `properties` but
//! do not reject other fields, so the lookup holds a field to the listed
//! ones; the custom kinds' are the complete upstream CRD schemas, closed
//! as the API server prunes, and open only where upstream keeps unknown
//! fields (`x-kubernetes-preserve-unknown-fields`).

use serde_json::{Map, Value};

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lower::{Kind, Object};
use crate::model::{Patch, PatchOp, PatchOpKind, PatchValue};
use crate::source::Span;
use crate::validate::{Field, child_pointer, engine::Schema, push_segment};

/// Fields that make an object what it is: svcc derives them, patches may not change them.
const IDENTITY: &[&str] = &["/apiVersion", "/kind", "/metadata/name", "/metadata/namespace"];

/// Is `p` a pointer a patch may use?
pub fn check_pointer(p: &str) -> Result<(), String> {
    if p.is_empty() || p == "/" {
        return Err("a patch changes a field, not the whole object".into());
    }
    if !p.starts_with('/') {
        return Err("a JSON pointer starts with `/`".into());
    }
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("`~` must be followed by `0` (for `~`) or `1` (for `/`)".into());
        }
    }
    if IDENTITY.contains(&p) {
        return Err("svcc derives this field; patches cannot change an object's identity".into());
    }
    Ok(())
}

/// The unescaped segments of a pointer.
pub fn segments(p: &str) -> Vec<String> {
    p.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}

/// Apply the patches of one environment to its objects.
pub fn apply(objects: &mut [Object], patches: &[Patch], environment: &str, diags: &mut Diagnostics) {
    for patch in patches {
        let kind = patch.kind.value.as_str();
        let targets: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind.as_str() == kind && patch.name.as_ref().is_none_or(|n| n.value == o.name))
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            diags.push(no_target(objects, patch, environment));
            continue;
        }
        for i in targets {
            let obj = &mut objects[i];
            let before: Vec<Option<Value>> = IDENTITY.iter().map(|id| obj.value.pointer(id).cloned()).collect();
            for op in &patch.ops {
                if check_fields(obj.kind, op, diags) {
                    apply_op(obj, op, diags);
                }
            }
            for (id, was) in IDENTITY.iter().zip(&before) {
                if obj.value.pointer(id) != was.as_ref() {
                    diags.push(
                        Diagnostic::error(Code::PatchPath, "a patch cannot change an object's identity")
                            .at(patch.node, format!("changes `{id}`"))
                            .help("patch the fields below `metadata`, not `metadata` as a whole"),
                    );
                }
            }
        }
    }
}

fn no_target(objects: &[Object], patch: &Patch, environment: &str) -> Diagnostic {
    let kind = patch.kind.value.as_str();
    let same_kind: Vec<&str> = objects.iter().filter(|o| o.kind.as_str() == kind).map(|o| o.name.as_str()).collect();
    match &patch.name {
        Some(n) if !same_kind.is_empty() => {
            let mut d = Diagnostic::error(
                Code::PatchTarget,
                format!("no {kind} named `{}` in environment `{environment}`", n.value),
            )
            .at(n.span, format!("{kind} objects: {}", same_kind.join(", ")));
            if let Some(s) = did_you_mean(&n.value, &same_kind) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            d
        }
        _ => {
            let generated: Vec<String> = objects.iter().map(|o| format!("{}/{}", o.kind.as_str(), o.name)).collect();
            Diagnostic::error(
                Code::PatchTarget,
                format!("environment `{environment}` generates no {kind} for this patch to change"),
            )
            .at(patch.kind.span, "nothing to patch")
            .help(format!(
                "generated here: {}; move the patch into the `environment` blocks that generate a {kind}",
                generated.join(", ")
            ))
        }
    }
}

// ---- schema lookups --------------------------------------------------------

fn unknown(kind: Kind, at: &str, field: &str, known: &[&str], span: Span) -> Diagnostic {
    let mut d =
        Diagnostic::error(Code::PatchUnknownField, format!("{} has no field `{field}` at `{at}`", kind.as_str()))
            .at(span, "unknown field");
    d = match did_you_mean(field, known) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None if known.is_empty() => d.help(format!("`{at}` takes no fields")),
        None => {
            let mut k = known.to_vec();
            k.sort_unstable();
            d.help(format!("fields here: {}", k.join(", ")))
        }
    };
    d.note("Kubernetes would drop the unknown field silently (or reject it with strict validation)")
}

/// Check every field the operation names against the kind's schema.
/// Returns whether the operation can be applied.
fn check_fields(kind: Kind, op: &PatchOp, diags: &mut Diagnostics) -> bool {
    // Every kind has a root in the validation schema (`validate::tests`).
    let Some((schema, root)) = crate::validate::kind_schema(kind) else { return true };
    let mut s = root;
    let mut at = String::new();
    for seg in segments(&op.pointer.value) {
        match schema.field(s, &seg) {
            Field::Known(t) => s = t,
            Field::Unknown(known) => {
                diags.push(unknown(kind, if at.is_empty() { "/" } else { &at }, &seg, &known, op.pointer.span));
                return false;
            }
            Field::Open => return true,
        }
        push_segment(&mut at, &seg);
    }
    match &op.value {
        Some(v) => value_fields(kind, schema, s, v, &at, diags),
        None => true,
    }
}

fn value_fields(kind: Kind, schema: &Schema, s: usize, v: &PatchValue, at: &str, diags: &mut Diagnostics) -> bool {
    let mut ok = true;
    match v {
        PatchValue::Scalar(_) => {}
        PatchValue::Object(_, entries) => {
            for (k, child) in entries {
                let path = child_pointer(at, &k.value);
                match schema.field(s, &k.value) {
                    Field::Known(t) => ok &= value_fields(kind, schema, t, child, &path, diags),
                    Field::Unknown(known) => {
                        diags.push(unknown(kind, if at.is_empty() { "/" } else { at }, &k.value, &known, k.span));
                        ok = false;
                    }
                    Field::Open => {}
                }
            }
        }
        PatchValue::Array(_, items) => {
            for (i, item) in items.iter().enumerate() {
                if let Field::Known(t) = schema.field(s, &i.to_string()) {
                    ok &= value_fields(kind, schema, t, item, &format!("{at}/{i}"), diags);
                }
            }
        }
    }
    ok
}

// ---- applying --------------------------------------------------------------

fn path_error(op: &PatchOp, msg: String, label: String, help: Option<String>) -> Diagnostic {
    let mut d = Diagnostic::error(Code::PatchPath, msg).at(op.pointer.span, label);
    if let Some(h) = help {
        d = d.help(h);
    }
    d
}

/// Record where every value of a patch came from (JSON pointer → span).
fn record(obj: &mut Object, at: &str, v: &PatchValue) {
    obj.provenance.insert(at.to_string(), crate::lower::Origin::Patch(v.span()));
    obj.patched.push(at.to_string());
    match v {
        PatchValue::Scalar(_) => {}
        PatchValue::Object(_, entries) => {
            for (k, child) in entries {
                let p = child_pointer(at, &k.value);
                obj.provenance.insert(p.clone(), crate::lower::Origin::Patch(k.span));
                record(obj, &p, child);
            }
        }
        PatchValue::Array(_, items) => {
            for (i, item) in items.iter().enumerate() {
                record(obj, &format!("{at}/{i}"), item);
            }
        }
    }
}

/// What an operation changed, to record on the object.
enum Change<'p> {
    /// A field or item of the parent was removed.
    Removed,
    /// The value `v` was written at the pointer.
    Wrote(String, &'p PatchValue),
}

fn apply_op(obj: &mut Object, op: &PatchOp, diags: &mut Diagnostics) {
    let segs = segments(&op.pointer.value);
    let Some(last) = segs.last() else {
        return;
    };
    let Some((parent, at)) = parent_of(&mut obj.value, op, &segs, diags) else { return };
    // A `set` or `merge` that leaves the target as it was is an error, never
    // a silent no-op (docs/patches.md).
    let before = (op.op != PatchOpKind::Remove).then(|| target_of(parent, last).cloned());
    let change = match (op.op, &mut *parent) {
        (PatchOpKind::Remove, Value::Object(m)) => remove_field(m, op, &at, last, diags),
        (PatchOpKind::Remove, Value::Array(a)) => remove_item(a, op, &at, last, diags),
        (PatchOpKind::Set, Value::Object(m)) => op.value.as_ref().map(|v| {
            m.insert(last.clone(), v.to_json());
            Change::Wrote(child_pointer(&at, last), v)
        }),
        (PatchOpKind::Set, Value::Array(a)) => set_item(a, op, &at, last, diags),
        (PatchOpKind::Merge, Value::Object(m)) => merge_field(m, op, &at, last, diags),
        (PatchOpKind::Merge, Value::Array(a)) => merge_item(a, op, &at, last, diags),
        (_, other) => {
            let t = type_of(other);
            diags.push(path_error(op, format!("`{}` is {t}", shown(&at)), "cannot patch inside it".into(), None));
            None
        }
    };
    let empty_merge =
        op.op == PatchOpKind::Merge && matches!(&op.value, Some(PatchValue::Object(_, e)) if e.is_empty());
    if let (Some(before), Some(Change::Wrote(..))) = (&before, &change)
        && last != "-"
        && (empty_merge || before.as_ref() == target_of(parent, last))
    {
        diags.push(
            Diagnostic::error(Code::PatchPath, "this patch changes nothing")
                .at(op.node, format!("`{}` already holds this value", child_pointer(&at, last)))
                .help("remove the operation: the generated object already says this")
                .fix(crate::diagnostic::Fix::delete("Remove the patch operation that changes nothing", op.whole)),
        );
        return;
    }
    match change {
        Some(Change::Removed) => {
            obj.provenance.entry(shown(&at).to_string()).or_insert(crate::lower::Origin::Patch(op.pointer.span));
            obj.patched.push(at);
        }
        Some(Change::Wrote(pointer, v)) => record(obj, &pointer, v),
        None => {}
    }
}

/// The value `last` names inside `parent`, if there is one.
fn target_of<'v>(parent: &'v Value, last: &str) -> Option<&'v Value> {
    match parent {
        Value::Object(m) => m.get(last),
        Value::Array(a) => last.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

/// A pointer as messages show it: the root is `/`.
fn shown(at: &str) -> &str {
    if at.is_empty() { "/" } else { at }
}

/// Walk to the parent of the operation's target, creating missing objects
/// for `set` and `merge`: the parent and its pointer.
fn parent_of<'v>(
    root: &'v mut Value,
    op: &PatchOp,
    segs: &[String],
    diags: &mut Diagnostics,
) -> Option<(&'v mut Value, String)> {
    let create = op.op != PatchOpKind::Remove;
    let mut cur = root;
    let mut at = String::new();
    let parents = &segs[..segs.len().saturating_sub(1)];
    for (i, seg) in parents.iter().enumerate() {
        let next_at = child_pointer(&at, seg);
        cur = match cur {
            Value::Object(m) => {
                if !m.contains_key(seg.as_str()) {
                    if !create {
                        diags.push(missing_field(op, &at, seg, m));
                        return None;
                    }
                    // `…/env/-` on a missing list creates the list.
                    let list = segs.get(i + 1).is_some_and(|s| s == "-");
                    m.insert(seg.clone(), if list { Value::Array(Vec::new()) } else { Value::Object(Map::new()) });
                }
                m.get_mut(seg.as_str())?
            }
            Value::Array(a) => {
                let len = a.len();
                match seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                    Some(c) => c,
                    None => {
                        diags.push(path_error(
                            op,
                            format!("`{}` has no item `{seg}`", shown(&at)),
                            format!("the list has {len} items"),
                            Some("list items are numbered from 0".into()),
                        ));
                        return None;
                    }
                }
            }
            other => {
                diags.push(path_error(
                    op,
                    format!("`{at}` is {}, not an object or a list", type_of(other)),
                    "cannot go inside it".into(),
                    None,
                ));
                return None;
            }
        };
        at = next_at;
    }
    Some((cur, at))
}

/// `remove` of an object's field, which must exist.
fn remove_field<'p>(
    m: &mut Map<String, Value>,
    op: &'p PatchOp,
    at: &str,
    last: &str,
    diags: &mut Diagnostics,
) -> Option<Change<'p>> {
    if m.remove(last).is_none() {
        diags.push(missing_field(op, at, last, m));
        return None;
    }
    Some(Change::Removed)
}

/// `remove` of a list's item, which must exist.
fn remove_item<'p>(
    a: &mut Vec<Value>,
    op: &'p PatchOp,
    at: &str,
    last: &str,
    diags: &mut Diagnostics,
) -> Option<Change<'p>> {
    match last.parse::<usize>() {
        Ok(i) if i < a.len() => {
            a.remove(i);
            Some(Change::Removed)
        }
        _ => {
            diags.push(path_error(
                op,
                format!("`{}` has no item `{last}` to remove", shown(at)),
                format!("the list has {} items", a.len()),
                None,
            ));
            None
        }
    }
}

/// `set` of a list's item: an existing index, or `-` to append.
fn set_item<'p>(
    a: &mut Vec<Value>,
    op: &'p PatchOp,
    at: &str,
    last: &str,
    diags: &mut Diagnostics,
) -> Option<Change<'p>> {
    let v = op.value.as_ref()?;
    let idx = if last == "-" { Some(a.len()) } else { last.parse::<usize>().ok().filter(|i| *i < a.len()) };
    match idx {
        Some(i) if i == a.len() => a.push(v.to_json()),
        Some(i) => a[i] = v.to_json(),
        None => {
            diags.push(path_error(
                op,
                format!("`{}` has no item `{last}`", shown(at)),
                format!("the list has {} items", a.len()),
                Some("use `-` as the last segment to append an item".into()),
            ));
            return None;
        }
    }
    Some(Change::Wrote(format!("{at}/{}", idx.unwrap_or(0)), v))
}

/// `merge` into an object's field (created empty when missing).
fn merge_field<'p>(
    m: &mut Map<String, Value>,
    op: &'p PatchOp,
    at: &str,
    last: &str,
    diags: &mut Diagnostics,
) -> Option<Change<'p>> {
    let full = child_pointer(at, last);
    let target = m.entry(last.to_string()).or_insert_with(|| Value::Object(Map::new()));
    merge_object(target, op, full, diags)
}

/// `merge` into a list's item, which must exist and be an object.
fn merge_item<'p>(
    a: &mut [Value],
    op: &'p PatchOp,
    at: &str,
    last: &str,
    diags: &mut Diagnostics,
) -> Option<Change<'p>> {
    op.value.as_ref()?;
    let len = a.len();
    let Some(target) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) else {
        diags.push(path_error(
            op,
            format!("`{}` has no item `{last}` to merge into", shown(at)),
            format!("the list has {len} items"),
            Some("list items are numbered from 0; `set …/-` appends one".into()),
        ));
        return None;
    };
    merge_object(target, op, format!("{at}/{last}"), diags)
}

/// Merge `op`'s value into `target` at pointer `full`, which must hold an
/// object.
fn merge_object<'p>(target: &mut Value, op: &'p PatchOp, full: String, diags: &mut Diagnostics) -> Option<Change<'p>> {
    let v = op.value.as_ref()?;
    if !target.is_object() {
        let t = type_of(target);
        diags.push(path_error(
            op,
            format!("`{full}` is {t}, not an object"),
            "cannot merge into it".into(),
            Some("use `set` to replace it".into()),
        ));
        return None;
    }
    merge_patch(target, &v.to_json());
    Some(Change::Wrote(full, v))
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn missing_field(op: &PatchOp, at: &str, seg: &str, m: &Map<String, Value>) -> Diagnostic {
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    let shown = if at.is_empty() { "/" } else { at };
    path_error(
        op,
        format!("nothing at `{shown}` is named `{seg}`"),
        format!("`{seg}` is not set in the generated object"),
        Some(match did_you_mean(seg, &keys) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("set here: {}", keys.join(", ")),
        }),
    )
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use crate::{Input, Options, compile};

    fn build(patch: &str) -> crate::Compiled {
        let text = format!(
            "service api {{\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n    patch Deployment {{\n        {patch}\n    }}\n}}\n"
        );
        compile(&Input { name: "api.kdl".into(), bytes: text.into_bytes() }, &Options::default())
    }

    fn deployment(c: &crate::Compiled) -> serde_json::Value {
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let a = c.artifacts.iter().find(|a| a.path.contains("/deployment-")).unwrap();
        crate::emit::parse_documents(&a.contents).unwrap().remove(0)
    }

    #[test]
    fn merge_reaches_into_list_items() {
        let d = deployment(&build(r#"merge "/spec/template/spec/containers/0" { stdin #true }"#));
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["stdin"], true);
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["name"], "api");
    }

    #[test]
    fn appending_to_a_missing_list_creates_it() {
        let d =
            deployment(&build(r#"set "/spec/template/spec/hostAliases/-" { ip "10.0.0.1"; hostnames { - "db" } }"#));
        assert_eq!(
            d["spec"]["template"]["spec"]["hostAliases"],
            serde_json::json!([{ "ip": "10.0.0.1", "hostnames": ["db"] }])
        );
    }

    #[test]
    fn patches_that_change_nothing_are_errors() {
        for op in [
            r#"set "/spec/template/spec/containers/0/name" "api""#,
            r#"merge "/spec/template/spec/containers/0" { name "api" }"#,
            r#"merge "/spec/template/metadata" { }"#,
        ] {
            let c = build(op);
            assert!(
                c.diagnostics.iter().any(|d| d.message == "this patch changes nothing"),
                "{op}: {:?}",
                c.diagnostics
            );
        }
    }
}
