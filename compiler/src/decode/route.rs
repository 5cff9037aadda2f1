//! The `route` block: the service's public HTTP(S) entry, through a
//! Gateway API Gateway (an HTTPRoute, or a GRPCRoute for a gRPC port) or
//! an Ingress of a class, with host names, paths and TLS (docs/traffic.md).
//! Not `expose`, which adds Kubernetes Services (`LoadBalancer`,
//! `NodePort`): a route is layer 7, from a shared entry point.

use kdl::{KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Route, RouteGateway, RoutePath, RouteTls};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "route",
    order: 33,
    summary: "Public HTTP(S) exposure: an HTTPRoute (GRPCRoute) from a Gateway, or an Ingress; hosts, paths, TLS",
    doc: "language.md#route",
    args: "[#true|#false]",
    children: Some(&ROUTE),
    ..Node::new(|n, d, c| c.body.route = Some(route(n, d)))
}];

/// Children of `route`, in documentation order.
const ROUTE: &[Node<Route>] = &[
    Node {
        name: "gateway",
        summary: "The Gateway API Gateway the route attaches to (its namespace, its listener)",
        doc: "language.md#route",
        args: "NAME",
        props: &["namespace", "section"],
        ..Node::new(gateway)
    },
    Node {
        name: "ingress-class",
        summary: "An Ingress of this class instead of a Gateway route",
        doc: "language.md#route",
        args: "NAME",
        ..Node::new(|n, d, r| {
            r.ingress_class =
                one(n, d, "IngressClass name", "ingress-class \"nginx\"", values::check_dns1123_subdomain);
        })
    },
    Node {
        name: "host",
        summary: "The host names the route answers (replaced as a whole by an environment)",
        doc: "language.md#route",
        args: "NAME…",
        ..Node::new(hosts)
    },
    Node {
        name: "path",
        summary: "A path the route sends to the service (default `/`, by prefix)",
        doc: "language.md#route",
        args: "PATH",
        props: &["match"],
        repeat: true,
        ..Node::new(path)
    },
    Node {
        name: "port",
        summary: "The container port the route reaches (default: the first port)",
        doc: "language.md#route",
        args: "NAME",
        ..Node::new(|n, d, r| r.port = one(n, d, "port name", "port \"http\"", values::check_port_name))
    },
    Node {
        name: "tls",
        summary: "TLS: a cert-manager Certificate from an issuer, or an existing Secret",
        doc: "language.md#route",
        args: "[#false]",
        props: &["issuer", "issuer-kind", "secret"],
        ..Node::new(tls)
    },
];

fn route(node: &KdlNode, diags: &mut Diagnostics) -> Route {
    let mut r = NodeReader::new(node);
    let mut route = Route {
        node: name_span(node),
        enabled: None,
        gateway: None,
        ingress_class: None,
        hosts: None,
        paths: None,
        port: None,
        tls: None,
    };
    if let Some(e) = r.arg(0) {
        route.enabled = reader::boolean(diags, e);
    }
    r.finish(diags);
    node::decode_children(ROUTE, node, Twice::InParent, &mut route, diags);
    route
}

/// One name argument, checked by `check`.
fn one(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    example: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::name(diags, e, what, check),
        None => {
            diags.push(missing(name_span(node), what, format!("write `{example}`")));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// `gateway "public" namespace="gateway-system" section="https"`.
fn gateway(node: &KdlNode, diags: &mut Diagnostics, route: &mut Route) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "Gateway name", values::check_dns1123_subdomain),
        None => {
            diags.push(missing(
                name_span(node),
                "a Gateway name",
                "write `gateway \"public\" namespace=\"gateway-system\"`",
            ));
            None
        }
    };
    let namespace = r.prop("namespace").and_then(|e| reader::name(diags, e, "namespace", values::check_dns1123_label));
    let section =
        r.prop("section").and_then(|e| reader::name(diags, e, "listener name", values::check_dns1123_subdomain));
    r.finish(diags);
    no_children(diags, node);
    if let Some(name) = name {
        route.gateway = Some(RouteGateway { node: name_span(node), name, namespace, section });
    }
}

/// `host "shop.example.com" "www.shop.example.com"`.
fn hosts(node: &KdlNode, diags: &mut Diagnostics, route: &mut Route) {
    let mut r = NodeReader::new(node);
    let entries = r.rest_args(0);
    if entries.is_empty() {
        diags.push(missing(name_span(node), "a host name", "write `host \"shop.example.com\"`"));
    }
    let mut hosts = Vec::new();
    for e in entries {
        let Some(s) = reader::string(diags, e) else { continue };
        match values::check_hostname(&s.value) {
            Ok(()) => hosts.push(s),
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidHostname, format!("`{}` is not a host name a route can match", s.value))
                    .at(s.span, why)
                    .help("write a DNS name in lower case, such as `shop.example.com` or `*.example.com`"),
            ),
        }
    }
    r.finish(diags);
    no_children(diags, node);
    route.hosts = Some(Spanned::new(hosts, name_span(node)));
}

/// `path "/api" match="exact"`.
fn path(node: &KdlNode, diags: &mut Diagnostics, route: &mut Route) {
    let mut r = NodeReader::new(node);
    let path = match r.arg(0) {
        Some(e) => reader::name(diags, e, "route path", values::check_route_path),
        None => {
            diags.push(missing(name_span(node), "a path", "write `path \"/\"`"));
            None
        }
    };
    let exact = r
        .prop("match")
        .and_then(|e| reader::choice(diags, e, &["prefix", "exact"]))
        .is_some_and(|m| m.value == "exact");
    r.finish(diags);
    no_children(diags, node);
    if let Some(path) = path {
        route.paths.get_or_insert_with(Vec::new).push(RoutePath { node: name_span(node), path, exact });
    }
}

/// `tls issuer="letsencrypt" issuer-kind="ClusterIssuer"`, `tls secret="shop-tls"`, `tls #false`.
fn tls(node: &KdlNode, diags: &mut Diagnostics, route: &mut Route) {
    let mut r = NodeReader::new(node);
    let enabled = match r.arg(0) {
        Some(e) if matches!(e.value(), KdlValue::Bool(true)) => {
            diags.push(reader::wrong_type(
                e,
                "`#false` or no argument",
                Some(
                    "name where the certificate comes from: `tls issuer=\"letsencrypt\"` or `tls secret=\"shop-tls\"`"
                        .into(),
                ),
            ));
            None
        }
        Some(e) => reader::boolean(diags, e),
        None => None,
    };
    let issuer = r.prop("issuer").and_then(|e| reader::name(diags, e, "issuer name", values::check_dns1123_subdomain));
    let issuer_kind = r.prop("issuer-kind").and_then(|e| reader::choice(diags, e, &["ClusterIssuer", "Issuer"]));
    let secret = r.prop("secret").and_then(|e| reader::name(diags, e, "Secret name", values::check_dns1123_subdomain));
    r.finish(diags);
    no_children(diags, node);
    route.tls = Some(RouteTls { node: name_span(node), enabled, issuer, issuer_kind, secret });
}
