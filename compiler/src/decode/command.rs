//! The `command` block: the container's `command` and `args`, which
//! replace the image's `ENTRYPOINT` and `CMD`.

use kdl::{KdlEntry, KdlNode};

use super::body::Contents;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, missing, name_span, no_children, value_span};
use crate::diagnostic::Diagnostics;
use crate::source::{Span, Spanned};

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "command",
        place: Place::ANY_CONTAINER,
        order: 9,
        summary: "The container's command, replacing the image's `ENTRYPOINT`",
        doc: "language.md#command-and-args",
        args: "TEXT…",
        ..Node::new(|n, d, c| c.body.command = string_list(n, d))
    },
    Node {
        name: "args",
        place: Place::ANY_CONTAINER,
        order: 10,
        summary: "The container's arguments, replacing the image's `CMD`",
        doc: "language.md#command-and-args",
        args: "TEXT…",
        ..Node::new(|n, d, c| c.body.args = string_list(n, d))
    },
];

fn string_list(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Vec<String>>> {
    let mut r = NodeReader::new(node);
    let items: Vec<&KdlEntry> = r.rest_args(0);
    let span = items.iter().fold(None::<Span>, |acc, e| {
        let s = value_span(e);
        Some(acc.map_or(s, |a| Span::new(a.start.min(s.start) as usize, a.end.max(s.end) as usize)))
    });
    let values: Vec<String> = items.iter().filter_map(|e| reader::text(diags, e)).map(|s| s.value).collect();
    r.finish(diags);
    no_children(diags, node);
    match span {
        Some(s) => Some(Spanned::new(values, s)),
        None => {
            diags.push(missing(
                name_span(node),
                "at least one argument",
                format!("write `{} \"…\"`", node.name().value()),
            ));
            None
        }
    }
}
