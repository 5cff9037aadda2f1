//! The `compose` block: `use`, which lays a preset under a service or a
//! preset (docs/presets.md).

use kdl::KdlNode;

use super::body::Contents;
use super::environment;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, no_children};
use crate::diagnostic::Diagnostics;
use crate::source::Spanned;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "use",
    order: 29,
    summary: "Lay a preset under this block: the standard library's by name, or a file",
    doc: "language.md#use-presets",
    args: "PRESET",
    repeat: true,
    place: Place::SERVICE.or(Place::PRESET),
    // An environment reports it as a nested environment (today's message).
    elsewhere: |n, _, _, d| environment::nested(n, d),
    ..Node::new(|n, d, c| c.uses.extend(decode_use(n, d)))
}];

/// `use "node-http-api"` or `use "./presets/x.kdl"`.
fn decode_use(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let target = match r.arg(0) {
        Some(e) => reader::string(diags, e),
        None => {
            diags.push(reader::missing(
                r.name_span(),
                "a preset",
                "write `use \"node-http-api\"` (standard library) or `use \"./presets/api.kdl\"` (a file)",
            ));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    target
}
