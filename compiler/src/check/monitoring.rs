//! `metrics`, `alerts` and `slo`: the scrape endpoint and fully rendered
//! Prometheus rules, with every expression parsed.

mod scrape;
mod slo;

use std::collections::BTreeMap;

use super::merge::{Merger, merge_map, or};
use super::ports::Ports;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{AlertKind, AlertRule, Alerts, Body, Map, Metrics, Slo};
use crate::plan::{PlanMonitoring, PlanPort, PlanRule, PlanRuleGroup};
use crate::promql::{self, NameRole, Target, Vocabulary};
use crate::settings as s;
use crate::source::Span;
use crate::values::{format_duration, parse_quantity};

pub struct Context<'a> {
    pub service: &'a str,
    pub namespace: Option<&'a str>,
    pub ports: &'a [PlanPort],
    /// The sidecars' ports, which `metrics port=` may name too.
    pub sidecar_ports: &'a [PlanPort],
    pub limits: &'a BTreeMap<&'static str, (String, Span)>,
    /// The service's metric names, `None` when `vocabulary` reported one.
    pub vocab: Option<&'a Vocabulary>,
    /// An Argo Rollout runs the pods rather than a Deployment.
    pub rollout: bool,
    /// The generated objects' names.
    pub names: &'a crate::plan::PlanNames,
    /// The `job` of the scraped series: the main Service's name, or its
    /// `job-label` label's value ([`job`]).
    pub job: &'a str,
}

/// `path=` and `port=` replace (and can conflict); the other properties
/// replace, `prometheus-labels` merge key by key, and `endpoint`s by port
/// and path, property by property.
pub(super) fn merge_metrics(c: &mut Merger<'_>, base: &Option<Metrics>, over: &Option<Metrics>) -> Option<Metrics> {
    let (Some(b), Some(o)) = (base, over) else {
        return or(over, base);
    };
    let Metrics {
        node: _,
        path: b_path,
        port: b_port,
        interval: b_interval,
        scheme: b_scheme,
        requests: b_requests,
        status_label: b_status_label,
        latency: b_latency,
        prometheus_labels: b_prometheus_labels,
        select: b_select,
        prometheus: b_prometheus,
        scrape: b_scrape,
        job_label: b_job_label,
        endpoints: b_endpoints,
    } = b;
    let Metrics {
        node,
        path,
        port,
        interval,
        scheme,
        requests,
        status_label,
        latency,
        prometheus_labels,
        select,
        prometheus,
        scrape,
        job_label,
        endpoints,
    } = o;
    Some(Metrics {
        node: *node,
        path: c.pick(&s::METRICS_PATH, path, b_path),
        port: c.pick(&s::METRICS_PORT, port, b_port),
        interval: or(interval, b_interval),
        scheme: or(scheme, b_scheme),
        requests: or(requests, b_requests),
        status_label: or(status_label, b_status_label),
        latency: or(latency, b_latency),
        prometheus_labels: merge_map(b_prometheus_labels, prometheus_labels),
        select: or(select, b_select),
        prometheus: or(prometheus, b_prometheus),
        scrape: scrape::merge(b_scrape, scrape),
        job_label: or(job_label, b_job_label),
        endpoints: scrape::merge_endpoints(b_endpoints, endpoints),
    })
}

/// The block's defaults replace, its labels merge key by key, and rules
/// merge by key, property by property.
pub(super) fn merge_alerts(base: &Alerts, over: &Alerts) -> Alerts {
    let Alerts { node: b_node, severity: b_severity, runbook: b_runbook, labels: b_labels, rules: b_rules } = base;
    let Alerts { node, severity, runbook, labels, rules } = over;
    let mut merged_rules = b_rules.clone();
    for (key, o) in rules {
        let merged = match b_rules.get(key) {
            Some(b) => merge_rule(b, o),
            None => o.clone(),
        };
        merged_rules.insert(key.clone(), merged);
    }
    Alerts {
        node: node.or(*b_node),
        severity: or(severity, b_severity),
        runbook: or(runbook, b_runbook),
        labels: merge_map(b_labels, labels),
        rules: merged_rules,
    }
}

