//! `port`: the container's ports and the Service (two with a progressive
//! delivery strategy) that reaches them by name.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerPort, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Object, meta, named, object};
use crate::plan::{Plan, PlanContainer, PlanName, PlanService, PlanServicePort};
use crate::source::Span;

/// A container's ports (at the JSON pointer `at`), each recorded at its
/// `port` line.
pub(super) fn container_ports(c: &PlanContainer, at: &str, prov: &mut BTreeMap<String, Span>) -> Vec<ContainerPort> {
    c.ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            prov.insert(format!("{at}/ports/{i}"), port.span);
            ContainerPort {
                name: Some(port.name.clone()),
                container_port: i32::from(port.number),
                protocol: Some(port.protocol.clone()),
                host_port: port.host_port.map(i32::from),
                ..ContainerPort::default()
            }
        })
        .collect()
}

/// The label on a Service an `expose` adds: the ServiceMonitor leaves it
/// out, so the service's metrics are scraped once, as the main Service.
pub(crate) const EXPOSE_LABEL: &str = "svcc.dev/expose";

/// The Services: the main one and, with a progressive delivery strategy,
/// its copy (preview or canary, always ClusterIP), then every `expose`.
/// Argo Rollouts adds the pod-template hash of the version each of the
/// first two should reach to their selectors; svcc writes the identity
/// selector, which is what both select between updates.
pub(super) fn services(p: &Plan) -> Vec<Object> {
    let mut out = Vec::new();
    for s in &p.services {
        out.push(service(p, s, &s.name));
        if s.extra {
            continue;
        }
        if let Some(second) = p.delivery.as_ref().and_then(|d| d.second_service.as_ref()) {
            let name = [&p.names.preview_service, p.names.canary_service.as_ref().unwrap_or(&p.names.service)]
                .into_iter()
                .find(|n| n.name == *second)
                .cloned()
                .unwrap_or_else(|| PlanName::derived(second.clone()));
            let copy = PlanService {
                type_: "ClusterIP".to_string(),
                external_traffic_policy: None,
                ports: s.ports.iter().map(|x| PlanServicePort { node_port: None, ..x.clone() }).collect(),
                ..s.clone()
            };
            out.push(service(p, &copy, &name));
        }
    }
    out
}

fn service(p: &Plan, s: &PlanService, name: &PlanName) -> Object {
    let mut prov = BTreeMap::new();
    let ports: Vec<ServicePort> = s
        .ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            prov.insert(format!("/spec/ports/{i}"), port.span);
            ServicePort {
                name: Some(port.name.clone()),
                port: i32::from(port.port),
                target_port: Some(match port.target_number {
                    Some(n) => IntOrString::Int(i32::from(n)),
                    None => IntOrString::String(port.target.clone()),
                }),
                protocol: Some(port.protocol.clone()),
                node_port: port.node_port.map(i32::from),
                ..ServicePort::default()
            }
        })
        .collect();
    if s.extra {
        prov.insert("/spec/type".to_string(), s.span);
    }
    let n = named(name, &mut prov);
    let mut metadata = meta(p, n);
    if s.extra {
        metadata.labels.get_or_insert_default().insert(EXPOSE_LABEL.to_string(), n.to_string());
    }
    let svc = Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(s.type_.clone()),
            cluster_ip: s.headless.then(|| "None".to_string()),
            external_traffic_policy: s.external_traffic_policy.clone(),
            selector: Some(p.service_selector.clone()),
            ports: super::non_empty(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    object(n, p, &svc, prov)
}
