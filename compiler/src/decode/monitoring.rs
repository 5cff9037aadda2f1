//! The `monitoring` block: `metrics` (the scrape endpoint and the metric
//! vocabulary), `alerts` and `slo` (docs/observability.md).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Spanned;
use crate::values;

mod scrape;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "metrics",
        order: 23,
        summary: "The Prometheus scrape endpoint (a ServiceMonitor) and the service's metric names",
        doc: "observability.md#metrics",
        props: &["path", "port", "interval", "scheme", "prometheus", "scrape-timeout", "honor-labels", "job-label"],
        children: Some(&METRICS),
        ..Node::new(|n, d, c| c.body.metrics = Some(metrics(n, d)))
    },
    Node {
        name: "alerts",
        order: 24,
        summary: "Prometheus alerts (a PrometheusRule): built-in ones, custom rules and recording rules",
        doc: "observability.md#alerts",
        props: &["severity", "runbook"],
        children: Some(&ALERTS),
        ..Node::new(|n, d, c| alerts(n, d, &mut c.body.alerts))
    },
    Node {
        name: "slo",
        order: 25,
        summary: "A service level objective: error-budget recording rules and burn-rate alerts",
        doc: "observability.md#slo",
        args: "availability|latency",
        props: &["objective", "window", "threshold"],
        repeat: true,
        ..Node::new(|n, d, c| slo(n, d, &mut c.body.slos))
    },
];

/// The endpoint's options as children, the same for `metrics` (the first
/// endpoint) and each `endpoint`: one declaration, two tables.
macro_rules! scrape_children {
    ($($first:expr),* $(,)?) => {
        &[
            $($first,)*
            Node {
                name: "tls",
                summary: "TLS of the scrape: the server name, the CA's Secret, or skipping verification",
                doc: "observability.md#scrape-options",
                props: &["server-name", "ca-secret", "ca-key", "insecure-skip-verify"],
                ..Node::new(|n, d, m| m.scrape.tls = Some(scrape::tls(n, d)))
            },
            Node {
                name: "authorization",
                summary: "The scrape's Authorization header, from a Secret key",
                doc: "observability.md#scrape-options",
                props: &["secret", "key", "type"],
                ..Node::new(|n, d, m| m.scrape.authorization = scrape::authorization(n, d))
            },
            Node {
                name: "bearer-token-file",
                summary: "A bearer token file in the Prometheus pod (deprecated upstream: prefer `authorization`)",
                doc: "observability.md#scrape-options",
                args: "PATH",
                ..Node::new(|n, d, m| m.scrape.bearer_token_file = scrape::token_file(n, d))
            },
            Node {
                name: "relabel",
                summary: "A relabeling of the target before the scrape (`relabelings`)",
                doc: "observability.md#scrape-options",
                args: "[SOURCE-LABEL]…",
                props: scrape::RELABEL_PROPS,
                repeat: true,
                ..Node::new(|n, d, m| scrape::relabel(n, d, &mut m.scrape.relabelings))
            },
            Node {
                name: "metric-relabel",
                summary: "A relabeling of the scraped samples before ingestion (`metricRelabelings`)",
                doc: "observability.md#scrape-options",
                args: "[SOURCE-LABEL]…",
                props: scrape::RELABEL_PROPS,
                repeat: true,
                ..Node::new(|n, d, m| scrape::relabel(n, d, &mut m.scrape.metric_relabelings))
            },
        ]
    };
}

/// The properties of a scrape endpoint, on `metrics` and on `endpoint`.
const ENDPOINT_PROPS: &[&str] = &["port", "path", "interval", "scheme", "scrape-timeout", "honor-labels"];

/// Children of `metrics`.
const METRICS: &[Node<Metrics>] = scrape_children![
    Node {
        name: "requests",
        summary: "The request counter and its status-code label",
        doc: "observability.md#metrics",
        args: "COUNTER",
        props: &["status-label"],
        ..Node::new(requests)
    },
    Node {
        name: "latency",
        summary: "The request latency histogram, without `_bucket`",
        doc: "observability.md#metrics",
        args: "HISTOGRAM",
        ..Node::new(latency)
    },
    Node {
        name: "prometheus-labels",
        summary: "Labels your Prometheus selects ServiceMonitors and rules by",
        doc: "observability.md#metrics",
        ..Node::new(|n, d, m| {
            NodeReader::new(n).finish(d);
            m.prometheus_labels = label_map(n, d);
        })
    },
    Node {
        name: "select",
        summary: "The labels the ServiceMonitor selects the Services by (default: the identity labels)",
        doc: "observability.md#metrics",
        ..Node::new(|n, d, m| {
            NodeReader::new(n).finish(d);
            m.select = Some(Spanned::new(label_map(n, d), name_span(n)));
        })
    },
    Node {
        name: "endpoint",
        summary: "A further scrape endpoint: another port or path, with its own options",
        doc: "observability.md#further-endpoints",
        props: ENDPOINT_PROPS,
        repeat: true,
        children: Some(&ENDPOINT),
        ..Node::new(endpoint)
    },
];