fn merge_rule(base: &AlertRule, over: &AlertRule) -> AlertRule {
    let AlertRule {
        kind: b_kind,
        name: _,
        enabled: b_enabled,
        above: b_above,
        above_duration: b_above_duration,
        quantile: b_quantile,
        for_: b_for,
        within: b_within,
        severity: b_severity,
        runbook: b_runbook,
        summary: b_summary,
        description: b_description,
        expr: b_expr,
    } = base;
    let AlertRule {
        kind: _,
        name,
        enabled,
        above,
        above_duration,
        quantile,
        for_,
        within,
        severity,
        runbook,
        summary,
        description,
        expr,
    } = over;
    AlertRule {
        kind: *b_kind,
        name: name.clone(),
        enabled: or(enabled, b_enabled),
        above: or(above, b_above),
        above_duration: or(above_duration, b_above_duration),
        quantile: or(quantile, b_quantile),
        for_: or(for_, b_for),
        within: or(within, b_within),
        severity: or(severity, b_severity),
        runbook: or(runbook, b_runbook),
        summary: or(summary, b_summary),
        description: or(description, b_description),
        expr: or(expr, b_expr),
    }
}

/// By key, property by property.
pub(super) fn merge_slos(base: &Map<Slo>, over: &Map<Slo>) -> Map<Slo> {
    let mut out = base.clone();
    for (key, o) in over {
        let merged = match base.get(key) {
            Some(b) => {
                let Slo { kind: b_kind, name: _, objective: b_objective, window: b_window, threshold: b_threshold } = b;
                let Slo { kind: _, name, objective, window, threshold } = o;
                Slo {
                    kind: *b_kind,
                    name: name.clone(),
                    objective: or(objective, b_objective),
                    window: or(window, b_window),
                    threshold: or(threshold, b_threshold),
                }
            }
            None => o.clone(),
        };
        out.insert(key.clone(), merged);
    }
    out
}

/// The `prometheus.io/*` pod annotations of a scraped service (SVC0302 when
/// `metrics` names no usable port).
pub(super) fn scrape_annotations(
    metrics: Option<&Metrics>,
    ports: &Ports<'_>,
    diags: &mut Diagnostics,
) -> Vec<(String, String)> {
    let Some(m) = metrics else { return Vec::new() };
    // `metrics` that org defaults or a preset lay under a service without
    // ports (a worker) does nothing there: only a service that writes
    // `metrics` itself needs a port for it.
    if ports.none_declared() && m.node.file != 0 {
        return Vec::new();
    }
    for e in m.endpoints.values() {
        ports.find(&e.port, "`endpoint`", diags);
    }
    let port = match &m.port {
        Some(n) => ports.find(n, "`metrics`", diags),
        None => ports.list.first().map(|p| p.number),
    };
    match port {
        Some(num) => vec![
            ("prometheus.io/scrape".into(), "true".into()),
            ("prometheus.io/port".into(), num.to_string()),
            ("prometheus.io/path".into(), m.path.as_ref().map_or("/metrics".to_string(), |p| p.value.clone())),
        ],
        None => {
            if m.port.is_none() && ports.none_declared() {
                diags.push(
                    Diagnostic::error(Code::UnknownPort, "`metrics` needs a port, and the service has none")
                        .at(m.node, "scrapes a port")
                        .help("declare a port (`port metrics 9090`) and name it: `metrics port=metrics`"),
                );
            }
            Vec::new()
        }
    }
}

/// Defaults of each built-in alert: (name suffix, for, severity).
fn alert_defaults(kind: AlertKind) -> (&'static str, Option<u64>, &'static str) {
    match kind {
        AlertKind::Down => ("Down", Some(60), "critical"),
        AlertKind::ErrorRate => ("HighErrorRate", Some(300), "warning"),
        AlertKind::Latency => ("HighLatency", Some(600), "warning"),
        AlertKind::Memory => ("HighMemoryUsage", Some(300), "warning"),
        AlertKind::CpuThrottling => ("CpuThrottled", Some(900), "warning"),
        AlertKind::Restarts => ("CrashLooping", None, "warning"),
        AlertKind::NotReady => ("PodsNotReady", Some(600), "warning"),
        AlertKind::Custom | AlertKind::Record => ("", None, "warning"),
    }
}

