//! `resources`: requests and limits of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, quantity};

pub fn map(cx: &mut Cx) {
    let mut lines = Vec::new();
    for part in ["requests", "limits"] {
        let Some(m) = cx.at(&format!("{CONTAINER}/resources/{part}")).and_then(Value::as_object) else { continue };
        let props: Vec<String> = ["cpu", "memory", "ephemeral-storage"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(quantity).map(|q| format!("{k}={q}")))
            .collect();
        if !props.is_empty() {
            lines.push(format!("    {part} {}", props.join(" ")));
        }
    }
    if !lines.is_empty() {
        cx.node("resources", format!("resources {{\n{}\n}}", lines.join("\n")));
        cx.claim(0, format!("{CONTAINER}/resources"), "resources");
    }
}