/// Children of `endpoint`: the scrape options.
const ENDPOINT: &[Node<ScrapeEndpoint>] = scrape_children![];

/// What every alert but `record` takes.
const ALERT_PROPS: &[&str] = &["for", "severity", "runbook", "summary", "description"];

/// Children of `alerts`: one per kind of alert, then `labels`.
const ALERTS: &[Node<Alerts>] = &[
    Node {
        name: "down",
        summary: "No target of the service is up",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: ALERT_PROPS,
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Down))
    },
    Node {
        name: "error-rate",
        summary: "The share of 5xx responses is above a ratio",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: &["above", "for", "severity", "runbook", "summary", "description"],
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::ErrorRate))
    },
    Node {
        name: "latency",
        summary: "A latency quantile is above a duration",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: &["above", "quantile", "for", "severity", "runbook", "summary", "description"],
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Latency))
    },
    Node {
        name: "memory",
        summary: "A pod's working set is above a share of its memory limit",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: &["above", "for", "severity", "runbook", "summary", "description"],
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Memory))
    },
    Node {
        name: "cpu-throttling",
        summary: "The share of throttled CPU periods is above a ratio",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: &["above", "for", "severity", "runbook", "summary", "description"],
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::CpuThrottling))
    },
    Node {
        name: "restarts",
        summary: "A pod restarted more than N times within a duration",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: &["above", "within", "for", "severity", "runbook", "summary", "description"],
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Restarts))
    },
    Node {
        name: "not-ready",
        summary: "Fewer replicas are available than wanted",
        doc: "observability.md#alerts",
        args: "[#false]",
        props: ALERT_PROPS,
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::NotReady))
    },
    Node {
        name: "custom",
        summary: "An alert of your own PromQL",
        doc: "observability.md#alerts",
        args: "NAME",
        props: &["expr", "for", "severity", "runbook", "summary", "description"],
        repeat: true,
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Custom))
    },
    Node {
        name: "record",
        summary: "A recording rule of your own PromQL",
        doc: "observability.md#alerts",
        args: "NAME",
        props: &["expr"],
        repeat: true,
        ..Node::new(|n, d, a| rule(n, d, a, AlertKind::Record))
    },
    Node {
        name: "labels",
        summary: "Labels added to every alert (routing: team, tier, …)",
        doc: "observability.md#alerts",
        ..Node::new(|n, d, a| {
            NodeReader::new(n).finish(d);
            a.labels = label_map(n, d);
        })
    },
];

const SEVERITIES: &[&str] = &["critical", "warning", "info"];