/// `backend-api` → `BackendApi`.
pub fn camel(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn needs_scrape(kind: AlertKind) -> bool {
    matches!(kind, AlertKind::Down | AlertKind::ErrorRate | AlertKind::Latency)
}

fn percent(x: f64) -> String {
    let p = x * 100.0;
    if (p - p.round()).abs() < 1e-9 { format!("{}%", p.round() as i64) } else { format!("{p}%") }
}

fn secs(d: u64) -> String {
    format_duration(crate::model::Duration { millis: d * 1000 })
}

pub(super) fn parsed(expr: String, span: Span, what: &str, diags: &mut Diagnostics) -> Option<String> {
    match promql::check(&expr) {
        Ok(()) => Some(expr),
        Err(why) => {
            diags.push(
                Diagnostic::error(Code::InvalidPromql, format!("{what} is not valid PromQL"))
                    .at(span, why.lines().next().unwrap_or("invalid PromQL").to_string())
                    .help("check the expression with `promtool` or the Prometheus UI; `${selector}` expands to this service's scrape selector"),
            );
            None
        }
    }
}

/// The service's metric names, shared by alerts, SLOs and rollout
/// analyses, or `None` (reported) when a name the spec sets cannot stand in
/// the generated queries: they are valid by construction only from names
/// that pass `promql::check_name`.
pub fn vocabulary(b: &Body, diags: &mut Diagnostics) -> Option<Vocabulary> {
    let m = b.metrics.as_ref();
    let mut ok = true;
    if let Some(m) = m {
        for (role, name, what) in [
            (NameRole::Requests, &m.requests, "request counter"),
            (NameRole::StatusLabel, &m.status_label, "status label"),
            (NameRole::Latency, &m.latency, "latency histogram"),
        ] {
            let Some(name) = name else { continue };
            if let Err(why) = promql::check_name(role, &name.value) {
                ok = false;
                diags.push(
                    Diagnostic::error(Code::InvalidPromql, format!("`{}` cannot be used as the {what} in PromQL", name.value))
                        .at(name.span, "PromQL does not read this as a name")
                        .help("PromQL reads this name as a keyword or a number; use the name the service really exports (e.g. `http_requests_total`)")
                        .note(format!("in a generated query, the PromQL parser says: {}", why.lines().next().unwrap_or("invalid"))),
                );
            }
        }
    }
    ok.then(|| vocabulary_unchecked(b))
}

fn vocabulary_unchecked(b: &Body) -> Vocabulary {
    let m = b.metrics.as_ref();
    Vocabulary {
        requests: m.and_then(|m| m.requests.as_ref()).map_or(Vocabulary::default().requests, |s| s.value.clone()),
        status_label: m
            .and_then(|m| m.status_label.as_ref())
            .map_or(Vocabulary::default().status_label, |s| s.value.clone()),
        latency: m.and_then(|m| m.latency.as_ref()).map_or(Vocabulary::default().latency, |s| s.value.clone()),
    }
}

pub fn resolve(cx: &Context<'_>, b: &Body, diags: &mut Diagnostics) -> Option<PlanMonitoring> {
    let target = Target {
        job: cx.job.to_string(),
        namespace: cx.namespace.map(str::to_string),
        workload: cx.names.workload.name.clone(),
        container: cx.service.to_string(),
    };
    let m = b.metrics.as_ref();
    let vocab = cx.vocab?;
    let scrape = m.and_then(|m| scrape::endpoints(cx, m, diags));
    let prometheus_labels: BTreeMap<String, String> =
        m.map(|m| m.prometheus_labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()).unwrap_or_default();

    let prefix = camel(cx.service);
    let default_severity = b.alerts.severity.as_ref().map_or("", |s| s.value.as_str());
    let mut alerts = Vec::new();
    let mut records = Vec::new();
    for rule in b.alerts.rules.values() {
        if rule.enabled.as_ref().is_some_and(|e| !e.value) {
            continue;
        }
        if needs_scrape(rule.kind) && scrape.is_none() {
            diags.push(needs_metrics(rule.name.span, &format!("the `{}` alert", rule.name.value), b.metrics.is_some()));
            continue;
        }
        if let Some(r) = build_rule(cx, &target, vocab, &prefix, default_severity, b, rule, diags) {
            if r.record.is_some() { records.push(r) } else { alerts.push(r) }
        }
    }
    let mut slo_rules = Vec::new();
    for slo in b.slos.values() {
        if scrape.is_none() {
            diags.push(needs_metrics(slo.name.span, &format!("`slo {}`", slo.name.value), b.metrics.is_some()));
            continue;
        }
        slo_rules.extend(slo::rules(cx, &target, vocab, &prefix, b, slo, diags));
    }

    if let Some(m) = m
        && scrape.is_some()
        && m.prometheus_labels.is_empty()
    {
        diags.push(
            Diagnostic::warning(Code::NoPrometheusLabels, "no `prometheus-labels`: the cluster's Prometheus may ignore this ServiceMonitor")
                .at(m.node, "scraped without selector labels")
                .help("add the labels your Prometheus selects by, e.g. `prometheus-labels { release \"kube-prometheus-stack\" }`")
                .note("prometheus-operator only picks up ServiceMonitors and PrometheusRules whose labels match its selectors"),
        );
    }

    let mut groups = Vec::new();
    if !alerts.is_empty() {
        groups.push(PlanRuleGroup { name: format!("{}.alerts", cx.service), rules: alerts });
    }
    if !records.is_empty() {
        groups.push(PlanRuleGroup { name: format!("{}.rules", cx.service), rules: records });
    }
    if !slo_rules.is_empty() {
        groups.push(PlanRuleGroup { name: format!("{}.slo", cx.service), rules: slo_rules });
    }
    if scrape.is_none() && groups.is_empty() {
        return None;
    }
    Some(PlanMonitoring { scrape, prometheus_labels, groups })
}

/// The `job` of the service's scraped series: the main Service's name, or
/// with `job-label`, that label's value on the main Service (SVC0374 when
/// it has none). A job label gives every Service of the service one `job`,
/// so with a blue-green or canary update the alerts would count the new
/// pods and the analyses could no longer tell them from the stable ones
/// (SVC0375).
pub(super) fn job(
    b: &Body,
    labels: &BTreeMap<String, String>,
    service_object: Option<&crate::plan::PlanObjectMetadata>,
    names: &crate::plan::PlanNames,
    diags: &mut Diagnostics,
) -> String {
    let default = names.service.name.clone();
    let Some(key) = b.metrics.as_ref().and_then(|m| m.job_label.as_ref()) else { return default };
    if let Some(update) = update(b) {
        diags.push(
            Diagnostic::error(Code::JobLabelWithRollout, "`job-label` with a blue-green or canary update")
                .at(key.span, "gives every Service of the service one `job`")
                .also(update, "scrapes its preview or canary pods through a Service of their own")
                .help("remove `job-label`: each Service's series then carry that Service's name as their `job`")
                .note("with one `job`, the alerts would count pods that serve no users yet, and the analyses could not tell the new pods from the stable ones"),
        );
    }
    let mut service_labels = labels.clone();
    service_labels.remove("app.kubernetes.io/version");
    if let Some(o) = service_object {
        service_labels.extend(o.labels.iter().map(|(k, (v, _))| (k.clone(), v.clone())));
    }
    if let Some(v) = service_labels.get(&key.value) {
        return v.clone();
    }
    diags.push(
        Diagnostic::error(Code::JobLabelNotOnService, format!("the main Service has no label `{}`", key.value))
            .at(key.span, "not a label of the Service")
            .help("name a label of the Service (`labels`, or `object service { labels { … } }`), or remove `job-label`")
            .note("Prometheus would take the Service's name as the `job`, and the label would do nothing"),
    );
    default
}

/// The node of the enabled `blue-green` or `canary` update, if any.
fn update(b: &Body) -> Option<Span> {
    let on = |e: &Option<crate::source::Spanned<bool>>| e.as_ref().is_none_or(|e| e.value);
    let bg = b.blue_green.as_ref().filter(|x| on(&x.enabled)).map(|x| x.node);
    bg.or_else(|| b.canary.as_ref().filter(|x| on(&x.enabled)).map(|x| x.node))
}

pub(super) fn needs_metrics(span: Span, what: &str, has_metrics: bool) -> Diagnostic {
    let help = if has_metrics {
        "the service's metrics are not scraped: declare a port for `metrics`"
    } else {
        "declare the scrape endpoint: `metrics port=http path=\"/metrics\"`"
    };
    Diagnostic::error(Code::NeedsMetrics, format!("{what} queries the service's own metrics, which are not scraped"))
        .at(span, "needs `metrics`")
        .help(help)
}

/// What a rule says: its name, expression (generated or as written),
/// summary and description.
struct Text {
    name: String,
    expr: String,
    summary: String,
    description: String,
}

#[allow(clippy::too_many_arguments)]
fn build_rule(
    cx: &Context<'_>,
    target: &Target,
    vocab: &Vocabulary,
    prefix: &str,
    default_severity: &str,
    b: &Body,
    rule: &AlertRule,
    diags: &mut Diagnostics,
) -> Option<PlanRule> {
    let (_, default_for, kind_severity) = alert_defaults(rule.kind);
    let svc = cx.service;
    let text = match rule.kind {
        AlertKind::Down | AlertKind::ErrorRate | AlertKind::Latency => service_alert(svc, target, vocab, prefix, rule),
        AlertKind::Memory | AlertKind::CpuThrottling | AlertKind::Restarts | AlertKind::NotReady => {
            pod_alert(cx, target, prefix, rule, diags)?
        }
        AlertKind::Custom | AlertKind::Record => custom_rule(target, rule, diags)?,
    };
    let Text { name, expr, summary, description } = text;
    let expr = if matches!(rule.kind, AlertKind::Custom | AlertKind::Record) { expr } else { promql::generated(expr) };
    if rule.kind == AlertKind::Record {
        let mut labels = BTreeMap::new();
        labels.insert("service".to_string(), svc.to_string());
        return Some(PlanRule {
            alert: None,
            record: Some(name),
            expr,
            for_: None,
            labels,
            annotations: BTreeMap::new(),
            span: rule.name.span,
        });
    }
    let severity = rule.severity.as_ref().map(|s| s.value.clone()).unwrap_or_else(|| {
        if default_severity.is_empty() { kind_severity.to_string() } else { default_severity.to_string() }
    });
    let severity =
        if rule.kind == AlertKind::Down && rule.severity.is_none() { "critical".to_string() } else { severity };
    let mut labels: BTreeMap<String, String> =
        b.alerts.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    labels.insert("severity".to_string(), severity);
    labels.insert("service".to_string(), svc.to_string());
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), rule.summary.as_ref().map_or(summary, |s| s.value.clone()));
    let description = rule.description.as_ref().map_or(description, |s| s.value.clone());
    if !description.is_empty() {
        annotations.insert("description".to_string(), description);
    }
    if let Some(url) = rule.runbook.as_ref().map(|r| r.value.clone()).or_else(|| {
        b.alerts
            .runbook
            .as_ref()
            .map(|base| format!("{}/{}", base.value.trim_end_matches('/'), name.to_ascii_lowercase()))
    }) {
        annotations.insert("runbook_url".to_string(), url);
    }
    let for_ = rule.for_.as_ref().map(|d| d.value.seconds()).or(default_for).map(promql::range);
    Some(PlanRule { alert: Some(name), record: None, expr, for_, labels, annotations, span: rule.name.span })
}

