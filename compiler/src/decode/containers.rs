//! The `containers` block: the name of the service's container, and the
//! pod's other containers (`container NAME { … }`, `init-container NAME
//! { … }`), each a body of container settings decoded by the same tables
//! as the service's own (`Place::CONTAINER`).

use kdl::KdlNode;

use super::body::{self, Contents};
use super::node::{Node, Place};
use super::reader::{self, NodeReader, children, missing, name_span};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Container, Map};
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "container-name",
        order: 1,
        summary: "The name of the service's container (default: the service's name)",
        doc: "language.md#container-name",
        args: "NAME",
        ..Node::new(|n, d, c| c.body.container_name = container_name(n, d))
    },
    Node {
        name: "container",
        order: 15,
        summary: "Another container of the pod (a sidecar), hardened like the service's own",
        doc: "language.md#container-and-init-container",
        args: "NAME",
        props: &["sidecar"],
        repeat: true,
        ..Node::new(|n, d, c| container(n, d, false, &mut c.body.containers))
    },
    Node {
        name: "init-container",
        order: 15,
        summary: "A container that runs to completion before the others start",
        doc: "language.md#container-and-init-container",
        args: "NAME",
        repeat: true,
        ..Node::new(|n, d, c| container(n, d, true, &mut c.body.containers))
    },
];

/// `container-name api`.
fn container_name(node: &KdlNode, diags: &mut Diagnostics) -> Option<crate::source::Spanned<String>> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "container name", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "a container name", "write `container-name api`"));
            None
        }
    };
    r.finish(diags);
    reader::no_children(diags, node);
    name
}

/// `container envoy sidecar=#true { … }` or `init-container migrate { … }`:
/// its settings are the container settings of a service, read by the same
/// tables; a name given twice in one block is SVC0207.
fn container(node: &KdlNode, diags: &mut Diagnostics, init: bool, out: &mut Map<Container>) {
    let mut r = NodeReader::new(node);
    let what = node.name().value();
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "container name", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "a container name", format!("write `{what} NAME {{ image \"…\" }}`")));
            None
        }
    };
    let sidecar = if init { None } else { r.prop("sidecar").and_then(|e| reader::boolean(diags, e)) };
    r.finish(diags);
    let contents = body::decode_body(children(node), what, Place::CONTAINER, diags);
    let Some(name) = name else { return };
    if let Some(prev) = out.get(&name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("container `{}` is declared twice", name.value))
                .at(name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each container of the pod its own name"),
        );
        return;
    }
    out.insert(name.value.clone(), Container { name, node: name_span(node), init, sidecar, body: contents.body });
}
