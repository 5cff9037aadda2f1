//! `container-name`, and the pod's other containers: `container` (a
//! sidecar; `sidecar=#true` for a native one) and `init-container`, each
//! with the container settings a service has.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, command, env, image, kdl, ports, probes, resources, s, volumes};

pub fn map(cx: &mut Cx) {
    let Some(name) = cx.text(&format!("{CONTAINER}/name")) else { return };
    // The default is the service's name: no node needed.
    if name != cx.service {
        cx.node("container-name", format!("container-name {}", s(name)));
    }
    cx.claim(0, format!("{CONTAINER}/name"), "containers");
    let vols = cx.at(&format!("{POD}/volumes")).and_then(Value::as_array).cloned().unwrap_or_default();
    // Volumes the service's container mounts: the others mount them by name.
    let mut shared = Vec::new();
    if let Some(c) = cx.at(CONTAINER) {
        let _ = volumes::lines(&vols, c, &mut shared);
    }
    let inits = cx.at(&format!("{POD}/initContainers")).and_then(Value::as_array).cloned().unwrap_or_default();
    for (k, c) in inits.iter().enumerate() {
        let sidecar = c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
        let node = if sidecar { "container" } else { "init-container" };
        if let Some(text) = container(node, c, sidecar, &vols, &mut shared) {
            cx.node(format!("{node} {k}"), text);
            cx.claim(0, format!("{POD}/initContainers/{k}"), "containers");
        }
    }
    let others = cx.at(&format!("{POD}/containers")).and_then(Value::as_array).cloned().unwrap_or_default();
    for (k, c) in others.iter().enumerate().skip(1) {
        if let Some(text) = container("container", c, false, &vols, &mut shared) {
            cx.node(format!("container {k}"), text);
            cx.claim(0, format!("{POD}/containers/{k}"), "containers");
        }
    }
}

/// The tag of another container's image when the input has none or
/// `latest` (which svcc refuses: SVC0306): a patch writes the input's image.
pub const PLACEHOLDER_TAG: &str = "svcc-import-placeholder";

/// `image …` of another container; a refused tag gives way to a placeholder.
fn image(c: &Value) -> Option<String> {
    let text = image::text(c)?;
    let refused = |t: &str| t.starts_with("tag=\"latest\"");
    match text.split_once(" tag=") {
        _ if text.contains(" digest=") => Some(text),
        Some((_, rest)) if !refused(&format!("tag={rest}")) => Some(text),
        Some((head, rest)) => {
            let after = rest.split_once(' ').map(|(_, a)| format!(" {a}")).unwrap_or_default();
            Some(format!("{head} tag={}{after}", s(PLACEHOLDER_TAG)))
        }
        None => {
            let (head, after) = text.split_once(" pull-policy=").map_or((text.as_str(), String::new()), |(h, p)| (h, format!(" pull-policy={p}")));
            Some(format!("{head} tag={}{after}", s(PLACEHOLDER_TAG)))
        }
    }
}

/// `container NAME { … }` or `init-container NAME { … }`.
fn container(node: &str, c: &Value, sidecar: bool, vols: &[Value], shared: &mut Vec<String>) -> Option<String> {
    let name = c.get("name")?.as_str()?;
    let mut body = vec![image(c)?];
    body.extend(ports::lines(c));
    body.extend(resources::text(c));
    body.extend(probes::text(c, false));
    body.extend(env::env(c));
    body.extend(env::env_from(c));
    body.extend(command::texts(c).into_iter().map(|(_, t)| t));
    if c.get("volumeMounts").is_some() {
        body.push(volumes::block(&volumes::lines(vols, c, shared)?));
    }
    let head = format!("{node} {}{}", kdl::name(name), if sidecar { " sidecar=#true" } else { "" });
    let body: Vec<String> = body.iter().map(|l| l.replace('\n', "\n    ")).collect();
    Some(format!("{head} {{\n    {}\n}}", body.join("\n    ")))
}
