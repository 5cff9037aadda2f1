//! `replicas`, `autoscale` and `disruption-budget`: how many pods run, who
//! decides, and how many a voluntary disruption may take.

use super::merge::{Merger, merge_map, or};
use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Autoscale, Behavior, Disruption, Duration, IntOrPercent};
use crate::plan::{IntOrPercentBound, PlanAutoscale, PlanBehavior, PlanPolicy};
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
    })
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
