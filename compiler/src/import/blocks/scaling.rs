//! `replicas`, `autoscale`, `disruption-budget`.

use serde_json::Value;

use super::{Cx, count};

pub fn map(cx: &mut Cx) {
    let hpa = cx.first("HorizontalPodAutoscaler");
    match cx.at("/spec/replicas").and_then(Value::as_u64) {
        Some(n) if hpa.is_none() => cx.node("replicas", format!("replicas {n}")),
        // Kubernetes' default when the field is absent.
        None if hpa.is_none() => cx.node("replicas", "replicas 1"),
        _ => {}
    }
    cx.claim(0, "/spec/replicas", "scaling");
    if let Some((i, h)) = hpa {
        autoscale(cx, i, h);
    }
    if let Some((i, pdb)) = cx.first("PodDisruptionBudget") {
        for (field, prop) in [("maxUnavailable", "max-unavailable"), ("minAvailable", "min-available")] {
            if let Some(v) = pdb.pointer(&format!("/spec/{field}")).and_then(count) {
                cx.node("disruption-budget", format!("disruption-budget {prop}={v}"));
                cx.claim(i, format!("/spec/{field}"), "scaling");
                cx.claim(i, "/spec/selector", "scaling");
                break;
            }
        }
    }
}

fn autoscale(cx: &mut Cx, i: usize, h: &Value) {
    let (Some(min), Some(max)) = (
        h.pointer("/spec/minReplicas").and_then(Value::as_u64).or(Some(1)),
        h.pointer("/spec/maxReplicas").and_then(Value::as_u64),
    ) else {
        return;
    };
    let mut targets = Vec::new();
    for m in h.pointer("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
        let name = m.pointer("/resource/name").and_then(Value::as_str);
        let util = m.pointer("/resource/target/averageUtilization").and_then(Value::as_u64);
        if let (Some(n @ ("cpu" | "memory")), Some(u)) = (name, util) {
            targets.push(format!("{n} {u}"));
        }
    }
    let body = if targets.is_empty() { String::new() } else { format!(" {{ {} }}", targets.join("; ")) };
    cx.node("autoscale", format!("autoscale min={min} max={max}{body}"));
    for p in ["/spec/minReplicas", "/spec/maxReplicas", "/spec/metrics", "/spec/scaleTargetRef"] {
        cx.claim(i, p, "scaling");
    }
}
