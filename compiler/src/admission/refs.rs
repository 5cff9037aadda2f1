//! What objects of one environment say about each other: Services, PDBs
//! and ServiceMonitors select what they serve, the HPA scales a workload
//! that exists, a Rollout names Services and AnalysisTemplates that exist.

use serde_json::Value;

use super::{Sink, selects, str_at, string_map};
use crate::diagnostic::Code;
use crate::lower::{Kind, Object};

pub(super) fn check(obj: &Object, all: &[Object], sink: &mut Sink) {
    let workload = all.iter().find(|o| matches!(o.kind, Kind::Deployment | Kind::Rollout));
    match obj.kind {
        Kind::Service | Kind::PodDisruptionBudget => selects_pods(obj, workload, sink),
        Kind::HorizontalPodAutoscaler => scale_target(obj, all, sink),
        Kind::ServiceMonitor => monitor_targets(obj, all, sink),
        Kind::Rollout => rollout_refs(obj, all, sink),
        _ => {}
    }
}

/// A Service's or PDB's selector selects the workload's pods (svcc derives
/// both from the service; a patch can break that), and a Service's named
/// target ports are ports the pods declare.
fn selects_pods(obj: &Object, workload: Option<&Object>, sink: &mut Sink) {
    let Some(w) = workload else { return };
    let (pointer, selector) = match obj.kind {
        Kind::Service => ("/spec/selector", string_map(&obj.value, "/spec/selector")),
        _ => ("/spec/selector/matchLabels", string_map(&obj.value, "/spec/selector/matchLabels")),
    };
    let labels = string_map(&w.value, "/spec/template/metadata/labels");
    if !selector.is_empty() && !selects(&selector, &labels) {
        sink.push(
            Code::SelectorMismatch,
            pointer,
            format!("its selector does not select the pods of {} `{}`", w.kind.as_str(), w.name),
        )
        .help("it would route to (or protect) no pod of this service");
    }
    if obj.kind != Kind::Service {
        return;
    }
    let declared: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .filter_map(|g| super::get(&w.value, &format!("/spec/template/spec/{g}")).and_then(Value::as_array))
        .flatten()
        .flat_map(|c| c.get("ports").and_then(Value::as_array).map_or(&[][..], Vec::as_slice))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    let ports = super::get(&obj.value, "/spec/ports").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for (i, p) in ports.iter().enumerate() {
        if let Some(Value::String(target)) = p.get("targetPort")
            && !declared.contains(&target.as_str())
        {
            sink.push(
                Code::ServicePorts,
                format!("/spec/ports/{i}/targetPort"),
                format!("its target port `{target}` is not a port of the pods of {} `{}`", w.kind.as_str(), w.name),
            );
        }
    }
}

/// `ValidateService`: with several ports each has a name, names are
/// unique, and no two share a port number and protocol.
pub(super) fn check_service_ports(obj: &Object, sink: &mut Sink) {
    let ports = super::get(&obj.value, "/spec/ports").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let mut names = Vec::new();
    let mut numbers = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        if ports.len() > 1 && name.is_empty() {
            sink.push(Code::ServicePorts, format!("/spec/ports/{i}"), "a Service with several ports must name each");
        } else if !name.is_empty() && names.contains(&name) {
            sink.push(Code::ServicePorts, format!("/spec/ports/{i}/name"), format!("two ports are named `{name}`"));
        }
        names.push(name);
        let number = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        if !(1..=65535).contains(&number) {
            sink.push(Code::ServicePorts, format!("/spec/ports/{i}/port"), format!("port {number} is outside 1–65535"));
        } else if numbers.contains(&(number, protocol)) {
            sink.push(
                Code::ServicePorts,
                format!("/spec/ports/{i}/port"),
                format!("two ports use {number}/{protocol}"),
            );
        }
        numbers.push((number, protocol));
    }
}

/// The HPA scales a workload of this environment, by kind and name.
fn scale_target(obj: &Object, all: &[Object], sink: &mut Sink) {
    let kind = str_at(&obj.value, "/spec/scaleTargetRef/kind").unwrap_or("");
    let name = str_at(&obj.value, "/spec/scaleTargetRef/name").unwrap_or("");
    if !all.iter().any(|o| o.kind.as_str() == kind && o.name == name) {
        sink.push(
            Code::DanglingReference,
            "/spec/scaleTargetRef",
            format!("it scales {kind} `{name}`, which this environment does not have"),
        );
    }
}

