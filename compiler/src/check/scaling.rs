//! `replicas`, `autoscale` and `disruption-budget`: how many pods run, who
//! decides, and how many a voluntary disruption may take.

use super::merge::{Merger, merge_map, or};
use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Autoscale, AutoscaleEngine, Behavior, Body, Disruption, Duration, IntOrPercent};
use crate::plan::{IntOrPercentBound, PlanAutoscale, PlanBehavior, PlanKeda, PlanMonitoring, PlanPolicy};
use crate::promql::{self, Target, Vocabulary};
use crate::settings as s;
use crate::source::{Span, Spanned};
use crate::values::format_quantity;

/// The replica count or the autoscaler that owns it.
pub(super) struct Scaling {
    /// `None` when an autoscaler owns the replica count.
    pub replicas: Option<(u32, Span)>,
    pub autoscale: Option<PlanAutoscale>,
}

/// `min=`, `max=`, `cpu`, `memory` replace; pod metrics merge by metric
/// name; `scale-up` and `scale-down` each replace as a whole;
/// `autoscale #false` replaces everything. A new `autoscale` needs both bounds.
pub(super) fn merge_autoscale(
    c: &mut Merger<'_>,
    base: &Option<Autoscale>,
    over: &Option<Autoscale>,
) -> Option<Autoscale> {
    match (base, over) {
        (_, Some(o)) if o.enabled.as_ref().is_some_and(|e| !e.value) => Some(o.clone()),
        (Some(b), Some(o)) => {
            let Autoscale {
                node: _,
                enabled: b_enabled,
                min: b_min,
                max: b_max,
                cpu: b_cpu,
                memory: b_memory,
                pods: b_pods,
                scale_up: b_scale_up,
                scale_down: b_scale_down,
            } = b;
            let Autoscale { node, enabled, min, max, cpu, memory, pods, scale_up, scale_down } = o;
            Some(Autoscale {
                node: *node,
                enabled: c.pick(&s::AUTOSCALE_ENABLED, enabled, b_enabled),
                min: c.pick(&s::AUTOSCALE_MIN, min, b_min),
                max: c.pick(&s::AUTOSCALE_MAX, max, b_max),
                cpu: c.pick(&s::AUTOSCALE_CPU, cpu, b_cpu),
                memory: c.pick(&s::AUTOSCALE_MEMORY, memory, b_memory),
                pods: merge_map(b_pods, pods),
                scale_up: or(scale_up, b_scale_up),
                scale_down: or(scale_down, b_scale_down),
            })
        }
        (None, Some(o)) => {
            if o.min.is_none() || o.max.is_none() {
                c.refines(
                    "`autoscale`",
                    o.node,
                    "give both bounds here (`autoscale min=2 max=10`), or declare `autoscale` in the service",
                );
                None
            } else {
                Some(o.clone())
            }
        }
        (b, None) => b.clone(),
    }
}

pub(super) fn resolve(
    cx: &Cx<'_>,
    replicas: &Option<Spanned<u32>>,
    autoscale: Option<&Autoscale>,
    diags: &mut Diagnostics,
) -> Scaling {
    let autoscale = autoscale
        .filter(|a| a.enabled.as_ref().is_none_or(|e| e.value))
        .and_then(|a| resolve_autoscale(a, replicas, diags));
    let replicas = if autoscale.is_some() {
        None
    } else {
        Some(replicas.as_ref().map_or((defaults::REPLICAS, cx.origin), |r| (r.value, r.span)))
    };
    Scaling { replicas, autoscale }
}

