//! `namespace`, `labels`, `annotations`, `pod-annotations`, `selector`.

use serde_json::{Map, Value};

use super::{Cx, map_block, s};

/// Labels svcc derives itself (setting them is SVC0312).
const DERIVED: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
];
/// svcc's identity selector labels.
const IDENTITY: &[&str] = &["app.kubernetes.io/name", "app.kubernetes.io/instance"];
/// Annotations the API server or kubectl write.
const SERVER: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"];

fn without(m: &Map<String, Value>, drop: &[&str]) -> Map<String, Value> {
    m.iter().filter(|(k, _)| !drop.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `selector { … }`: the workload's selector, kept as given (a Deployment's
/// selector is immutable). With `--harden` svcc's identity selector stays.
fn selector(cx: &mut Cx, harden: bool) {
    let Some(sel) = cx.at("/spec/selector").and_then(Value::as_object) else { return };
    // Only a plain `matchLabels` selector is a `selector` node.
    if harden || sel.len() != 1 {
        return;
    }
    let Some(m) = sel.get("matchLabels").and_then(Value::as_object).filter(|m| !m.is_empty()) else { return };
    // svcc's own identity selector needs no node.
    if m.keys().all(|k| IDENTITY.contains(&k.as_str())) {
        return;
    }
    let Some(body) = map_block(m) else { return };
    cx.node("selector", format!("selector {body}"));
    cx.claim(0, "/spec/selector", "metadata");
    // The pods carry the selector labels (the Service's and disruption
    // budget's selectors are their blocks' claims).
    for k in m.keys() {
        let k = k.replace('~', "~0").replace('/', "~1");
        cx.claim(0, format!("/spec/template/metadata/labels/{k}"), "metadata");
    }
}

pub fn map(cx: &mut Cx) {
    selector(cx, cx.harden);
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
