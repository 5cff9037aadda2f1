//! `port`: the container's ports and the Service (two with a progressive
//! delivery strategy) that reaches them by name.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerPort, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::workload::CONTAINER;
use super::{Object, meta, object};
use crate::plan::Plan;
use crate::source::Span;

/// The container's ports, each recorded at its `port` line.
pub(super) fn container_ports(p: &Plan, prov: &mut BTreeMap<String, Span>) -> Vec<ContainerPort> {
    p.ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            prov.insert(format!("{CONTAINER}/ports/{i}"), port.span);
            ContainerPort {
                name: Some(port.name.clone()),
                container_port: i32::from(port.number),
                protocol: Some(port.protocol.clone()),
                ..ContainerPort::default()
            }
        })
        .collect()
}

/// The Services of a service with ports: its own and, with a progressive
/// delivery strategy, the second one (preview or canary). Argo Rollouts
/// adds the pod-template hash of the version each Service should reach to
/// these selectors; svcc writes the identity selector, which is what both
/// Services select between updates.
pub(super) fn services(p: &Plan) -> Vec<Object> {
    if p.ports.is_empty() {
        return Vec::new();
    }
    let mut prov = BTreeMap::new();
    let ports: Vec<ServicePort> = p
        .ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            prov.insert(format!("/spec/ports/{i}"), port.span);
            ServicePort {
                name: Some(port.name.clone()),
                port: i32::from(port.service_port),
                target_port: Some(IntOrString::String(port.name.clone())),
                protocol: Some(port.protocol.clone()),
                ..ServicePort::default()
            }
        })
        .collect();
    let mut names = vec![(p.names.service.name.as_str(), p.names.service.span)];
    if let Some(second) = p.delivery.as_ref().and_then(|d| d.second_service.as_ref()) {
        let span = [&p.names.preview_service, &p.names.canary_service.clone().unwrap_or(p.names.service.clone())]
            .into_iter()
            .find(|n| n.name == *second)
            .and_then(|n| n.span);
        names.push((second, span));
    }
    names
        .into_iter()
        .map(|(n, span)| {
            let mut prov = prov.clone();
            if let Some(span) = span {
                prov.insert("/metadata/name".to_string(), span);
            }
            let svc = Service {
                metadata: meta(p, n),
                spec: Some(ServiceSpec {
                    type_: Some("ClusterIP".to_string()),
                    selector: Some(p.selector.clone()),
                    ports: Some(ports.clone()),
                    ..ServiceSpec::default()
                }),
                ..Service::default()
            };
            object(n, p, &svc, prov)
        })
        .collect()
}
