//! The `patch` block: escape-hatch changes to a generated object
//! (docs/patches.md).

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children, value_span};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Patch, PatchOp, PatchOpKind, PatchValue};
use crate::source::{Span, Spanned};
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "patch",
    order: 28,
    summary: "Change a generated object where the language has no setting; the result is still validated",
    doc: "language.md#patch",
    args: "KIND [NAME]",
    repeat: true,
    children: Some(&OPS),
    ..Node::new(|n, d, c| c.body.patches.extend(patch(n, d)))
}];

/// Children of `patch`: its operations.
const OPS: &[Node<Vec<PatchOp>>] = &[
    Node {
        name: "set",
        summary: "Replace the value at a JSON pointer (missing parents are created)",
        doc: "patches.md#operations",
        args: "POINTER VALUE | POINTER { … }",
        repeat: true,
        ..Node::new(|n, d, ops| op(n, d, ops, PatchOpKind::Set))
    },
    Node {
        name: "merge",
        summary: "JSON merge patch into the object at a JSON pointer",
        doc: "patches.md#operations",
        args: "POINTER { … }",
        repeat: true,
        ..Node::new(|n, d, ops| op(n, d, ops, PatchOpKind::Merge))
    },
    Node {
        name: "remove",
        summary: "Delete the field or list item at a JSON pointer",
        doc: "patches.md#operations",
        args: "POINTER",
        repeat: true,
        ..Node::new(|n, d, ops| op(n, d, ops, PatchOpKind::Remove))
    },
];

/// `patch KIND [NAME] { set|merge|remove POINTER [VALUE|{ … }] }`.
fn patch(node: &KdlNode, diags: &mut Diagnostics) -> Option<Patch> {
    let mut r = NodeReader::new(node);
    let kinds: Vec<&'static str> = crate::lower::Kind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = match r.arg(0) {
        Some(e) => reader::string(diags, e).and_then(|k| {
            if kinds.contains(&k.value.as_str()) {
                return Some(k);
            }
            let mut d = Diagnostic::error(Code::PatchTarget, format!("svcc generates no kind `{}`", k.value))
                .at(k.span, format!("kinds: {}", kinds.join(", ")));
            if let Some(m) = crate::diagnostic::suggest::did_you_mean(&k.value, &kinds) {
                d = d.did_you_mean(m, k.span, crate::diagnostic::kdl_string(m));
            }
            diags.push(d);
            None
        }),
        None => {
            diags.push(missing(r.name_span(), "the kind to patch", "write `patch Deployment { … }`"));
            None
        }
    };
    let name = r.arg(1).and_then(|e| reader::name(diags, e, "object name", values::check_dns1123_subdomain));
    r.finish(diags);
    let mut ops = Vec::new();
    node::decode_children(OPS, node, Twice::Decode, &mut ops, diags);
    if node.children().is_none() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "the patch changes nothing")
                .at(name_span(node), "needs a `{ … }` block")
                .help("add operations: `patch Deployment { set \"/spec/minReadySeconds\" 10 }`"),
        );
    }
    Some(Patch { node: name_span(node), kind: kind?, name, ops })
}

/// One operation of `kind_of` on a JSON pointer.
fn op(op: &KdlNode, diags: &mut Diagnostics, ops: &mut Vec<PatchOp>, kind_of: PatchOpKind) {
    let mut r = NodeReader::new(op);
    let pointer = match r.arg(0) {
        Some(e) => reader::string(diags, e).and_then(|p| match crate::patch::check_pointer(&p.value) {
            Ok(()) => Some(p),
            Err(why) => {
                diags.push(
                    Diagnostic::error(Code::InvalidPatch, format!("`{}` is not a JSON pointer svcc can patch", p.value))
                        .at(p.span, why)
                        .help("write a pointer such as \"/spec/template/spec/dnsPolicy\" (RFC 6901: `~1` for `/`, `~0` for `~`)"),
                );
                None
            }
        }),
        None => {
            diags.push(missing(r.name_span(), "a JSON pointer", "write `set \"/spec/minReadySeconds\" 10`"));
            None
        }
    };
    let value = match kind_of {
        PatchOpKind::Remove => {
            no_children(diags, op);
            None
        }
        PatchOpKind::Set => set_value(op, &mut r, diags),
        PatchOpKind::Merge => merge_value(op, &r, diags),
    };
    r.finish(diags);
    if let Some(pointer) = pointer
        && (value.is_some() || kind_of == PatchOpKind::Remove)
    {
        ops.push(PatchOp { op: kind_of, node: name_span(op), whole: op.span().into(), pointer, value });
    }
}

