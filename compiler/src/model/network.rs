//! `network { … }`: who may reach the service and what it calls (docs/traffic.md).

use super::*;

/// `network { calls …; called-by …; egress …; dns …; prometheus …; ingress-controller … }`.
#[derive(Clone, Debug)]
pub struct Network {
    pub node: Span,
    /// `network #false`: no NetworkPolicy (the calls stay in the graph).
    pub enabled: Option<Spanned<bool>>,
    /// `calls NAME port=PORT`, keyed by `NAME/PORT`.
    pub calls: Map<Call>,
    /// `called-by NAME [port=PORT]`, keyed by `NAME/PORT` (`NAME/` for every port).
    pub callers: Map<Caller>,
    /// `egress "CIDR|HOST" [port=N]`, keyed by destination and port.
    pub egress: Map<Egress>,
    /// `ingress "CIDR" [port=PORT]`: clients outside the cluster (a
    /// LoadBalancer's), keyed by range and port.
    pub ingress: Map<Ingress>,
    /// Where the cluster's DNS, Prometheus and ingress controller run.
    pub dns: Option<Peer>,
    pub prometheus: Option<Peer>,
    pub ingress_controller: Option<Peer>,
}

/// `calls ledger port=grpc [namespace="payments"] [protocol="TCP"]`.
#[derive(Clone, Debug)]
pub struct Call {
    pub node: Span,
    pub service: Spanned<String>,
    pub port: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub protocol: Option<Spanned<String>>,
}

/// `called-by storefront [port=http] [namespace="web"]`.
#[derive(Clone, Debug)]
pub struct Caller {
    pub node: Span,
    pub service: Spanned<String>,
    pub port: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
}

/// `egress "10.20.0.0/16" port=5432`, `egress "api.stripe.com" port=443 cidr="…"`,
/// `egress namespace="data" port=5432 { app "invoices-db" }`.
#[derive(Clone, Debug)]
pub struct Egress {
    pub node: Span,
    /// A CIDR, a host name (which a NetworkPolicy cannot match), or pods.
    pub to: Endpoint,
    /// The host's addresses, when `to` is a host.
    pub cidr: Option<Spanned<String>>,
    /// A number; or, to pods, the name of one of their ports.
    pub port: Option<Spanned<PortRef>>,
    pub protocol: Option<Spanned<String>>,
}

/// `ingress "0.0.0.0/0" port=http`: addresses outside the cluster that
/// reach one of the service's ports (or all of them); `ingress
/// namespace="batch" { app "legacy-cron" }`: pods of the cluster svcc does
/// not build.
#[derive(Clone, Debug)]
pub struct Ingress {
    pub node: Span,
    pub from: Endpoint,
    pub port: Option<Spanned<String>>,
}

/// The other end of an `egress` or `ingress` line.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A CIDR, or (egress) a host name.
    Address(Spanned<String>),
    /// Pods by their labels, in `namespace=` or the service's own.
    Pods(Peer),
}

impl Endpoint {
    /// The span to point at: the address, or the node's name.
    pub fn span(&self) -> Span {
        match self {
            Endpoint::Address(a) => a.span,
            Endpoint::Pods(p) => p.node,
        }
    }
}

/// A port by number or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

/// Pods of the cluster a policy names: `dns namespace="kube-system" { k8s-app "kube-dns" }`.
#[derive(Clone, Debug)]
pub struct Peer {
    pub node: Span,
    pub namespace: Option<Spanned<String>>,
    /// Pod labels (replaced as a whole by a layer that gives any).
    pub pods: Map<Spanned<String>>,
    /// `ingress-controller port=http`: the service's port it reaches.
    pub port: Option<Spanned<String>>,
}
