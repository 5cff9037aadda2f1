//! `metrics`, `alerts` and `slo`: the scrape, the alert rules and the objectives (docs/observability.md).

use super::*;

#[derive(Clone, Debug)]
pub struct Metrics {
    pub node: Span,
    pub path: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
    pub interval: Option<Spanned<Duration>>,
    pub scheme: Option<Spanned<String>>,
    /// The request counter (e.g. `http_requests_total`).
    pub requests: Option<Spanned<String>>,
    /// The label of the request counter that holds the HTTP status code.
    pub status_label: Option<Spanned<String>>,
    /// The request latency histogram, without `_bucket` (e.g. `http_request_duration_seconds`).
    pub latency: Option<Spanned<String>>,
    /// Labels the cluster's Prometheus selects ServiceMonitors and rules by.
    pub prometheus_labels: Map<Spanned<String>>,
    /// `select { app "example-app" }`: the labels the ServiceMonitor selects
    /// the Services by, instead of the identity labels (replaced as a whole).
    pub select: Option<Spanned<Map<Spanned<String>>>>,
    /// The Prometheus URL rollout analyses query.
    pub prometheus: Option<Spanned<String>>,
    /// The ServiceMonitor endpoint's other settings.
    pub scrape: ScrapeOptions,
    /// `job-label="…"`: the Service label whose value Prometheus takes as
    /// the `job` (the ServiceMonitor's `jobLabel`).
    pub job_label: Option<Spanned<String>>,
    /// `endpoint port=… { … }`: further scrape endpoints, keyed by port and
    /// path ([`ScrapeEndpoint::key`]); an environment's endpoint of the same
    /// key refines it property by property.
    pub endpoints: Map<ScrapeEndpoint>,
}

/// `endpoint port=… path=… interval=… scheme=… { tls …; relabel … }`: a
/// further ServiceMonitor endpoint, with the first endpoint's options.
#[derive(Clone, Debug)]
pub struct ScrapeEndpoint {
    pub node: Span,
    pub port: Spanned<String>,
    pub path: Option<Spanned<String>>,
    pub interval: Option<Spanned<Duration>>,
    pub scheme: Option<Spanned<String>>,
    pub scrape: ScrapeOptions,
}

impl ScrapeEndpoint {
    /// What identifies an endpoint across layers: its port and path.
    pub fn key(port: &str, path: Option<&str>) -> String {
        format!("{port} {}", path.unwrap_or("/metrics"))
    }
}

/// `metrics scrape-timeout=… honor-labels=… { tls …; authorization …; relabel … }`:
/// how Prometheus scrapes the endpoint. Each replaces the lower layer's; a
/// relabeling list replaces it as a whole.
#[derive(Clone, Debug, Default)]
pub struct ScrapeOptions {
    pub scrape_timeout: Option<Spanned<Duration>>,
    pub honor_labels: Option<Spanned<bool>>,
    pub tls: Option<ScrapeTls>,
    pub authorization: Option<ScrapeAuthorization>,
    pub bearer_token_file: Option<Spanned<String>>,
    pub relabelings: Option<Spanned<Vec<Relabel>>>,
    pub metric_relabelings: Option<Spanned<Vec<Relabel>>>,
}

/// `tls server-name="…" ca-secret="…" ca-key="…" insecure-skip-verify=#false`.
#[derive(Clone, Debug)]
pub struct ScrapeTls {
    pub node: Span,
    pub server_name: Option<Spanned<String>>,
    pub ca_secret: Option<Spanned<String>>,
    pub ca_key: Option<Spanned<String>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
}

/// `authorization secret="…" key="…" type="Bearer"`.
#[derive(Clone, Debug)]
pub struct ScrapeAuthorization {
    pub node: Span,
    pub type_: Option<Spanned<String>>,
    pub secret: Spanned<String>,
    pub key: Spanned<String>,
}

/// `relabel "SOURCE"… action=… target-label=… regex=… replacement=…`.
#[derive(Clone, Debug, PartialEq)]
pub struct Relabel {
    pub node: Span,
    pub source_labels: Vec<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub target_label: Option<Spanned<String>>,
    pub regex: Option<Spanned<String>>,
    pub replacement: Option<Spanned<String>>,
    pub separator: Option<Spanned<String>>,
    pub modulus: Option<Spanned<u64>>,
}

/// `alerts { … }`: built-in alert kinds and custom rules.
#[derive(Clone, Debug, Default)]
pub struct Alerts {
    pub node: Option<Span>,
    pub severity: Option<Spanned<String>>,
    pub runbook: Option<Spanned<String>>,
    pub labels: Map<Spanned<String>>,
    /// Keyed by kind (`error-rate`) or, for `custom`/`record`, by rule name.
    pub rules: Map<AlertRule>,
}

#[derive(Clone, Debug)]
pub struct AlertRule {
    pub kind: AlertKind,
    /// The node name, or the custom rule's name.
    pub name: Spanned<String>,
    /// `error-rate #false` in an environment turns one alert off.
    pub enabled: Option<Spanned<bool>>,
    pub above: Option<Spanned<f64>>,
    pub above_duration: Option<Spanned<Duration>>,
    pub quantile: Option<Spanned<f64>>,
    pub for_: Option<Spanned<Duration>>,
    pub within: Option<Spanned<Duration>>,
    pub severity: Option<Spanned<String>>,
    pub runbook: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub expr: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    Down,
    ErrorRate,
    Latency,
    Memory,
    CpuThrottling,
    Restarts,
    NotReady,
    Custom,
    Record,
}

impl AlertKind {
    pub const ALL: [(&'static str, AlertKind); 9] = [
        ("down", AlertKind::Down),
        ("error-rate", AlertKind::ErrorRate),
        ("latency", AlertKind::Latency),
        ("memory", AlertKind::Memory),
        ("cpu-throttling", AlertKind::CpuThrottling),
        ("restarts", AlertKind::Restarts),
        ("not-ready", AlertKind::NotReady),
        ("custom", AlertKind::Custom),
        ("record", AlertKind::Record),
    ];
}

/// `slo availability objective=0.999 window="30d"`.
#[derive(Clone, Debug)]
pub struct Slo {
    pub kind: SloKind,
    pub name: Spanned<String>,
    pub objective: Option<Spanned<f64>>,
    pub window: Option<Spanned<Duration>>,
    pub threshold: Option<Spanned<Duration>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloKind {
    Availability,
    Latency,
}
