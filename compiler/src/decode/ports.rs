//! The `ports` block: the container's ports and the Service's.

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::body::Contents;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, missing, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Port};
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "port",
    place: Place::ANY_CONTAINER,
    order: 3,
    summary: "A named container port, and the Service port in front of it",
    doc: "language.md#port",
    args: "NAME NUMBER",
    props: &["service-port", "protocol", "host-port"],
    repeat: true,
    ..Node::new(|n, d, c| port(n, d, &mut c.body.ports))
}];

fn port(node: &KdlNode, diags: &mut Diagnostics, ports: &mut Map<Port>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) if is_number(e) => {
            diags.push(unnamed(e, r.arg(1).is_none()));
            None
        }
        Some(e) => reader::name(diags, e, "port name", values::check_port_name),
        None => {
            diags.push(missing(r.name_span(), "a port name", "write `port http 8080`"));
            None
        }
    };
    let number =
        r.arg(1).and_then(|e| reader::int(diags, e, 1, 65535)).map(|s| s.map(|v| u16::try_from(v).unwrap_or(0)));
    let service_port = r
        .prop("service-port")
        .and_then(|e| reader::int(diags, e, 1, 65535))
        .map(|s| s.map(|v| u16::try_from(v).unwrap_or(0)));
    let protocol = r.prop("protocol").and_then(|e| reader::choice(diags, e, &["TCP", "UDP", "SCTP"]));
    let host_port = r
        .prop("host-port")
        .and_then(|e| reader::int(diags, e, 1, 65535))
        .map(|s| s.map(|v| u16::try_from(v).unwrap_or(0)));
    r.finish(diags);
    no_children(diags, node);
    let Some(name) = name else { return };
    if let Some(prev) = ports.get(&name.value) {
        diags.push(
            Diagnostic::error(Code::DuplicatePort, format!("port `{}` is declared twice", name.value))
                .at(name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each port its own name"),
        );
        return;
    }
    ports.insert(name.value.clone(), Port { name, number, service_port, protocol, host_port });
}

/// `port 8080` or `port "8080"`: a number where the name goes.
fn is_number(e: &KdlEntry) -> bool {
    match e.value() {
        KdlValue::Integer(_) => true,
        KdlValue::String(s) => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// SVC0205 for a port written without its name, with a name to give it.
fn unnamed(e: &KdlEntry, only_number: bool) -> Diagnostic {
    let number = match e.value() {
        KdlValue::String(s) => s.clone(),
        v => v.to_string(),
    };
    let name = match number.as_str() {
        "443" | "8443" => "https",
        "9090" | "9100" | "9102" => "metrics",
        "50051" => "grpc",
        _ => "http",
    };
    let fix = if only_number { format!("port {name} {number}") } else { format!("port {name} …") };
    Diagnostic::error(Code::MissingValue, "a port needs a name")
        .at(reader::value_span(e), if only_number { "this is the port number" } else { "not a port name" })
        .help(format!("name it before the number: `{fix}`"))
        .note("probes, `metrics` and the Service refer to a port by its name (an IANA service name: letters, digits and `-`, with at least one letter)")
}
