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

/// `container NAME { … }` or `init-container NAME { … }`.
fn container(node: &str, c: &Value, sidecar: bool, vols: &[Value], shared: &mut Vec<String>) -> Option<String> {
    let name = c.get("name")?.as_str()?;
    let mut body = vec![image::text(c, false)?];
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
