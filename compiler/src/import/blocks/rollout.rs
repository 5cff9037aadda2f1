//! `blue-green` and `canary`: a Rollout workload. The strategy's details
//! are patched for now; the block makes svcc generate the Rollout.

use serde_json::Value;

use super::Cx;

pub fn map(cx: &mut Cx) {
    if cx.objects[0].kind != "Rollout" {
        return;
    }
    if cx.at("/spec/strategy/blueGreen").is_some() {
        let auto = cx.at("/spec/strategy/blueGreen/autoPromotionEnabled").and_then(Value::as_bool);
        let body = if auto == Some(false) { " {\n    auto-promote #false\n}" } else { "" };
        cx.node("blue-green", format!("blue-green{body}"));
        cx.claim(0, "/spec/strategy/blueGreen/autoPromotionEnabled", "rollout");
    } else {
        cx.node("canary", "canary");
    }
}
