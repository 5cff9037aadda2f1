//! `metrics` (the ServiceMonitor: its endpoints, its job label, its selector) and
//! `alerts`/`slo` (the PrometheusRule, `alerts.rs`).

use serde_json::Value;

use super::{Cx, map_block, s};

mod alerts;

/// A relabeling as `relabel`/`metric-relabel` writes it, or `None` when a
/// field has no property.
fn relabel(node: &str, r: &Value) -> Option<String> {
    let m = r.as_object()?;
    let mut line = node.to_string();
    for (k, v) in m {
        match (k.as_str(), v) {
            ("sourceLabels", Value::Array(a)) => {
                for l in a {
                    line.push_str(&format!(" {}", s(l.as_str()?)));
                }
            }
            ("modulus", Value::Number(n)) => line.push_str(&format!(" modulus={}", n.as_u64()?)),
            (_, Value::String(x)) => {
                let prop = match k.as_str() {
                    "action" => "action",
                    "targetLabel" => "target-label",
                    "regex" => "regex",
                    "replacement" => "replacement",
                    "separator" => "separator",
                    _ => return None,
                };
                line.push_str(&format!(" {prop}={}", s(x)));
            }
            _ => return None,
        }
    }
    Some(line)
}

/// `requests "COUNTER" status-label=…` and `latency "HISTOGRAM"`: the metric
/// names svcc's queries read, found in the rules' and analyses' queries
/// (the 5xx share and the latency buckets), unless they are svcc's defaults.
fn vocabulary(cx: &Cx) -> Vec<String> {
    let mut queries = Vec::new();
    collect_queries(
        cx.objects
            .iter()
            .filter(|o| matches!(o.kind.as_str(), "PrometheusRule" | "AnalysisTemplate"))
            .map(|o| &o.value),
        &mut queries,
    );
    let mut out = Vec::new();
    let requests = queries.iter().find_map(|q| {
        let (before, _) = q.split_once("=~\"5..\"}")?;
        let (head, label) = before.rsplit_once(',')?;
        let name = head.rsplit_once("rate(")?.1.split('{').next()?;
        Some((name.to_string(), label.to_string()))
    });
    if let Some((name, label)) = requests.filter(|(n, l)| n != "http_requests_total" || l != "status") {
        out.push(format!("requests {} status-label={}", s(&name), s(&label)));
    }
    let latency = queries.iter().find_map(|q| {
        let head = q.split("_bucket{").next().filter(|h| h.len() < q.len())?;
        Some(head.rsplit_once("rate(")?.1.to_string())
    });
    if let Some(name) = latency.filter(|n| n != "http_request_duration_seconds") {
        out.push(format!("latency {}", s(&name)));
    }
    out
}

