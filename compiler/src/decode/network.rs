//! The `network` block: what the service calls, who may call it, where it
//! reaches outside the cluster, and where the cluster's DNS, Prometheus and
//! ingress controller run (docs/language.md#network).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::monitoring::label_map;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Call, Caller, Egress, Ingress, Map, Network, Peer};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "network",
    order: 25,
    summary: "Declared calls and callers: a default-deny NetworkPolicy and the service graph",
    doc: "language.md#network",
    args: "[#false]",
    children: Some(&NETWORK),
    ..Node::new(|n, d, c| c.body.network = Some(network(n, d)))
}];

const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];

/// Children of `network`.
const NETWORK: &[Node<Network>] = &[
    Node {
        name: "calls",
        summary: "A service this one calls, on one of its ports (egress, and an edge of the graph)",
        doc: "language.md#network",
        args: "SERVICE",
        props: &["port", "namespace", "protocol"],
        repeat: true,
        ..Node::new(calls)
    },
    Node {
        name: "called-by",
        summary: "A service allowed to call this one (ingress), on one port or all",
        doc: "language.md#network",
        args: "SERVICE",
        props: &["port", "namespace"],
        repeat: true,
        ..Node::new(called_by)
    },
    Node {
        name: "egress",
        summary: "An address outside the cluster the service reaches: a CIDR, or a host with `cidr=`",
        doc: "language.md#network",
        args: "CIDR|HOST",
        props: &["port", "protocol", "cidr"],
        repeat: true,
        ..Node::new(egress)
    },
    Node {
        name: "ingress",
        summary: "Addresses outside the cluster that reach a port (a LoadBalancer's clients): a CIDR",
        doc: "language.md#network",
        args: "CIDR",
        props: &["port"],
        repeat: true,
        ..Node::new(ingress)
    },
    Node {
        name: "dns",
        summary: "Where the cluster DNS runs: its namespace and pod labels (port 53, UDP and TCP)",
        doc: "language.md#network",
        props: &["namespace"],
        ..Node::new(|n, d, net| net.dns = Some(peer(n, d, false)))
    },
    Node {
        name: "prometheus",
        summary: "Where Prometheus runs: allowed to scrape the metrics port",
        doc: "language.md#network",
        props: &["namespace"],
        ..Node::new(|n, d, net| net.prometheus = Some(peer(n, d, false)))
    },
    Node {
        name: "ingress-controller",
        summary: "Where the ingress controller runs, and the port it reaches (`port=`)",
        doc: "language.md#network",
        props: &["namespace", "port"],
        ..Node::new(|n, d, net| net.ingress_controller = Some(peer(n, d, true)))
    },
];

fn network(node: &KdlNode, diags: &mut Diagnostics) -> Network {
    let mut r = NodeReader::new(node);
    let enabled = r.arg(0).and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    let mut net = Network {
        node: name_span(node),
        enabled,
        calls: IndexMap::new(),
        callers: IndexMap::new(),
        egress: IndexMap::new(),
        ingress: IndexMap::new(),
        dns: None,
        prometheus: None,
        ingress_controller: None,
    };
    node::decode_children(NETWORK, node, Twice::Plain, &mut net, diags);
    net
}

fn service_name(diags: &mut Diagnostics, node: &KdlNode, r: &mut NodeReader<'_>) -> Option<Spanned<String>> {
    match r.arg(0) {
        Some(e) => reader::name(diags, e, "service name", values::check_dns1035_label),
        None => {
            let name = node.name().value();
            diags.push(missing(name_span(node), "a service name", format!("write `{name} ledger port=grpc`")));
            None
        }
    }
}

