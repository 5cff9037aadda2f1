//! `namespace`, `labels`, `annotations`, `pod-annotations`, `object`,
//! `selector`, `names`.

use serde_json::{Map, Value};

use super::{Cx, kdl, map_block, s};

/// Labels svcc derives itself (setting them is SVC0312).
const DERIVED: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
];
/// The label of the app's version: `version`, or one object's in `object`.
const VERSION: &str = "app.kubernetes.io/version";
/// The labels svcc derives that no `object` may say.
const DERIVED_BUT_VERSION: &[&str] =
    &["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"];
/// Labels svcc writes on some objects by itself: an `expose` Service's name.
const ADDED: &[&str] = &["svcc.dev/expose"];
/// svcc's identity selector labels.
const IDENTITY: &[&str] = &["app.kubernetes.io/name", "app.kubernetes.io/instance"];
/// Annotations the API server or kubectl write.
const SERVER: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"];

fn without(m: &Map<String, Value>, drop: &[&str]) -> Map<String, Value> {
    m.iter().filter(|(k, _)| !drop.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// The workload's plain `matchLabels` selector, when `selector` can say it.
fn match_labels<'a>(cx: &Cx<'a>) -> Option<&'a Map<String, Value>> {
    let sel = cx.at("/spec/selector").and_then(Value::as_object)?;
    // Only a plain `matchLabels` selector is a `selector` node.
    if cx.harden || sel.len() != 1 {
        return None;
    }
    let m = sel.get("matchLabels").and_then(Value::as_object).filter(|m| !m.is_empty())?;
    // svcc's own identity selector needs no node.
    let identity =
        m.len() == IDENTITY.len() && IDENTITY.iter().all(|k| m.get(*k).and_then(Value::as_str) == Some(cx.service));
    (!identity).then_some(m)
}

/// `selector { … }`: the workload's selector, kept as given (a Deployment's
/// selector is immutable). A label the Services do not select (bookinfo's
/// `version`) is `service=#false`. With `--harden` svcc's identity
/// selector stays.
fn selector(cx: &mut Cx) {
    let Some(m) = match_labels(cx) else { return };
    let services: Vec<(usize, &Map<String, Value>)> = (0..cx.objects.len())
        .filter(|&i| cx.objects[i].kind == "Service")
        .filter_map(|i| Some((i, cx.objects[i].value.pointer("/spec/selector")?.as_object()?)))
        .collect();
    // The Services' selector: what they all select, when it is a part of
    // the workload's (else each stays a patch).
    let narrower = services
        .first()
        .map(|(_, sel)| *sel)
        .filter(|sel| services.iter().all(|(_, o)| o == sel))
        .filter(|sel| !sel.is_empty() && sel.len() < m.len() && sel.iter().all(|(k, v)| m.get(k) == Some(v)));
    let mut parts = Vec::new();
    for (k, v) in m {
        let Some(v) = v.as_str() else { return };
        let off = narrower.is_some_and(|sel| !sel.contains_key(k));
        parts.push(format!("{} {}{}", kdl::name(k), s(v), if off { " service=#false" } else { "" }));
    }
    cx.node("selector", format!("selector {{ {} }}", parts.join("; ")));
    cx.claim(0, "/spec/selector", "metadata");
    // The pods carry the selector labels (the disruption budget's selector
    // is its block's claim).
    for k in m.keys() {
        cx.claim(0, format!("/spec/template/metadata/labels/{}", escape(k)), "metadata");
    }
    if narrower.is_some() {
        for (i, _) in services {
            cx.claim(i, "/spec/selector", "metadata");
        }
    }
}

/// The main Service: blue-green's active or canary's stable Service, or
/// the first Service (the one named like the workload first).
pub fn main_service(cx: &Cx) -> Option<usize> {
    let rollout = |p: &str| cx.text(&format!("/spec/strategy/{p}"));
    rollout("blueGreen/activeService")
        .or_else(|| rollout("canary/stableService"))
        .and_then(|n| service_named(cx, n))
        .or_else(|| cx.first("Service").map(|(i, _)| i))
}

fn service_named(cx: &Cx, name: &str) -> Option<usize> {
    cx.objects.iter().position(|o| o.kind == "Service" && o.name == name)
}