const NS_LABEL: &str = "{{ $labels.namespace }}";

/// `down`, `error-rate` and `latency`: alerts on the service's own metrics.
fn service_alert(svc: &str, target: &Target, vocab: &Vocabulary, prefix: &str, rule: &AlertRule) -> Text {
    let (suffix, default_for, _) = alert_defaults(rule.kind);
    let ns_label = NS_LABEL;
    match rule.kind {
        AlertKind::ErrorRate => {
            let t = rule.above.as_ref().map_or(0.05, |a| a.value);
            Text {
                name: format!("{prefix}{suffix}"),
                expr: promql::above(&promql::error_ratio(vocab, target, "5m"), t),
                summary: format!("{svc} is failing requests in {ns_label}"),
                description: format!(
                    "{{{{ $value | humanizePercentage }}}} of requests to {svc} returned a 5xx status over the last 5 minutes (threshold {}).",
                    percent(t)
                ),
            }
        }
        AlertKind::Latency => {
            let q = rule.quantile.as_ref().map_or(0.95, |q| q.value);
            let limit = rule.above_duration.as_ref().map_or(1000, |d| d.value.millis);
            let pq = (q * 100.0).round() as i64;
            Text {
                name: format!("{prefix}{suffix}P{pq}"),
                expr: promql::above(&promql::latency_quantile(vocab, target, q, "5m"), limit as f64 / 1000.0),
                summary: format!("{svc} p{pq} latency is high in {ns_label}"),
                description: format!(
                    "The p{pq} latency of {svc} is {{{{ $value | humanizeDuration }}}} (threshold {}).",
                    format_duration(crate::model::Duration { millis: limit })
                ),
            }
        }
        _ /* down */ => {
            Text {
                name: format!("{prefix}{suffix}"),
                expr: promql::down(target),
                summary: format!("{svc} is down in {ns_label}"),
                description: format!(
                    "Prometheus has not been able to scrape any {svc} target for more than {}.",
                    for_text(rule, default_for)
                ),
            }
        }
    }
}

