//! PromQL: the query builders every generated rule and analysis uses, and
//! the parser check for user-written expressions.
//!
//! Generated queries are valid by construction: they are assembled from
//! quoted label values, numbers, fixed metric names and the service's
//! [`Vocabulary`], whose names [`check_name`] proves usable once per spec
//! (a metric named like a keyword, `sum` or `offset`, is not). Tests and
//! debug builds parse every generated query as well ([`generated`]);
//! release builds skip that, as the parser is a large part of a check.
//!
//! Queries are built from one [`Target`] (the label values the scrape
//! produces: `job` is the Service name, `namespace` the environment's
//! namespace) and one [`Vocabulary`] (the service's metric names), so
//! alerts, SLOs and rollout analyses all select exactly what is scraped.

/// The service's metric names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Request counter, e.g. `http_requests_total`.
    pub requests: String,
    /// Label on the counter holding the HTTP status code.
    pub status_label: String,
    /// Latency histogram base name, e.g. `http_request_duration_seconds`.
    pub latency: String,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary {
            requests: "http_requests_total".into(),
            status_label: "status".into(),
            latency: "http_request_duration_seconds".into(),
        }
    }
}

/// The label values that identify one deployed service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `job` label: prometheus-operator sets it to the Service name.
    pub job: String,
    pub namespace: Option<String>,
    /// The Deployment or Rollout name (kube-state-metrics series).
    pub workload: String,
    /// The container name (cAdvisor and kube-state-metrics container series).
    pub container: String,
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Target {
    /// `job="api",namespace="prod"`: selects the scraped series.
    pub fn scrape_selector(&self) -> String {
        let mut s = format!("job={}", quote(&self.job));
        if let Some(ns) = &self.namespace {
            s.push_str(&format!(",namespace={}", quote(ns)));
        }
        s
    }

    /// `namespace="prod",container="api"`: cAdvisor / kube-state-metrics container series.
    pub fn container_selector(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ns) = &self.namespace {
            parts.push(format!("namespace={}", quote(ns)));
        }
        parts.push(format!("container={}", quote(&self.container)));
        parts.join(",")
    }

    /// `namespace="prod",deployment="api"`.
    pub fn deployment_selector(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ns) = &self.namespace {
            parts.push(format!("namespace={}", quote(ns)));
        }
        parts.push(format!("deployment={}", quote(&self.workload)));
        parts.join(",")
    }
}