fn metric_name(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<String>> {
    reader::name(diags, e, "metric name", values::check_metric_name)
}

fn label_name(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<String>> {
    let s = reader::string(diags, e)?;
    let ok = s.value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Some(s)
    } else {
        diags.push(reader::invalid_name(
            s.span,
            "Prometheus label name",
            &s.value,
            "label names match [a-zA-Z_][a-zA-Z0-9_]*",
        ));
        None
    }
}

fn positive(d: Option<Spanned<Duration>>, what: &str, diags: &mut Diagnostics) -> Option<Spanned<Duration>> {
    let d = d?;
    if d.value.millis == 0 {
        diags.push(
            Diagnostic::error(Code::InvalidDuration, format!("`{what}` cannot be zero"))
                .at(d.span, "zero")
                .help("write a positive duration such as \"5m\""),
        );
        return None;
    }
    Some(d)
}

fn url(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<String>> {
    let s = reader::string(diags, e)?;
    if s.value.starts_with("https://") || s.value.starts_with("http://") {
        Some(s)
    } else {
        diags.push(
            Diagnostic::error(Code::InvalidName, format!("`{}` is not a URL", s.value))
                .at(s.span, "expected http:// or https://"),
        );
        None
    }
}

/// An endpoint's properties, on `metrics` or `endpoint`.
struct Props {
    port: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    interval: Option<Spanned<Duration>>,
    scheme: Option<Spanned<String>>,
    scrape: ScrapeOptions,
}

fn endpoint_props(r: &mut NodeReader, diags: &mut Diagnostics) -> Props {
    let path = r.prop("path").and_then(|e| reader::string(diags, e));
    if let Some(p) = &path
        && !p.value.starts_with('/')
    {
        diags.push(
            Diagnostic::error(Code::InvalidName, "a metrics path starts with `/`")
                .at(p.span, "not an absolute path")
                .help(format!("write \"/{}\"", p.value)),
        );
    }
    let port = r.prop("port").and_then(|e| reader::string(diags, e));
    let interval = positive(r.prop("interval").and_then(|e| reader::seconds(diags, e)), "interval", diags);
    let scheme = r.prop("scheme").and_then(|e| reader::choice(diags, e, &["http", "https"]));
    let scrape = ScrapeOptions {
        scrape_timeout: positive(
            r.prop("scrape-timeout").and_then(|e| reader::duration(diags, e)),
            "scrape-timeout",
            diags,
        ),
        honor_labels: r.prop("honor-labels").and_then(|e| reader::boolean(diags, e)),
        ..ScrapeOptions::default()
    };
    Props { port, path, interval, scheme, scrape }
}

fn metrics(node: &KdlNode, diags: &mut Diagnostics) -> Metrics {
    let mut r = NodeReader::new(node);
    let Props { port, path, interval, scheme, scrape } = endpoint_props(&mut r, diags);
    let prometheus = r.prop("prometheus").and_then(|e| url(diags, e));
    let job_label = r.prop("job-label").and_then(|e| {
        reader::name(diags, e, "label key", |k| values::check_qualified_name(k).map_err(|e| e.to_string()))
    });
    r.finish(diags);
    let mut m = Metrics {
        node: name_span(node),
        path,
        port,
        interval,
        scheme,
        requests: None,
        status_label: None,
        latency: None,
        prometheus_labels: IndexMap::new(),
        select: None,
        prometheus,
        scrape,
        job_label,
        endpoints: IndexMap::new(),
    };
    node::decode_children(METRICS, node, Twice::Decode, &mut m, diags);
    m
}

/// `endpoint port=… path=… { … }`: keyed by port and path; a second one of
/// the same key in one block is reported.
fn endpoint(node: &KdlNode, diags: &mut Diagnostics, m: &mut Metrics) {
    let mut r = NodeReader::new(node);
    let Props { port, path, interval, scheme, scrape } = endpoint_props(&mut r, diags);
    r.finish(diags);
    let written = port.is_some();
    let port = port.unwrap_or_else(|| Spanned::new(String::new(), name_span(node)));
    let mut e = ScrapeEndpoint { node: name_span(node), port, path, interval, scheme, scrape };
    // The children are read (and reported) even without a port.
    node::decode_children(ENDPOINT, node, Twice::Decode, &mut e, diags);
    if !written {
        if node.entries().iter().all(|e| e.name().is_none_or(|n| n.value() != "port")) {
            diags.push(missing(name_span(node), "a `port=`", "write `endpoint port=\"admin\" path=\"/metrics\"`"));
        }
        return;
    }
    let key = ScrapeEndpoint::key(&e.port.value, e.path.as_ref().map(|p| p.value.as_str()));
    if let Some(prev) = m.endpoints.get(&key) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("the endpoint `{key}` is declared twice"))
                .at(e.node, "declared again here")
                .also(prev.node, "first declared here")
                .help("give each endpoint its own port or path"),
        );
        return;
    }
    m.endpoints.insert(key, e);
}

/// `requests "http_requests_total" status-label="status"`.
fn requests(node: &KdlNode, diags: &mut Diagnostics, m: &mut Metrics) {
    let mut r = NodeReader::new(node);
    m.requests = match r.arg(0) {
        Some(e) => metric_name(diags, e),
        None => {
            diags.push(missing(name_span(node), "a counter name", "write `requests \"http_requests_total\"`"));
            None
        }
    };
    m.status_label = r.prop("status-label").and_then(|e| label_name(diags, e));
    r.finish(diags);
    no_children(diags, node);
}

/// `latency "http_request_duration_seconds"`.
fn latency(node: &KdlNode, diags: &mut Diagnostics, m: &mut Metrics) {
    let mut r = NodeReader::new(node);
    m.latency = match r.arg(0) {
        Some(e) => metric_name(diags, e),
        None => {
            diags.push(missing(
                name_span(node),
                "a histogram name",
                "write `latency \"http_request_duration_seconds\"`",
            ));
            None
        }
    };
    if let Some(l) = &m.latency
        && l.value.ends_with("_bucket")
    {
        diags.push(
            Diagnostic::error(Code::InvalidName, "name the histogram without its `_bucket` suffix")
                .at(l.span, "ends in `_bucket`")
                .help(format!("write \"{}\"", l.value.trim_end_matches("_bucket"))),
        );
        m.latency = None;
    }
    r.finish(diags);
    no_children(diags, node);
}

