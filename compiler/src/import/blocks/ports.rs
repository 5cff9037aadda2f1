//! `port`: the first container's ports and the Service in front of them.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, kdl, s};

/// A port name svcc accepts for an unnamed port.
fn name_for(number: u64, protocol: &str) -> String {
    match (number, protocol) {
        (80 | 8080 | 3000 | 5000 | 8000, "TCP") => format!("http-{number}"),
        _ => format!("{}-{number}", protocol.to_ascii_lowercase()),
    }
}

/// A container port as the spec names it.
struct Declared {
    name: String,
    number: u64,
    protocol: String,
}

/// `port NAME NUMBER …` of another container (not in the Service).
pub fn lines(c: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
        let Some(number) = p.get("containerPort").and_then(Value::as_u64) else { continue };
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let name = p.get("name").and_then(Value::as_str).map_or_else(|| name_for(number, protocol), str::to_string);
        let mut text = format!("port {} {number}", kdl::name(&name));
        suffix(&mut text, p, protocol);
        out.push(text);
    }
    out
}

/// `protocol=` and `host-port=` of a port.
fn suffix(text: &mut String, p: &Value, protocol: &str) {
    if protocol != "TCP" {
        text.push_str(&format!(" protocol={}", s(protocol)));
    }
    if let Some(h) = p.get("hostPort").and_then(Value::as_u64) {
        text.push_str(&format!(" host-port={h}"));
    }
}

/// The sidecars' ports (a Service may forward to them), as `lines` names them.
fn sidecars(cx: &Cx) -> Vec<Declared> {
    let pod = |f: &str| cx.at(&format!("{POD}/{f}")).and_then(Value::as_array).cloned().unwrap_or_default();
    let inits = pod("initContainers");
    let natives = inits.iter().filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"));
    let mut out = Vec::new();
    for c in pod("containers").iter().skip(1).chain(natives) {
        for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            let Some(number) = p.get("containerPort").and_then(Value::as_u64) else { continue };
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let name = p.get("name").and_then(Value::as_str).map_or_else(|| name_for(number, protocol), str::to_string);
            out.push(Declared { name, number, protocol: protocol.to_string() });
        }
    }
    out
}

pub fn map(cx: &mut Cx) {
    let none = Vec::new();
    let ports = cx.at(&format!("{CONTAINER}/ports")).and_then(Value::as_array).unwrap_or(&none);
    let service = super::metadata::main_service(cx).map(|i| (i, &cx.objects[i].value));
    let svc_ports: Vec<Value> =
        service.and_then(|(_, v)| v.pointer("/spec/ports").and_then(Value::as_array).cloned()).unwrap_or_default();
    // One node for all ports: their order decides the default probe and
    // metrics port, so environments must not split them.
    let mut lines = Vec::new();
    let mut declared = Vec::new();
    for p in ports {
        let Some(number) = p.get("containerPort").and_then(Value::as_u64) else { continue };
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let own = p.get("name").and_then(Value::as_str);
        let target = svc_ports.iter().find(|sp| {
            let t = sp.get("targetPort");
            (own.is_some() && t.and_then(Value::as_str) == own)
                || t.and_then(Value::as_u64) == Some(number)
                || (t.is_none() && sp.get("port").and_then(Value::as_u64) == Some(number))
        });
        // An unnamed container port takes the name of the Service port in front of it.
        let name = own
            .or_else(|| target.and_then(|sp| sp.get("name")).and_then(Value::as_str))
            .map_or_else(|| name_for(number, protocol), str::to_string);
        let mut text = format!("port {} {number}", kdl::name(&name));
        if let Some(sp) = target
            && let Some(port) = sp.get("port").and_then(Value::as_u64)
            && port != number
        {
            text.push_str(&format!(" service-port={port}"));
        }
        suffix(&mut text, p, protocol);
        lines.push(text);
        declared.push(Declared { name, number, protocol: protocol.to_string() });
    }
    if !lines.is_empty() {
        cx.node("port", lines.join("\n"));
    }
    cx.claim(0, format!("{CONTAINER}/ports"), "ports");
    let mut targets: Vec<Declared> = declared
        .iter()
        .map(|d| Declared { name: d.name.clone(), number: d.number, protocol: d.protocol.clone() })
        .collect();
    targets.extend(sidecars(cx));
    if let Some((i, v)) = service {
        // Named like the main Service (`names { service … }` keeps its name).
        if let Some(text) = shape(&cx.objects[i].name, v, &declared, &targets, false) {
            cx.node("expose", text);
        }
        for p in ["/spec/ports", "/spec/type", "/spec/selector", "/spec/clusterIP", "/spec/externalTrafficPolicy"] {
            cx.claim(i, p, "ports");
        }
        extras(cx, i, &declared, &targets);
    }
}

