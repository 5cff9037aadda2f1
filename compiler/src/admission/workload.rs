//! Deployments and Rollouts (selector, counts, rolling update, the pod
//! template), HorizontalPodAutoscalers and PodDisruptionBudgets.

use serde_json::Value;

use super::{Sink, pod, selects, string_map};
use crate::diagnostic::Code;
use crate::lower::{Kind, Object};

/// `apps/validation.ValidateDeploymentSpec` (and the Rollouts controller's
/// equivalent): a selector that selects the template's own labels, and
/// non-negative counts.
pub(super) fn check(obj: &Object, sink: &mut Sink) {
    let v = &obj.value;
    if super::get(v, "/spec").is_none_or(Value::is_null) {
        sink.push(Code::PodStructure, "/spec", "it has no spec");
        return;
    }
    let selector = string_map(v, "/spec/selector/matchLabels");
    let labels = string_map(v, "/spec/template/metadata/labels");
    if selector.is_empty() {
        sink.push(Code::SelectorMismatch, "/spec/selector", "its selector is empty, so it would select every pod")
            .help("the selector is derived from the service; do not patch it away");
    } else if !selects(&selector, &labels) {
        sink.push(
            Code::SelectorMismatch,
            "/spec/selector/matchLabels",
            "its selector does not match its pod template's labels",
        )
        .help("a workload must select the pods it creates; the selector is also immutable once applied");
    }
    for (field, what) in [
        ("/spec/replicas", "replicas"),
        ("/spec/revisionHistoryLimit", "revisionHistoryLimit"),
        ("/spec/minReadySeconds", "minReadySeconds"),
    ] {
        if let Some(n) = super::get(v, field).and_then(Value::as_i64)
            && n < 0
        {
            sink.push(Code::InvalidCount, field, format!("`{what}` is {n}, below 0"));
        }
    }
    if obj.kind == Kind::Deployment {
        deployment(v, sink);
    }
    pod::check(v, "/spec/template/spec", sink);
}

fn deployment(v: &Value, sink: &mut Sink) {
    let min_ready = super::get(v, "/spec/minReadySeconds").and_then(Value::as_i64).unwrap_or(0);
    if let Some(deadline) = super::get(v, "/spec/progressDeadlineSeconds").and_then(Value::as_i64)
        && deadline <= min_ready
    {
        sink.push(
            Code::InvalidCount,
            "/spec/progressDeadlineSeconds",
            format!("`progressDeadlineSeconds` ({deadline}) must be greater than `minReadySeconds` ({min_ready})"),
        );
    }
    let zero = |p: &str| match super::get(v, p) {
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s == "0" || s == "0%",
        _ => false,
    };
    if zero("/spec/strategy/rollingUpdate/maxUnavailable") && zero("/spec/strategy/rollingUpdate/maxSurge") {
        sink.push(
            Code::InvalidCount,
            "/spec/strategy/rollingUpdate",
            "`maxUnavailable` and `maxSurge` are both 0, so a rollout could never make progress",
        );
    }
}

/// `autoscaling/validation`: 1 ≤ minReplicas ≤ maxReplicas, and every
/// target positive.
pub(super) fn check_hpa(obj: &Object, sink: &mut Sink) {
    let v = &obj.value;
    let min = super::get(v, "/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1);
    let max = super::get(v, "/spec/maxReplicas").and_then(Value::as_i64).unwrap_or(0);
    if min < 1 {
        sink.push(Code::InvalidCount, "/spec/minReplicas", format!("`minReplicas` is {min}, below 1"));
    }
    if max < min.max(1) {
        sink.push(
            Code::InvalidCount,
            "/spec/maxReplicas",
            format!("`maxReplicas` ({max}) is below `minReplicas` ({min})"),
        );
    }
    let metrics = super::get(v, "/spec/metrics").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for (i, m) in metrics.iter().enumerate() {
        for source in ["resource", "pods", "object", "external", "containerResource"] {
            let Some(target) = super::get(m, &format!("/{source}/target")) else { continue };
            positive_target(target, &format!("/spec/metrics/{i}/{source}/target"), sink);
        }
    }
}

/// `validateMetricTarget`: `averageUtilization`, `averageValue` and `value`
/// "must be positive".
fn positive_target(target: &Value, at: &str, sink: &mut Sink) {
    if let Some(u) = target.get("averageUtilization").and_then(Value::as_i64)
        && u <= 0
    {
        sink.push(
            Code::InvalidCount,
            format!("{at}/averageUtilization"),
            format!("a utilization target of {u}% can never be met"),
        )
        .help("autoscaling targets must be positive");
    }
    for field in ["averageValue", "value"] {
        let Some(q) = target.get(field) else { continue };
        let text = q.as_str().map(str::to_string).unwrap_or_else(|| q.to_string());
        if crate::values::parse_quantity(&text).is_ok_and(|q| q.millis <= 0) {
            sink.push(
                Code::InvalidCount,
                format!("{at}/{field}"),
                format!("a target `{field}` of {text} is not positive"),
            )
            .help("autoscaling targets must be positive: the API server rejects 0");
        }
    }
}

/// `policy/validation.ValidatePodDisruptionBudgetSpec`: one budget, not
/// negative.
pub(super) fn check_pdb(obj: &Object, sink: &mut Sink) {
    let v = &obj.value;
    let min = super::get(v, "/spec/minAvailable");
    let max = super::get(v, "/spec/maxUnavailable");
    if min.is_some() && max.is_some() {
        sink.push(Code::InvalidCount, "/spec", "it sets both `minAvailable` and `maxUnavailable`");
    }
    for (field, q) in [("/spec/minAvailable", min), ("/spec/maxUnavailable", max)] {
        if q.and_then(Value::as_i64).is_some_and(|n| n < 0) {
            sink.push(Code::InvalidCount, field, "a disruption budget cannot be negative");
        }
    }
    if string_map(v, "/spec/selector/matchLabels").is_empty() {
        sink.push(Code::SelectorMismatch, "/spec/selector", "its selector is empty");
    }
}