fn port_name(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<String>> {
    reader::name(diags, e, "port name", values::check_port_name)
}

fn namespace(diags: &mut Diagnostics, r: &mut NodeReader<'_>) -> Option<Spanned<String>> {
    r.prop("namespace").and_then(|e| reader::name(diags, e, "namespace", values::check_dns1123_label))
}

/// A second declaration of the same key.
fn twice(diags: &mut Diagnostics, what: String, at: crate::source::Span, first: crate::source::Span) {
    diags.push(
        Diagnostic::error(Code::Duplicate, format!("{what} is declared twice"))
            .at(at, "declared again here")
            .also(first, "first declared here"),
    );
}

/// `calls ledger port=grpc namespace="payments" protocol="TCP"`.
fn calls(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let service = service_name(diags, node, &mut r);
    let port = match r.prop("port") {
        Some(e) => port_name(diags, e),
        None => {
            let s = service.as_ref().map_or("ledger", |s| s.value.as_str());
            diags.push(missing(
                name_span(node),
                "the port it calls",
                format!("write `calls {s} port=grpc`, naming one of `{s}`'s ports"),
            ));
            None
        }
    };
    let namespace = namespace(diags, &mut r);
    let protocol = r.prop("protocol").and_then(|e| reader::choice(diags, e, PROTOCOLS));
    r.finish(diags);
    no_children(diags, node);
    let (Some(service), Some(port)) = (service, port) else { return };
    let key = format!("{}/{}", service.value, port.value);
    if let Some(first) = net.calls.get(&key) {
        twice(diags, format!("`calls {} port={}`", service.value, port.value), service.span, first.service.span);
        return;
    }
    net.calls.insert(key, Call { node: name_span(node), service, port, namespace, protocol });
}

/// `called-by storefront port=http namespace="web"`.
fn called_by(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let service = service_name(diags, node, &mut r);
    let port = r.prop("port").and_then(|e| port_name(diags, e));
    let namespace = namespace(diags, &mut r);
    r.finish(diags);
    no_children(diags, node);
    let Some(service) = service else { return };
    let key = format!("{}/{}", service.value, port.as_ref().map_or("", |p| p.value.as_str()));
    if let Some(first) = net.callers.get(&key) {
        twice(diags, format!("`called-by {}`", service.value), service.span, first.service.span);
        return;
    }
    net.callers.insert(key, Caller { node: name_span(node), service, port, namespace });
}

/// `egress "10.20.0.0/16" port=5432`, `egress "api.stripe.com" port=443 cidr="203.0.113.0/24"`.
fn egress(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let to = match r.arg(0) {
        Some(e) => reader::string(diags, e).and_then(|s| destination(diags, s)),
        None => {
            diags.push(missing(name_span(node), "a destination", "write `egress \"10.0.0.0/8\" port=5432`"));
            None
        }
    };
    let port = r.prop("port").and_then(|e| reader::int(diags, e, 1, 65535)).map(|p| p.map(|v| v as u16));
    let protocol = r.prop("protocol").and_then(|e| reader::choice(diags, e, PROTOCOLS));
    let cidr = r.prop("cidr").and_then(|e| reader::string(diags, e)).and_then(|s| cidr(diags, s));
    r.finish(diags);
    no_children(diags, node);
    let Some(to) = to else { return };
    if let Some(c) = &cidr
        && values::parse_cidr(&to.value).is_some()
    {
        diags.push(
            Diagnostic::error(Code::UnexpectedArgument, "`cidr=` belongs to a host destination")
                .at(c.span, "the destination is already a CIDR")
                .help("remove `cidr=`, or name the host the addresses belong to"),
        );
        return;
    }
    let key = format!("{}/{}", to.value, port.as_ref().map_or(0, |p| p.value));
    if let Some(first) = net.egress.get(&key) {
        twice(diags, format!("`egress \"{}\"`", to.value), to.span, first.to.span);
        return;
    }
    net.egress.insert(key, Egress { node: name_span(node), to, cidr, port, protocol });
}

/// `ingress "0.0.0.0/0" port=http`.
fn ingress(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let cidr_arg = match r.arg(0) {
        Some(e) => reader::string(diags, e).and_then(|s| cidr(diags, s)),
        None => {
            diags.push(missing(name_span(node), "an address range", "write `ingress \"0.0.0.0/0\" port=http`"));
            None
        }
    };
    let port = r.prop("port").and_then(|e| port_name(diags, e));
    r.finish(diags);
    no_children(diags, node);
    let Some(c) = cidr_arg else { return };
    let key = format!("{}/{}", c.value, port.as_ref().map_or("", |p| p.value.as_str()));
    if let Some(first) = net.ingress.get(&key) {
        twice(diags, format!("`ingress \"{}\"`", c.value), c.span, first.cidr.span);
        return;
    }
    net.ingress.insert(key, Ingress { node: name_span(node), cidr: c, port });
}

/// A CIDR, or a DNS host name.
fn destination(diags: &mut Diagnostics, s: Spanned<String>) -> Option<Spanned<String>> {
    if s.value.contains('/') || s.value.parse::<std::net::IpAddr>().is_ok() {
        return cidr(diags, s);
    }
    match values::check_dns1123_subdomain(&s.value) {
        Ok(()) => Some(s),
        Err(why) => {
            diags.push(reader::invalid_name(s.span, "CIDR or host name", &s.value, &why));
            None
        }
    }
}

fn cidr(diags: &mut Diagnostics, s: Spanned<String>) -> Option<Spanned<String>> {
    if values::parse_cidr(&s.value).is_some() {
        return Some(s);
    }
    diags.push(
        reader::invalid_name(
            s.span,
            "CIDR",
            &s.value,
            "expected ADDRESS/PREFIX, the prefix at most 32 (IPv4) or 128 (IPv6)",
        )
        .help("write an IPv4 or IPv6 range such as \"10.20.0.0/16\" or \"2001:db8::/32\" (a single address is /32)"),
    );
    None
}

/// `dns namespace="kube-system" { k8s-app "kube-dns" }`.
fn peer(node: &KdlNode, diags: &mut Diagnostics, with_port: bool) -> Peer {
    let mut r = NodeReader::new(node);
    let namespace = namespace(diags, &mut r);
    let port = if with_port { r.prop("port").and_then(|e| port_name(diags, e)) } else { None };
    r.finish(diags);
    let pods: Map<Spanned<String>> = label_map(node, diags);
    Peer { node: name_span(node), namespace, pods, port }
}
