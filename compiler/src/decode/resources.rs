//! The `resources` block: CPU, memory and ephemeral-storage requests and
//! limits.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Quantity, ResourceKind, Resources};
use crate::source::Spanned;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "resources",
    place: Place::ANY_CONTAINER,
    order: 5,
    summary: "Requests and limits of the container (defaults: 100m CPU, 128Mi memory, limits twice the requests)",
    doc: "language.md#resources",
    children: Some(&CHILDREN),
    ..Node::new(|n, d, c| resources(n, d, &mut c.body.resources))
}];

/// Children of `resources`; their properties are the names of `ResourceKind::ALL`.
const CHILDREN: &[Node<Resources>] = &[
    Node {
        name: "requests",
        summary: "What the scheduler reserves for the container",
        doc: "language.md#resources",
        props: &["cpu", "memory", "ephemeral-storage"],
        ..Node::new(|n, d, res| quantities(n, d, &mut res.requests, false))
    },
    Node {
        name: "limits",
        summary: "The most the container may use",
        doc: "language.md#resources",
        props: &["cpu", "memory", "ephemeral-storage"],
        ..Node::new(limits)
    },
];

fn resources(node: &KdlNode, diags: &mut Diagnostics, res: &mut Resources) {
    let r = NodeReader::new(node);
    r.finish(diags);
    node::decode_children(CHILDREN, node, Twice::Plain, res, diags);
}

/// `limits cpu="500m" memory="512Mi"`, or `limits cpu=#false`: no CPU
/// limit. Only the CPU limit can be turned off: without a memory limit one
/// leaking pod takes its node down (SVC0250).
fn limits(node: &KdlNode, diags: &mut Diagnostics, res: &mut Resources) {
    let off = |key: &str| {
        node.entries()
            .iter()
            .find(|e| e.name().is_some_and(|k| k.value() == key) && matches!(e.value(), kdl::KdlValue::Bool(false)))
    };
    if let Some(e) = off("cpu") {
        res.no_cpu_limit = Some(Spanned::new(true, reader::value_span(e)));
    }
    for key in ["memory", "ephemeral-storage"] {
        if let Some(e) = off(key) {
            diags.push(
                Diagnostic::error(Code::LimitRequired, format!("the {key} limit cannot be turned off"))
                    .at(reader::value_span(e), "only `cpu=#false` is allowed")
                    .help(format!("remove `{key}=#false`: without a limit, svcc sets one at twice the request"))
                    .note("a container without a memory limit can take its node down with a leak; a CPU limit can go, since CPU is shared, not exhausted"),
            );
        }
    }
    quantities(node, diags, &mut res.limits, true);
}

/// `requests cpu="250m" memory="256Mi"`.
fn quantities(
    node: &KdlNode,
    diags: &mut Diagnostics,
    target: &mut IndexMap<ResourceKind, Spanned<Quantity>>,
    may_be_off: bool,
) {
    let mut r = NodeReader::new(node);
    for (key, kind) in ResourceKind::ALL {
        let e = r.prop(key);
        if may_be_off && e.is_some_and(|e| matches!(e.value(), kdl::KdlValue::Bool(false))) {
            continue;
        }
        if let Some(q) = e.and_then(|e| reader::quantity(diags, e)) {
            target.insert(kind, q);
        }
    }
    r.finish(diags);
    no_children(diags, node);
}
