//! `alerts` and `slo`: the PrometheusRule.

use super::super::Cx;

pub fn map(cx: &mut Cx) {
    // One alert makes svcc generate the PrometheusRule, and a patch
    // writes the input's groups.
    if cx.first("PrometheusRule").is_some() {
        cx.node("alerts", "alerts {\n    down\n}");
    }
}