/// `memory`, `cpu-throttling`, `restarts` and `not-ready`: alerts on the
/// cluster's metrics of the service's pods.
fn pod_alert(
    cx: &Context<'_>,
    target: &Target,
    prefix: &str,
    rule: &AlertRule,
    diags: &mut Diagnostics,
) -> Option<Text> {
    let (suffix, default_for, _) = alert_defaults(rule.kind);
    let svc = cx.service;
    let ns_label = NS_LABEL;
    let above = |d: f64| rule.above.as_ref().map_or(d, |a| a.value);
    let name = format!("{prefix}{suffix}");
    Some(match rule.kind {
        AlertKind::Memory => {
            let t = above(0.9);
            let Some((limit, _)) = cx.limits.get("memory") else {
                diags.push(
                    Diagnostic::error(Code::MissingValue, "the `memory` alert needs a memory limit")
                        .at(rule.name.span, "compares usage with the limit")
                        .help("set `resources { limits memory=\"512Mi\" }`"),
                );
                return None;
            };
            let bytes = parse_quantity(limit).map_or(0, |q| q.millis / 1000);
            Text {
                name,
                expr: promql::above(&promql::memory_ratio(target, bytes), t),
                summary: format!("{svc} is close to its memory limit in {ns_label}"),
                description: format!(
                    "Pod {{{{ $labels.pod }}}} uses {{{{ $value | humanizePercentage }}}} of its {limit} memory limit (threshold {}).",
                    percent(t)
                ),
            }
        }
        AlertKind::CpuThrottling => {
            let t = above(0.25);
            Text {
                name,
                expr: promql::above(&promql::throttled_ratio(target), t),
                summary: format!("{svc} is CPU-throttled in {ns_label}"),
                description: format!(
                    "Pod {{{{ $labels.pod }}}} was throttled in {{{{ $value | humanizePercentage }}}} of CPU periods over the last 5 minutes (threshold {}).",
                    percent(t)
                ),
            }
        }
        AlertKind::Restarts => {
            let t = above(3.0);
            let within = rule.within.as_ref().map_or(3600, |d| d.value.seconds());
            Text {
                name,
                expr: promql::above(&promql::restarts(target, within), t),
                summary: format!("{svc} is restarting repeatedly in {ns_label}"),
                description: format!(
                    "Pod {{{{ $labels.pod }}}} restarted {{{{ $value | humanize }}}} times in the last {} (threshold {}).",
                    secs(within),
                    promql::number(t)
                ),
            }
        }
        _ /* not-ready */ if cx.rollout => Text {
            name,
            expr: promql::rollout_not_ready(target),
            summary: format!("{svc} has pods that are not ready in {ns_label}"),
            description: format!(
                "{{{{ $value | humanize }}}} of the wanted {svc} pods have not been ready for more than {}.",
                for_text(rule, default_for)
            ),
        },
        _ /* not-ready */ => Text {
            name,
            expr: promql::not_ready(target),
            summary: format!("{svc} has pods that are not ready in {ns_label}"),
            description: format!(
                "{{{{ $value | humanize }}}} of the wanted {svc} replicas are available, for more than {}.",
                for_text(rule, default_for)
            ),
        },
    })
}

