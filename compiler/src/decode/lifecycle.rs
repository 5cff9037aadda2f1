//! The `lifecycle` block: how pods are replaced and how they stop.

use kdl::KdlNode;

use super::body::Contents;
use super::node::Node;
use super::reader::{self, NodeReader, no_children};
use crate::diagnostic::Diagnostics;
use crate::model::{Rolling, Shutdown};

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "rolling-update",
        order: 18,
        summary: "The Deployment's rolling update bounds (default: surge 25%, none unavailable)",
        doc: "language.md#rolling-update",
        props: &["max-surge", "max-unavailable"],
        ..Node::new(|n, d, c| rolling_update(n, d, &mut c.body.rolling))
    },
    Node {
        name: "shutdown",
        order: 19,
        summary: "The pre-stop pause and the termination grace period",
        doc: "language.md#shutdown",
        props: &["pre-stop", "grace"],
        ..Node::new(|n, d, c| shutdown(n, d, &mut c.body.shutdown))
    },
];

fn rolling_update(node: &KdlNode, diags: &mut Diagnostics, rolling: &mut Rolling) {
    let mut r = NodeReader::new(node);
    rolling.max_surge = r.prop("max-surge").and_then(|e| reader::int_or_percent(diags, e));
    rolling.max_unavailable = r.prop("max-unavailable").and_then(|e| reader::int_or_percent(diags, e));
    r.finish(diags);
    no_children(diags, node);
}

fn shutdown(node: &KdlNode, diags: &mut Diagnostics, shutdown: &mut Shutdown) {
    let mut r = NodeReader::new(node);
    shutdown.pre_stop = r.prop("pre-stop").and_then(|e| reader::seconds(diags, e));
    shutdown.grace = r.prop("grace").and_then(|e| reader::seconds(diags, e));
    r.finish(diags);
    no_children(diags, node);
}
