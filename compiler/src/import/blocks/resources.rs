//! `resources`: requests and limits of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, quantity};

pub fn map(cx: &mut Cx) {
    if let Some(t) = cx.at(CONTAINER).and_then(text) {
        cx.node("resources", t);
        cx.claim(0, format!("{CONTAINER}/resources"), "resources");
    }
}

/// `resources { … }` of a container.
pub fn text(c: &Value) -> Option<String> {
    let mut lines = Vec::new();
    for part in ["requests", "limits"] {
        let Some(m) = c.pointer(&format!("/resources/{part}")).and_then(Value::as_object) else { continue };
        let props: Vec<String> = ["cpu", "memory", "ephemeral-storage"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(quantity).map(|q| format!("{k}={q}")))
            .collect();
        if !props.is_empty() {
            lines.push(format!("    {part} {}", props.join(" ")));
        }
    }
    (!lines.is_empty()).then(|| format!("resources {{\n{}\n}}", lines.join("\n")))
}