/// `custom` and `record`: the user's expression, `${selector}` expanded and parsed.
fn custom_rule(target: &Target, rule: &AlertRule, diags: &mut Diagnostics) -> Option<Text> {
    let expr = rule.expr.as_ref()?;
    let expanded = promql::expand(&expr.value, target);
    let what = format!("the expression of `{}`", rule.name.value);
    let expr_text = parsed(expanded, expr.span, &what, diags)?;
    let summary = rule.summary.as_ref().map_or(format!("{} in {NS_LABEL}", rule.name.value), |s| s.value.clone());
    let description = rule.description.as_ref().map_or(String::new(), |s| s.value.clone());
    Some(Text { name: rule.name.value.clone(), expr: expr_text, summary, description })
}

fn for_text(rule: &AlertRule, default_for: Option<u64>) -> String {
    secs(rule.for_.as_ref().map(|d| d.value.seconds()).or(default_for).unwrap_or(0))
}

/// `metrics { select { … } }`: every label is one the main Service
/// carries, with that value (SVC0244), or the ServiceMonitor would scrape
/// nothing.
pub(super) fn check_select(
    m: Option<&crate::model::Metrics>,
    labels: &BTreeMap<String, String>,
    service_object: Option<&crate::plan::PlanObjectMetadata>,
    diags: &mut Diagnostics,
) {
    let Some(select) = m.and_then(|m| m.select.as_ref()) else { return };
    let mut service_labels = labels.clone();
    if let Some(o) = service_object {
        service_labels.extend(o.labels.iter().map(|(k, (v, _))| (k.clone(), v.clone())));
    }
    if select.value.is_empty() {
        diags.push(
            Diagnostic::error(Code::MonitorSelectsNothing, "an empty `select`")
                .at(select.span, "would select every Service of the namespace")
                .help(
                    "write labels of the service's Service, e.g. `select { app \"example-app\" }`, or remove `select`",
                ),
        );
    }
    for (k, v) in &select.value {
        let d = match service_labels.get(k) {
            Some(have) if have == &v.value => continue,
            Some(have) => Diagnostic::error(
                Code::MonitorSelectsNothing,
                format!("the ServiceMonitor selects `{k}: {}`, but the Service is labelled `{k}: {have}`", v.value),
            )
            .at(v.span, "matches no Service of this service"),
            None => Diagnostic::error(
                Code::MonitorSelectsNothing,
                format!("the ServiceMonitor selects `{k}`, a label the Service does not carry"),
            )
            .at(v.span, "matches no Service of this service"),
        };
        diags.push(d.help(format!(
            "select by a label of the Service (`labels`, `selector` or `object \"service\"`), or add `{k} \"{}\"` to `labels`",
            v.value
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn camel_case_names() {
        assert_eq!(camel("backend-api"), "BackendApi");
        assert_eq!(camel("a"), "A");
        assert_eq!(camel("x2-y"), "X2Y");
    }
}
