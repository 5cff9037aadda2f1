//! `alerts` and `slo`: the PrometheusRule read back. svcc's own alerts
//! are recognised by name (`<Service>Down`, `<Service>HighErrorRate`, …)
//! and their thresholds read from the expression; SLOs from their burn
//! alerts; any other rule is a `custom` alert or a `record`, its scrape
//! selector written back as `${selector}`. A summary or description svcc
//! would word otherwise is left to a patch.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::{Cx, kdl, s};

pub fn map(cx: &mut Cx) {
    let Some((i, pr)) = cx.first("PrometheusRule") else { return };
    let prefix = camel(cx.service);
    let rules: Vec<Value> = pr
        .pointer("/spec/groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|g| g.get("rules").and_then(Value::as_array).cloned().unwrap_or_default())
        .collect();
    let base = runbook_base(&rules);
    let mut lines = Vec::new();
    let mut slos = BTreeMap::new();
    let mut labels: Option<BTreeMap<String, String>> = None;
    for r in &rules {
        if let Some(name) = r.get("alert").and_then(Value::as_str) {
            let own = alert_labels(r);
            labels = Some(match labels {
                None => own,
                Some(mut l) => {
                    l.retain(|k, v| own.get(k) == Some(v));
                    l
                }
            });
            if let Some((kind, line)) = slo(&prefix, name, r, &rules) {
                slos.insert(kind, line);
            } else if let Some(mut line) = alert(&prefix, name, r) {
                // A runbook other than the base's link is the alert's own.
                let url = r.pointer("/annotations/runbook_url").and_then(Value::as_str);
                let derived = base.as_ref().map(|b| format!("{b}/{}", name.to_ascii_lowercase()));
                if let Some(u) = url.filter(|u| Some(*u) != derived.as_deref()) {
                    line.push_str(&format!(" runbook={}", s(u)));
                }
                lines.push(line);
            }
        } else if let Some(name) = r.get("record").and_then(Value::as_str)
            && !name.starts_with("slo:")
        {
            let expr = r.get("expr").and_then(Value::as_str).unwrap_or_default();
            lines.push(format!("record {} expr={}", s(name), s(&selector(expr))));
        }
    }
    let mut head = String::from("alerts");
    if let Some(b) = &base {
        head.push_str(&format!(" runbook={}", s(b)));
    }
    let mut body = Vec::new();
    if let Some(l) = labels.filter(|l| !l.is_empty()) {
        let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{} {}", kdl::name(k), s(v))).collect();
        body.push(format!("labels {{ {} }}", pairs.join("; ")));
    }
    body.extend(lines);
    if body.is_empty() && slos.is_empty() {
        // Nothing read back: one alert makes svcc generate the PrometheusRule.
        body.push("down".into());
    }
    if !body.is_empty() {
        cx.node("alerts", format!("{head} {{\n    {}\n}}", body.join("\n    ")));
    }
    for (kind, line) in slos {
        cx.node(format!("slo {kind}"), line);
    }
    cx.claim(i, "/spec", "monitoring");
}

/// The alert name prefix svcc derives from the service name (`backend-api` → `BackendApi`).
fn camel(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The runbook base most alerts link below (`BASE/<alert name in lower case>`).
fn runbook_base(rules: &[Value]) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in rules {
        let (Some(name), Some(url)) =
            (r.get("alert").and_then(Value::as_str), r.pointer("/annotations/runbook_url").and_then(Value::as_str))
        else {
            continue;
        };
        if let Some(base) = url.strip_suffix(&format!("/{}", name.to_ascii_lowercase())) {
            *counts.entry(base.to_string()).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(b, _)| b)
}

/// An alert's labels beyond svcc's own (`service`, `severity`).
fn alert_labels(r: &Value) -> BTreeMap<String, String> {
    let m = r.get("labels").and_then(Value::as_object).cloned().unwrap_or_default();
    m.into_iter()
        .filter(|(k, _)| k != "service" && k != "severity")
        .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
        .collect()
}

/// The number after the last `> ` of an expression.
fn above(expr: &str) -> Option<&str> {
    let v = expr.rsplit_once("> ")?.1.trim();
    v.parse::<f64>().ok().map(|_| v)
}

/// Seconds as a duration (`0.3` → `300ms`, `1` → `1s`).
fn seconds(v: &str) -> Option<String> {
    let f: f64 = v.parse().ok()?;
    Some(if f.fract() == 0.0 { format!("{f:.0}s") } else { format!("{:.0}ms", f * 1000.0) })
}

/// One of svcc's alerts, or a `custom` one.
fn alert(prefix: &str, name: &str, r: &Value) -> Option<String> {
    let expr = r.get("expr")?.as_str()?;
    let severity = r.pointer("/labels/severity").and_then(Value::as_str);
    let kind = name.strip_prefix(prefix).unwrap_or_default();
    let (mut line, default_severity) = match kind {
        "Down" => ("down".to_string(), "critical"),
        "HighErrorRate" => (format!("error-rate above={}", above(expr)?), "warning"),
        "HighMemoryUsage" => (format!("memory above={}", above(expr)?), "warning"),
        "CpuThrottled" => (format!("cpu-throttling above={}", above(expr)?), "warning"),
        "PodsNotReady" => ("not-ready".to_string(), "warning"),
        "CrashLooping" => {
            let within = expr.split("}[").nth(1)?.split(']').next()?;
            (format!("restarts above={} within={}", above(expr)?, s(within)), "warning")
        }
        k if k.starts_with("HighLatencyP") => {
            let q = expr.strip_prefix("histogram_quantile(")?.split(',').next()?;
            (format!("latency quantile={q} above={}", s(&seconds(above(expr)?)?)), "warning")
        }
        _ => {
            let mut line = format!("custom {} expr={}", s(name), s(&selector(expr)));
            let summary = r.pointer("/annotations/summary").and_then(Value::as_str);
            if let Some(sm) = summary.filter(|x| *x != format!("{name} in {{{{ $labels.namespace }}}}")) {
                line.push_str(&format!(" summary={}", s(sm)));
            }
            if let Some(d) = r.pointer("/annotations/description").and_then(Value::as_str) {
                line.push_str(&format!(" description={}", s(d)));
            }
            (line, "warning")
        }
    };
    if let Some(f) = r.get("for").and_then(Value::as_str) {
        line.push_str(&format!(" for={}", s(f)));
    }
    if let Some(sev) = severity.filter(|x| *x != default_severity) {
        line.push_str(&format!(" severity={}", s(sev)));
    }
    Some(line)
}

/// `slo availability|latency objective= window= [threshold=]` from its
/// fast burn alert (the slow one is its pair).
fn slo(prefix: &str, name: &str, r: &Value, rules: &[Value]) -> Option<(String, String)> {
    let rest = name.strip_prefix(prefix)?;
    let (kind, _) = rest.split_once("ErrorBudgetBurn")?;
    let kind = kind.to_ascii_lowercase();
    let description = r.pointer("/annotations/description")?.as_str()?;
    let objective = description.split("miss its ").nth(1)?.split('%').next()?;
    let window = description.split("objective over ").nth(1)?.split(' ').next()?;
    let objective: f64 = objective.parse().ok()?;
    let objective = format!("{}", (objective * 1000.0).round() / 100_000.0);
    let mut line = format!("slo {kind} objective={objective} window={}", s(window));
    if kind == "latency" {
        let record = rules.iter().find(|x| {
            x.get("record").and_then(Value::as_str) == Some("slo:sli_error:ratio_rate5m")
                && x.pointer("/labels/slo").and_then(Value::as_str) == Some("latency")
        })?;
        let expr = record.get("expr")?.as_str()?;
        let le = expr.split("le=").nth(1)?.trim_start_matches('~').trim_start_matches('"');
        let le = le.split(['"', '|']).next()?;
        line.push_str(&format!(" threshold={}", s(&seconds(le)?)));
    }
    Some((kind, line))
}

/// `job="…",namespace="…"` (the scrape selector svcc expands) back to `${selector}`.
fn selector(expr: &str) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(start) = rest.find("job=\"") {
        let tail = &rest[start + 5..];
        let Some(q) = tail.find('"') else { break };
        let after = &tail[q + 1..];
        let Some(ns) = after.strip_prefix(",namespace=\"") else {
            out.push_str(&rest[..start + 5]);
            rest = tail;
            continue;
        };
        let Some(end) = ns.find('"') else { break };
        out.push_str(&rest[..start]);
        out.push_str("${selector}");
        rest = &ns[end + 1..];
    }
    out.push_str(rest);
    out
}
