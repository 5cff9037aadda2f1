//! `probes`: the container's liveness, readiness and startup probes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ExecAction, GRPCAction, HTTPGetAction, HTTPHeader, Probe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::i32_of;
use crate::model::ProbeKind;
use crate::plan::{PlanContainer, PlanProbe, PlanProbeHandler};
use crate::source::Span;

/// Set a container's probes (at the JSON pointer `at`), each recorded at
/// its `probes` line.
pub(super) fn add_probes(c: &PlanContainer, at: &str, container: &mut Container, prov: &mut BTreeMap<String, Span>) {
    for pp in &c.probes {
        let (field, slot) = match pp.kind {
            ProbeKind::Liveness => ("livenessProbe", &mut container.liveness_probe),
            ProbeKind::Readiness => ("readinessProbe", &mut container.readiness_probe),
            ProbeKind::Startup => ("startupProbe", &mut container.startup_probe),
        };
        prov.insert(format!("{at}/{field}"), pp.span);
        *slot = Some(probe(pp));
    }
}

fn probe(pp: &PlanProbe) -> Probe {
    Probe {
        initial_delay_seconds: if pp.initial_delay > 0 { Some(i32_of(pp.initial_delay)) } else { None },
        period_seconds: Some(i32_of(pp.period)),
        timeout_seconds: Some(i32_of(pp.timeout)),
        failure_threshold: Some(i32::try_from(pp.failure_threshold).unwrap_or(i32::MAX)),
        success_threshold: if pp.kind == ProbeKind::Readiness && pp.success_threshold != 1 {
            Some(i32::try_from(pp.success_threshold).unwrap_or(i32::MAX))
        } else {
            None
        },
        ..handler(&pp.handler)
    }
}

/// A probe with only its check set.
fn handler(h: &PlanProbeHandler) -> Probe {
    match h {
        PlanProbeHandler::Http { path, port, scheme, headers } => Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.clone()),
                port: port_ref(port),
                scheme: scheme.clone(),
                http_headers: super::non_empty(
                    headers
                        .iter()
                        .map(|(name, value)| HTTPHeader { name: name.clone(), value: value.clone() })
                        .collect(),
                ),
                ..HTTPGetAction::default()
            }),
            ..Probe::default()
        },
        PlanProbeHandler::Tcp { port } => Probe {
            tcp_socket: Some(TCPSocketAction { port: port_ref(port), ..TCPSocketAction::default() }),
            ..Probe::default()
        },
        PlanProbeHandler::Grpc { port, service } => {
            Probe { grpc: Some(GRPCAction { port: i32::from(*port), service: service.clone() }), ..Probe::default() }
        }
        PlanProbeHandler::Exec(cmd) => {
            Probe { exec: Some(ExecAction { command: Some(cmd.clone()) }), ..Probe::default() }
        }
    }
}

/// A probe's port: by name, or by number when the spec gave one (`port=8080`).
fn port_ref(port: &str) -> IntOrString {
    port.parse::<i32>().map_or_else(|_| IntOrString::String(port.to_string()), IntOrString::Int)
}
