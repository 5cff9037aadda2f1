//! `blue-green` and `canary`: a Rollout workload. The strategy's shape is
//! native (promotion, steps, which gates run where); each gate is written
//! as a success-rate gate and a patch gives its AnalysisTemplate the
//! input's metrics, until gates are mapped natively.

use serde_json::Value;

use super::{Cx, s};

pub fn map(cx: &mut Cx) {
    if cx.objects[0].kind != "Rollout" {
        return;
    }
    if cx.at("/spec/strategy/blueGreen").is_some() {
        let mut body = Vec::new();
        if cx.at("/spec/strategy/blueGreen/autoPromotionEnabled").and_then(Value::as_bool) == Some(false) {
            body.push("    auto-promote #false".to_string());
            cx.claim(0, "/spec/strategy/blueGreen/autoPromotionEnabled", "rollout");
        }
        for (field, node) in [("prePromotionAnalysis", "pre-promotion"), ("postPromotionAnalysis", "post-promotion")] {
            if cx.at(&format!("/spec/strategy/blueGreen/{field}")).is_some() {
                body.push(format!("    {node} {{ success-rate }}"));
            }
        }
        cx.node("blue-green", block("blue-green", &body));
    } else {
        let mut body = Vec::new();
        if cx.at("/spec/strategy/canary/analysis").is_some() {
            body.push("    analysis { success-rate }".to_string());
        }
        if let Some(steps) = cx.at("/spec/strategy/canary/steps").and_then(Value::as_array) {
            let lines: Vec<String> = steps.iter().filter_map(step).map(|l| format!("        {l}")).collect();
            if lines.len() == steps.len() && !lines.is_empty() {
                body.push(format!("    steps {{\n{}\n    }}", lines.join("\n")));
                cx.claim(0, "/spec/strategy/canary/steps", "rollout");
            }
        }
        cx.node("canary", block("canary", &body));
    }
}

fn block(name: &str, body: &[String]) -> String {
    if body.is_empty() { name.to_string() } else { format!("{name} {{\n{}\n}}", body.join("\n")) }
}

fn step(v: &Value) -> Option<String> {
    if let Some(w) = v.get("setWeight").and_then(Value::as_u64) {
        return Some(format!("set-weight {w}"));
    }
    if let Some(p) = v.get("pause") {
        return Some(match p.get("duration") {
            Some(Value::String(d)) => format!("pause {}", s(d)),
            Some(Value::Number(n)) => format!("pause {}", s(&format!("{n}s"))),
            _ => "pause".to_string(),
        });
    }
    v.get("analysis").map(|_| "analysis { success-rate }".to_string())
}