/// A ServiceMonitor selects a Service of this environment and scrapes
/// ports that Service names.
fn monitor_targets(obj: &Object, all: &[Object], sink: &mut Sink) {
    let selector = string_map(&obj.value, "/spec/selector/matchLabels");
    let services: Vec<&Object> = all
        .iter()
        .filter(|o| o.kind == Kind::Service && selects(&selector, &string_map(&o.value, "/metadata/labels")))
        .collect();
    if services.is_empty() {
        sink.push(Code::SelectorMismatch, "/spec/selector", "its selector matches no Service of this environment")
            .help("Prometheus would scrape nothing, and every alert on this service would stay silent");
        return;
    }
    let endpoints = super::get(&obj.value, "/spec/endpoints").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for (i, e) in endpoints.iter().enumerate() {
        let Some(port) = e.get("port").and_then(Value::as_str) else { continue };
        let named = services.iter().any(|s| {
            s.value
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(port)))
        });
        if !named {
            sink.push(
                Code::DanglingReference,
                format!("/spec/endpoints/{i}/port"),
                format!("it scrapes the port `{port}`, which the selected Service does not name"),
            );
        }
    }
}

/// Argo Rollouts' `ValidateRolloutStrategy…`: distinct Services that
/// exist, both Services with a traffic router, analysis templates that
/// exist, weights within 0–100.
fn rollout_refs(obj: &Object, all: &[Object], sink: &mut Sink) {
    let v = &obj.value;
    let service = |name: &str| all.iter().any(|o| o.kind == Kind::Service && o.name == name);
    for (a, b) in
        [("blueGreen/activeService", "blueGreen/previewService"), ("canary/stableService", "canary/canaryService")]
    {
        let (pa, pb) = (format!("/spec/strategy/{a}"), format!("/spec/strategy/{b}"));
        let (na, nb) = (str_at(v, &pa), str_at(v, &pb));
        if na.is_some() && na == nb {
            sink.push(Code::RolloutStructure, pb.clone(), format!("`{b}` is the same Service as `{a}`"));
        }
        for (p, n) in [(pa, na), (pb, nb)] {
            if let Some(n) = n
                && !service(n)
            {
                sink.push(
                    Code::RolloutStructure,
                    p,
                    format!("it names the Service `{n}`, which this environment does not have"),
                );
            }
        }
    }
    // `requireCanaryStableServices`: a traffic router needs both Services.
    if super::get(v, "/spec/strategy/canary/trafficRouting").is_some() {
        for f in ["stableService", "canaryService"] {
            if str_at(v, &format!("/spec/strategy/canary/{f}")).is_none_or(str::is_empty) {
                sink.push(
                    Code::RolloutStructure,
                    format!("/spec/strategy/canary/{f}"),
                    format!("`trafficRouting` needs `{f}`: Argo Rollouts refuses the Rollout without it"),
                );
            }
        }
    }
    let mut refs = Vec::new();
    template_refs(v, "", &mut refs);
    for (at, name) in refs {
        match all.iter().find(|o| o.kind == Kind::AnalysisTemplate && o.name == name) {
            Some(t) => arguments(v, &at, t, sink),
            None => {
                sink.push(
                    Code::RolloutStructure,
                    at,
                    format!("it runs the AnalysisTemplate `{name}`, which this environment does not have"),
                );
            }
        }
    }
    let steps = super::get(v, "/spec/strategy/canary/steps").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for (i, s) in steps.iter().enumerate() {
        if let Some(w) = s.get("setWeight").and_then(Value::as_i64)
            && !(0..=100).contains(&w)
        {
            sink.push(
                Code::RolloutStructure,
                format!("/spec/strategy/canary/steps/{i}/setWeight"),
                format!("a weight of {w}% is outside 0–100"),
            );
        }
    }
}

/// Argo Rollouts' `ResolveArgs` ("argument was not supplied"): every
/// argument of the template without a value of its own is one the
/// Rollout passes, beside the reference at `at` (`…/templates/N/templateName`).
fn arguments(v: &Value, at: &str, template: &Object, sink: &mut Sink) {
    let Some(base) = at.rsplitn(4, '/').nth(3) else { return };
    let passed = super::get(v, &format!("{base}/args")).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let declared = super::get(&template.value, "/spec/args").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for arg in declared.iter().filter(|a| a.get("value").is_none() && a.get("valueFrom").is_none()) {
        let Some(name) = arg.get("name").and_then(Value::as_str) else { continue };
        if !passed.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(name)) {
            sink.push(
                Code::RolloutStructure,
                format!("{base}/args"),
                format!(
                    "the AnalysisTemplate `{}` needs the argument `{name}`, which the Rollout does not pass",
                    template.name
                ),
            )
            .help("Argo Rollouts fails the analysis when it starts");
        }
    }
}

/// Every `templateName` under the strategy, with its pointer.
fn template_refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let here = format!("{at}/{}", super::escape(k));
                if k == "templateName"
                    && let Some(n) = child.as_str()
                {
                    if at.contains("/strategy/") {
                        out.push((here, n.to_string()));
                    }
                } else {
                    template_refs(child, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                template_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
