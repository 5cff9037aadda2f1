//! `rolling-update` and `shutdown`.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, count, s};

/// `min-ready`, `progress-deadline`, `revision-history`: the workload's
/// update bookkeeping (a Deployment's or a Rollout's alike).
fn updates(cx: &mut Cx) {
    for (field, node, duration) in [
        ("minReadySeconds", "min-ready", true),
        ("progressDeadlineSeconds", "progress-deadline", true),
        ("revisionHistoryLimit", "revision-history", false),
    ] {
        let p = format!("/spec/{field}");
        let Some(n) = cx.at(&p).and_then(Value::as_u64) else { continue };
        let v = if duration { s(&format!("{n}s")) } else { n.to_string() };
        cx.node(node, format!("{node} {v}"));
        cx.claim(0, p, "lifecycle");
    }
}

pub fn map(cx: &mut Cx) {
    updates(cx);
    if cx.objects[0].kind == "Deployment" {
        let surge = cx.at("/spec/strategy/rollingUpdate/maxSurge").and_then(count);
        let unavailable = cx.at("/spec/strategy/rollingUpdate/maxUnavailable").and_then(count);
        let mut text = String::from("rolling-update");
        if let Some(v) = surge {
            text.push_str(&format!(" max-surge={v}"));
        }
        if let Some(v) = unavailable {
            text.push_str(&format!(" max-unavailable={v}"));
        }
        if text != "rolling-update" {
            cx.node("rolling-update", text);
            cx.claim(0, "/spec/strategy", "lifecycle");
        }
    }
    let grace = cx.at(&format!("{POD}/terminationGracePeriodSeconds")).and_then(Value::as_u64);
    let sleep = cx.at(&format!("{CONTAINER}/lifecycle/preStop/sleep/seconds")).and_then(Value::as_u64);
    let hook = cx.at(&format!("{CONTAINER}/lifecycle/preStop")).is_some();
    let mut text = String::from("shutdown");
    // No pre-stop pause in the input: none in the output.
    match (sleep, hook) {
        (Some(n), _) => text.push_str(&format!(" pre-stop={}", s(&format!("{n}s")))),
        (None, _) => text.push_str(" pre-stop=\"0s\""),
    }
    if let Some(g) = grace {
        text.push_str(&format!(" grace={}", s(&format!("{g}s"))));
        cx.claim(0, format!("{POD}/terminationGracePeriodSeconds"), "lifecycle");
    }
    cx.node("shutdown", text);
    cx.claim(0, format!("{CONTAINER}/lifecycle/preStop/sleep"), "lifecycle");
}
