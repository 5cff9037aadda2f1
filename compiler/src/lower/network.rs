//! `network { … }`: one default-deny NetworkPolicy per service, for both
//! directions. Ingress is admitted from the declared callers on their
//! ports, from Prometheus on the metrics port and from the ingress
//! controller on the exposed ports; egress to the declared callees on the
//! port they serve, to the cluster DNS on port 53 (UDP and TCP), and to
//! the declared address ranges.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Object, meta, object, selector};
use crate::check::network::service_pods;
use crate::model::PortRef;
use crate::plan::{Plan, PlanEndpoint, PlanJob, PlanNetwork, PlanPeer};
use crate::source::Span;

/// The label every namespace carries with its own name (Kubernetes 1.22+).
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

pub(super) fn policy(p: &Plan) -> Option<Object> {
    let net = p.network.as_ref().filter(|n| n.policy)?;
    let mut spans = BTreeMap::new();
    let ingress = ingress(p, net, &mut spans);
    let egress = egress(p, net, &mut spans);
    let np = NetworkPolicy {
        metadata: meta(p, &p.service),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(p)),
            policy_types: Some(vec!["Ingress".to_string(), "Egress".to_string()]),
            // An empty list and no list both deny: written out, so the file
            // says it.
            ingress: Some(ingress),
            egress: Some(egress),
        }),
    };
    spans.insert("/spec".to_string(), net.span);
    Some(object(&p.service, p, &np, spans))
}

fn labels(m: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector { match_labels: Some(m.clone()), ..LabelSelector::default() }
}

/// Pods with `pods` labels in namespace `namespace`; no namespace selector
/// when it is the policy's own namespace.
fn pods_in(p: &Plan, namespace: Option<&str>, pods: &BTreeMap<String, String>) -> NetworkPolicyPeer {
    let namespace_selector = match namespace {
        Some(ns) if Some(ns) != p.namespace.as_deref() => {
            Some(labels(&BTreeMap::from([(NAMESPACE_NAME.to_string(), ns.to_string())])))
        }
        _ => None,
    };
    NetworkPolicyPeer { pod_selector: Some(labels(pods)), namespace_selector, ip_block: None }
}

fn peer(p: &Plan, peer: &PlanPeer) -> NetworkPolicyPeer {
    pods_in(p, Some(&peer.namespace), &peer.pods)
}

fn port(number: u16, protocol: &str) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(number))),
        protocol: Some(protocol.to_string()),
        end_port: None,
    }
}

fn ingress(p: &Plan, net: &PlanNetwork, spans: &mut BTreeMap<String, Span>) -> Vec<NetworkPolicyIngressRule> {
    let mut rules = Vec::new();
    let mut push = |rule: NetworkPolicyIngressRule, span: Span, rules: &mut Vec<NetworkPolicyIngressRule>| {
        spans.insert(format!("/spec/ingress/{}", rules.len()), span);
        rules.push(rule);
    };
    for c in &net.callers {
        let rule = NetworkPolicyIngressRule {
            from: Some(vec![pods_in(p, c.namespace.as_deref(), &service_pods(&c.service))]),
            ports: Some(c.ports.iter().map(|(n, pr)| port(*n, pr)).collect()),
        };
        push(rule, c.span, &mut rules);
    }
    if let Some(metrics) = scraped_port(p) {
        let rule = NetworkPolicyIngressRule {
            from: Some(vec![peer(p, &net.prometheus)]),
            ports: Some(vec![port(metrics.number, &metrics.protocol)]),
        };
        push(rule, net.span, &mut rules);
    }
    for i in &net.ingress {
        let rule = NetworkPolicyIngressRule {
            from: Some(endpoint(p, &i.from)),
            ports: Some(i.ports.iter().map(|(n, pr)| port(*n, pr)).collect()),
        };
        push(rule, i.span, &mut rules);
    }
    if !net.exposed.is_empty() {
        let rule = NetworkPolicyIngressRule {
            from: Some(vec![peer(p, &net.ingress_controller)]),
            ports: Some(net.exposed.iter().map(|(n, pr)| port(*n, pr)).collect()),
        };
        push(rule, net.span, &mut rules);
    }
    rules
}

/// The container port Prometheus scrapes: the ServiceMonitor names a port
/// of the main Service, whose target is a container port.
fn scraped_port(p: &Plan) -> Option<&crate::plan::PlanPort> {
    let scrape = p.monitoring.as_ref()?.scrape.as_ref()?;
    let target = p
        .services
        .iter()
        .filter(|s| !s.extra)
        .flat_map(|s| &s.ports)
        .find(|sp| sp.name == scrape.port)
        .map_or(scrape.port.as_str(), |sp| sp.target.as_str());
    std::iter::once(&p.container).chain(&p.containers).flat_map(|c| &c.ports).find(|port| port.name == target)
}

