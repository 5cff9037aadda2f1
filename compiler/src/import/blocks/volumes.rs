//! `volumes`: scratch, config-map and secret volumes of the pod, each
//! entry one mount of a container, in the order the container mounts them.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, kdl, s};

/// A volume's source as properties and children (`config-map="…"
/// optional=#true { key "path" }`), or `None` when svcc cannot say it.
fn source(v: &Value) -> Option<String> {
    let mut out = String::new();
    let (inner, items) = if let Some(e) = v.get("emptyDir") {
        if e.as_object()?.keys().any(|k| !matches!(k.as_str(), "sizeLimit" | "medium")) {
            return None;
        }
        if let Some(q) = e.get("sizeLimit").and_then(Value::as_str) {
            out.push_str(&format!(" size-limit={}", s(q)));
        }
        match e.get("medium").and_then(Value::as_str) {
            Some("Memory") => out.push_str(" memory=#true"),
            None | Some("") => {}
            Some(_) => return None,
        }
        return Some(out);
    } else if let Some(c) = v.get("configMap") {
        out.push_str(&format!(" config-map={}", s(c.get("name")?.as_str()?)));
        (c, c.get("items"))
    } else if let Some(c) = v.get("secret") {
        out.push_str(&format!(" secret={}", s(c.get("secretName")?.as_str()?)));
        (c, c.get("items"))
    } else {
        return None;
    };
    if inner.as_object()?.keys().any(|k| !matches!(k.as_str(), "name" | "secretName" | "items" | "optional")) {
        return None;
    }
    // svcc writes `optional` only when true.
    if inner.get("optional").and_then(Value::as_bool) == Some(true) {
        out.push_str(" optional=#true");
    }
    if let Some(items) = items {
        let mut lines = Vec::new();
        for it in items.as_array()? {
            let (key, path) = (it.get("key")?.as_str()?, it.get("path")?.as_str()?);
            if it.as_object()?.len() != 2 {
                return None;
            }
            lines.push(if key == path { s(key) } else { format!("{} {}", s(key), s(path)) });
        }
        out.push_str(&format!(" {{ {} }}", lines.join("; ")));
    }
    Some(out)
}

/// One container's `volumes { … }` body: one line per mount, in mount
/// order. A volume an earlier container declared is mounted again by name
/// and path (`shared`); `None` when a mount or its volume has no form.
pub fn lines(vols: &[Value], c: &Value, shared: &mut Vec<String>) -> Option<Vec<String>> {
    let mounts = c.get("volumeMounts").and_then(Value::as_array)?;
    let mut out = Vec::new();
    let mut mine: Vec<&str> = Vec::new();
    for m in mounts {
        if m.as_object()?.keys().any(|k| !matches!(k.as_str(), "name" | "mountPath" | "readOnly")) {
            return None;
        }
        let name = m.get("name")?.as_str()?;
        // One mount per volume and container.
        if mine.contains(&name) {
            return None;
        }
        mine.push(name);
        let path = m.get("mountPath")?.as_str()?;
        let mut line = format!("{} {}", kdl::name(name), s(path));
        let v = vols.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(name))?;
        if !shared.iter().any(|x| x == name) {
            line.push_str(&source(v)?);
        }
        // svcc mounts secrets and config maps read-only and says so; a
        // scratch folder's mount has no `readOnly` unless the spec says.
        let scratch = v.get("emptyDir").is_some();
        match m.get("readOnly").and_then(Value::as_bool) {
            Some(true) if scratch => line.push_str(" read-only=#true"),
            Some(false) => line.push_str(" read-only=#false"),
            _ => {}
        }
        out.push(line);
    }
    shared.extend(mine.iter().map(|n| n.to_string()));
    Some(out)
}

/// `volumes { … }` from body lines.
pub fn block(lines: &[String]) -> String {
    let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
    format!("volumes {{\n{}\n}}", body.join("\n"))
}

pub fn map(cx: &mut Cx) {
    let Some(vols) = cx.at(&format!("{POD}/volumes")).and_then(Value::as_array) else { return };
    let Some(c) = cx.at(CONTAINER) else { return };
    let mut shared = Vec::new();
    if let Some(lines) = lines(vols, c, &mut shared).filter(|l| !l.is_empty()) {
        cx.node("volumes", block(&lines));
        cx.claim(0, format!("{POD}/volumes"), "volumes");
        cx.claim(0, format!("{CONTAINER}/volumeMounts"), "volumes");
    }
}
