//! `port`: the first container's ports and the Service in front of them.

use serde_json::Value;

use super::{CONTAINER, Cx, kdl, s};

/// A port name svcc accepts for an unnamed port.
fn name_for(number: u64, protocol: &str) -> String {
    match (number, protocol) {
        (80 | 8080 | 3000 | 5000 | 8000, "TCP") => format!("http-{number}"),
        _ => format!("{}-{number}", protocol.to_ascii_lowercase()),
    }
}

pub fn map(cx: &mut Cx) {
    let Some(ports) = cx.at(&format!("{CONTAINER}/ports")).and_then(Value::as_array) else { return };
    let service = cx.first("Service");
    let svc_ports: Vec<Value> =
        service.and_then(|(_, v)| v.pointer("/spec/ports").and_then(Value::as_array).cloned()).unwrap_or_default();
    // One node for all ports: their order decides the default probe and
    // metrics port, so environments must not split them.
    let mut lines = Vec::new();
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
        if protocol != "TCP" {
            text.push_str(&format!(" protocol={}", s(protocol)));
        }
        lines.push(text);
    }
    if !lines.is_empty() {
        cx.node("port", lines.join("\n"));
    }
    cx.claim(0, format!("{CONTAINER}/ports"), "ports");
    if let Some((i, _)) = service {
        cx.claim(i, "/spec/ports", "ports");
        cx.claim(i, "/spec/type", "ports");
        cx.claim(i, "/spec/selector", "ports");
    }
}
