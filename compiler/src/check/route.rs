//! `route`: the service's public HTTP(S) entry (docs/traffic.md).
//!
//! The block merges setting by setting: `host` and `path` lines replace
//! the layer's below as a whole (an environment names its own hosts), a
//! layer that names an entry (`gateway` or `ingress-class`) replaces the
//! other kind of entry below it (an org default Gateway, a service's
//! Ingress), `tls` merges property by property, and `route #false` turns
//! the exposure off. Resolving checks the route against the Services the
//! service has (the port it names must be one the main Service serves) and
//! against a canary's traffic router, which must split the same Ingress.

use super::merge::or;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Canary, Route, RouteTls};
use crate::plan::{PlanEntry, PlanNames, PlanNetwork, PlanPort, PlanRoute, PlanRouteTls, PlanService};

/// The group and kinds a route and a Certificate name.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
pub const DEFAULT_ISSUER_KIND: &str = "ClusterIssuer";

/// `over` laid on `base`.
pub(super) fn merge(base: &Option<Route>, over: &Option<Route>) -> Option<Route> {
    let (Some(b), Some(o)) = (base, over) else { return or(over, base) };
    if o.enabled.as_ref().is_some_and(|e| !e.value) {
        return Some(o.clone());
    }
    let Route {
        node: _,
        enabled: _,
        gateway: b_gateway,
        ingress_class: b_class,
        hosts: b_hosts,
        paths: b_paths,
        port: b_port,
        tls: b_tls,
    } = b;
    let Route { node, enabled, gateway, ingress_class, hosts, paths, port, tls } = o;
    let names_entry = gateway.is_some() || ingress_class.is_some();
    Some(Route {
        node: *node,
        enabled: enabled.clone(),
        gateway: if names_entry { gateway.clone() } else { b_gateway.clone() },
        ingress_class: if names_entry { ingress_class.clone() } else { b_class.clone() },
        hosts: or(hosts, b_hosts),
        paths: or(paths, b_paths),
        port: or(port, b_port),
        tls: merge_tls(b_tls, tls),
    })
}

fn merge_tls(base: &Option<RouteTls>, over: &Option<RouteTls>) -> Option<RouteTls> {
    let (Some(b), Some(o)) = (base, over) else { return or(over, base) };
    if o.enabled.as_ref().is_some_and(|e| !e.value) {
        return Some(o.clone());
    }
    let RouteTls { node: _, enabled: _, issuer: b_issuer, issuer_kind: b_kind, secret: b_secret } = b;
    let RouteTls { node, enabled, issuer, issuer_kind, secret } = o;
    Some(RouteTls {
        node: *node,
        enabled: enabled.clone(),
        issuer: or(issuer, b_issuer),
        issuer_kind: or(issuer_kind, b_kind),
        secret: or(secret, b_secret),
    })
}

/// What the route's resolution reads from the rest of the plan.
struct Context<'a> {
    pub service: &'a str,
    pub ports: &'a [PlanPort],
    pub services: &'a [PlanService],
    pub names: &'a PlanNames,
    pub canary: Option<&'a Canary>,
}

/// Whether a container port carries gRPC: named `grpc` or `grpc-…`, the
/// naming convention service meshes read.
pub fn is_grpc(port: &str) -> bool {
    port == "grpc" || port.starts_with("grpc-")
}

/// The route of one environment: `None` when it exposes nothing (no host,
/// `route #false`) or a problem was reported.
pub(super) fn resolve(
    service: &str,
    ports: &[PlanPort],
    services: &[PlanService],
    names: &PlanNames,
    b: &Body,
    network: Option<&mut PlanNetwork>,
    diags: &mut Diagnostics,
) -> Option<PlanRoute> {
    let errors = diags.error_count();
    let route = resolve_route(service, ports, services, names, b, diags);
    if route.is_none() && diags.error_count() == errors {
        canary_without_route(b, diags);
    }
    if let (Some(r), Some(n)) = (route.as_ref(), network.as_deref())
        && n.policy
    {
        reachable(r, b, diags);
    }
    admit(network, route.as_ref());
    route
}

/// SVC0714: `traffic gateway-api` shifts the weights of the service's own
/// route, and this environment exposes none.
fn canary_without_route(b: &Body, diags: &mut Diagnostics) {
    let Some(t) = b
        .canary
        .as_ref()
        .filter(|c| c.enabled.as_ref().is_none_or(|e| e.value))
        .and_then(|c| c.traffic.as_ref())
        .filter(|t| t.provider.value == "gateway-api")
    else {
        return;
    };
    let d = Diagnostic::error(
        Code::CanaryWithoutRoute,
        "the canary shifts the weights of the service's Gateway route, and the service has no route",
    )
    .at(t.node, "the Gateway API plugin needs the route it shifts");
    let d = match b.route.as_ref() {
        Some(r) => d.also(r.node, "this route exposes nothing here (no host, or `route #false`)"),
        None => d,
    };
    diags.push(d.help("expose the service through a Gateway in this environment (`route { gateway \"public\" namespace=\"gateway-system\"; host \"shop.example.com\" }`), or leave `traffic` out for a replica-weighted canary"));
}

