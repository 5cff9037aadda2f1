//! The `network` block: what the service calls, who may call it, where it
//! reaches outside the cluster, and where the cluster's DNS, Prometheus and
//! ingress controller run (docs/language.md#network).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::monitoring::label_map;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Call, Caller, Egress, Endpoint, Ingress, Map, Network, Peer, PortRef};
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

/// `egress`, in a service's `network` and a job's.
const EGRESS: Node<Network> = Node {
    name: "egress",
    summary: "What the service reaches beyond svcc services: a CIDR, a host with `cidr=`, or pods by their labels",
    doc: "language.md#network",
    args: "[CIDR|HOST]",
    props: &["port", "protocol", "cidr", "namespace"],
    repeat: true,
    ..Node::new(egress)
};

/// Children of a job's `network`: its pods take no calls, so only egress.
pub(super) const JOB_NETWORK: &[Node<Network>] = &[EGRESS];

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
    EGRESS,
    Node {
        name: "ingress",
        summary: "Who reaches a port beyond svcc services: a CIDR (a LoadBalancer's clients), or pods by their labels",
        doc: "language.md#network",
        args: "[CIDR]",
        props: &["port", "namespace"],
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
    network_of(node, NETWORK, diags)
}

/// A job's `network { egress … }` (or `network #false`).
pub(super) fn job_network(node: &KdlNode, diags: &mut Diagnostics) -> Network {
    network_of(node, JOB_NETWORK, diags)
}

fn network_of(node: &KdlNode, table: &'static [Node<Network>], diags: &mut Diagnostics) -> Network {
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
    node::decode_children(table, node, Twice::Plain, &mut net, diags);
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

/// `egress "10.20.0.0/16" port=5432`, `egress "api.stripe.com" port=443 cidr="203.0.113.0/24"`,
/// `egress namespace="data" port=5432 { app "invoices-db" }`.
pub(super) fn egress(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let to = endpoint(node, diags, &mut r, "egress", destination);
    let port = r.prop("port").and_then(|e| port_ref(diags, e));
    let protocol = r.prop("protocol").and_then(|e| reader::choice(diags, e, PROTOCOLS));
    let cidr = r.prop("cidr").and_then(|e| reader::string(diags, e)).and_then(|s| cidr(diags, s));
    r.finish(diags);
    let Some(to) = to else { return };
    if let Some(c) = &cidr {
        let why = match &to {
            Endpoint::Address(a) if values::parse_cidr(&a.value).is_some() => Some("the destination is already a CIDR"),
            Endpoint::Pods(_) => Some("pods are selected by their labels"),
            Endpoint::Address(_) => None,
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::error(Code::UnexpectedArgument, "`cidr=` belongs to a host destination")
                    .at(c.span, why)
                    .help("remove `cidr=`, or name the host the addresses belong to"),
            );
            return;
        }
    }
    if let (Endpoint::Address(_), Some(p)) = (&to, &port)
        && let PortRef::Name(name) = &p.value
    {
        diags.push(
            Diagnostic::error(Code::WrongType, format!("port `{name}` is a name, and an address has no named ports"))
                .at(p.span, "a port name")
                .help("write the port number (`port=5432`); a name is for pods (`egress namespace=… { LABELS }`), whose ports have names"),
        );
        return;
    }
    let key = format!("{}/{}", key_of(&to), port.as_ref().map_or(String::new(), |p| p.value.to_string()));
    if let Some(first) = net.egress.get(&key) {
        twice(diags, format!("`egress {}`", describe(&to)), to.span(), first.to.span());
        return;
    }
    net.egress.insert(key, Egress { node: name_span(node), to, cidr, port, protocol });
}

