//! `probes`: startup, liveness and readiness of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, s, secs};

/// ` port=NAME` or ` port=NUMBER`, as the input refers to it.
fn port(h: &Value) -> String {
    match h.get("port") {
        Some(Value::String(x)) => format!(" port={}", s(x)),
        Some(Value::Number(n)) => format!(" port={n}"),
        _ => String::new(),
    }
}

fn probe(kind: &str, p: &Value, ports: &[(String, u64)]) -> Option<String> {
    let mut head = if let Some(h) = p.get("httpGet") {
        let mut t = format!("{kind} {}", s(h.get("path").and_then(Value::as_str).unwrap_or("/")));
        t.push_str(&port(h));
        if let Some(scheme) = h.get("scheme").and_then(Value::as_str) {
            t.push_str(&format!(" scheme={}", s(scheme)));
        }
        t
    } else if let Some(t) = p.get("tcpSocket") {
        format!("{kind} tcp{}", port(t))
    } else if let Some(e) = p.pointer("/exec/command").and_then(Value::as_array) {
        let words: Option<Vec<String>> = e.iter().map(|v| v.as_str().map(s)).collect();
        format!("{kind} exec {}", words?.join(" "))
    } else if let Some(g) = p.get("grpc") {
        let service =
            g.get("service").and_then(Value::as_str).map(|x| format!(" service={}", s(x))).unwrap_or_default();
        // A gRPC probe's port is a number: the declared port of that number, by name.
        let number = g.get("port").and_then(Value::as_u64);
        let name = ports.iter().find(|(_, n)| Some(*n) == number).map(|(name, _)| format!(" port={}", s(name)));
        format!("{kind} grpc{}{service}", name.unwrap_or_default())
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
    // An HTTP probe's headers, one `header NAME VALUE` child each.
    let headers = p.pointer("/httpGet/httpHeaders").and_then(Value::as_array).map(|hs| {
        hs.iter()
            .map(|h| Some(format!("header {} {}", s(h.get("name")?.as_str()?), s(h.get("value")?.as_str()?))))
            .collect::<Option<Vec<String>>>()
    });
    match headers {
        Some(Some(hs)) if !hs.is_empty() => Some(format!("{head} {{ {} }}", hs.join("; "))),
        Some(_) => None,
        None => Some(head),
    }
}

const FIELDS: [(&str, &str); 3] =
    [("startupProbe", "startup"), ("livenessProbe", "liveness"), ("readinessProbe", "readiness")];

pub fn map(cx: &mut Cx) {
    let Some(c) = cx.at(CONTAINER) else { return };
    if let Some(t) = text(c, true) {
        cx.node("probes", t);
    }
    for (field, kind) in FIELDS {
        if c.get(field).is_some_and(|p| probe(kind, p, &[]).is_some()) {
            cx.claim(0, format!("{CONTAINER}/{field}"), "probes");
        }
    }
}

/// `probes { … }` of a container; the service's own (`main`) gets a
/// readiness probe by default, so none in the input is `readiness #false`.
pub fn text(c: &Value, main: bool) -> Option<String> {
    let mut lines = Vec::new();
    let has_ports = c.get("ports").is_some();
    let ports: Vec<(String, u64)> = c
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("name")?.as_str()?.to_string(), p.get("containerPort")?.as_u64()?)))
        .collect();
    for (field, kind) in FIELDS {
        match c.get(field).and_then(|p| probe(kind, p, &ports)) {
            Some(line) => lines.push(format!("    {line}")),
            // No readiness probe in the input: none in the output either.
            None if main && kind == "readiness" && has_ports => lines.push("    readiness #false".into()),
            None => {}
        }
    }
    (!lines.is_empty()).then(|| format!("probes {{\n{}\n}}", lines.join("\n")))
}
