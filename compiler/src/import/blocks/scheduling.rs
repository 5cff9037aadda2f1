//! `node-selector` and `tolerations`.

use serde_json::Value;

use super::{Cx, POD, kdl, map_block, s};

fn toleration(t: &Value) -> Option<String> {
    let m = t.as_object()?;
    if m.keys().any(|k| !matches!(k.as_str(), "key" | "operator" | "value" | "effect" | "tolerationSeconds")) {
        return None;
    }
    let mut line = match m.get("key").and_then(Value::as_str) {
        Some(k) => kdl::name(k),
        None => "\"*\"".into(),
    };
    if let Some(v) = m.get("value").and_then(Value::as_str) {
        line.push_str(&format!(" {}", s(v)));
    }
    if let Some(o) = m.get("operator").and_then(Value::as_str).filter(|_| m.contains_key("key")) {
        line.push_str(&format!(" operator={}", s(o)));
    }
    if let Some(e) = m.get("effect").and_then(Value::as_str) {
        line.push_str(&format!(" effect={}", s(e)));
    }
    if let Some(n) = m.get("tolerationSeconds").and_then(Value::as_u64) {
        line.push_str(&format!(" seconds={n}"));
    }
    Some(line)
}

pub fn map(cx: &mut Cx) {
    if let Some(body) =
        cx.at(&format!("{POD}/nodeSelector")).and_then(Value::as_object).filter(|m| !m.is_empty()).and_then(map_block)
    {
        cx.node("node-selector", format!("node-selector {body}"));
        cx.claim(0, format!("{POD}/nodeSelector"), "scheduling");
    }
    let Some(ts) = cx.at(&format!("{POD}/tolerations")).and_then(Value::as_array) else { return };
    let lines: Option<Vec<String>> = ts.iter().map(toleration).collect();
    if let Some(lines) = lines.filter(|l| !l.is_empty()) {
        let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
        cx.node("tolerations", format!("tolerations {{\n{}\n}}", body.join("\n")));
        cx.claim(0, format!("{POD}/tolerations"), "scheduling");
    }
}
