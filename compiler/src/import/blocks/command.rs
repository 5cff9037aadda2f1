//! `command` and `args` of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    let Some(c) = cx.at(CONTAINER) else { return };
    for (node, text) in texts(c) {
        cx.node(node, text);
        cx.claim(0, format!("{CONTAINER}/{node}"), "command");
    }
}

/// `command …` and `args …` of a container.
pub fn texts(c: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for node in ["command", "args"] {
        let Some(items) = c.get(node).and_then(Value::as_array) else { continue };
        let words: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(s)).collect();
        if let Some(words) = words.filter(|w| !w.is_empty()) {
            out.push((node, format!("{node} {}", words.join(" "))));
        }
    }
    out
}
