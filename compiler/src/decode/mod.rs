//! Stage 2: `KdlDocument` → [`model::Spec`](crate::model::Spec).
//!
//! A hand-written decoder: every node, argument and property is checked
//! against the language (`docs/language.md`), every value keeps its span, and
//! every problem becomes a diagnostic. Decoding never stops early: an invalid
//! value decodes to `None` and the rest of the file is still read.

mod body;
mod observability;
mod reader;
mod rollout;

use kdl::KdlDocument;

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Environment, Spec};
use crate::source::Span;
use crate::values;
use reader::{NodeReader, children, name_span};

pub use body::BODY_NODES;

/// Decode a parsed document. Returns `None` if there is no usable `service`.
pub fn decode(doc: &KdlDocument, diags: &mut Diagnostics) -> Option<Spec> {
    let mut spec: Option<Spec> = None;
    let mut first_service: Option<Span> = None;
    for node in doc.nodes() {
        let name = node.name().value();
        if name != "service" {
            let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown top-level node `{name}`"))
                .at(name_span(node), "expected `service`");
            d = match did_you_mean(name, &["service"]) {
                Some(_) => d.help("did you mean `service`?"),
                None => {
                    if BODY_NODES.contains(&name) {
                        d.help(format!("`{name}` belongs inside a `service NAME {{ … }}` block"))
                    } else {
                        d.help("a spec file holds one `service NAME { … }` block")
                    }
                }
            };
            diags.push(d);
            continue;
        }
        if let Some(first) = first_service {
            diags.push(
                Diagnostic::error(Code::Duplicate, "a spec file holds exactly one `service`")
                    .at(name_span(node), "second service")
                    .also(first, "first service here")
                    .help("put each service in its own file; `svcc build` takes several files"),
            );
            continue;
        }
        first_service = Some(name_span(node));
        spec = decode_service(node, diags);
    }
    if first_service.is_none() {
        let end = doc.span().offset() + doc.span().len();
        diags.push(
            Diagnostic::error(Code::MissingService, "no `service` in this file")
                .at(Span::new(0, end.min(1)), "expected `service NAME { … }`")
                .help("start the file with `service my-app {` and put the settings inside the block"),
        );
    }
    spec
}

fn decode_service(node: &kdl::KdlNode, diags: &mut Diagnostics) -> Option<Spec> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "service name", values::check_dns1035_label),
        None => {
            diags.push(reader::missing(r.name_span(), "a service name", "write `service my-app { … }`"));
            None
        }
    };
    r.finish(diags);
    let mut environments: Vec<Environment> = Vec::new();
    let body = body::decode_body(children(node), "service", true, diags, &mut |env_node, diags| {
        if let Some(env) = decode_environment(env_node, diags) {
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
    });
    if node.children().is_none() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "the service has no settings")
                .at(name_span(node), "needs a `{ … }` block")
                .help("add at least an image: `service my-app { image \"ghcr.io/acme/my-app\" }`"),
        );
    }
    Some(Spec { name: name?, node: name_span(node), body, environments })
}

fn decode_environment(node: &kdl::KdlNode, diags: &mut Diagnostics) -> Option<Environment> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "environment name", values::check_dns1123_label),
        None => {
            diags.push(reader::missing(r.name_span(), "an environment name", "write `environment production { … }`"));
            None
        }
    };
    r.finish(diags);
    let body = body::decode_body(children(node), "environment", false, diags, &mut |n, diags| {
        diags.push(
            Diagnostic::error(Code::UnknownNode, "environments cannot be nested")
                .at(name_span(n), "inside another environment")
                .help("declare every environment directly inside `service`"),
        );
    });
    let block: Span = node.span().into();
    Some(Environment { name: name?, node: name_span(node), block, body })
}