fn egress(p: &Plan, net: &PlanNetwork, spans: &mut BTreeMap<String, Span>) -> Vec<NetworkPolicyEgressRule> {
    let mut rules = vec![NetworkPolicyEgressRule {
        to: Some(vec![peer(p, &net.dns)]),
        ports: Some(vec![port(53, "UDP"), port(53, "TCP")]),
    }];
    spans.insert("/spec/egress/0".to_string(), net.span);
    for c in &net.calls {
        spans.insert(format!("/spec/egress/{}", rules.len()), c.span);
        rules.push(NetworkPolicyEgressRule {
            to: Some(vec![pods_in(p, c.namespace.as_deref(), &service_pods(&c.service))]),
            // The callee's port by name: the pod's port, whatever its number
            // (a Service port may differ from it, and a policy sees the pod's).
            ports: Some(vec![NetworkPolicyPort {
                port: Some(IntOrString::String(c.port.clone())),
                protocol: Some(c.protocol.clone()),
                end_port: None,
            }]),
        });
    }
    for e in &net.egress {
        spans.insert(format!("/spec/egress/{}", rules.len()), e.span);
        rules.push(NetworkPolicyEgressRule {
            to: Some(endpoint(p, &e.to)),
            ports: e.port.as_ref().map(|n| {
                vec![NetworkPolicyPort {
                    port: Some(match n {
                        PortRef::Number(n) => IntOrString::Int(i32::from(*n)),
                        PortRef::Name(s) => IntOrString::String(s.clone()),
                    }),
                    protocol: Some(e.protocol.clone()),
                    end_port: None,
                }]
            }),
        });
    }
    rules
}

/// The peers of an `egress` or `ingress` line: its address ranges, or pods.
fn endpoint(p: &Plan, e: &PlanEndpoint) -> Vec<NetworkPolicyPeer> {
    match e {
        PlanEndpoint::Cidrs(cidrs) => cidrs
            .iter()
            .map(|c| NetworkPolicyPeer {
                ip_block: Some(IPBlock { cidr: c.clone(), except: None }),
                ..NetworkPolicyPeer::default()
            })
            .collect(),
        PlanEndpoint::Pods { namespace, labels } => vec![pods_in(p, namespace.as_deref(), labels)],
    }
}

/// One NetworkPolicy per job whose pods a policy covers, named like the
/// job's pods and selecting them: no ingress (nothing calls a job), egress
/// to the cluster DNS and what the service's and the job's own `egress`
/// lines name. The policy of a hook is a hook of the same phase, one wave
/// before the Job, so the Job runs under its new policy (a pre-sync
/// migration runs before the sync applies anything else).
///
/// A job gate's pods (Argo Rollouts runs them) are covered the same way;
/// they are labelled like a job of their name, so one policy serves each
/// name, the service's jobs' first.
pub(super) fn job_policies(p: &Plan) -> Vec<Object> {
    let mut seen = std::collections::BTreeSet::new();
    p.jobs
        .iter()
        .chain(p.delivery.iter().flat_map(crate::plan::PlanDelivery::jobs))
        .filter(|j| seen.insert(j.name.as_str()))
        .filter_map(|j| job_policy(p, j))
        .collect()
}

fn job_policy(p: &Plan, j: &PlanJob) -> Option<Object> {
    let net = j.network.as_ref()?;
    let jp = super::jobs::pod_plan(p, j);
    let mut spans = BTreeMap::new();
    let egress = egress(&jp, net, &mut spans);
    let mut metadata = meta(&jp, &j.name);
    if let Some(h) = &j.hook {
        let a = metadata.annotations.get_or_insert_with(BTreeMap::new);
        a.insert(super::jobs::HOOK.to_string(), h.phase.to_string());
        a.insert(super::jobs::HOOK_DELETE.to_string(), "BeforeHookCreation".to_string());
        a.insert(super::jobs::SYNC_WAVE.to_string(), (h.wave.unwrap_or(0) - 1).to_string());
    }
    let np = NetworkPolicy {
        metadata,
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(&jp)),
            policy_types: Some(vec!["Ingress".to_string(), "Egress".to_string()]),
            ingress: Some(Vec::new()),
            egress: Some(egress),
        }),
    };
    spans.insert("/spec".to_string(), net.span);
    let mut o = object(&j.name, p, &np, spans);
    o.origin = j.span;
    Some(o)
}