/// A range like `5m` in PromQL syntax.
pub fn range(seconds: u64) -> String {
    if seconds.is_multiple_of(86_400) {
        format!("{}d", seconds / 86_400)
    } else if seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// Requests per second over `window`, all pods together.
pub fn request_rate(v: &Vocabulary, t: &Target, window: &str) -> String {
    generated(format!("sum(rate({req}{{{sel}}}[{window}]))", req = v.requests, sel = t.scrape_selector()))
}

/// Share of requests answered with a 5xx status over `window`.
pub fn error_ratio(v: &Vocabulary, t: &Target, window: &str) -> String {
    let sel = t.scrape_selector();
    format!(
        "sum by (namespace) (rate({req}{{{sel},{st}=~\"5..\"}}[{window}])) / sum by (namespace) (rate({req}{{{sel}}}[{window}]))",
        req = v.requests,
        st = v.status_label,
    )
}

/// Share of requests answered without a 5xx status over `window`.
pub fn success_rate(v: &Vocabulary, t: &Target, window: &str) -> String {
    let sel = t.scrape_selector();
    format!(
        "sum by (namespace) (rate({req}{{{sel},{st}!~\"5..\"}}[{window}])) / sum by (namespace) (rate({req}{{{sel}}}[{window}]))",
        req = v.requests,
        st = v.status_label,
    )
}

/// The `q` latency quantile in seconds over `window`.
pub fn latency_quantile(v: &Vocabulary, t: &Target, q: f64, window: &str) -> String {
    format!(
        "histogram_quantile({q}, sum by (namespace, le) (rate({lat}_bucket{{{sel}}}[{window}])))",
        q = number(q),
        lat = v.latency,
        sel = t.scrape_selector(),
    )
}

/// Share of requests slower than `seconds` over `window` (latency SLI): the
/// bucket whose `le` is the threshold, matched by [`le_matcher`].
pub fn slow_ratio(v: &Vocabulary, t: &Target, seconds: f64, window: &str) -> String {
    let sel = t.scrape_selector();
    format!(
        "1 - (sum by (namespace) (rate({lat}_bucket{{{sel},{le}}}[{window}])) / sum by (namespace) (rate({lat}_count{{{sel}}}[{window}])))",
        lat = v.latency,
        le = le_matcher(seconds),
    )
}

/// Selects the histogram bucket with upper bound `seconds` however it was
/// stored. The `le` label is text: client_golang exposes `1` for one second
/// (Go's shortest float format), while Prometheus 3 normalises classic
/// histogram buckets to the OpenMetrics form `1.0` on ingestion (protobuf
/// scrapes, and the Python and Java clients, always gave `1.0`). The two
/// differ only for whole numbers, which are then matched in both forms:
/// `le=~"1|1\\.0"`; any other bound has one spelling, `le="0.25"`.
pub fn le_matcher(seconds: f64) -> String {
    let go = go_float(seconds);
    let open_metrics = if go.contains(['.', 'e']) { go.clone() } else { format!("{go}.0") };
    if go == open_metrics {
        format!("le={}", quote(&go))
    } else {
        format!("le=~{}", quote(&format!("{go}|{}", open_metrics.replace('.', "\\."))))
    }
}

/// A positive finite number as Go's `strconv.FormatFloat(x, 'g', -1, 64)`
/// prints it: the shortest digits, in exponent form below 1e-4 and from 1e6
/// (`0.25`, `1`, `1e+06`).
fn go_float(x: f64) -> String {
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{x}")
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// `EXPR > X`: an alert condition.
pub fn above(expr: &str, x: f64) -> String {
    format!("{expr} > {}", number(x))
}

/// No target of the job is up, or none exists.
pub fn down(t: &Target) -> String {
    let sel = t.scrape_selector();
    format!("sum by (namespace) (up{{{sel}}}) == 0 or absent(up{{{sel}}})")
}

/// Each pod's memory working set as a share of `limit_bytes`.
pub fn memory_ratio(t: &Target, limit_bytes: i128) -> String {
    format!(
        "max by (namespace, pod) (container_memory_working_set_bytes{{{}}}) / {limit_bytes}",
        t.container_selector()
    )
}

/// Each pod's share of throttled CFS periods over 5m.
pub fn throttled_ratio(t: &Target) -> String {
    let sel = t.container_selector();
    format!(
        "sum by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total{{{sel}}}[5m])) / sum by (namespace, pod) (rate(container_cpu_cfs_periods_total{{{sel}}}[5m]))"
    )
}

/// Each pod's container restarts over `within` seconds.
pub fn restarts(t: &Target, within: u64) -> String {
    format!(
        "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{}}}[{}]))",
        t.container_selector(),
        range(within)
    )
}

/// Fewer replicas available than wanted (kube-state-metrics), for a Deployment.
pub fn not_ready(t: &Target) -> String {
    let sel = t.deployment_selector();
    format!("kube_deployment_status_replicas_available{{{sel}}} < kube_deployment_spec_replicas{{{sel}}}")
}

/// The wanted pods of an Argo Rollout that are not ready, when any are.
/// kube-state-metrics exports no Rollout series (and `kube_deployment_*`
/// has none for it), but it exports the ReplicaSets the Rollout owns: their
/// wanted and ready replicas, and `kube_replicaset_owner`. Each side is
/// reduced to one series per ReplicaSet, so a second kube-state-metrics
/// replica cannot double the count.
pub fn rollout_not_ready(t: &Target) -> String {
    let ns = t.namespace.as_ref().map(|n| format!("namespace={}", quote(n)));
    let rs = ns.clone().unwrap_or_default();
    let mut owner: Vec<String> = ns.into_iter().collect();
    owner.push(format!("owner_kind=\"Rollout\",owner_name={}", quote(&t.workload)));
    format!(
        "sum by (namespace) (max by (namespace, replicaset) (clamp_min(kube_replicaset_spec_replicas{{{rs}}} - kube_replicaset_status_ready_replicas{{{rs}}}, 0)) * on (namespace, replicaset) max by (namespace, replicaset) (kube_replicaset_owner{{{}}})) > 0",
        owner.join(",")
    )
}

/// The recording rule of an SLO's error ratio over `window` seconds.
pub fn slo_record(window: u64) -> String {
    format!("slo:sli_error:ratio_rate{}", range(window))
}

/// `service="api",slo="latency",namespace="prod"`: an SLO's recorded series.
pub fn slo_selector(service: &str, slo: &str, namespace: Option<&str>) -> String {
    let mut s = format!("service={},slo={}", quote(service), quote(slo));
    if let Some(ns) = namespace {
        s.push_str(&format!(",namespace={}", quote(ns)));
    }
    s
}

/// One multi-window burn condition: the error ratio over the `long` and the
/// `short` window (seconds) both above `factor` × `budget`.
pub fn burn(selector: &str, long: u64, short: u64, factor: f64, budget: f64) -> String {
    let f = number((factor * 1000.0).round() / 1000.0);
    let b = number((budget * 1e9).round() / 1e9);
    format!(
        "({long_r}{{{selector}}} > ({f} * {b}) and {short_r}{{{selector}}} > ({f} * {b}))",
        long_r = slo_record(long),
        short_r = slo_record(short),
    )
}

/// Either condition.
pub fn or(a: &str, b: &str) -> String {
    format!("{a} or {b}")
}

/// prometheus-adapter's discovery query for the series named `name` that
/// carry the labels its `resources` overrides map (`namespace`, `pod`).
pub fn adapter_series(name: &str) -> String {
    generated(format!("{name}{{namespace!=\"\",pod!=\"\"}}"))
}

/// prometheus-adapter's query template for a per-second rate over
/// `window` per pod. Not PromQL until the adapter fills in `<<.Series>>`,
/// `<<.LabelMatchers>>` and `<<.GroupBy>>` ([`adapter_fill`]).
pub fn adapter_rate(window: &str) -> String {
    let q = format!("sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{window}])) by (<<.GroupBy>>)");
    debug_assert!(check(&adapter_fill(&q, "x")).is_ok(), "svcc generated invalid PromQL: {q}");
    q
}

/// prometheus-adapter's query template for a value the pods export (a
/// gauge), summed per pod.
pub fn adapter_value() -> String {
    let q = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)".to_string();
    debug_assert!(check(&adapter_fill(&q, "x")).is_ok(), "svcc generated invalid PromQL: {q}");
    q
}

/// A metricsQuery template as prometheus-adapter expands it for one HPA
/// request about the pods of a namespace (for checking it parses).
pub fn adapter_fill(template: &str, series: &str) -> String {
    template
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", "namespace=\"shop\",pod=~\"api-0|api-1\"")
        .replace("<<.GroupBy>>", "pod")
}