/// Every further Service of the workload (not the main one, nor a
/// Rollout's preview or canary Service) is an `expose NAME`.
fn extras(cx: &mut Cx, main: usize, declared: &[Declared], targets: &[Declared]) {
    let rollout: Vec<&str> = ["/spec/strategy/blueGreen/previewService", "/spec/strategy/canary/canaryService"]
        .iter()
        .filter_map(|p| cx.text(p))
        .collect();
    for i in 0..cx.objects.len() {
        let o = &cx.objects[i];
        if o.kind != "Service" || i == main || rollout.contains(&o.name.as_str()) {
            continue;
        }
        if let Some(text) = shape(&o.name, &o.value, declared, targets, true) {
            cx.node(format!("expose {}", o.name), text);
            for p in ["/spec/ports", "/spec/type", "/spec/clusterIP", "/spec/externalTrafficPolicy"] {
                cx.claim(i, p, "ports");
            }
        }
    }
}

/// `expose NAME { port … }` shaping the main Service, when its ports are not
/// one per container port (two Service ports to one container port, other
/// names, a subset) or it is not a plain ClusterIP Service; `None` when the
/// `port` nodes already generate it or it cannot be said natively (a
/// target no container port declares). A further Service (`extra`) is
/// always an `expose`.
fn shape(service: &str, svc: &Value, declared: &[Declared], targets: &[Declared], extra: bool) -> Option<String> {
    let kind = svc.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
    let headless = svc.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    let policy = svc.pointer("/spec/externalTrafficPolicy").and_then(Value::as_str);
    let none = Vec::new();
    let ports = svc.pointer("/spec/ports").and_then(Value::as_array).unwrap_or(&none);
    let mut children = Vec::new();
    let mut plain = kind == "ClusterIP" && !headless && policy.is_none() && ports.len() == declared.len();
    for (k, sp) in ports.iter().enumerate() {
        let port = sp.get("port").and_then(Value::as_u64)?;
        let protocol = sp.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let target = match sp.get("targetPort") {
            Some(Value::String(n)) => targets.iter().find(|d| d.name == *n),
            Some(Value::Number(n)) => targets.iter().find(|d| Some(d.number) == n.as_u64() && d.protocol == protocol),
            None => targets.iter().find(|d| d.number == port && d.protocol == protocol),
            _ => None,
        }?;
        let name = sp.get("name").and_then(Value::as_str).unwrap_or(&target.name);
        // A number stays a number (`targetPort: 8080`), a name a name.
        let by_number = matches!(sp.get("targetPort"), Some(Value::Number(_)));
        let to = if by_number { target.number.to_string() } else { s(&target.name) };
        let mut text = format!("port {} {port} target={to}", kdl::name(name));
        plain &= !by_number;
        if let Some(n) = sp.get("nodePort").and_then(Value::as_u64) {
            text.push_str(&format!(" node-port={n}"));
            plain = false;
        }
        // The default: the k-th container port, under its own name.
        plain &= declared.get(k).is_some_and(|d| d.name == name && d.name == target.name);
        children.push(text);
    }
    if !extra && (plain || children.is_empty()) {
        return None;
    }
    let mut head = format!("expose {}", s(service));
    if kind != "ClusterIP" {
        head.push_str(&format!(" type={}", s(kind)));
    }
    if headless {
        head.push_str(" headless=#true");
    }
    if let Some(p) = policy {
        head.push_str(&format!(" external-traffic-policy={}", s(p)));
    }
    // A headless Service without ports forwards every port.
    if children.is_empty() {
        return Some(head);
    }
    Some(format!("{head} {{\n{}\n}}", children.join("\n")))
}
