//! The `lifecycle` block: how pods are replaced and how they stop.

use kdl::KdlNode;

use super::body::Contents;
use super::node::Node;
use super::reader::{self, NodeReader, missing, no_children};
use crate::diagnostic::Diagnostics;
use crate::model::Duration;
use crate::model::{Rolling, Shutdown, Updates};
use crate::source::Spanned;

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
    Node {
        name: "min-ready",
        order: 19,
        summary: "How long a new pod must be ready before it counts as available (`minReadySeconds`)",
        doc: "language.md#min-ready-progress-deadline-revision-history",
        args: "DURATION",
        ..Node::new(|n, d, c| c.body.updates.min_ready = one_duration(n, d))
    },
    Node {
        name: "progress-deadline",
        order: 19,
        summary: "How long an update may make no progress before it is marked failed (`progressDeadlineSeconds`)",
        doc: "language.md#min-ready-progress-deadline-revision-history",
        args: "DURATION",
        ..Node::new(|n, d, c| c.body.updates.progress_deadline = one_duration(n, d))
    },
    Node {
        name: "revision-history",
        order: 19,
        summary: "How many old versions the workload keeps to roll back to (`revisionHistoryLimit`)",
        doc: "language.md#min-ready-progress-deadline-revision-history",
        args: "COUNT",
        ..Node::new(|n, d, c| revision_history(n, d, &mut c.body.updates))
    },
];

/// `min-ready "10s"`: one duration in whole seconds.
fn one_duration(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Duration>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::seconds(diags, e),
        None => {
            let example = format!("write `{} \"30s\"`", node.name().value());
            diags.push(missing(r.name_span(), "a duration", example));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

fn revision_history(node: &KdlNode, diags: &mut Diagnostics, updates: &mut Updates) {
    let mut r = NodeReader::new(node);
    updates.revision_history = match r.arg(0) {
        Some(e) => reader::u32_in(diags, e, 0, 1000),
        None => {
            diags.push(missing(r.name_span(), "a count", "write `revision-history 5`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
}

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