/// `{ key "value" }` children, validated as label keys and values.
pub(super) fn label_map(node: &KdlNode, diags: &mut Diagnostics) -> Map<Spanned<String>> {
    let mut out: Map<Spanned<String>> = IndexMap::new();
    for child in children(node) {
        let key = child.name().value();
        if let Err(why) = values::check_qualified_name(key) {
            diags.push(reader::invalid_name(name_span(child), "label key", key, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let v = match r.arg(0) {
            Some(e) => reader::text(diags, e),
            None => {
                diags.push(missing(name_span(child), "a value", format!("write `{key} \"value\"`")));
                None
            }
        };
        r.finish(diags);
        no_children(diags, child);
        let Some(v) = v else { continue };
        if let Err(why) = values::check_label_value(&v.value) {
            diags.push(reader::invalid_name(v.span, "label value", &v.value, &why));
            continue;
        }
        if let Some(prev) = out.get(key) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("label `{key}` is set twice"))
                    .at(name_span(child), "set again here")
                    .also(prev.span, "first set here"),
            );
            continue;
        }
        out.insert(key.to_string(), v);
    }
    out
}

fn alerts(node: &KdlNode, diags: &mut Diagnostics, a: &mut Alerts) {
    let mut r = NodeReader::new(node);
    a.node = Some(name_span(node));
    a.severity = r.prop("severity").and_then(|e| reader::choice(diags, e, SEVERITIES));
    a.runbook = r.prop("runbook").and_then(|e| url(diags, e));
    r.finish(diags);
    node::decode_children(ALERTS, node, Twice::Decode, a, diags);
}

/// One alert or recording rule of `kind`; a second one of a built-in kind
/// or of a custom name is reported.
fn rule(node: &KdlNode, diags: &mut Diagnostics, a: &mut Alerts, kind: AlertKind) {
    let name = node.name().value();
    let mut r = NodeReader::new(node);
    let mut rule = AlertRule {
        kind,
        name: Spanned::new(name.to_string(), name_span(node)),
        enabled: None,
        above: None,
        above_duration: None,
        quantile: None,
        for_: None,
        within: None,
        severity: None,
        runbook: None,
        summary: None,
        description: None,
        expr: None,
    };
    let custom = matches!(kind, AlertKind::Custom | AlertKind::Record);
    if custom {
        let Some(n) = rule_name(&mut r, diags, kind) else { return };
        rule.name = n;
        rule.expr = match r.prop("expr") {
            Some(e) => reader::string(diags, e),
            None => {
                diags.push(missing(name_span(node), "an `expr`", "write the PromQL in `expr=\"…\"`"));
                None
            }
        };
    } else if let Some(e) = r.arg(0) {
        rule.enabled = reader::boolean(diags, e);
    }
    thresholds(&mut r, diags, &mut rule);
    if kind != AlertKind::Record {
        rule.for_ = positive(r.prop("for").and_then(|e| reader::seconds(diags, e)), "for", diags);
        rule.severity = r.prop("severity").and_then(|e| reader::choice(diags, e, SEVERITIES));
        rule.runbook = r.prop("runbook").and_then(|e| url(diags, e));
        rule.summary = r.prop("summary").and_then(|e| reader::string(diags, e));
        rule.description = r.prop("description").and_then(|e| reader::string(diags, e));
    }
    r.finish(diags);
    no_children(diags, node);
    let key = if custom { format!("{name}/{}", rule.name.value) } else { name.to_string() };
    if let Some(prev) = a.rules.get(&key) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("alert `{}` is defined twice", rule.name.value))
                .at(rule.name.span, "defined again here")
                .also(prev.name.span, "first defined here"),
        );
        return;
    }
    a.rules.insert(key, rule);
}

/// The name of a `custom` alert (CamelCase) or a `record` rule (a metric
/// name); `None`, reported, when it is missing or invalid.
fn rule_name(r: &mut NodeReader, diags: &mut Diagnostics, kind: AlertKind) -> Option<Spanned<String>> {
    let Some(e) = r.arg(0) else {
        let name = r.name();
        diags.push(missing(r.name_span(), "a rule name", format!("write `{name} \"QueueBacklogHigh\" expr=\"…\"`")));
        return None;
    };
    let n = reader::string(diags, e)?;
    let ok = if kind == AlertKind::Record {
        n.value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && n.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    } else {
        n.value.starts_with(|c: char| c.is_ascii_uppercase()) && n.value.chars().all(|c| c.is_ascii_alphanumeric())
    };
    if ok {
        return Some(n);
    }
    let why = if kind == AlertKind::Record {
        "recording rule names are metric names, e.g. `job:http_errors:rate5m`"
    } else {
        "alert names are CamelCase letters and digits, e.g. `QueueBacklogHigh`"
    };
    diags.push(reader::invalid_name(n.span, "rule name", &n.value, why));
    None
}

