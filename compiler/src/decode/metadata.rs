//! The `metadata` block: the namespace, and the labels and annotations of
//! the generated objects and of the pods.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::Node;
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Map;
use crate::source::{Span, Spanned};
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "namespace",
        order: 2,
        summary: "The namespace of every generated object (default: the environment's name)",
        doc: "language.md#namespace",
        args: "NAME",
        ..Node::new(|n, d, c| c.body.namespace = namespace(n, d))
    },
    Node {
        name: "labels",
        order: 11,
        summary: "Labels of every generated object and of the pods (never the selectors)",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.labels = string_map(n, d, "label", true))
    },
    Node {
        name: "annotations",
        order: 12,
        summary: "Annotations of every generated object (not the pods)",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.annotations = string_map(n, d, "annotation", false))
    },
    Node {
        name: "pod-annotations",
        order: 13,
        summary: "Annotations of the pod template",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.pod_annotations = string_map(n, d, "annotation", false))
    },
];

fn namespace(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let namespace = match r.arg(0) {
        Some(e) => reader::name(diags, e, "namespace", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "a namespace name", "write `namespace \"payments\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    namespace
}

/// `labels { key "value" }`-style maps.
pub(super) fn string_map(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    label_values: bool,
) -> Map<Spanned<String>> {
    NodeReader::new(node).finish(diags);
    let mut out: Map<Spanned<String>> = IndexMap::new();
    let mut key_spans: IndexMap<String, Span> = IndexMap::new();
    for child in children(node) {
        let key = child.name().value();
        let kspan = name_span(child);
        if let Err(why) = values::check_qualified_name(key) {
            diags.push(reader::invalid_name(kspan, &format!("{what} key"), key, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let value = match r.arg(0) {
            Some(e) => reader::text(diags, e),
            None => {
                diags.push(missing(kspan, "a value", format!("write `\"{key}\" \"value\"`")));
                None
            }
        };
        r.finish(diags);
        no_children(diags, child);
        let Some(value) = value else { continue };
        if label_values && let Err(why) = values::check_label_value(&value.value) {
            diags.push(reader::invalid_name(value.span, "label value", &value.value, &why));
            continue;
        }
        if let Some(first) = key_spans.get(key) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("{what} `{key}` is set twice"))
                    .at(kspan, "set again here")
                    .also(*first, "first set here"),
            );
            continue;
        }
        key_spans.insert(key.to_string(), kspan);
        out.insert(key.to_string(), value);
    }
    out
}