/// A number the way PromQL prints it.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x}");
        s
    }
}

/// Which name of a [`Vocabulary`] [`check_name`] probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRole {
    Requests,
    StatusLabel,
    Latency,
}

/// Can `name` fill `role` in every query the builders write? The probes
/// use each name in the same positions as the builders do (tested against
/// them in this module's tests).
pub fn check_name(role: NameRole, name: &str) -> Result<(), String> {
    let probes = match role {
        NameRole::Requests => vec![format!("sum by (namespace) (rate({name}{{job=\"a\",status=~\"5..\"}}[5m]))")],
        NameRole::StatusLabel => vec![format!("rate(http_requests_total{{job=\"a\",{name}!~\"5..\"}}[5m])")],
        NameRole::Latency => vec![
            format!("sum by (namespace, le) (rate({name}_bucket{{job=\"a\",le=~\"1|1\\\\.0\"}}[5m]))"),
            format!("rate({name}_count{{job=\"a\"}}[5m])"),
        ],
    };
    probes.iter().try_for_each(|p| check(p))
}

/// A query the builders wrote. Checked by the parser in debug builds (every
/// test), trusted in release builds; see the module documentation.
pub fn generated(expr: String) -> String {
    debug_assert!(check(&expr).is_ok(), "svcc generated invalid PromQL: {expr}");
    expr
}

/// Parse an expression; `Err` carries the parser's message.
pub fn check(expr: &str) -> Result<(), String> {
    promql_parser::parser::parse(expr).map(|_| ())
}

/// What a query returns when Prometheus evaluates it at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultType {
    /// An instant vector: a list of values, `result[N]` to Argo Rollouts.
    Vector,
    /// A scalar: one value, `result`.
    Scalar,
    /// A range vector or a string, which Argo Rollouts cannot judge.
    Other(&'static str),
}

/// Parse an expression and say what it returns; `Err` carries the parser's message.
pub fn result_type(expr: &str) -> Result<ResultType, String> {
    use promql_parser::parser::value::ValueType;
    Ok(match promql_parser::parser::parse(expr)?.value_type() {
        ValueType::Vector => ResultType::Vector,
        ValueType::Scalar => ResultType::Scalar,
        ValueType::Matrix => ResultType::Other("a range vector"),
        ValueType::String => ResultType::Other("a string"),
    })
}