fn resolve_autoscale(a: &Autoscale, replicas: &Option<Spanned<u32>>, diags: &mut Diagnostics) -> Option<PlanAutoscale> {
    let (Some(min), Some(max)) = (&a.min, &a.max) else {
        let what = match (&a.min, &a.max) {
            (None, None) => "`min` and `max`",
            (None, _) => "`min`",
            _ => "`max`",
        };
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("autoscale needs {what}"))
                .at(a.node, format!("missing {what}"))
                .help("write `autoscale min=2 max=10 { cpu 70 }`"),
        );
        return None;
    };
    if min.value > max.value {
        diags.push(
            Diagnostic::error(
                Code::AutoscaleBounds,
                format!("autoscale `min` ({}) is above `max` ({})", min.value, max.value),
            )
            .at(min.span, "min")
            .also(max.span, "max")
            .help("swap them, or raise `max`"),
        );
    } else if min.value == 0 {
        diags.push(
            Diagnostic::error(Code::AutoscaleBounds, "autoscale `min` must be at least 1")
                .at(min.span, "zero")
                .help("an HPA cannot scale to zero; use `autoscale #false` and `replicas 0` to stop the service"),
        );
    }
    if let Some(r) = replicas {
        diags.push(
            Diagnostic::warning(
                Code::ReplicasIgnored,
                "`replicas` is ignored because `autoscale` owns the replica count",
            )
            .at(r.span, "ignored")
            .also(a.node, "the autoscaler sets replicas between min and max")
            .help("remove `replicas`, or turn autoscaling off in this environment with `autoscale #false`"),
        );
    }
    let mut pods: Vec<(String, String)> =
        a.pods.values().map(|p| (p.metric.value.clone(), format_quantity(p.target.value))).collect();
    pods.sort();
    let cpu = a.cpu.as_ref().map(|v| v.value);
    let memory = a.memory.as_ref().map(|v| v.value);
    let cpu = if cpu.is_none() && memory.is_none() && pods.is_empty() { Some(defaults::AUTOSCALE_CPU) } else { cpu };
    Some(PlanAutoscale {
        min: min.value,
        max: max.value,
        span: a.node,
        cpu,
        memory,
        pods,
        scale_up: behavior(a.scale_up.as_ref(), true),
        scale_down: behavior(a.scale_down.as_ref(), false),
        requests_metric: a.pods.values().find(|p| p.requests).map(|p| p.metric.value.clone()),
        requests_counter: None,
        keda: None,
    })
}

/// `autoscale-engine` laid on the layer below, property by property.
pub(super) fn merge_engine(base: &Option<AutoscaleEngine>, over: &Option<AutoscaleEngine>) -> Option<AutoscaleEngine> {
    let (Some(b), Some(o)) = (base, over) else { return or(over, base) };
    let AutoscaleEngine { node: _, engine: b_engine, prometheus: b_prometheus } = b;
    let AutoscaleEngine { node, engine, prometheus } = o;
    Some(AutoscaleEngine { node: *node, engine: or(engine, b_engine), prometheus: or(prometheus, b_prometheus) })
}

/// With `autoscale-engine keda`, the ScaledObject's Prometheus triggers:
/// `requests-per-second` as the rate of the vocabulary's request counter
/// (the series the alerts and analyses read), each `pods` metric as its
/// sum over the service's pods; KEDA divides by the replica count
/// (`AverageValue`), as the HPA's Pods metric does.
pub(super) fn keda(
    target: Target,
    vocab: Option<&Vocabulary>,
    monitoring: Option<&PlanMonitoring>,
    b: &Body,
    autoscale: &mut Option<PlanAutoscale>,
    diags: &mut Diagnostics,
) {
    let scraped = monitoring.is_some_and(|m| m.scrape.is_some());
    if let (Some(a), Some(v)) = (autoscale.as_mut(), vocab)
        && a.requests_metric.is_some()
    {
        a.requests_counter = Some(v.requests.clone());
    }
    let (Some(e), Some(a)) = (b.autoscale_engine.as_ref(), autoscale.as_mut()) else { return };
    if e.engine.as_ref().is_none_or(|n| n.value != "keda") {
        return;
    }
    let sel = target.scrape_selector();
    let mut triggers = Vec::new();
    for (metric, threshold) in &a.pods {
        let query = if a.requests_metric.as_deref() == Some(metric.as_str()) {
            if !scraped {
                diags.push(
                    Diagnostic::error(Code::KedaUnscraped, "KEDA scales on the request rate, but Prometheus does not scrape this service")
                        .at(a.span, "scales on the request rate")
                        .help("declare `metrics` (the port and path Prometheus scrapes), so the request counter the query reads exists"),
                );
                return;
            }
            let Some(v) = vocab else { return };
            promql::request_rate(v, &target, "2m")
        } else {
            promql::generated(format!("sum({metric}{{{sel}}})"))
        };
        triggers.push((metric.clone(), query, decimal(threshold)));
    }
    let server = match (&e.prometheus, triggers.is_empty()) {
        (Some(p), _) => p.value.clone(),
        (None, true) => String::new(),
        (None, false) => {
            diags.push(
                Diagnostic::error(Code::KedaWithoutPrometheus, "KEDA's Prometheus triggers need the Prometheus address")
                    .at(e.node, "no `prometheus=`")
                    .help("write it once for every service in `_defaults.kdl`: `autoscale-engine keda prometheus=\"http://prometheus-operated.monitoring.svc:9090\"`"),
            );
            return;
        }
    };
    a.keda = Some(PlanKeda { server, triggers, span: e.node });
}

