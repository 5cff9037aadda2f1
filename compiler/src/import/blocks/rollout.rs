//! `blue-green` and `canary`: a Rollout workload. The strategy's shape is
//! native (promotion, steps, surge, traffic, which gates run where); each
//! gate block is read back from its AnalysisTemplate (`analysis.rs`), or
//! written as a success-rate gate that a patch gives the input's metrics.

use serde_json::Value;

use super::{Cx, count, s};

mod analysis;

const BG: &str = "/spec/strategy/blueGreen";
const CANARY: &str = "/spec/strategy/canary";

pub fn map(cx: &mut Cx) {
    if cx.objects[0].kind != "Rollout" {
        return;
    }
    if cx.at(BG).is_some() {
        blue_green(cx);
    } else if cx.at(CANARY).is_some() {
        canary(cx);
    }
}

fn blue_green(cx: &mut Cx) {
    let mut body = Vec::new();
    let at = |f: &str| format!("{BG}/{f}");
    let auto = cx.at(&at("autoPromotionEnabled")).and_then(Value::as_bool);
    let after = cx.at(&at("autoPromotionSeconds")).and_then(Value::as_u64);
    match (auto, after) {
        (Some(false), _) => body.push("auto-promote #false".to_string()),
        (_, Some(n)) => body.push(format!("auto-promote after={}", s(&super::duration(n)))),
        _ => {}
    }
    if let Some(n) = cx.at(&at("scaleDownDelaySeconds")).and_then(Value::as_u64) {
        body.push(format!("rollback-window {}", s(&super::duration(n))));
    }
    if let Some(n) = cx.at(&at("previewReplicaCount")).and_then(Value::as_u64) {
        body.push(format!("preview-replicas {n}"));
    }
    for (field, node) in [("prePromotionAnalysis", "pre-promotion"), ("postPromotionAnalysis", "post-promotion")] {
        let default = format!("{}-{node}", cx.service);
        if let Some(a) = cx.at(&at(field))
            && let Some(g) = analysis::gates(cx, a, &at(field), (&default, false))
        {
            body.push(format!("{node} {g}"));
        }
    }
    for f in ["autoPromotionEnabled", "autoPromotionSeconds", "scaleDownDelaySeconds", "previewReplicaCount"] {
        cx.claim(0, at(f), "rollout");
    }
    cx.node("blue-green", block("blue-green", &body));
}

fn canary(cx: &mut Cx) {
    let mut body = Vec::new();
    let at = |f: &str| format!("{CANARY}/{f}");
    for (field, node, default) in [("maxSurge", "max-surge", "\"25%\""), ("maxUnavailable", "max-unavailable", "0")] {
        if let Some(v) = cx.at(&at(field)).and_then(count) {
            if v != default {
                body.push(format!("{node} {v}"));
            }
            cx.claim(0, at(field), "rollout");
        }
    }
    // Argo Rollouts' Gateway API plugin shifts the weights of the service's route.
    if cx.at(&at("trafficRouting/plugins/argoproj-labs~1gatewayAPI")).is_some() {
        body.push("traffic gateway-api".to_string());
        cx.claim(0, at("trafficRouting"), "rollout");
    }
    if let Some(n) = cx.at(&at("trafficRouting/nginx")) {
        let ingress = n.get("stableIngress").and_then(Value::as_str).map(|i| format!(" ingress={}", s(i)));
        body.push(format!("traffic nginx{}", ingress.unwrap_or_default()));
        cx.claim(0, at("trafficRouting"), "rollout");
    }
    let background = format!("{}-canary-background", cx.service);
    if let Some(a) = cx.at(&at("analysis"))
        && let Some(g) = analysis::gates(cx, a, &at("analysis"), (&background, true))
    {
        body.push(format!("analysis {g}"));
    }
    if let Some(steps) = cx.at(&at("steps")).and_then(Value::as_array) {
        let mut lines: Vec<String> = Vec::new();
        for (i, v) in steps.iter().enumerate() {
            lines.extend(step(cx, v, (&at(&format!("steps/{i}/analysis")), i + 1)));
        }
        if lines.len() == steps.len() && !lines.is_empty() {
            // svcc asks for the last step (SVC0322); Argo Rollouts goes to
            // 100% after the last step anyway, so it changes nothing.
            let last = steps.iter().rev().find_map(|v| v.get("setWeight")).and_then(Value::as_u64);
            if last != Some(100) {
                lines.push("set-weight 100".into());
            }
            body.push(block("steps", &lines));
            cx.claim(0, at("steps"), "rollout");
        }
    }
    cx.node("canary", block("canary", &body));
}

fn block(name: &str, body: &[String]) -> String {
    if body.is_empty() {
        name.to_string()
    } else {
        let body: Vec<String> = body.iter().map(|l| format!("    {}", l.replace('\n', "\n    "))).collect();
        format!("{name} {{\n{}\n}}", body.join("\n"))
    }
}

/// One canary step; `at`: the pointer of its analysis, `n` its position
/// (which names its AnalysisTemplate by default).
fn step(cx: &mut Cx, v: &Value, (at, n): (&str, usize)) -> Option<String> {
    if let Some(w) = v.get("setWeight").and_then(Value::as_u64) {
        return Some(format!("set-weight {w}"));
    }
    if let Some(p) = v.get("pause") {
        return Some(match p.get("duration") {
            Some(Value::String(d)) => format!("pause {}", s(d)),
            // Bare seconds, as Argo Rollouts accepts them (int-or-string).
            Some(Value::Number(n)) => format!("pause {n}"),
            _ => "pause".to_string(),
        });
    }
    let default = format!("{}-canary-step-{n}", cx.service);
    v.get("analysis").and_then(|a| analysis::gates(cx, a, at, (&default, false))).map(|g| format!("analysis {g}"))
}
