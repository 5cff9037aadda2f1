//! The `environment` block: one deployment target of a service, holding
//! what differs from the service.

use kdl::KdlNode;

use super::body::{self, Contents};
use super::node::{Node, Place};
use super::reader::{self, NodeReader, children, name_span};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Environment;
use crate::source::Span;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "environment",
    order: 30,
    summary: "A deployment target: one output folder, with the settings that differ from the service",
    doc: "language.md#environments",
    args: "NAME",
    repeat: true,
    place: Place::SERVICE,
    elsewhere,
    ..Node::new(|n, d, c| environment(n, d, &mut c.environments))
}];

fn environment(node: &KdlNode, diags: &mut Diagnostics, environments: &mut Vec<Environment>) {
    let Some(env) = decode_environment(node, diags) else { return };
    if let Some(prev) = environments.iter().find(|e| e.name.value == env.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("environment `{}` is defined twice", env.name.value))
                .at(env.name.span, "defined again here")
                .also(prev.name.span, "first defined here")
                .help("merge the two blocks into one"),
        );
    } else {
        environments.push(env);
    }
}

fn decode_environment(node: &KdlNode, diags: &mut Diagnostics) -> Option<Environment> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "environment name", values::check_dns1123_label),
        None => {
            diags.push(reader::missing(r.name_span(), "an environment name", "write `environment production { … }`"));
            None
        }
    };
    r.finish(diags);
    let body = body::decode_body(children(node), node.name().value(), Place::ENVIRONMENT, diags).body;
    let block: Span = node.span().into();
    Some(Environment { name: name?, node: name_span(node), block, body })
}

/// An environment in a preset or a defaults file, or in another environment.
fn elsewhere(node: &KdlNode, parent: &str, place: Place, diags: &mut Diagnostics) {
    if place == Place::ENVIRONMENT {
        nested(node, diags);
        return;
    }
    diags.push(
        Diagnostic::error(Code::UnknownNode, format!("a {parent} cannot hold environments"))
            .at(name_span(node), "environment blocks belong in services")
            .help("set per-environment values in each service's `environment` blocks"),
    );
}

/// A node only a service holds, inside an environment.
pub(super) fn nested(node: &KdlNode, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::error(Code::UnknownNode, "environments cannot be nested")
            .at(name_span(node), "inside another environment")
            .help("declare every environment directly inside `service`"),
    );
}
