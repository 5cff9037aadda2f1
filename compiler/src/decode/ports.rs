//! The `ports` block: the container's ports and the Service's.

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Expose, ExposePort, Map, Port};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "port",
        place: Place::ANY_CONTAINER,
        order: 3,
        summary: "A named container port, and the Service port in front of it",
        doc: "language.md#port",
        args: "NAME NUMBER",
        props: &["service-port", "protocol", "host-port"],
        repeat: true,
        ..Node::new(|n, d, c| port(n, d, &mut c.body.ports))
    },
    Node {
        name: "expose",
        order: 3,
        summary: "Another Service (LoadBalancer, NodePort, headless, …), or the main Service's type and ports",
        doc: "language.md#expose",
        args: "NAME [#false]",
        props: &["type", "headless", "external-traffic-policy"],
        repeat: true,
        children: Some(&EXPOSE),
        ..Node::new(|n, d, c| expose(n, d, &mut c.body.exposes))
    },
];

/// Children of `expose`.
const EXPOSE: &[Node<Vec<ExposePort>>] = &[Node {
    name: "port",
    summary: "A Service port and the container port it forwards to",
    doc: "language.md#expose",
    args: "NAME NUMBER",
    props: &["target", "node-port"],
    repeat: true,
    ..Node::new(expose_port)
}];

/// The Service types `expose type=` takes.
pub const SERVICE_TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer"];

fn expose(node: &KdlNode, diags: &mut Diagnostics, exposes: &mut Map<Expose>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "Service name", values::check_dns1035_label),
        None => {
            diags.push(missing(r.name_span(), "a Service name", "write `expose \"api-public\" type=\"LoadBalancer\"`"));
            None
        }
    };
    let enabled = r.arg(1).and_then(|e| reader::boolean(diags, e));
    let type_ = r.prop("type").and_then(|e| reader::choice(diags, e, SERVICE_TYPES));
    let headless = r.prop("headless").and_then(|e| reader::boolean(diags, e));
    let external_traffic_policy =
        r.prop("external-traffic-policy").and_then(|e| reader::choice(diags, e, &["Cluster", "Local"]));
    r.finish(diags);
    let ports = node.children().map(|_| {
        let mut list = Vec::new();
        node::decode_children(EXPOSE, node, Twice::Decode, &mut list, diags);
        Spanned::new(list, name_span(node))
    });
    let Some(name) = name else { return };
    if let Some(prev) = exposes.get(&name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`expose {}` is declared twice", name.value))
                .at(name.span, "declared again here")
                .also(prev.name.span, "first declared here"),
        );
        return;
    }
    let x = Expose { name, enabled, type_, headless, external_traffic_policy, ports };
    exposes.insert(x.name.value.clone(), x);
}

/// `port https 443 target=http node-port=30443` in `expose`.
fn expose_port(node: &KdlNode, diags: &mut Diagnostics, ports: &mut Vec<ExposePort>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "port name", values::check_port_name),
        None => {
            diags.push(missing(r.name_span(), "a port name", "write `port https 443 target=http`"));
            None
        }
    };
    let number = match r.arg(1) {
        Some(e) => reader::int(diags, e, 1, 65535),
        None => {
            diags.push(missing(r.name_span(), "a port number", "write `port https 443 target=http`"));
            None
        }
    };
    let target = r.prop("target").and_then(|e| reader::port_ref(diags, e, values::check_port_name));
    // The API server's default node port range.
    let node_port = r.prop("node-port").and_then(|e| reader::int(diags, e, 30000, 32767));
    r.finish(diags);
    no_children(diags, node);
    let (Some(name), Some(number)) = (name, number) else { return };
    if let Some(prev) = ports.iter().find(|p| p.name.value == name.value) {
        diags.push(
            Diagnostic::error(Code::DuplicatePort, format!("port `{}` is declared twice", name.value))
                .at(name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each Service port its own name"),
        );
        return;
    }
    let u16_of = |s: Spanned<i128>| s.map(|v| u16::try_from(v).unwrap_or(0));
    ports.push(ExposePort { name, number: u16_of(number), target, node_port: node_port.map(u16_of) });
}

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
