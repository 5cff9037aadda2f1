//! `command` and `args` of the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, s};

pub fn map(cx: &mut Cx) {
    for (field, node) in [("command", "command"), ("args", "args")] {
        let p = format!("{CONTAINER}/{field}");
        let Some(items) = cx.at(&p).and_then(Value::as_array) else { continue };
        let words: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(s)).collect();
        if let Some(words) = words.filter(|w| !w.is_empty()) {
            cx.node(node, format!("{node} {}", words.join(" ")));
            cx.claim(0, p, "command");
        }
    }
}