/// A Kubernetes quantity (`100`, `500m`, `2k`, `1Ki`) as the plain decimal
/// KEDA's Prometheus scaler parses its threshold as (`0.5`, `2000`).
fn decimal(q: &str) -> String {
    let units: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix).and_then(|n| n.parse::<f64>().ok()) {
            return promql::number(n * factor);
        }
    }
    q.to_string()
}

/// The documented default behaviour is the seed's: scale up fast (the larger
/// of +50% or +2 pods a minute, after 60 s), scale down slowly (-10% a
/// minute, after 5 minutes of lower load).
fn behavior(b: Option<&Behavior>, up: bool) -> PlanBehavior {
    let (stab, default_policies, default_select): (u64, Vec<PlanPolicy>, Option<&str>) =
        if up { (60, vec![(true, 50, 60), (false, 2, 60)], Some("Max")) } else { (300, vec![(true, 10, 60)], None) };
    match b {
        None => PlanBehavior {
            stabilization: Duration { millis: stab * 1000 },
            select: default_select.map(str::to_string),
            policies: default_policies,
        },
        Some(b) => PlanBehavior {
            stabilization: b.stabilization.as_ref().map_or(Duration { millis: stab * 1000 }, |s| s.value),
            select: match b.select.as_ref().map(|s| s.value.as_str()) {
                Some("max") => Some("Max".to_string()),
                Some("min") => Some("Min".to_string()),
                Some(_) => Some("Disabled".to_string()),
                None => default_select.map(str::to_string),
            },
            policies: if b.policies.is_empty() {
                default_policies
            } else {
                b.policies.iter().map(|p| (p.percent, p.value.value, p.period.value.seconds())).collect()
            },
        },
    }
}

/// The disruption budget, when more than one replica can run (SVC0310 when
/// it never allows an eviction).
pub(super) fn disruption(
    d: Option<&Disruption>,
    scaling: &Scaling,
    diags: &mut Diagnostics,
) -> Option<IntOrPercentBound> {
    let fixed = scaling.replicas.map_or(0, |r| r.0);
    let max_replicas = scaling.autoscale.as_ref().map_or(fixed, |a| a.max);
    let min_replicas = scaling.autoscale.as_ref().map_or(fixed, |a| a.min);
    if max_replicas <= 1 {
        return None;
    }
    Some(match d {
        Some(Disruption { min_available: Some(m), .. }) => {
            let blocks = match m.value {
                IntOrPercent::Int(n) => n >= min_replicas,
                // Kubernetes rounds a percentage of pods up.
                IntOrPercent::Percent(p) => {
                    (u64::from(p) * u64::from(min_replicas)).div_ceil(100) >= u64::from(min_replicas)
                }
            };
            if blocks {
                diags.push(
                    Diagnostic::error(Code::DisruptionBlocked, "this disruption budget never allows an eviction")
                        .at(m.span, format!("with {min_replicas} replica(s), no pod may ever be evicted"))
                        .help("node drains and cluster upgrades would hang; prefer `max-unavailable=1`"),
                );
            }
            IntOrPercentBound::MinAvailable(m.value)
        }
        Some(Disruption { max_unavailable: Some(m), .. }) => {
            if m.value.is_zero() {
                diags.push(
                    Diagnostic::error(Code::DisruptionBlocked, "`max-unavailable` 0 never allows an eviction")
                        .at(m.span, "zero")
                        .help("node drains and cluster upgrades would hang; use `max-unavailable=1`"),
                );
            }
            IntOrPercentBound::MaxUnavailable(m.value)
        }
        _ => IntOrPercentBound::MaxUnavailable(IntOrPercent::Int(1)),
    })
}

#[cfg(test)]
mod keda_tests {
    use super::decimal;

    #[test]
    fn thresholds_are_plain_decimals() {
        assert_eq!(decimal("100"), "100");
        assert_eq!(decimal("500m"), "0.5");
        assert_eq!(decimal("2k"), "2000");
        assert_eq!(decimal("1Ki"), "1024");
    }
}