/// What `object` calls input object `i`: `workload`, `service`, an
/// `expose` name, …
fn object_key(cx: &Cx, i: usize) -> Option<String> {
    let o = &cx.objects[i];
    let rollout = |p: &str| cx.text(&format!("/spec/strategy/{p}"));
    let word = match o.kind.as_str() {
        _ if i == 0 => "workload",
        "Service" if main_service(cx) == Some(i) => "service",
        "Service" if rollout("blueGreen/previewService") == Some(&o.name) => "preview-service",
        "Service" if rollout("canary/canaryService") == Some(&o.name) => "canary-service",
        "Service" => return Some(o.name.clone()),
        "ServiceAccount" => "service-account",
        "HorizontalPodAutoscaler" | "ScaledObject" => "autoscaler",
        "PodDisruptionBudget" => "disruption-budget",
        "ServiceMonitor" => "service-monitor",
        "PrometheusRule" => "prometheus-rule",
        _ => return None,
    };
    // Only the first of a kind is the one svcc generates.
    (o.kind == "Service" || i == 0 || cx.first(&o.kind).map(|(j, _)| j) == Some(i)).then(|| word.to_string())
}

/// `names { … }`: objects named other than the service keep their names
/// (and every reference to them follows).
fn names(cx: &mut Cx) {
    let mut children = Vec::new();
    let mut claimed = Vec::new();
    let mut named = |cx: &Cx, i: usize, child: &str| {
        let name = &cx.objects[i].name;
        let default = match child {
            "preview-service" | "canary-service" => format!("{}-{}", cx.service, &child[..child.len() - 8]),
            _ => cx.service.to_string(),
        };
        if *name != default {
            children.push(format!("{child} {}", s(name)));
            claimed.push(i);
        }
    };
    named(cx, 0, "workload");
    let rollout = |p: &str| cx.text(&format!("/spec/strategy/{p}"));
    if let Some(i) = main_service(cx) {
        named(cx, i, "service");
    }
    if let Some(i) = rollout("blueGreen/previewService").and_then(|n| service_named(cx, n)) {
        named(cx, i, "preview-service");
    }
    if let Some(i) = rollout("canary/canaryService").and_then(|n| service_named(cx, n)) {
        named(cx, i, "canary-service");
    }

    for (kind, child) in [
        ("HorizontalPodAutoscaler", "autoscaler"),
        ("ScaledObject", "autoscaler"),
        ("PodDisruptionBudget", "disruption-budget"),
        ("ServiceMonitor", "service-monitor"),
        ("PrometheusRule", "prometheus-rule"),
    ] {
        if let Some((i, _)) = cx.first(kind) {
            named(cx, i, child);
        }
    }
    // A canary without a canary Service is replica-weighted.
    if cx.at("/spec/strategy/canary").is_some() && cx.text("/spec/strategy/canary/canaryService").is_none() {
        children.push("canary-service #false".into());
    }
    if children.is_empty() {
        return;
    }
    cx.node("names", format!("names {{ {} }}", children.join("; ")));
    for i in claimed {
        cx.claim(i, "/metadata/name", "metadata");
    }
}

/// `version "…"`: the pods' version label, when it is not the image tag
/// svcc would write. The version svcc then writes on the workload and its
/// pods (`None`: none).
fn version<'a>(cx: &mut Cx<'a>) -> Option<&'a str> {
    let pods = cx.text(&format!("/spec/template/metadata/labels/{}", escape(VERSION)));
    let own = pods.or_else(|| cx.text(&format!("/metadata/labels/{}", escape(VERSION))));
    let tag = cx.at(super::CONTAINER).and_then(super::image::tag);
    let tag = tag.filter(|t| crate::values::check_label_value(t).is_ok());
    let Some(v) = own.filter(|v| Some(*v) != tag && !v.is_empty() && crate::values::check_label_value(v).is_ok())
    else {
        return tag;
    };
    cx.node("version", format!("version {}", s(v)));
    if pods.is_some() {
        cx.claim(0, format!("/spec/template/metadata/labels/{}", escape(VERSION)), "metadata");
    }
    if cx.text(&format!("/metadata/labels/{}", escape(VERSION))) == Some(v) {
        cx.claim(0, format!("/metadata/labels/{}", escape(VERSION)), "metadata");
    }
    Some(v)
}

