//! A gate block (`pre-promotion { … }`, a canary `analysis { … }`) read
//! back from the AnalysisTemplate the Rollout names: svcc's own gates
//! (`success-rate`, `latency-pNN`) and Prometheus `query` gates. A metric
//! that is neither (a Job, a web provider) leaves a success-rate gate that
//! a patch gives the input's metrics.

use serde_json::Value;

use super::super::{Cx, s};

/// The guard svcc puts before every condition.
const GUARD: &str = "len(result) > 0 && !isNaN(result[0]) && ";
const SCALAR_GUARD: &str = "!isNaN(result) && ";

/// `{ gate; gate }` for an analysis reference (`templates: [{templateName}]`);
/// `None` when no gate reads it back and no `metrics` lets a placeholder
/// gate stand in (gates need it: SVC0313).
pub fn gates(cx: &Cx, a: &Value) -> Option<String> {
    let names: Vec<&str> = match a.get("templates").and_then(Value::as_array) {
        Some(ts) => ts.iter().filter_map(|t| t.get("templateName").and_then(Value::as_str)).collect(),
        None => a.get("templateName").and_then(Value::as_str).into_iter().collect(),
    };
    let mut lines = Vec::new();
    for n in names {
        let Some(t) = cx.objects.iter().find(|o| o.kind == "AnalysisTemplate" && o.name == n) else { continue };
        let metrics = t.value.pointer("/spec/metrics").and_then(Value::as_array);
        let read: Option<Vec<String>> = metrics.map(|ms| ms.iter().map(gate).collect()).unwrap_or_default();
        lines.extend(read.unwrap_or_default());
    }
    if lines.is_empty() {
        cx.first("ServiceMonitor")?;
        lines.push("success-rate".into());
    }
    Some(format!("{{ {} }}", lines.join("; ")))
}

/// One metric as a gate, or `None`.
fn gate(m: &Value) -> Option<String> {
    let name = m.get("name")?.as_str()?;
    let query = m.pointer("/provider/prometheus/query")?.as_str()?;
    if m.as_object()?.keys().any(|k| {
        !matches!(
            k.as_str(),
            "name"
                | "interval"
                | "count"
                | "successCondition"
                | "failureCondition"
                | "failureLimit"
                | "inconclusiveLimit"
                | "provider"
        )
    }) {
        return None;
    }
    let success = m.get("successCondition").and_then(Value::as_str);
    let failure = m.get("failureCondition").and_then(Value::as_str);
    let mut line = if name == "success-rate" {
        format!("success-rate at-least={}", success?.strip_prefix(GUARD)?.strip_prefix("result[0] >= ")?)
    } else if let Some(q) = name.strip_prefix("latency-p") {
        let quantile = query.strip_prefix("histogram_quantile(")?.split(',').next()?;
        q.parse::<u32>().ok()?;
        let most: f64 = success?.strip_prefix(GUARD)?.strip_prefix("result[0] <= ")?.parse().ok()?;
        format!("latency quantile={quantile} at-most={}", s(&duration(most)))
    } else {
        custom(name, query, success, failure)?
    };
    // svcc's defaults (interval 1m, count 5, failure limit 1, inconclusive limit 2) go unsaid.
    if let Some(i) = m.get("interval").and_then(Value::as_str).filter(|i| *i != "1m") {
        line.push_str(&format!(" interval={}", s(i)));
    }
    match m.get("count").and_then(Value::as_u64) {
        Some(5) => {}
        Some(n) => line.push_str(&format!(" count={n}")),
        None => line.push_str(" count=\"whole-update\""),
    }
    for (field, prop, default) in [("failureLimit", "failure-limit", 1), ("inconclusiveLimit", "inconclusive-limit", 2)]
    {
        if let Some(n) = m.get(field).and_then(Value::as_u64).filter(|n| *n != default) {
            line.push_str(&format!(" {prop}={n}"));
        }
    }
    Some(line)
}

/// `query NAME expr=… success=… failure=…`, the guard taken off.
fn custom(name: &str, query: &str, success: Option<&str>, failure: Option<&str>) -> Option<String> {
    let bare = |c: &str| c.strip_prefix(GUARD).or_else(|| c.strip_prefix(SCALAR_GUARD)).map(str::to_string);
    let (ok, bad) = (success.map(bare), failure.map(bare));
    let (ok, bad) = (ok.flatten(), bad.flatten());
    let negated = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => *b == format!("!({a})"),
        _ => false,
    };
    let mut line = format!("query {} expr={}", s(name), s(&selector(query)));
    if negated(&ok, &bad) {
        line.push_str(&format!(" success={}", s(ok.as_deref()?)));
    } else if negated(&bad, &ok) {
        line.push_str(&format!(" failure={}", s(bad.as_deref()?)));
    } else {
        for (prop, c) in [("success", &ok), ("failure", &bad)] {
            if let Some(c) = c {
                line.push_str(&format!(" {prop}={}", s(c)));
            }
        }
    }
    Some(line)
}

/// `job="…",namespace="…"` (the scrape selector svcc expands) back to `${selector}`.
fn selector(query: &str) -> String {
    let Some(start) = query.find("job=\"") else { return query.to_string() };
    let rest = &query[start..];
    let Some(ns) = rest.find("\",namespace=\"") else { return query.to_string() };
    let after = &rest[ns + 13..];
    let Some(end) = after.find('"') else { return query.to_string() };
    let len = ns + 13 + end + 1;
    if rest[5..ns].contains(['"', ',', '}']) {
        return query.to_string();
    }
    format!("{}${{selector}}{}", &query[..start], &query[start + len..])
}

/// Seconds as a duration: whole seconds, else milliseconds.
fn duration(secs: f64) -> String {
    if secs.fract() == 0.0 { format!("{secs:.0}s") } else { format!("{:.0}ms", secs * 1000.0) }
}
