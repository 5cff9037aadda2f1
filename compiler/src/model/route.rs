//! `route { … }`: public exposure through a Gateway API route or an Ingress (docs/traffic.md).

use super::*;

/// `route { … }` as one layer writes it.
#[derive(Clone, Debug)]
pub struct Route {
    /// The `route` node's name token.
    pub node: Span,
    /// `route #false`: no exposure in this layer and those it overrides.
    pub enabled: Option<Spanned<bool>>,
    /// `gateway NAME namespace=… section=…`: an HTTPRoute (GRPCRoute).
    pub gateway: Option<RouteGateway>,
    /// `ingress-class NAME`: an Ingress of that class.
    pub ingress_class: Option<Spanned<String>>,
    /// `host NAME…`: replaced as a whole by a later layer.
    pub hosts: Option<Spanned<Vec<Spanned<String>>>>,
    /// `path PATH match=…`: replaced as a whole by a later layer.
    pub paths: Option<Vec<RoutePath>>,
    /// `port NAME`: the container port the route reaches (default: the first).
    pub port: Option<Spanned<String>>,
    /// `tls issuer=… | secret=…`, or `tls #false`.
    pub tls: Option<RouteTls>,
}

#[derive(Clone, Debug)]
pub struct RouteGateway {
    pub node: Span,
    pub name: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub section: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct RoutePath {
    pub node: Span,
    pub path: Spanned<String>,
    /// `match="exact"` (default `prefix`).
    pub exact: bool,
}

#[derive(Clone, Debug)]
pub struct RouteTls {
    pub node: Span,
    /// `tls #false`.
    pub enabled: Option<Spanned<bool>>,
    /// cert-manager issuer: a Certificate is generated.
    pub issuer: Option<Spanned<String>>,
    /// `Issuer` or `ClusterIssuer` (default).
    pub issuer_kind: Option<Spanned<String>>,
    /// The Secret holding the certificate: an existing one, or the one the
    /// Certificate writes (default `SERVICE-tls`).
    pub secret: Option<Spanned<String>>,
}