/// `restarts above=N`: more than N restarts within `within`, N from 1 to
/// 10 000. Zero is refused: the alert has no `for`, and a single restart
/// (an OOM kill, a liveness probe failing once) is routine.
fn restarts_above(diags: &mut Diagnostics, e: &kdl::KdlEntry) -> Option<Spanned<u32>> {
    if matches!(e.value(), kdl::KdlValue::Integer(0)) {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "`restarts above=0` would fire on every single restart")
                .at(reader::value_span(e), "must be between 1 and 10000")
                .help("`above=1` fires from the second restart within `within`; a single restart (an OOM kill, a liveness probe failing once) is routine")
                .note("the alert fires as soon as a pod restarted more than N times within `within` (1h by default): it has no `for`"),
        );
        return None;
    }
    reader::u32_in(diags, e, 1, 10_000)
}

/// The thresholds of the built-in alerts that have one.
fn thresholds(r: &mut NodeReader, diags: &mut Diagnostics, rule: &mut AlertRule) {
    match rule.kind {
        AlertKind::ErrorRate | AlertKind::Memory | AlertKind::CpuThrottling => {
            rule.above = r.prop("above").and_then(|e| reader::ratio(diags, e));
        }
        AlertKind::Restarts => {
            rule.above = r.prop("above").and_then(|e| restarts_above(diags, e)).map(|s| s.map(f64::from));
            rule.within = positive(r.prop("within").and_then(|e| reader::seconds(diags, e)), "within", diags);
        }
        AlertKind::Latency => {
            rule.above_duration = positive(r.prop("above").and_then(|e| reader::duration(diags, e)), "above", diags);
            rule.quantile = r.prop("quantile").and_then(|e| reader::number(diags, e));
            if let Some(q) = &rule.quantile
                && !(q.value > 0.0 && q.value < 1.0)
            {
                diags.push(
                    Diagnostic::error(Code::OutOfRange, format!("{} is not a quantile", q.value))
                        .at(q.span, "must be between 0 and 1")
                        .help("write `quantile=0.95` for the 95th percentile"),
                );
                rule.quantile = None;
            }
        }
        _ => {}
    }
}

fn slo(node: &KdlNode, diags: &mut Diagnostics, slos: &mut Map<Slo>) {
    let mut r = NodeReader::new(node);
    let kind = match r.arg(0) {
        Some(e) => reader::choice(diags, e, &["availability", "latency"]),
        None => {
            diags.push(missing(
                name_span(node),
                "an SLO kind",
                "write `slo availability objective=0.999 window=\"30d\"`",
            ));
            None
        }
    };
    let objective = r.prop("objective").and_then(|e| reader::ratio(diags, e));
    if let Some(o) = &objective
        && o.value >= 1.0
    {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "an objective of 100% leaves no error budget")
                .at(o.span, "must be below 1")
                .help("write an objective such as 0.999 (99.9%)"),
        );
    }
    let window = positive(r.prop("window").and_then(|e| reader::seconds(diags, e)), "window", diags);
    let threshold = positive(r.prop("threshold").and_then(|e| reader::duration(diags, e)), "threshold", diags);
    r.finish(diags);
    no_children(diags, node);
    let Some(kind) = kind else { return };
    let sk = if kind.value == "availability" { SloKind::Availability } else { SloKind::Latency };
    if let Some(t) = &threshold
        && sk == SloKind::Availability
    {
        diags.push(
            Diagnostic::error(Code::UnknownProperty, "`threshold` applies to latency SLOs only")
                .at(t.span, "not a latency SLO"),
        );
    }
    if sk == SloKind::Latency
        && threshold.is_none()
        && node.entries().iter().all(|e| e.name().is_none_or(|n| n.value() != "threshold"))
    {
        diags.push(missing(kind.span, "a `threshold`", "write `slo latency objective=0.99 threshold=\"300ms\"`"));
    }
    if let Some(prev) = slos.get(&kind.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`slo {}` is defined twice", kind.value))
                .at(kind.span, "defined again here")
                .also(prev.name.span, "first defined here"),
        );
        return;
    }
    slos.insert(kind.value.clone(), Slo { kind: sk, name: kind, objective, window, threshold });
}
