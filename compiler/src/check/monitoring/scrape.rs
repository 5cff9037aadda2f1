//! The ServiceMonitor endpoint's options (`metrics scrape-timeout=…`,
//! `tls`, `authorization`, `bearer-token-file`, `relabel`,
//! `metric-relabel`): each replaces the lower layer's, a relabeling list as
//! a whole.

use crate::check::merge::or;
use crate::crd::{RelabelConfig, SafeAuthorization, SecretKeySelector, SecretOrConfigMap, TlsConfig};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::Metrics;
use crate::model::{Duration, Map, Relabel, ScrapeEndpoint, ScrapeOptions};
use crate::plan::PlanScrape;
use crate::source::{Span, Spanned};
use crate::values::format_duration;

pub(super) fn merge(base: &ScrapeOptions, over: &ScrapeOptions) -> ScrapeOptions {
    let ScrapeOptions {
        scrape_timeout: b_scrape_timeout,
        honor_labels: b_honor_labels,
        tls: b_tls,
        authorization: b_authorization,
        bearer_token_file: b_bearer_token_file,
        relabelings: b_relabelings,
        metric_relabelings: b_metric_relabelings,
    } = base;
    let ScrapeOptions {
        scrape_timeout,
        honor_labels,
        tls,
        authorization,
        bearer_token_file,
        relabelings,
        metric_relabelings,
    } = over;
    ScrapeOptions {
        scrape_timeout: or(scrape_timeout, b_scrape_timeout),
        honor_labels: or(honor_labels, b_honor_labels),
        tls: or(tls, b_tls),
        authorization: or(authorization, b_authorization),
        bearer_token_file: or(bearer_token_file, b_bearer_token_file),
        relabelings: or(relabelings, b_relabelings),
        metric_relabelings: or(metric_relabelings, b_metric_relabelings),
    }
}

/// Endpoints by key; one of the same key property by property.
pub(super) fn merge_endpoints(base: &Map<ScrapeEndpoint>, over: &Map<ScrapeEndpoint>) -> Map<ScrapeEndpoint> {
    let mut out = base.clone();
    for (key, o) in over {
        let merged = match base.get(key) {
            Some(b) => {
                let ScrapeEndpoint {
                    node: _,
                    port: _,
                    path: b_path,
                    interval: b_interval,
                    scheme: b_scheme,
                    scrape: b_scrape,
                } = b;
                let ScrapeEndpoint { node, port, path, interval, scheme, scrape } = o;
                ScrapeEndpoint {
                    node: *node,
                    port: port.clone(),
                    path: or(path, b_path),
                    interval: or(interval, b_interval),
                    scheme: or(scheme, b_scheme),
                    scrape: merge(b_scrape, scrape),
                }
            }
            None => o.clone(),
        };
        out.insert(key.clone(), merged);
    }
    out
}

/// The first endpoint (`metrics`) and the further ones (`endpoint`), each
/// checked alike; a port and path scraped twice is refused (SVC0373). An
/// unknown port was reported by `scrape_annotations`.
pub(super) fn endpoints(cx: &super::Context<'_>, m: &Metrics, diags: &mut Diagnostics) -> Option<PlanScrape> {
    let find = |name: &str| cx.ports.iter().chain(cx.sidecar_ports).find(|x| x.name == name).map(|x| x.name.clone());
    let port = match &m.port {
        Some(p) => find(&p.value),
        None => cx.ports.first().map(|x| x.name.clone()),
    }?;
    let path = |p: Option<&Spanned<String>>| p.map_or("/metrics".to_string(), |p| p.value.clone());
    let first = Endpoint { node: m.node, interval: m.interval.as_ref(), scheme: m.scheme.as_ref(), scrape: &m.scrape };
    let mut main = PlanScrape {
        port,
        path: path(m.path.as_ref()),
        select: m.select.as_ref().map(|s| s.value.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()),
        job_label: m.job_label.as_ref().map(|j| j.value.clone()),
        ..resolve(&first, diags)
    };
    let mut seen = std::collections::BTreeMap::new();
    seen.insert((main.port.clone(), main.path.clone()), m.node);
    for e in m.endpoints.values() {
        let Some(port) = find(&e.port.value) else { continue };
        let path = path(e.path.as_ref());
        if let Some(at) = seen.get(&(port.clone(), path.clone())) {
            diags.push(
                Diagnostic::error(Code::ScrapeEndpointTwice, format!("port `{port}` path `{path}` is scraped twice"))
                    .at(e.node, "the same endpoint again")
                    .also(*at, "first scraped here")
                    .help("give the endpoint another port or path, or remove it")
                    .note(
                        "an endpoint without `path=` scrapes `/metrics`, and `metrics` without `port=` the first port",
                    ),
            );
            continue;
        }
        seen.insert((port.clone(), path.clone()), e.node);
        let this =
            Endpoint { node: e.node, interval: e.interval.as_ref(), scheme: e.scheme.as_ref(), scrape: &e.scrape };
        main.endpoints.push(PlanScrape { port, path, ..resolve(&this, diags) });
    }
    Some(main)
}

/// The settings of one endpoint that its checks read: the first
/// endpoint's on `metrics`, or an `endpoint`'s.
pub(super) struct Endpoint<'a> {
    pub node: Span,
    pub interval: Option<&'a Spanned<Duration>>,
    pub scheme: Option<&'a Spanned<String>>,
    pub scrape: &'a ScrapeOptions,
}

