//! `route`: an HTTPRoute or GRPCRoute (a Gateway's), or an Ingress, and
//! the cert-manager Certificate of its hosts.

use serde_json::Value;

use super::{Cx, s};

pub fn map(cx: &mut Cx) {
    let route = ["HTTPRoute", "GRPCRoute", "Ingress"].iter().find_map(|k| cx.first(k));
    let Some((i, r)) = route else { return };
    let mut lines = Vec::new();
    let (hosts, paths, port) = if cx.objects[i].kind == "Ingress" {
        let Some(entry) = ingress(r, &mut lines) else { return };
        entry
    } else {
        let Some(entry) = gateway(r, &mut lines) else { return };
        entry
    };
    if !hosts.is_empty() {
        lines.push(format!("host {}", hosts.iter().map(|h| s(h)).collect::<Vec<_>>().join(" ")));
    }
    // One `/` by prefix is the default.
    if paths != [("/".to_string(), false)] {
        for (p, exact) in &paths {
            lines.push(format!("path {}{}", s(p), if *exact { " match=\"exact\"" } else { "" }));
        }
    }
    if let Some(name) = port.and_then(|n| target(cx, n)) {
        lines.push(format!("port {}", s(&name)));
    }
    tls(cx, r, cx.objects[i].kind == "Ingress", &mut lines);
    cx.node("route", format!("route {{\n    {}\n}}", lines.join("\n    ")));
    cx.claim(i, "/spec", "route");
}

type Entry = (Vec<String>, Vec<(String, bool)>, Option<u64>);

/// `gateway NAME namespace= section=`; the hosts, paths and backend port.
fn gateway(r: &Value, lines: &mut Vec<String>) -> Option<Entry> {
    let [parent] = r.pointer("/spec/parentRefs")?.as_array()?.as_slice() else { return None };
    let mut line = format!("gateway {}", s(parent.get("name")?.as_str()?));
    for (field, prop) in [("namespace", "namespace"), ("sectionName", "section")] {
        if let Some(v) = parent.get(field).and_then(Value::as_str) {
            line.push_str(&format!(" {prop}={}", s(v)));
        }
    }
    lines.push(line);
    let hosts = strings(r.pointer("/spec/hostnames"));
    let [rule] = r.pointer("/spec/rules")?.as_array()?.as_slice() else { return None };
    let mut paths = Vec::new();
    for m in rule.get("matches").and_then(Value::as_array).into_iter().flatten() {
        let exact = m.pointer("/path/type")?.as_str()? == "Exact";
        paths.push((m.pointer("/path/value")?.as_str()?.to_string(), exact));
    }
    if paths.is_empty() {
        paths.push(("/".to_string(), false));
    }
    let port = rule.pointer("/backendRefs/0/port").and_then(Value::as_u64);
    Some((hosts, paths, port))
}

/// `ingress-class NAME`; the hosts, the first rule's paths and its backend port.
fn ingress(r: &Value, lines: &mut Vec<String>) -> Option<Entry> {
    lines.push(format!("ingress-class {}", s(r.pointer("/spec/ingressClassName")?.as_str()?)));
    let rules = r.pointer("/spec/rules")?.as_array()?;
    let hosts: Option<Vec<String>> =
        rules.iter().map(|x| x.get("host").and_then(Value::as_str).map(str::to_string)).collect();
    let first = rules.first()?.pointer("/http/paths")?.as_array()?;
    let paths: Option<Vec<(String, bool)>> = first
        .iter()
        .map(|p| Some((p.get("path")?.as_str()?.to_string(), p.get("pathType")?.as_str()? == "Exact")))
        .collect();
    let port = first.first()?.pointer("/backend/service/port/number").and_then(Value::as_u64);
    Some((hosts?, paths?, port))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

/// The declared port the main Service's port `number` forwards to.
fn target(cx: &Cx, number: u64) -> Option<String> {
    let svc = super::metadata::main_service(cx)?;
    let ports = cx.objects[svc].value.pointer("/spec/ports")?.as_array()?;
    let sp = ports.iter().find(|p| p.get("port").and_then(Value::as_u64) == Some(number))?;
    match sp.get("targetPort") {
        Some(Value::String(name)) => Some(name.clone()),
        _ => None,
    }
}

/// `tls issuer= issuer-kind= secret=` from the Certificate (and the
/// Ingress's secret; a Gateway's TLS is its listener's, SVC0725).
fn tls(cx: &mut Cx, r: &Value, ingress: bool, lines: &mut Vec<String>) {
    let secret = r.pointer("/spec/tls/0/secretName").and_then(Value::as_str);
    let mut line = String::from("tls");
    if let Some((i, c)) = cx.first("Certificate") {
        if let Some(n) = c.pointer("/spec/issuerRef/name").and_then(Value::as_str) {
            line.push_str(&format!(" issuer={}", s(n)));
        }
        match c.pointer("/spec/issuerRef/kind").and_then(Value::as_str) {
            Some("ClusterIssuer") | None => {}
            Some(k) => line.push_str(&format!(" issuer-kind={}", s(k))),
        }
        let secret = c.pointer("/spec/secretName").and_then(Value::as_str);
        if let Some(sn) = secret.filter(|sn| ingress && *sn != format!("{}-tls", cx.service)) {
            line.push_str(&format!(" secret={}", s(sn)));
        }
        cx.claim(i, "/spec", "route");
    } else if let Some(sn) = secret.filter(|sn| *sn != format!("{}-tls", cx.service)) {
        line.push_str(&format!(" secret={}", s(sn)));
    } else if secret.is_none() {
        return;
    }
    lines.push(line);
}
