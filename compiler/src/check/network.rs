//! `network { … }`: the declared calls and callers, egress, and where the
//! cluster's DNS, Prometheus and ingress controller run. Calls, callers and
//! egress merge item by item (a layer adds to them); `dns`, `prometheus`
//! and `ingress-controller` property by property, their pod labels as a
//! whole. Whether A's calls match what B serves and admits is the graph's
//! check (`crate::graph`), which needs every service.

use std::collections::BTreeMap;

use super::merge::{merge_map, or};
use super::ports::Ports;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Endpoint, Map, Network, Peer};
use crate::plan::{PlanCall, PlanCaller, PlanEgress, PlanEndpoint, PlanIngress, PlanNetwork, PlanPeer};
use crate::source::{Span, Spanned};

/// The documented defaults of the cluster's peers: CoreDNS as kubeadm,
/// EKS and GKE label it; Prometheus as the prometheus-operator labels its
/// pods; ingress-nginx as its chart labels its controller.
pub mod defaults {
    pub const DNS: (&str, &[(&str, &str)]) = ("kube-system", &[("k8s-app", "kube-dns")]);
    pub const PROMETHEUS: (&str, &[(&str, &str)]) = ("monitoring", &[("app.kubernetes.io/name", "prometheus")]);
    pub const INGRESS_CONTROLLER: (&str, &[(&str, &str)]) =
        ("ingress-nginx", &[("app.kubernetes.io/name", "ingress-nginx")]);
}

pub(super) fn merge(base: &Option<Network>, over: &Option<Network>) -> Option<Network> {
    let (Some(b), Some(o)) = (base, over) else { return or(over, base) };
    let Network {
        node: _,
        enabled: b_enabled,
        calls: b_calls,
        callers: b_callers,
        egress: b_egress,
        ingress: b_ingress,
        dns: b_dns,
        prometheus: b_prom,
        ingress_controller: b_ic,
    } = b;
    let Network { node, enabled, calls, callers, egress, ingress, dns, prometheus, ingress_controller } = o;
    Some(Network {
        node: *node,
        enabled: or(enabled, b_enabled),
        calls: merge_map(b_calls, calls),
        callers: merge_map(b_callers, callers),
        egress: merge_map(b_egress, egress),
        ingress: merge_map(b_ingress, ingress),
        dns: merge_peer(b_dns, dns),
        prometheus: merge_peer(b_prom, prometheus),
        ingress_controller: merge_peer(b_ic, ingress_controller),
    })
}

fn merge_peer(base: &Option<Peer>, over: &Option<Peer>) -> Option<Peer> {
    let (Some(b), Some(o)) = (base, over) else { return or(over, base) };
    let Peer { node: _, namespace: b_namespace, pods: b_pods, port: b_port } = b;
    let Peer { node, namespace, pods, port } = o;
    Some(Peer {
        node: *node,
        namespace: or(namespace, b_namespace),
        pods: if pods.is_empty() { b_pods.clone() } else { pods.clone() },
        port: or(port, b_port),
    })
}

fn peer(p: Option<&Peer>, (namespace, pods): (&str, &[(&str, &str)])) -> PlanPeer {
    let strings = |m: &Map<Spanned<String>>| m.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    PlanPeer {
        namespace: p.and_then(|p| p.namespace.as_ref()).map_or(namespace.to_string(), |n| n.value.clone()),
        pods: match p {
            Some(p) if !p.pods.is_empty() => strings(&p.pods),
            _ => pods.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
        },
    }
}

/// The service's network plan; `namespace` is where it runs in this
/// environment.
pub(super) fn resolve(
    net: Option<&Network>,
    namespace: Option<&str>,
    ports: &Ports<'_>,
    diags: &mut Diagnostics,
) -> Option<PlanNetwork> {
    let net = net?;
    let calls = net
        .calls
        .values()
        .map(|c| PlanCall {
            service: c.service.value.clone(),
            port: c.port.value.clone(),
            namespace: c.namespace.as_ref().map(|n| n.value.clone()).or_else(|| namespace.map(str::to_string)),
            explicit_namespace: c.namespace.is_some(),
            protocol: c.protocol.as_ref().map_or("TCP".to_string(), |p| p.value.clone()),
            span: c.node,
            service_span: c.service.span,
            port_span: c.port.span,
            namespace_span: c.namespace.as_ref().map(|n| n.span),
        })
        .collect();
    let mut callers = Vec::new();
    for c in net.callers.values() {
        let admitted = match &c.port {
            Some(p) => {
                let what = format!("`called-by {}`", c.service.value);
                ports.find(p, &what, diags).and_then(|n| protocol_of(ports, &p.value).map(|pr| vec![(n, pr)]))
            }
            None => Some(ports.list.iter().map(|p| (p.number, p.protocol.clone())).collect()),
        };
        let Some(admitted) = admitted else { continue };
        if admitted.is_empty() && ports.none_declared() {
            diags.push(serves_no_port(c.node, &c.service.value));
            continue;
        }
        callers.push(PlanCaller {
            service: c.service.value.clone(),
            port: c.port.as_ref().map(|p| p.value.clone()),
            ports: admitted,
            namespace: c.namespace.as_ref().map(|n| n.value.clone()).or_else(|| namespace.map(str::to_string)),
            span: c.node,
            service_span: c.service.span,
        });
    }
    let mut ingress = Vec::new();
    for i in net.ingress.values() {
        let admitted = match &i.port {
            Some(p) => {
                ports.find(p, "`ingress`", diags).and_then(|n| protocol_of(ports, &p.value).map(|pr| vec![(n, pr)]))
            }
            None => Some(ports.list.iter().map(|p| (p.number, p.protocol.clone())).collect()),
        };
        if let Some(admitted) = admitted {
            let from = match &i.from {
                Endpoint::Address(a) => PlanEndpoint::Cidrs(vec![a.value.clone()]),
                Endpoint::Pods(p) => pods(p),
            };
            ingress.push(PlanIngress { from, ports: admitted, span: i.node });
        }
    }
    let mut exposed = Vec::new();
    if let Some(p) = net.ingress_controller.as_ref().and_then(|ic| ic.port.as_ref())
        && let Some(n) = ports.find(p, "`ingress-controller`", diags)
        && let Some(pr) = protocol_of(ports, &p.value)
    {
        exposed.push((n, pr));
    }
    Some(PlanNetwork {
        policy: net.enabled.as_ref().is_none_or(|e| e.value),
        calls,
        callers,
        egress: net.egress.values().map(|e| egress(e, diags)).collect(),
        ingress,
        dns: peer(net.dns.as_ref(), defaults::DNS),
        prometheus: peer(net.prometheus.as_ref(), defaults::PROMETHEUS),
        ingress_controller: peer(net.ingress_controller.as_ref(), defaults::INGRESS_CONTROLLER),
        exposed,
        span: net.node,
    })
}