/// The endpoint's options (the port and path are the caller's), checked:
/// one credential (SVC0366), complete relabelings (SVC0367), a timeout
/// within the interval (SVC0368), credentials and TLS settings that do what
/// they seem (SVC0369). Every endpoint is held to the same rules.
pub(super) fn resolve(m: &Endpoint<'_>, diags: &mut Diagnostics) -> PlanScrape {
    let o = m.scrape;
    if let (Some(a), Some(f)) = (&o.authorization, &o.bearer_token_file) {
        diags.push(
            Diagnostic::error(Code::ScrapeCredentials, "the scrape has two credentials")
                .at(f.span, "a bearer token file")
                .also(a.node, "and an Authorization header")
                .help("keep `authorization` (the token file is deprecated upstream), or the file alone"),
        );
    }
    if let (Some(t), Some(i)) = (&o.scrape_timeout, m.interval)
        && t.value.millis > i.value.millis
    {
        diags.push(
            Diagnostic::error(Code::ScrapeTimeout, "the scrape timeout is longer than the scrape interval")
                .at(t.span, "the timeout")
                .also(i.span, "the interval")
                .help("prometheus-operator refuses a ServiceMonitor whose timeout exceeds its interval: shorten `scrape-timeout`"),
        );
    }
    let https = m.scheme.is_some_and(|s| s.value == "https");
    let credential = o.authorization.as_ref().map(|a| a.node).or(o.bearer_token_file.as_ref().map(|f| f.span));
    if let (Some(at), false) = (credential, https) {
        diags.push(
            Diagnostic::error(Code::ScrapeNotSecured, "the scrape sends a credential over plain HTTP")
                .at(at, "sent in the clear")
                .help("scrape over TLS: `metrics scheme=\"https\"`"),
        );
    }
    if let (Some(t), false) = (&o.tls, https) {
        diags.push(
            Diagnostic::error(Code::ScrapeNotSecured, "`tls` has no effect on a plain HTTP scrape")
                .at(t.node, "ignored")
                .help("add `scheme=\"https\"` to the endpoint, or remove `tls`"),
        );
    }
    let relabel = |l: &Option<crate::source::Spanned<Vec<Relabel>>>, diags: &mut Diagnostics| {
        l.as_ref().map_or_else(Vec::new, |l| l.value.iter().map(|r| relabel(r, diags)).collect())
    };
    PlanScrape {
        at: m.node,
        port: String::new(),
        path: String::new(),
        select: None,
        job_label: None,
        endpoints: Vec::new(),
        interval: m.interval.map(|d| format_duration(d.value)),
        scheme: m.scheme.map(|s| s.value.clone()),
        scrape_timeout: o.scrape_timeout.as_ref().map(|t| format_duration(t.value)),
        honor_labels: o.honor_labels.as_ref().map(|h| h.value),
        tls: o.tls.as_ref().map(|t| TlsConfig {
            server_name: t.server_name.as_ref().map(|s| s.value.clone()),
            ca: t.ca_secret.as_ref().map(|s| SecretOrConfigMap {
                secret: SecretKeySelector {
                    name: s.value.clone(),
                    key: t.ca_key.as_ref().map_or("ca.crt".to_string(), |k| k.value.clone()),
                },
            }),
            insecure_skip_verify: t.insecure_skip_verify.as_ref().map(|s| s.value),
        }),
        authorization: o.authorization.as_ref().map(|a| SafeAuthorization {
            type_: a.type_.as_ref().map(|t| t.value.clone()),
            credentials: SecretKeySelector { name: a.secret.value.clone(), key: a.key.value.clone() },
        }),
        bearer_token_file: o.bearer_token_file.as_ref().map(|f| f.value.clone()),
        relabelings: relabel(&o.relabelings, diags),
        metric_relabelings: relabel(&o.metric_relabelings, diags),
    }
}

/// One relabeling, with what its action needs (SVC0367).
fn relabel(r: &Relabel, diags: &mut Diagnostics) -> RelabelConfig {
    let action = r.action.as_ref().map_or("replace", |a| a.value.as_str());
    let at = r.action.as_ref().map_or(r.node, |a| a.span);
    let needs_target = ["replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"].contains(&action);
    let needs_source =
        ["keep", "drop", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"].contains(&action);
    let mut missing = Vec::new();
    if needs_target && r.target_label.is_none() {
        missing.push("`target-label=`");
    }
    if needs_source && r.source_labels.is_empty() {
        missing.push("a source label (`relabel \"__name__\" …`)");
    }
    if action == "hashmod" && r.modulus.is_none() {
        missing.push("`modulus=`");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::RelabelIncomplete,
                format!("the relabel action `{action}` needs {}", missing.join(" and ")),
            )
            .at(at, "this action")
            .help("Prometheus refuses the configuration otherwise; see docs/observability.md#scrape-options"),
        );
    }
    RelabelConfig {
        source_labels: r.source_labels.iter().map(|s| s.value.clone()).collect(),
        separator: r.separator.as_ref().map(|s| s.value.clone()),
        target_label: r.target_label.as_ref().map(|s| s.value.clone()),
        regex: r.regex.as_ref().map(|s| s.value.clone()),
        modulus: r.modulus.as_ref().map(|s| s.value),
        replacement: r.replacement.as_ref().map(|s| s.value.clone()),
        action: r.action.as_ref().map(|s| s.value.clone()),
    }
}
