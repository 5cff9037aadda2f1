//! `metrics` (the ServiceMonitor) and `alerts` (the PrometheusRule).

use serde_json::Value;

use super::{Cx, s};

pub fn map(cx: &mut Cx) {
    if let Some((i, sm)) = cx.first("ServiceMonitor") {
        let e = sm.pointer("/spec/endpoints/0").cloned().unwrap_or(Value::Null);
        let mut text = String::from("metrics");
        if let Some(p) = e.get("path").and_then(Value::as_str) {
            text.push_str(&format!(" path={}", s(p)));
        }
        if let Some(p) = e.get("port").and_then(Value::as_str) {
            text.push_str(&format!(" port={}", s(p)));
        }
        if let Some(p) = e.get("interval").and_then(Value::as_str) {
            text.push_str(&format!(" interval={}", s(p)));
        }
        cx.node("metrics", text);
        cx.claim(i, "/spec/endpoints/0", "monitoring");
        cx.claim(i, "/spec/selector", "monitoring");
    }
    // The rules themselves are not mapped yet: one alert makes svcc
    // generate the PrometheusRule, and a patch writes the input's groups.
    if cx.first("PrometheusRule").is_some() {
        cx.node("alerts", "alerts {\n    down\n}");
    }
}