/// The value of `set POINTER VALUE` or `set POINTER { … }`.
fn set_value(op: &KdlNode, r: &mut NodeReader, diags: &mut Diagnostics) -> Option<PatchValue> {
    match (r.arg(1), op.children()) {
        (Some(e), None) => scalar_value(e, diags),
        (None, Some(_)) => block_value(op, diags),
        (Some(_), Some(ch)) => {
            diags.push(
                Diagnostic::error(Code::InvalidPatch, "`set` takes a value or a block, not both")
                    .at(ch.span().into(), "second value")
                    .help("write `set \"/x\" 3` for a plain value, `set \"/x\" { key 1 }` for an object"),
            );
            None
        }
        (None, None) => {
            diags.push(missing(
                r.name_span(),
                "a value",
                "write `set \"/spec/minReadySeconds\" 10`; to delete a field use `remove`",
            ));
            None
        }
    }
}

/// The object of `merge POINTER { … }`.
fn merge_value(op: &KdlNode, r: &NodeReader, diags: &mut Diagnostics) -> Option<PatchValue> {
    match op.children() {
        Some(_) => block_value(op, diags).filter(|v| {
            let ok = matches!(v, PatchValue::Object(..));
            if !ok {
                diags.push(
                    Diagnostic::error(Code::InvalidPatch, "`merge` takes an object, not a list")
                        .at(v.span(), "a list")
                        .help("use `set` to replace a list"),
                );
            }
            ok
        }),
        None => {
            diags.push(missing(
                r.name_span(),
                "an object to merge",
                "write `merge \"/metadata/labels\" { team \"payments\" }`",
            ));
            None
        }
    }
}

fn scalar_value(e: &KdlEntry, diags: &mut Diagnostics) -> Option<PatchValue> {
    let v = match e.value() {
        KdlValue::String(s) => serde_json::Value::String(s.clone()),
        KdlValue::Integer(i) => match i64::try_from(*i) {
            Ok(i) => serde_json::Value::from(i),
            Err(_) => {
                diags.push(
                    Diagnostic::error(Code::OutOfRange, format!("{i} is out of range"))
                        .at(value_span(e), "does not fit in 64 bits"),
                );
                return None;
            }
        },
        KdlValue::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => serde_json::Value::Number(n),
            None => {
                // JSON has no infinity or NaN: it would have become `null`.
                diags.push(super::reader::wrong_type(
                    e,
                    "a JSON value",
                    Some("JSON numbers are finite; write a number, or a string in quotes".into()),
                ));
                return None;
            }
        },
        KdlValue::Bool(b) => serde_json::Value::Bool(*b),
        KdlValue::Null => serde_json::Value::Null,
    };
    Some(PatchValue::Scalar(Spanned::new(v, value_span(e))))
}

/// A block as a JSON value: `key value` / `key { … }` children make an
/// object, `- value` / `- { … }` children make an array.
fn block_value(node: &KdlNode, diags: &mut Diagnostics) -> Option<PatchValue> {
    let span: Span = node.children().map_or(name_span(node), |c| c.span().into());
    let kids = children(node);
    let dashes = kids.iter().filter(|k| k.name().value() == "-").count();
    if dashes > 0 && dashes < kids.len() {
        diags.push(
            Diagnostic::error(Code::InvalidPatch, "a block is either an object (`key value`) or a list (`- value`)")
                .at(span, "mixes keys and `-` items")
                .help("put list items under their own key"),
        );
        return None;
    }
    let mut ok = true;
    let value_of = |k: &KdlNode, diags: &mut Diagnostics| -> Option<PatchValue> {
        let mut r = NodeReader::new(k);
        let v = match (r.arg(0), k.children()) {
            (Some(e), None) => scalar_value(e, diags),
            (None, Some(_)) => block_value(k, diags),
            _ => {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidPatch,
                        format!("`{}` needs exactly one value or a block", k.name().value()),
                    )
                    .at(name_span(k), "no single value")
                    .help("write `key value`, `key { … }`, `- value` or `- { … }`"),
                );
                None
            }
        };
        r.finish(diags);
        v
    };
    if dashes > 0 {
        let mut items = Vec::new();
        for k in kids {
            match value_of(k, diags) {
                Some(v) => items.push(v),
                None => ok = false,
            }
        }
        return ok.then_some(PatchValue::Array(span, items));
    }
    let mut entries: Vec<(Spanned<String>, PatchValue)> = Vec::new();
    for k in kids {
        let key = Spanned::new(k.name().value().to_string(), name_span(k));
        if let Some((prev, _)) = entries.iter().find(|(p, _)| p.value == key.value) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{}` is set twice", key.value))
                    .at(key.span, "set again here")
                    .also(prev.span, "first set here"),
            );
            ok = false;
            continue;
        }
        match value_of(k, diags) {
            Some(v) => entries.push((key, v)),
            None => ok = false,
        }
    }
    ok.then_some(PatchValue::Object(span, entries))
}
