//! The `resources` block: CPU, memory and ephemeral-storage requests and
//! limits.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, no_children};
use crate::diagnostic::Diagnostics;
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
        ..Node::new(|n, d, res| quantities(n, d, &mut res.requests))
    },
    Node {
        name: "limits",
        summary: "The most the container may use",
        doc: "language.md#resources",
        props: &["cpu", "memory", "ephemeral-storage"],
        ..Node::new(|n, d, res| quantities(n, d, &mut res.limits))
    },
];

fn resources(node: &KdlNode, diags: &mut Diagnostics, res: &mut Resources) {
    let r = NodeReader::new(node);
    r.finish(diags);
    node::decode_children(CHILDREN, node, Twice::Plain, res, diags);
}

/// `requests cpu="250m" memory="256Mi"`.
fn quantities(node: &KdlNode, diags: &mut Diagnostics, target: &mut IndexMap<ResourceKind, Spanned<Quantity>>) {
    let mut r = NodeReader::new(node);
    for (key, kind) in ResourceKind::ALL {
        if let Some(q) = r.prop(key).and_then(|e| reader::quantity(diags, e)) {
            target.insert(kind, q);
        }
    }
    r.finish(diags);
    no_children(diags, node);
}
