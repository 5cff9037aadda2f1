//! `volumes`: scratch, config-map and secret volumes of the pod, each
//! mounted once in the first container.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, kdl, s};

fn volume(v: &Value, mounts: &[Value]) -> Option<String> {
    let name = v.get("name")?.as_str()?;
    let mut at = mounts.iter().filter(|m| m.get("name").and_then(Value::as_str) == Some(name));
    let mount = at.next()?;
    if at.next().is_some()
        || mount.as_object()?.keys().any(|k| !matches!(k.as_str(), "name" | "mountPath" | "readOnly"))
    {
        return None;
    }
    let mut line = format!("{} {}", kdl::name(name), s(mount.get("mountPath")?.as_str()?));
    if let Some(e) = v.get("emptyDir") {
        if let Some(q) = e.get("sizeLimit").and_then(Value::as_str) {
            line.push_str(&format!(" size-limit={}", s(q)));
        }
        if e.get("medium").and_then(Value::as_str) == Some("Memory") {
            line.push_str(" memory=#true");
        }
    } else if let Some(c) = v.get("configMap") {
        line.push_str(&format!(" config-map={}", s(c.get("name")?.as_str()?)));
    } else if let Some(c) = v.get("secret") {
        line.push_str(&format!(" secret={}", s(c.get("secretName")?.as_str()?)));
    } else {
        return None;
    }
    Some(line)
}

pub fn map(cx: &mut Cx) {
    let Some(vols) = cx.at(&format!("{POD}/volumes")).and_then(Value::as_array) else { return };
    let mounts = cx.at(&format!("{CONTAINER}/volumeMounts")).and_then(Value::as_array).cloned().unwrap_or_default();
    // All or nothing: the order of volumes and mounts follows the block.
    let lines: Option<Vec<String>> = vols.iter().map(|v| volume(v, &mounts)).collect();
    if let Some(lines) = lines.filter(|l| !l.is_empty() && l.len() == mounts.len()) {
        let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
        cx.node("volumes", format!("volumes {{\n{}\n}}", body.join("\n")));
        cx.claim(0, format!("{POD}/volumes"), "volumes");
        cx.claim(0, format!("{CONTAINER}/volumeMounts"), "volumes");
    }
}