/// SVC0712: the service's default-deny policy admits the `ingress-controller`
/// peer on the exposed port, and nothing says where the entry point's pods
/// run, so the default peer (ingress-nginx's controller) stands in: not a
/// Gateway's pods, nor another Ingress class's controller. The route would
/// be published and every request dropped.
fn reachable(route: &PlanRoute, b: &Body, diags: &mut Diagnostics) {
    let Some(net) = b.network.as_ref() else { return };
    if net.ingress_controller.as_ref().is_some_and(|p| !p.pods.is_empty()) {
        return;
    }
    let Some(r) = b.route.as_ref() else { return };
    let (at, message, help) = match (&route.entry, &r.gateway, &r.ingress_class) {
        (PlanEntry::Gateway { name, namespace, .. }, Some(g), _) => {
            let ns = namespace.as_deref().unwrap_or("gateway-system");
            (
                g.name.span,
                format!(
                    "the NetworkPolicy would drop the traffic of the Gateway `{name}`: where its pods run is not declared"
                ),
                format!(
                    "declare the Gateway's pods as the ingress controller, usually once in `_defaults.kdl`: `network {{ ingress-controller namespace=\"{ns}\" {{ \"gateway.networking.k8s.io/gateway-name\" \"{name}\" }} }}` (the label your Gateway implementation puts on its pods)"
                ),
            )
        }
        (PlanEntry::Ingress { class }, _, Some(c)) if class != "nginx" => (
            c.span,
            format!("the NetworkPolicy admits ingress-nginx's controller, not the `{class}` Ingress controller"),
            format!(
                "declare where the `{class}` controller runs, usually once in `_defaults.kdl`: `network {{ ingress-controller namespace=\"{class}\" {{ \"app.kubernetes.io/name\" \"{class}\" }} }}` (its namespace and pod labels)"
            ),
        ),
        _ => return,
    };
    diags.push(
        Diagnostic::error(Code::UnreachableExposure, message)
            .at(at, "exposed through it")
            .also(net.node, "a default-deny NetworkPolicy: ingress only from what it names")
            .help(help),
    );
}

fn resolve_route(
    service: &str,
    ports: &[PlanPort],
    services: &[PlanService],
    names: &PlanNames,
    b: &Body,
    diags: &mut Diagnostics,
) -> Option<PlanRoute> {
    let cx = &Context { service, ports, services, names, canary: b.canary.as_ref() };
    let r = b.route.as_ref()?;
    if r.enabled.as_ref().is_some_and(|e| !e.value) {
        return None;
    }
    let hosts = r.hosts.as_ref().filter(|h| !h.value.is_empty())?;
    let entry = match (&r.gateway, &r.ingress_class) {
        (Some(g), _) => PlanEntry::Gateway {
            name: g.name.value.clone(),
            namespace: g.namespace.as_ref().map(|n| n.value.clone()),
            section: g.section.as_ref().map(|s| s.value.clone()),
        },
        (None, Some(c)) => PlanEntry::Ingress { class: c.value.clone() },
        (None, None) => {
            diags.push(
                Diagnostic::error(Code::RouteWithoutEntry, "the route has hosts but no Gateway or Ingress class")
                    .at(hosts.span, "exposed here")
                    .help("name the entry point: `gateway \"public\" namespace=\"gateway-system\"` or `ingress-class \"nginx\"` (in the route or the org defaults)"),
            );
            return None;
        }
    };
    let (port, service_port) = served_port(cx, r, diags)?;
    let grpc = is_grpc(&port.name) && matches!(entry, PlanEntry::Gateway { .. });
    if grpc && let Some(p) = r.paths.as_ref().and_then(|p| p.first()) {
        diags.push(
            Diagnostic::error(Code::GrpcRoutePath, "a gRPC route matches services and methods, not paths")
                .at(p.node, "a path on a GRPCRoute")
                .help(format!(
                    "remove the `path` lines: the GRPCRoute sends every call for its hosts to port `{}`",
                    port.name
                )),
        );
        return None;
    }
    let paths = match &r.paths {
        Some(p) if !p.is_empty() => p.iter().map(|p| (p.path.value.clone(), p.exact)).collect(),
        _ => vec![("/".to_string(), false)],
    };
    let tls = tls(cx, r, &entry, diags)?;
    let plan = PlanRoute {
        entry,
        grpc,
        hosts: hosts.value.iter().map(|h| h.value.clone()).collect(),
        paths,
        service: cx.names.service.name.clone(),
        service_port,
        port: port.name.clone(),
        port_number: port.number,
        protocol: port.protocol.clone(),
        tls,
        span: r.node,
    };
    canary_consistent(cx, &plan, diags);
    Some(plan)
}

/// The NetworkPolicy admits the route's traffic: the `ingress-controller`
/// peer (the Gateway's or the Ingress controller's pods, whichever forwards
/// it) on the container port the route reaches.
fn admit(network: Option<&mut PlanNetwork>, route: Option<&PlanRoute>) {
    let (Some(n), Some(r)) = (network, route) else { return };
    let port = (r.port_number, r.protocol.clone());
    if !n.exposed.contains(&port) {
        n.exposed.push(port);
    }
}