/// Every `expr` and `query` string under these objects.
fn collect_queries<'a>(vs: impl Iterator<Item = &'a Value>, out: &mut Vec<String>) {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("expr" | "query", Value::String(q)) => out.push(q.clone()),
                        _ => walk(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    vs.for_each(|v| walk(v, out));
}

/// The labels the ServiceMonitor (and the PrometheusRule, when there is
/// one, alike) has beyond the workload's: `metrics prometheus-labels`.
pub fn prometheus_labels(cx: &Cx) -> serde_json::Map<String, Value> {
    let labels = |v: &Value| v.pointer("/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default();
    let Some((_, sm)) = cx.first("ServiceMonitor") else { return serde_json::Map::new() };
    let workload = labels(cx.workload());
    let mut out = labels(sm);
    out.retain(|k, v| workload.get(k) != Some(v) && !k.starts_with("app.kubernetes.io/"));
    if let Some((_, pr)) = cx.first("PrometheusRule") {
        let pr = labels(pr);
        out.retain(|k, v| pr.get(k) == Some(v));
    }
    out
}

/// Whether the main Service carries every label of a ServiceMonitor's
/// selector (what `select` requires: SVC0244).
fn on_main_service(cx: &Cx, sel: &serde_json::Map<String, Value>) -> bool {
    let Some(i) = super::metadata::main_service(cx) else { return false };
    let labels = cx.objects[i].value.pointer("/metadata/labels").and_then(Value::as_object);
    sel.iter().all(|(k, v)| {
        let derived = k.starts_with("app.kubernetes.io/") && matches!(&k[18..], "name" | "instance");
        labels.is_some_and(|l| l.get(k) == Some(v)) && (!derived || v.as_str() == Some(cx.service))
    })
}

/// The endpoint's options: properties of `metrics` and its children.
fn endpoint(e: &Value, head: &mut String, children: &mut Vec<String>) {
    for (field, prop) in [("port", "port"), ("path", "path"), ("interval", "interval"), ("scheme", "scheme")] {
        if let Some(p) = e.get(field).and_then(Value::as_str) {
            head.push_str(&format!(" {prop}={}", s(p)));
        }
    }
    if let Some(p) = e.get("scrapeTimeout").and_then(Value::as_str) {
        head.push_str(&format!(" scrape-timeout={}", s(p)));
    }
    if let Some(b) = e.get("honorLabels").and_then(Value::as_bool) {
        head.push_str(&format!(" honor-labels={}", if b { "#true" } else { "#false" }));
    }
    if let Some(t) = e.get("tlsConfig") {
        let mut line = String::from("tls");
        if let Some(n) = t.get("serverName").and_then(Value::as_str) {
            line.push_str(&format!(" server-name={}", s(n)));
        }
        if let Some(c) = t.pointer("/ca/secret") {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                line.push_str(&format!(" ca-secret={}", s(n)));
            }
            if let Some(k) = c.get("key").and_then(Value::as_str) {
                line.push_str(&format!(" ca-key={}", s(k)));
            }
        }
        if let Some(b) = t.get("insecureSkipVerify").and_then(Value::as_bool) {
            line.push_str(&format!(" insecure-skip-verify={}", if b { "#true" } else { "#false" }));
        }
        children.push(line);
    }
    if let Some(a) = e.get("authorization") {
        let (name, key) = (a.pointer("/credentials/name"), a.pointer("/credentials/key"));
        if let (Some(n), Some(k)) = (name.and_then(Value::as_str), key.and_then(Value::as_str)) {
            let mut line = format!("authorization secret={} key={}", s(n), s(k));
            if let Some(t) = a.get("type").and_then(Value::as_str) {
                line.push_str(&format!(" type={}", s(t)));
            }
            children.push(line);
        }
    }
    if let Some(f) = e.get("bearerTokenFile").and_then(Value::as_str) {
        children.push(format!("bearer-token-file {}", s(f)));
    }
    for (field, node) in [("relabelings", "relabel"), ("metricRelabelings", "metric-relabel")] {
        let list = e.get(field).and_then(Value::as_array).into_iter().flatten();
        let lines: Option<Vec<String>> = list.map(|r| relabel(node, r)).collect();
        children.extend(lines.unwrap_or_default());
    }
}

/// `endpoint port=… { … }` for each endpoint after the first that svcc can
/// say (a named port; a port and path not scraped already), with the
/// pointers it carries.
fn further_endpoints(sm: &Value) -> Vec<(String, String)> {
    let list = sm.pointer("/spec/endpoints").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let key = |e: &Value| {
        let port = e.get("port").and_then(Value::as_str)?;
        Some((port.to_string(), e.get("path").and_then(Value::as_str).unwrap_or("/metrics").to_string()))
    };
    // Without the first endpoint's port, `metrics` scrapes the first port,
    // which another endpoint may name too: those stay patches.
    let Some(first) = list.first().and_then(key) else { return Vec::new() };
    let mut seen = std::collections::BTreeSet::from([first]);
    let mut out = Vec::new();
    for (n, e) in list.iter().enumerate().skip(1) {
        let Some(k) = key(e) else { continue };
        if !seen.insert(k) {
            continue;
        }
        let mut head = String::from("endpoint");
        let mut children = Vec::new();
        endpoint(e, &mut head, &mut children);
        let text = if children.is_empty() {
            head
        } else {
            format!("{head} {{\n        {}\n    }}", children.join("\n        "))
        };
        out.push((text, format!("/spec/endpoints/{n}")));
    }
    out
}

/// `job-label="…"`, when the main Service carries the label (else SVC0374)
/// and no Rollout's analyses tell its Services apart by `job` (SVC0375).
fn job_label(cx: &Cx, sm: &Value) -> Option<String> {
    let key = sm.pointer("/spec/jobLabel").and_then(Value::as_str)?;
    let service = super::metadata::main_service(cx)?;
    let labels = cx.objects[service].value.pointer("/metadata/labels").and_then(Value::as_object)?;
    let ok = labels.contains_key(key) && cx.objects[0].kind != "Rollout";
    ok.then(|| format!(" job-label={}", s(key)))
}

pub fn map(cx: &mut Cx) {
    if let Some((i, sm)) = cx.first("ServiceMonitor") {
        let e = sm.pointer("/spec/endpoints/0").cloned().unwrap_or(Value::Null);
        let mut head = String::from("metrics");
        let mut children = Vec::new();
        endpoint(&e, &mut head, &mut children);
        if let Some(j) = job_label(cx, sm) {
            head.push_str(&j);
            cx.claim(i, "/spec/jobLabel", "monitoring");
        }
        for (text, pointer) in further_endpoints(sm) {
            children.push(text);
            cx.claim(i, pointer, "monitoring");
        }
        children.extend(vocabulary(cx));
        let prometheus = prometheus_labels(cx);
        if let Some(body) = Some(&prometheus).filter(|m| !m.is_empty()).and_then(map_block) {
            children.push(format!("prometheus-labels {body}"));
        }
        // A hand-written selector (not svcc's own) is `select`.
        let sel = sm.pointer("/spec/selector").and_then(Value::as_object);
        let labels = sel.filter(|m| m.len() == 1).and_then(|m| m.get("matchLabels")).and_then(Value::as_object);
        let own = |m: &&serde_json::Map<String, Value>| {
            m.len() == 2
                && m.get("app.kubernetes.io/name").and_then(Value::as_str) == Some(cx.service)
                && m.get("app.kubernetes.io/managed-by").and_then(Value::as_str) == Some("svcc")
        };
        if let Some(body) = labels.filter(|m| !m.is_empty() && !own(m) && on_main_service(cx, m)).and_then(map_block) {
            children.push(format!("select {body}"));
        }
        let text = if children.is_empty() { head } else { format!("{head} {{\n    {}\n}}", children.join("\n    ")) };
        cx.node("metrics", text);
        cx.claim(i, "/spec/endpoints/0", "monitoring");
        cx.claim(i, "/spec/selector", "monitoring");
    }
    alerts::map(cx);
}
