//! `env` and `env-from` of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, kdl, s};

fn variable(v: &Value) -> Option<String> {
    let name = kdl::name(v.get("name")?.as_str()?);
    if let Some(x) = v.get("value") {
        return Some(format!("{name} {}", s(x.as_str()?)));
    }
    let from = v.get("valueFrom")?;
    let optional = |r: &Value| if r.get("optional") == Some(&Value::Bool(true)) { " optional=#true" } else { "" };
    if let Some(r) = from.get("secretKeyRef") {
        let (n, k) = (r.get("name")?.as_str()?, r.get("key")?.as_str()?);
        return Some(format!("{name} secret={} key={}{}", s(n), s(k), optional(r)));
    }
    if let Some(r) = from.get("configMapKeyRef") {
        let (n, k) = (r.get("name")?.as_str()?, r.get("key")?.as_str()?);
        return Some(format!("{name} config-map={} key={}{}", s(n), s(k), optional(r)));
    }
    let field = from.pointer("/fieldRef/fieldPath")?.as_str()?;
    Some(format!("{name} field={}", s(field)))
}

pub fn map(cx: &mut Cx) {
    let Some(c) = cx.at(CONTAINER) else { return };
    if let Some(t) = env(c) {
        cx.node("env", t);
        cx.claim(0, format!("{CONTAINER}/env"), "env");
    }
    if let Some(t) = env_from(c) {
        cx.node("env-from", t);
    }
    cx.claim(0, format!("{CONTAINER}/envFrom"), "env");
}

/// `env { … }` of a container.
pub fn env(c: &Value) -> Option<String> {
    let vars = c.get("env")?.as_array()?;
    let lines: Option<Vec<String>> = vars.iter().map(variable).collect();
    let lines = lines.filter(|l| !l.is_empty())?;
    let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
    Some(format!("env {{\n{}\n}}", body.join("\n")))
}

/// `env-from …` lines of a container.
pub fn env_from(c: &Value) -> Option<String> {
    let sources = c.get("envFrom")?.as_array()?;
    let mut lines = Vec::new();
    for src in sources {
        let prefix = src.get("prefix").and_then(Value::as_str).map(|x| format!(" prefix={}", s(x))).unwrap_or_default();
        let (prop, r) = match (src.get("secretRef"), src.get("configMapRef")) {
            (Some(r), None) => ("secret", r),
            (None, Some(r)) => ("config-map", r),
            _ => continue,
        };
        let Some(name) = r.get("name").and_then(Value::as_str) else { continue };
        let optional = if r.get("optional") == Some(&Value::Bool(true)) { " optional=#true" } else { "" };
        lines.push(format!("env-from {prop}={}{prefix}{optional}", s(name)));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}
