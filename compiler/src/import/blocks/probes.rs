//! `probes`: startup, liveness and readiness of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, s, secs};

fn probe(kind: &str, p: &Value) -> Option<String> {
    let mut head = if let Some(h) = p.get("httpGet") {
        let mut t = format!("{kind} {}", s(h.get("path").and_then(Value::as_str).unwrap_or("/")));
        if let Some(port) = h.get("port").and_then(Value::as_str) {
            t.push_str(&format!(" port={}", s(port)));
        }
        if let Some(scheme) = h.get("scheme").and_then(Value::as_str) {
            t.push_str(&format!(" scheme={}", s(scheme)));
        }
        t
    } else if let Some(t) = p.get("tcpSocket") {
        let port = t.get("port").and_then(Value::as_str).map(|x| format!(" port={}", s(x))).unwrap_or_default();
        format!("{kind} tcp{port}")
    } else if let Some(e) = p.pointer("/exec/command").and_then(Value::as_array) {
        let words: Option<Vec<String>> = e.iter().map(|v| v.as_str().map(s)).collect();
        format!("{kind} exec {}", words?.join(" "))
    } else if p.get("grpc").is_some() {
        format!("{kind} grpc")
    } else {
        return None;
    };
    for (field, prop) in
        [("initialDelaySeconds", "initial-delay"), ("periodSeconds", "period"), ("timeoutSeconds", "timeout")]
    {
        if let Some(v) = p.get(field).and_then(secs) {
            head.push_str(&format!(" {prop}={v}"));
        }
    }
    for (field, prop) in [("failureThreshold", "failure-threshold"), ("successThreshold", "success-threshold")] {
        if let Some(v) = p.get(field).and_then(Value::as_u64) {
            head.push_str(&format!(" {prop}={v}"));
        }
    }
    Some(head)
}

pub fn map(cx: &mut Cx) {
    let mut lines = Vec::new();
    let has_ports = cx.at(&format!("{CONTAINER}/ports")).is_some();
    for (field, kind) in [("startupProbe", "startup"), ("livenessProbe", "liveness"), ("readinessProbe", "readiness")] {
        let path = format!("{CONTAINER}/{field}");
        match cx.at(&path).and_then(|p| probe(kind, p)) {
            Some(line) => {
                lines.push(format!("    {line}"));
                cx.claim(0, path, "probes");
            }
            // No readiness probe in the input: none in the output either.
            None if kind == "readiness" && has_ports => lines.push("    readiness #false".into()),
            None => {}
        }
    }
    if !lines.is_empty() {
        cx.node("probes", format!("probes {{\n{}\n}}", lines.join("\n")));
    }
}
