//! `namespace`, `labels`, `annotations`, `pod-annotations`.

use serde_json::{Map, Value};

use super::{Cx, map_block, s};

/// Labels svcc derives itself (setting them is SVC0312).
const DERIVED: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
];
/// Annotations the API server or kubectl write.
const SERVER: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"];

fn without(m: &Map<String, Value>, drop: &[&str]) -> Map<String, Value> {
    m.iter().filter(|(k, _)| !drop.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub fn map(cx: &mut Cx) {
    if let Some(ns) = cx.text("/metadata/namespace") {
        cx.node("namespace", format!("namespace {}", s(ns)));
        for i in 0..cx.objects.len() {
            cx.claim(i, "/metadata/namespace", "metadata");
        }
    }
    let blocks = [
        ("/metadata/labels", "labels", DERIVED),
        ("/metadata/annotations", "annotations", SERVER),
        ("/spec/template/metadata/annotations", "pod-annotations", &[][..]),
    ];
    for (p, node, drop) in blocks {
        let Some(m) = cx.at(p).and_then(Value::as_object) else { continue };
        let mut m = without(m, drop);
        // `labels` and `annotations` go on every object (labels on the pods
        // too): only what all of them have is native, the rest is patched.
        if node != "pod-annotations" {
            let mut others: Vec<&Value> = cx.objects.iter().skip(1).map(|o| &o.value).collect();
            others.push(cx.workload());
            for o in others {
                let theirs = o.pointer(p).and_then(Value::as_object);
                m.retain(|k, v| theirs.is_some_and(|t| t.get(k) == Some(v)));
            }
            if node == "labels" {
                let pods = cx.at("/spec/template/metadata/labels").and_then(Value::as_object);
                m.retain(|k, v| pods.is_some_and(|t| t.get(k) == Some(v)));
            }
        }
        if m.is_empty() {
            continue;
        }
        if let Some(body) = map_block(&m) {
            cx.node(node, format!("{node} {body}"));
            cx.claim(0, p, "metadata");
            if node == "labels" {
                cx.claim(0, "/spec/template/metadata/labels", "metadata");
            }
        }
    }
}