/// Expand `${selector}` (the scrape selector) in a user-written expression.
pub fn expand(expr: &str, t: &Target) -> String {
    expr.replace("${selector}", &t.scrape_selector())
        .replace("${namespace}", t.namespace.as_deref().unwrap_or(""))
        .replace("${job}", &t.job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            job: "backend-api".into(),
            namespace: Some("production".into()),
            workload: "backend-api".into(),
            container: "backend-api".into(),
        }
    }

    #[test]
    fn builders_produce_valid_promql() {
        let v = Vocabulary::default();
        let t = target();
        for q in [
            error_ratio(&v, &t, "5m"),
            success_rate(&v, &t, "1m"),
            latency_quantile(&v, &t, 0.95, "5m"),
            slow_ratio(&v, &t, 0.3, "30m"),
            slow_ratio(&v, &t, 1.0, "30m"),
            not_ready(&t),
            rollout_not_ready(&t),
            rollout_not_ready(&Target { namespace: None, ..t.clone() }),
        ] {
            check(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }

    #[test]
    fn selectors_use_the_derived_label_values() {
        assert_eq!(target().scrape_selector(), "job=\"backend-api\",namespace=\"production\"");
        let t = Target { namespace: None, ..target() };
        assert_eq!(t.scrape_selector(), "job=\"backend-api\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }

    /// Both spellings of a whole-second bound, one of any other (Go's
    /// `strconv.FormatFloat(x, 'g', -1, 64)` and Prometheus 3's
    /// `formatOpenMetricsFloat`).
    #[test]
    fn le_matches_what_clients_expose_and_prometheus_3_stores() {
        assert_eq!(le_matcher(0.3), r#"le="0.3""#);
        assert_eq!(le_matcher(0.25), r#"le="0.25""#);
        assert_eq!(le_matcher(2.5), r#"le="2.5""#);
        assert_eq!(le_matcher(0.001), r#"le="0.001""#);
        assert_eq!(le_matcher(1.0), r#"le=~"1|1\\.0""#);
        assert_eq!(le_matcher(10.0), r#"le=~"10|10\\.0""#);
        assert_eq!(le_matcher(60.0), r#"le=~"60|60\\.0""#);
        assert_eq!(le_matcher(123_456.0), r#"le=~"123456|123456\\.0""#);
        assert_eq!(le_matcher(1e6), r#"le="1e+06""#);
        assert_eq!(le_matcher(1_500_000.0), r#"le="1.5e+06""#);
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn ranges_and_numbers() {
        assert_eq!(range(300), "5m");
        assert_eq!(range(3600), "1h");
        assert_eq!(range(86_400 * 3), "3d");
        assert_eq!(range(90), "90s");
        assert_eq!(number(0.95), "0.95");
        assert_eq!(number(1.0), "1");
    }

    /// `check_name` accepts a name exactly when every builder's query with
    /// that name parses.
    #[test]
    fn name_probes_agree_with_the_builders() {
        let words = [
            "http_requests_total",
            "sum",
            "avg",
            "count",
            "min",
            "max",
            "group",
            "topk",
            "quantile",
            "and",
            "or",
            "unless",
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "bool",
            "offset",
            "start",
            "end",
            "step",
            "atan2",
            "inf",
            "nan",
            "NaN",
            "Inf",
            "rate",
            "le",
            "job",
            "x",
            "_",
            ":a",
            "a:b",
            "status",
            "code",
            "limitk",
            "limit_ratio",
            "count_values",
            "stddev",
            "stdvar",
            "bottomk",
            "smoothed",
            "anchored",
        ];
        let t = target();
        let all = |v: &Vocabulary| {
            [
                error_ratio(v, &t, "5m"),
                success_rate(v, &t, "1m"),
                latency_quantile(v, &t, 0.95, "5m"),
                slow_ratio(v, &t, 0.3, "30m"),
                slow_ratio(v, &t, 1.0, "30m"),
            ]
            .iter()
            .all(|q| check(q).is_ok())
        };
        let mut rejected = 0;
        for w in words {
            let d = Vocabulary::default();
            for (role, v) in [
                (NameRole::Requests, Vocabulary { requests: w.into(), ..d.clone() }),
                (NameRole::StatusLabel, Vocabulary { status_label: w.into(), ..d.clone() }),
                (NameRole::Latency, Vocabulary { latency: w.into(), ..d.clone() }),
            ] {
                let probe = check_name(role, w).is_ok();
                assert_eq!(probe, all(&v), "{role:?} `{w}`");
                rejected += usize::from(!probe);
            }
        }
        assert!(rejected > 5, "the probes rejected only {rejected} names");
    }

    #[test]
    fn result_types() {
        assert_eq!(result_type("sum(rate(x[5m]))"), Ok(ResultType::Vector));
        assert_eq!(result_type("scalar(sum(x))"), Ok(ResultType::Scalar));
        assert_eq!(result_type("1 + 2"), Ok(ResultType::Scalar));
        assert_eq!(result_type("x[5m]"), Ok(ResultType::Other("a range vector")));
        assert_eq!(result_type("\"a\""), Ok(ResultType::Other("a string")));
        assert!(result_type("sum(").is_err());
    }

    #[test]
    fn bad_expressions_are_rejected() {
        assert!(check("sum(rate(x[5m])").is_err());
        assert!(check("up ==").is_err());
        assert!(check("up == 0").is_ok());
    }
}
