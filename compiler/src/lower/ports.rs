//! `port`: the container's ports and the Service (two with a progressive
//! delivery strategy) that reaches them by name.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerPort, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Object, meta, object};
use crate::plan::{Plan, PlanContainer};
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

/// The Services of a service with ports: its own and, with a progressive
/// delivery strategy, the second one (preview or canary). Argo Rollouts
/// adds the pod-template hash of the version each Service should reach to
/// these selectors; svcc writes the identity selector, which is what both
/// Services select between updates.
pub(super) fn services(p: &Plan) -> Vec<Object> {
    if p.container.ports.is_empty() {
        return Vec::new();
    }
    let mut prov = BTreeMap::new();
    let ports: Vec<ServicePort> = p
        .container
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
    let mut names = vec![p.service.as_str()];
    if let Some(d) = &p.delivery {
        names.push(&d.second_service);
    }
    names
        .into_iter()
        .map(|n| {
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
            object(n, p, &svc, prov.clone())
        })
        .collect()
}
