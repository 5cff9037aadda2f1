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

/// `names { … }`: objects named other than the service keep their names
/// (and every reference to them follows).
fn names(cx: &mut Cx) {
    let mut children = Vec::new();
    let mut named = |cx: &Cx, i: usize, child: &str, out: &mut Vec<(usize, String)>| {
        let name = &cx.objects[i].name;
        let default = match child {
            "preview-service" | "canary-service" => format!("{}-{}", cx.service, &child[..child.len() - 8]),
            _ => cx.service.to_string(),
        };
        if *name != default {
            children.push(format!("{child} {}", s(name)));
            out.push((i, child.to_string()));
        }
    };
    let mut claimed = Vec::new();
    let rollout = |p: &str| cx.text(&format!("/spec/strategy/{p}"));
    let by_name = |n: &str| cx.objects.iter().position(|o| o.kind == "Service" && o.name == n);
    let main = rollout("blueGreen/activeService")
        .or_else(|| rollout("canary/stableService"))
        .and_then(by_name)
        .or_else(|| cx.first("Service").map(|(i, _)| i));
    if let Some(i) = main {
        named(cx, i, "service", &mut claimed);
    }
    if let Some(i) = rollout("blueGreen/previewService").and_then(by_name) {
        named(cx, i, "preview-service", &mut claimed);
    }
    if let Some(i) = rollout("canary/canaryService").and_then(by_name) {
        named(cx, i, "canary-service", &mut claimed);
    }
    for (kind, child) in [
        ("HorizontalPodAutoscaler", "autoscaler"),
        ("PodDisruptionBudget", "disruption-budget"),
        ("ServiceMonitor", "service-monitor"),
        ("PrometheusRule", "prometheus-rule"),
    ] {
        if let Some((i, _)) = cx.first(kind) {
            named(cx, i, child, &mut claimed);
        }
    }
    if children.is_empty() {
        return;
    }
    cx.node("names", format!("names {{ {} }}", children.join("; ")));
    for (i, _) in claimed {
        cx.claim(i, "/metadata/name", "metadata");
    }
}

pub fn map(cx: &mut Cx) {
    selector(cx, cx.harden);
    names(cx);
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