pub fn map(cx: &mut Cx) {
    selector(cx);
    names(cx);
    let version = version(cx);
    if let Some(ns) = cx.text("/metadata/namespace") {
        cx.node("namespace", format!("namespace {}", s(ns)));
        for i in 0..cx.objects.len() {
            cx.claim(i, "/metadata/namespace", "metadata");
        }
    }
    let labels = common(cx, "/metadata/labels", DERIVED);
    let annotations = common(cx, "/metadata/annotations", SERVER);
    let mut per_object: Vec<(String, Vec<String>)> = Vec::new();
    for i in 0..cx.objects.len() {
        let Some(key) = object_key(cx, i) else { continue };
        let mut body = Vec::new();
        for (p, node, shared, drop) in [
            ("/metadata/labels", "labels", &labels, DERIVED_BUT_VERSION),
            ("/metadata/annotations", "annotations", &annotations, SERVER),
        ] {
            let Some(m) = cx.objects[i].value.pointer(p).and_then(Value::as_object) else { continue };
            let mut own = without(&without(m, drop), ADDED);
            // The version svcc writes on the workload needs no `object`;
            // another object's, or another value, does.
            let svcc = if i == 0 { version } else { None };
            own.retain(|k, v| {
                k != VERSION
                    || (v.as_str() != svcc
                        && v.as_str().is_some_and(|v| !v.is_empty() && crate::values::check_label_value(v).is_ok()))
            });
            // `metrics prometheus-labels` says the ServiceMonitor's and the PrometheusRule's.
            let prometheus = if node == "labels" { super::monitoring::prometheus_labels(cx) } else { Map::new() };
            own.retain(|k, v| {
                shared.get(k) != Some(v) && !(node == "labels" && selected(cx, k, v)) && prometheus.get(k) != Some(v)
            });
            if let Some(b) = Some(own).filter(|o| !o.is_empty()).and_then(|o| map_block(&o)) {
                body.push(format!("{node} {b}"));
                let keys: Vec<String> = m.keys().filter(|k| !shared.contains_key(*k)).map(|k| escape(k)).collect();
                for k in keys {
                    cx.claim(i, format!("{p}/{k}"), "metadata");
                }
            }
        }
        if !body.is_empty() {
            per_object.push((key, body));
        }
    }
    for (node, m) in [("labels", &labels), ("annotations", &annotations)] {
        if let Some(body) = Some(m).filter(|m| !m.is_empty()).and_then(map_block) {
            cx.node(node, format!("{node} {body}"));
            cx.claim(0, format!("/metadata/{node}"), "metadata");
            if node == "labels" {
                cx.claim(0, "/spec/template/metadata/labels", "metadata");
            }
        }
    }
    if let Some(body) = cx
        .at("/spec/template/metadata/annotations")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .and_then(map_block)
    {
        cx.node("pod-annotations", format!("pod-annotations {body}"));
        cx.claim(0, "/spec/template/metadata/annotations", "metadata");
    }
    for (key, body) in per_object {
        cx.node(format!("object {key}"), format!("object {} {{\n    {}\n}}", s(&key), body.join("\n    ")));
    }
}

/// Whether `selector` puts `k: v` on every object already.
fn selected(cx: &Cx, k: &str, v: &Value) -> bool {
    match_labels(cx).is_some_and(|m| m.get(k) == Some(v))
}

/// The entries every object carries alike (labels: the pods too): what
/// `labels` and `annotations`, which go on every object, can say.
fn common(cx: &Cx, p: &str, drop: &[&str]) -> Map<String, Value> {
    let Some(m) = cx.at(p).and_then(Value::as_object) else { return Map::new() };
    let mut m = without(m, drop);
    for o in &cx.objects[1..] {
        let theirs = o.value.pointer(p).and_then(Value::as_object);
        m.retain(|k, v| theirs.is_some_and(|t| t.get(k) == Some(v)));
    }
    if p == "/metadata/labels" {
        let pods = cx.at("/spec/template/metadata/labels").and_then(Value::as_object);
        m.retain(|k, v| pods.is_some_and(|t| t.get(k) == Some(v)) && !selected(cx, k, v));
    }
    m
}
