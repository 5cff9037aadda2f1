//! `replicas`, `autoscale`, `disruption-budget`.

use serde_json::Value;

use super::{Cx, count, duration, quantity, s};

pub fn map(cx: &mut Cx) {
    let hpa = cx.first("HorizontalPodAutoscaler").or_else(|| cx.first("ScaledObject"));
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

/// The HPA's default request-rate metric (`requests-per-second`).
const REQUESTS: &str = "http_requests_per_second";

fn autoscale(cx: &mut Cx, i: usize, h: &Value) {
    let keda = cx.objects[i].kind == "ScaledObject";
    let (min, max) = if keda { ("minReplicaCount", "maxReplicaCount") } else { ("minReplicas", "maxReplicas") };
    let (Some(min), Some(max)) = (
        h.pointer(&format!("/spec/{min}")).and_then(Value::as_u64).or(Some(1)),
        h.pointer(&format!("/spec/{max}")).and_then(Value::as_u64),
    ) else {
        return;
    };
    let mut targets = Vec::new();
    if keda {
        let server = triggers(h, &mut targets);
        let engine = server.map(|u| format!(" prometheus={}", s(&u))).unwrap_or_default();
        cx.node("autoscale-engine", format!("autoscale-engine keda{engine}"));
    } else {
        metrics(h, &mut targets);
    }
    let behavior = if keda { "/spec/advanced/horizontalPodAutoscalerConfig/behavior" } else { "/spec/behavior" };
    for (field, node, default) in [("scaleUp", "scale-up", DEFAULT_UP), ("scaleDown", "scale-down", DEFAULT_DOWN)] {
        if let Some(line) = h.pointer(&format!("{behavior}/{field}")).and_then(|r| rules(node, r, default)) {
            targets.push(line);
        }
    }
    let body = if targets.is_empty() { String::new() } else { format!(" {{\n    {}\n}}", targets.join("\n    ")) };
    cx.node("autoscale", format!("autoscale min={min} max={max}{body}"));
    cx.claim(i, "/spec", "scaling");
}

/// The HPA's metrics: cpu and memory utilisation, per-pod averages.
fn metrics(h: &Value, targets: &mut Vec<String>) {
    for m in h.pointer("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
        let name = m.pointer("/resource/name").and_then(Value::as_str);
        let util = m.pointer("/resource/target/averageUtilization").and_then(Value::as_u64);
        if let (Some(n @ ("cpu" | "memory")), Some(u)) = (name, util) {
            targets.push(format!("{n} {u}"));
        }
        let metric = m.pointer("/pods/metric/name").and_then(Value::as_str);
        let value = m.pointer("/pods/target/averageValue").and_then(quantity);
        match (metric, value) {
            (Some(REQUESTS), Some(v)) => targets.push(format!("requests-per-second {v}")),
            (Some(n), Some(v)) => targets.push(format!("pods {} {v}", s(n))),
            _ => {}
        }
    }
}

/// KEDA's triggers as targets; the Prometheus server they query.
fn triggers(h: &Value, targets: &mut Vec<String>) -> Option<String> {
    let mut server = None;
    for t in h.pointer("/spec/triggers").and_then(Value::as_array).into_iter().flatten() {
        let meta = |k: &str| t.pointer(&format!("/metadata/{k}")).and_then(Value::as_str);
        match t.get("type").and_then(Value::as_str) {
            Some(r @ ("cpu" | "memory")) => {
                if let Some(v) = meta("value") {
                    targets.push(format!("{r} {v}"));
                }
            }
            Some("prometheus") => {
                let (Some(query), Some(threshold)) = (meta("query"), meta("threshold")) else { continue };
                server = meta("serverAddress").map(str::to_string);
                if query.starts_with("sum(rate(") {
                    targets.push(format!("requests-per-second {}", s(threshold)));
                } else if let Some(metric) = query.strip_prefix("sum(").and_then(|q| q.split('{').next()) {
                    targets.push(format!("pods {} {}", s(metric), s(threshold)));
                }
            }
            _ => {}
        }
    }
    server
}

/// svcc's default behaviour (docs/language.md#autoscale): nothing to say.
const DEFAULT_UP: &str = "scale-up stabilization=\"1m\" select=\"max\" { percent 50 per=\"1m\"; pods 2 per=\"1m\" }";
const DEFAULT_DOWN: &str = "scale-down stabilization=\"5m\" { percent 10 per=\"1m\" }";

/// `scale-up …` or `scale-down …` of one direction, `None` when it is svcc's default.
fn rules(node: &str, r: &Value, default: &str) -> Option<String> {
    let mut line = node.to_string();
    if let Some(n) = r.get("stabilizationWindowSeconds").and_then(Value::as_u64) {
        line.push_str(&format!(" stabilization={}", s(&duration(n))));
    }
    if let Some(p) = r.get("selectPolicy").and_then(Value::as_str) {
        line.push_str(&format!(" select={}", s(&p.to_ascii_lowercase())));
    }
    let mut policies = Vec::new();
    for p in r.get("policies").and_then(Value::as_array).into_iter().flatten() {
        let kind = match p.get("type").and_then(Value::as_str)? {
            "Percent" => "percent",
            "Pods" => "pods",
            _ => return None,
        };
        let (v, per) = (p.get("value")?.as_u64()?, p.get("periodSeconds")?.as_u64()?);
        policies.push(format!("{kind} {v} per={}", s(&duration(per))));
    }
    if !policies.is_empty() {
        line.push_str(&format!(" {{ {} }}", policies.join("; ")));
    }
    (line != default).then_some(line)
}
