//! A pod spec (`core/validation.ValidatePodSpec`): containers, ports,
//! volumes and their mounts, environment names, probes, resources.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Sink, escape};
use crate::diagnostic::Code;
use crate::values;

/// The pod spec at `at` (`/spec/template/spec`).
pub(super) fn check(v: &Value, at: &str, sink: &mut Sink) {
    let Some(spec) = super::get(v, at) else {
        sink.push(Code::PodStructure, at, "it has no pod spec");
        return;
    };
    let containers = list(spec, "containers");
    if containers.is_empty() {
        sink.push(Code::PodStructure, format!("{at}/containers"), "its pod has no container")
            .help("a pod needs at least one container (`spec.containers: Required value`)");
    }
    let volumes: BTreeSet<&str> =
        list(spec, "volumes").iter().filter_map(|v| v.get("name").and_then(Value::as_str)).collect();
    let mut names = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for (group, items) in [("initContainers", list(spec, "initContainers")), ("containers", containers)] {
        for (i, c) in items.iter().enumerate() {
            let here = format!("{at}/{group}/{i}");
            container(c, &here, &volumes, &mut names, &mut ports, sink);
        }
    }
    unique_volumes(spec, at, sink);
}

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn unique_volumes(spec: &Value, at: &str, sink: &mut Sink) {
    let mut seen = BTreeSet::new();
    for (i, vol) in list(spec, "volumes").iter().enumerate() {
        let Some(name) = vol.get("name").and_then(Value::as_str) else { continue };
        if !seen.insert(name) {
            sink.push(Code::PodStructure, format!("{at}/volumes/{i}/name"), format!("two volumes are named `{name}`"));
        }
    }
}

/// One container: its name (unique in the pod), ports (names unique in the
/// pod), mounts of declared volumes at distinct paths, environment names,
/// probes and resources.
fn container(
    c: &Value,
    at: &str,
    volumes: &BTreeSet<&str>,
    names: &mut BTreeSet<String>,
    port_names: &mut BTreeSet<String>,
    sink: &mut Sink,
) {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    if let Err(why) = values::check_dns1123_label(name) {
        sink.push(Code::PodStructure, format!("{at}/name"), format!("the container name `{name}` {why}"));
    } else if !names.insert(name.to_string()) {
        sink.push(Code::PodStructure, format!("{at}/name"), format!("two containers are named `{name}`"));
    }
    let declared = container_ports(c, at, port_names, sink);
    mounts(c, at, volumes, sink);
    env_names(c, at, sink);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get(probe) {
            self::probe(p, &format!("{at}/{probe}"), probe, &declared, sink);
        }
    }
    resources(c, at, sink);
}

/// `validateContainerPorts`: 1–65535, names in IANA service syntax and
/// unique across the pod. Returns the container's port names and numbers.
fn container_ports(c: &Value, at: &str, pod_names: &mut BTreeSet<String>, sink: &mut Sink) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for (i, p) in list(c, "ports").iter().enumerate() {
        let here = format!("{at}/ports/{i}");
        let number = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&number) {
            sink.push(Code::PodStructure, format!("{here}/containerPort"), format!("port {number} is outside 1–65535"));
        }
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            out.push((String::new(), number));
            continue;
        };
        if let Err(why) = values::check_port_name(name) {
            sink.push(Code::PodStructure, format!("{here}/name"), format!("the port name `{name}` {why}"));
        } else if !pod_names.insert(name.to_string()) {
            sink.push(Code::PodStructure, format!("{here}/name"), format!("two ports of the pod are named `{name}`"));
        }
        out.push((name.to_string(), number));
    }
    out
}

/// `ValidateVolumeMounts`: every mount names a volume of the pod, at a
/// path no other mount of the container uses.
fn mounts(c: &Value, at: &str, volumes: &BTreeSet<&str>, sink: &mut Sink) {
    let mut paths = BTreeSet::new();
    for (i, m) in list(c, "volumeMounts").iter().enumerate() {
        let name = m.get("name").and_then(Value::as_str).unwrap_or("");
        if !volumes.contains(name) {
            sink.push(
                Code::PodStructure,
                format!("{at}/volumeMounts/{i}/name"),
                format!("a mount names the volume `{name}`, which the pod does not have"),
            );
        }
        let path = m.get("mountPath").and_then(Value::as_str).unwrap_or("");
        if !paths.insert(path) {
            sink.push(
                Code::PodStructure,
                format!("{at}/volumeMounts/{i}/mountPath"),
                format!("two mounts use the path `{path}`"),
            );
        }
    }
}

/// `validateEnv` (Kubernetes 1.33): names match `[-._a-zA-Z][-._a-zA-Z0-9]*`.
fn env_names(c: &Value, at: &str, sink: &mut Sink) {
    for (i, e) in list(c, "env").iter().enumerate() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or("");
        if let Err(why) = values::check_env_name(name) {
            sink.push(
                Code::PodStructure,
                format!("{at}/env/{i}/name"),
                format!("the environment variable name `{}` {why}", name.escape_debug()),
            );
        }
    }
}

/// `validateProbe`: thresholds at least 1, liveness and startup succeed
/// after one success; a named port must be one the container declares
/// (otherwise the kubelet fails the probe forever).
fn probe(p: &Value, at: &str, kind: &str, ports: &[(String, i64)], sink: &mut Sink) {
    for field in ["periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"] {
        if let Some(n) = p.get(field).and_then(Value::as_i64)
            && n < 1
        {
            sink.push(Code::PodStructure, format!("{at}/{field}"), format!("`{field}` is {n}, below 1"));
        }
    }
    if kind != "readinessProbe"
        && let Some(n) = p.get("successThreshold").and_then(Value::as_i64)
        && n != 1
    {
        sink.push(
            Code::PodStructure,
            format!("{at}/successThreshold"),
            format!("`successThreshold` of a {kind} must be 1, not {n}"),
        );
    }
    for handler in ["httpGet", "tcpSocket", "grpc"] {
        let Some(port) = p.get(handler).and_then(|h| h.get("port")) else { continue };
        let ok = match port {
            Value::String(name) => ports.iter().any(|(n, _)| n == name),
            Value::Number(n) => n.as_i64().is_some_and(|n| (1..=65535).contains(&n)),
            _ => false,
        };
        if !ok {
            sink.push(
                Code::PodStructure,
                format!("{at}/{handler}/port"),
                format!("the probe checks port {port}, which the container does not declare"),
            )
            .help("probe a port the container lists under `ports`");
        }
    }
}

/// `ValidateResourceRequirements`: each request at most its limit.
fn resources(c: &Value, at: &str, sink: &mut Sink) {
    let Some(requests) = super::get(c, "/resources/requests").and_then(Value::as_object) else { return };
    for (resource, req) in requests {
        let Some(limit) = super::get(c, "/resources/limits").and_then(|l| l.get(resource)) else { continue };
        let q = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let (Ok(r), Ok(l)) = (values::parse_quantity(&q(req)), values::parse_quantity(&q(limit))) else { continue };
        if r.millis > l.millis {
            sink.push(
                Code::LimitsBelowRequests,
                format!("{at}/resources/requests/{}", escape(resource)),
                format!("the {resource} request {} is above its limit {}", q(req), q(limit)),
            );
        }
    }
}