/// The network of a job's pods: the service's `egress` and `dns` with the
/// job's own `network` over them; `None` when no `network` applies or one
/// says `#false`. A job takes no calls and makes none the graph knows of.
pub(super) fn for_job(
    service: Option<&Network>,
    job: Option<&Network>,
    diags: &mut Diagnostics,
) -> Option<PlanNetwork> {
    let net = merge(&service.cloned(), &job.cloned())?;
    if net.enabled.as_ref().is_some_and(|e| !e.value) {
        return None;
    }
    Some(PlanNetwork {
        policy: true,
        calls: Vec::new(),
        callers: Vec::new(),
        egress: net.egress.values().map(|e| egress(e, diags)).collect(),
        ingress: Vec::new(),
        dns: peer(net.dns.as_ref(), defaults::DNS),
        prometheus: peer(net.prometheus.as_ref(), defaults::PROMETHEUS),
        ingress_controller: peer(net.ingress_controller.as_ref(), defaults::INGRESS_CONTROLLER),
        exposed: Vec::new(),
        span: net.node,
    })
}

fn protocol_of(ports: &Ports<'_>, name: &str) -> Option<String> {
    ports.port(name).map(|p| p.protocol.clone())
}

/// SVC0703: a service that others call serves no port.
pub(crate) fn serves_no_port(at: Span, caller: &str) -> Diagnostic {
    Diagnostic::error(Code::CalledWithoutPorts, format!("`{caller}` may call this service, which serves no port"))
        .at(at, "admitted here")
        .help("declare the port it calls (`port grpc 9090`), or remove `called-by`: a service without ports has no Service to call")
}

/// Pods by their labels, in `namespace=` or the service's own (`None`).
fn pods(p: &Peer) -> PlanEndpoint {
    PlanEndpoint::Pods {
        namespace: p.namespace.as_ref().map(|n| n.value.clone()),
        labels: p.pods.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
    }
}

fn egress(e: &crate::model::Egress, diags: &mut Diagnostics) -> PlanEgress {
    let (host, to) = match &e.to {
        Endpoint::Pods(p) => (None, pods(p)),
        Endpoint::Address(a) if crate::values::parse_cidr(&a.value).is_some() => {
            (None, PlanEndpoint::Cidrs(vec![a.value.clone()]))
        }
        Endpoint::Address(a) => {
            let cidrs = match &e.cidr {
                Some(c) => vec![c.value.clone()],
                None => {
                    diags.push(host_egress(a, e.port.as_ref().map(|p| &p.value)));
                    vec!["0.0.0.0/0".to_string(), "::/0".to_string()]
                }
            };
            (Some(a.value.clone()), PlanEndpoint::Cidrs(cidrs))
        }
    };
    PlanEgress {
        host,
        to,
        port: e.port.as_ref().map(|p| p.value.clone()),
        protocol: e.protocol.as_ref().map_or("TCP".to_string(), |p| p.value.clone()),
        span: e.node,
    }
}

/// SVC0711: egress to a host name without its addresses.
fn host_egress(host: &Spanned<String>, port: Option<&crate::model::PortRef>) -> Diagnostic {
    let port = port.map_or("every port".to_string(), |p| format!("port {p}"));
    Diagnostic::warning(Code::HostEgress, format!("a NetworkPolicy cannot match the host name `{}`", host.value))
        .at(host.span, format!("egress to every address on {port}"))
        .help(format!(
            "add the host's address range (`cidr=\"203.0.113.0/24\"`) to admit only it, or route it through an egress gateway; without it the policy admits {port} to any address"
        ))
}

/// Labels that select the pods of the svcc service `name` (the ones every
/// svcc pod carries; not `app.kubernetes.io/instance`, which Argo CD
/// rewrites).
pub(crate) fn service_pods(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        ("app.kubernetes.io/managed-by".to_string(), "svcc".to_string()),
    ])
}