/// The container port the route reaches and the main Service's port for it.
fn served_port<'p>(cx: &Context<'p>, r: &Route, diags: &mut Diagnostics) -> Option<(&'p PlanPort, u16)> {
    let main = cx.services.iter().find(|s| !s.extra);
    let wanted = r.port.as_ref().map(|p| p.value.as_str()).or_else(|| cx.ports.first().map(|p| p.name.as_str()));
    let found = wanted.and_then(|w| {
        let port = cx.ports.iter().find(|p| p.name == w)?;
        let sp = main?.ports.iter().find(|sp| sp.target == w)?;
        Some((port, sp.port))
    });
    if found.is_none() {
        let at = r.port.as_ref().map_or(r.node, |p| p.span);
        let served: Vec<String> =
            main.map(|m| m.ports.iter().map(|p| format!("`{}`", p.target)).collect()).unwrap_or_default();
        let d = match wanted {
            Some(w) => Diagnostic::error(
                Code::RoutePortNotServed,
                format!("the route reaches port `{w}`, which the Service `{}` does not serve", cx.names.service.name),
            ),
            None => {
                Diagnostic::error(Code::RoutePortNotServed, "the route has no port to reach: the service declares none")
            }
        };
        let help = if served.is_empty() {
            "declare the port the route reaches: `port http 8080`".to_string()
        } else {
            format!("route to a port the Service serves: {}", served.join(", "))
        };
        diags.push(d.at(at, "no Service port for it").help(help));
    }
    found
}

fn tls(cx: &Context<'_>, r: &Route, entry: &PlanEntry, diags: &mut Diagnostics) -> Option<Option<PlanRouteTls>> {
    let Some(t) = r.tls.as_ref().filter(|t| t.enabled.as_ref().is_none_or(|e| e.value)) else {
        return Some(None);
    };
    let gateway = matches!(entry, PlanEntry::Gateway { .. });
    if t.issuer.is_none() && (t.secret.is_none() || gateway) {
        let (message, help) = if gateway {
            (
                "on a Gateway route, `tls` needs an issuer",
                "a Gateway terminates TLS at its listener, which names its own Secret; write `tls issuer=\"letsencrypt\"` to issue that Secret's certificate, or leave `tls` out",
            )
        } else {
            (
                "`tls` names neither an issuer nor a Secret",
                "write `tls issuer=\"letsencrypt\"` (a cert-manager Certificate) or `tls secret=\"shop-tls\"` (an existing Secret)",
            )
        };
        diags.push(Diagnostic::error(Code::TlsWithoutSource, message).at(t.node, "no certificate source").help(help));
        return None;
    }
    Some(Some(PlanRouteTls {
        secret: t.secret.as_ref().map_or(format!("{}-tls", cx.service), |s| s.value.clone()),
        issuer: t.issuer.as_ref().map(|i| {
            (i.value.clone(), t.issuer_kind.as_ref().map_or(DEFAULT_ISSUER_KIND.to_string(), |k| k.value.clone()))
        }),
    }))
}

/// A canary's `traffic nginx` splits the Ingress the route generates: the
/// route must be an Ingress, and `traffic ingress=` (if written) its name.
fn canary_consistent(cx: &Context<'_>, route: &PlanRoute, diags: &mut Diagnostics) {
    let Some(t) = cx.canary.filter(|c| c.enabled.as_ref().is_none_or(|e| e.value)).and_then(|c| c.traffic.as_ref())
    else {
        return;
    };
    if t.provider.value == "gateway-api" {
        if let PlanEntry::Ingress { class } = &route.entry {
            diags.push(
                Diagnostic::error(Code::CanaryRouteMismatch, format!("the canary shifts the weights of a Gateway route, but the route is an Ingress of class `{class}`"))
                    .at(t.node, "the Gateway API plugin shifts an HTTPRoute's or GRPCRoute's weights")
                    .also(route.span, "the route generates an Ingress")
                    .help("expose the service through a Gateway (`gateway \"public\" namespace=\"gateway-system\"`), or split the Ingress with `traffic nginx`"),
            );
        }
        return;
    }
    match &route.entry {
        PlanEntry::Gateway { .. } => diags.push(
            Diagnostic::error(Code::CanaryRouteMismatch, "the canary splits traffic through an NGINX Ingress, but the route is a Gateway route")
                .at(t.node, "the NGINX router splits an Ingress")
                .also(route.span, "the route attaches to a Gateway")
                .help("expose the service through an Ingress (`ingress-class \"nginx\"`) so the canary splits the route's own traffic"),
        ),
        PlanEntry::Ingress { .. } => {
            if let Some(i) = t.ingress.as_ref().filter(|i| i.value != route.service) {
                diags.push(
                    Diagnostic::error(
                        Code::CanaryRouteMismatch,
                        format!("the canary splits the Ingress `{}`, but the route generates `{}`", i.value, route.service),
                    )
                    .at(i.span, "another Ingress")
                    .also(route.span, "the route's Ingress")
                    .help("remove `ingress=`: the canary then splits the Ingress the route generates"),
                );
            }
        }
    }
}