/// `ingress "0.0.0.0/0" port=http`, `ingress namespace="batch" { app "legacy-cron" }`.
fn ingress(node: &KdlNode, diags: &mut Diagnostics, net: &mut Network) {
    let mut r = NodeReader::new(node);
    let from = endpoint(node, diags, &mut r, "ingress", cidr);
    let port = r.prop("port").and_then(|e| port_name(diags, e));
    r.finish(diags);
    let Some(from) = from else { return };
    let key = format!("{}/{}", key_of(&from), port.as_ref().map_or("", |p| p.value.as_str()));
    if let Some(first) = net.ingress.get(&key) {
        twice(diags, format!("`ingress {}`", describe(&from)), from.span(), first.from.span());
        return;
    }
    net.ingress.insert(key, Ingress { node: name_span(node), from, port });
}

/// The other end of an `egress` or `ingress` line: its argument (read by
/// `address`), or pods by the labels of its children in `namespace=`.
fn endpoint(
    node: &KdlNode,
    diags: &mut Diagnostics,
    r: &mut NodeReader<'_>,
    what: &str,
    address: fn(&mut Diagnostics, Spanned<String>) -> Option<Spanned<String>>,
) -> Option<Endpoint> {
    let namespace = namespace(diags, r);
    let has_pods = !children(node).is_empty();
    match (r.arg(0), has_pods) {
        (Some(e), false) => {
            let a = reader::string(diags, e).and_then(|s| address(diags, s))?;
            if let Some(ns) = &namespace {
                diags.push(
                    Diagnostic::error(Code::UnexpectedArgument, "`namespace=` belongs to pods")
                        .at(ns.span, "an address has no namespace")
                        .help(format!("remove `namespace=`, or select pods instead of an address: `{what} namespace=\"{}\" {{ app \"NAME\" }}`", ns.value)),
                );
                return None;
            }
            Some(Endpoint::Address(a))
        }
        (None, true) => {
            let pods: Map<Spanned<String>> = label_map(node, diags);
            if pods.is_empty() {
                return None;
            }
            Some(Endpoint::Pods(Peer { node: name_span(node), namespace, pods, port: None }))
        }
        (Some(e), true) => {
            diags.push(
                Diagnostic::error(
                    Code::UnexpectedArgument,
                    format!("an `{what}` line names an address or pods, not both"),
                )
                .at(reader::value_span(e), "an address")
                .help(format!("write the address and the pods on two `{what}` lines")),
            );
            None
        }
        (None, false) => {
            let example = if what == "egress" { "\"10.0.0.0/8\" port=5432" } else { "\"0.0.0.0/0\" port=http" };
            diags.push(missing(
                name_span(node),
                "an address, or pod labels",
                format!(
                    "write `{what} {example}`, or pods by their labels: `{what} namespace=\"data\" {{ app \"NAME\" }}`"
                ),
            ));
            None
        }
    }
}

/// The key an endpoint merges by: the address, or the namespace and labels.
fn key_of(e: &Endpoint) -> String {
    match e {
        Endpoint::Address(a) => a.value.clone(),
        Endpoint::Pods(p) => {
            let ns = p.namespace.as_ref().map_or("", |n| n.value.as_str());
            let labels: Vec<String> = p.pods.iter().map(|(k, v)| format!("{k}={}", v.value)).collect();
            format!("pods:{ns}:{}", labels.join(","))
        }
    }
}

/// How a message names an endpoint: `"10.0.0.0/8"`, `namespace="data" { app "db" }`.
fn describe(e: &Endpoint) -> String {
    match e {
        Endpoint::Address(a) => format!("\"{}\"", a.value),
        Endpoint::Pods(p) => {
            let ns = p.namespace.as_ref().map_or(String::new(), |n| format!("namespace=\"{}\" ", n.value));
            let labels: Vec<String> = p.pods.iter().map(|(k, v)| format!("{k} \"{}\"", v.value)).collect();
            format!("{ns}{{ {} }}", labels.join("; "))
        }
    }
}

/// `port=5432`, or a port's name (`port="postgres"`).
fn port_ref(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<PortRef>> {
    if matches!(e.value(), kdl::KdlValue::String(_)) {
        return port_name(diags, e).map(|p| p.map(PortRef::Name));
    }
    reader::int(diags, e, 1, 65535).map(|p| p.map(|v| PortRef::Number(v as u16)))
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
