//! `autoscale` and `disruption-budget`: the HorizontalPodAutoscaler and
//! the PodDisruptionBudget. (`replicas` is the workload's.)

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec, MetricTarget,
    PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{Kind, Object, i32_of, int_or_percent, meta, object, selector};
use crate::crd::{
    HpaBehavior, HpaConfig, HpaScalingPolicy, HpaScalingRules, ScaleTargetRef, ScaleTrigger, ScaledObject,
    ScaledObjectAdvanced, ScaledObjectSpec,
};
use crate::plan::{IntOrPercentBound, Plan, PlanAutoscale, PlanBehavior, PlanKeda};

/// The autoscaler, recorded at the `autoscale` block: an HPA, or KEDA's
/// ScaledObject (which creates the HPA itself).
pub(super) fn autoscaler(p: &Plan) -> Option<Object> {
    let a = p.autoscale.as_ref()?;
    let mut prov = BTreeMap::new();
    prov.insert("/spec".to_string(), a.span);
    let name = super::named(&p.names.autoscaler, &mut prov);
    match &a.keda {
        Some(k) => {
            prov.insert("/spec/triggers".to_string(), k.span);
            Some(object(name, p, &scaled_object(p, a, k, name), prov))
        }
        None => Some(object(name, p, &hpa(p, a, name), prov)),
    }
}

/// The workload the autoscaler scales: the Rollout when a progressive
/// strategy replaces the Deployment.
fn workload(p: &Plan) -> Kind {
    if p.delivery.is_some() { Kind::Rollout } else { Kind::Deployment }
}

fn scaled_object(p: &Plan, a: &PlanAutoscale, k: &PlanKeda, name: &str) -> ScaledObject {
    let resources = [("cpu", a.cpu), ("memory", a.memory)].into_iter().filter_map(|(res, target)| {
        Some(ScaleTrigger {
            type_: res.to_string(),
            metric_type: Some("Utilization".to_string()),
            metadata: BTreeMap::from([("value".to_string(), target?.to_string())]),
        })
    });
    let prometheus = k.triggers.iter().map(|(_, query, threshold)| ScaleTrigger {
        type_: "prometheus".to_string(),
        metric_type: Some("AverageValue".to_string()),
        metadata: BTreeMap::from([
            ("serverAddress".to_string(), k.server.clone()),
            ("query".to_string(), query.clone()),
            ("threshold".to_string(), threshold.clone()),
        ]),
    });
    let kind = workload(p);
    ScaledObject {
        api_version: Kind::ScaledObject.api_version().to_string(),
        kind: Kind::ScaledObject.as_str().to_string(),
        metadata: meta(p, name),
        spec: ScaledObjectSpec {
            scale_target_ref: ScaleTargetRef {
                api_version: kind.api_version().to_string(),
                kind: kind.as_str().to_string(),
                name: p.names.workload.name.clone(),
            },
            min_replica_count: i32::try_from(a.min).unwrap_or(i32::MAX),
            max_replica_count: i32::try_from(a.max).unwrap_or(i32::MAX),
            advanced: ScaledObjectAdvanced {
                horizontal_pod_autoscaler_config: HpaConfig {
                    behavior: HpaBehavior { scale_up: keda_rules(&a.scale_up), scale_down: keda_rules(&a.scale_down) },
                },
            },
            triggers: resources.chain(prometheus).collect(),
        },
    }
}

fn hpa(p: &Plan, a: &PlanAutoscale, name: &str) -> HorizontalPodAutoscaler {
    let workload = workload(p);
    HorizontalPodAutoscaler {
        metadata: meta(p, name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(workload.api_version().to_string()),
                kind: workload.as_str().to_string(),
                name: p.names.workload.name.clone(),
            },
            min_replicas: Some(i32::try_from(a.min).unwrap_or(i32::MAX)),
            max_replicas: i32::try_from(a.max).unwrap_or(i32::MAX),
            metrics: Some(metrics(a)),
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_up: Some(rules(&a.scale_up)),
                scale_down: Some(rules(&a.scale_down)),
            }),
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

/// Utilization targets of cpu and memory, then the per-pod metrics.
fn metrics(a: &PlanAutoscale) -> Vec<MetricSpec> {
    let resources = [("cpu", a.cpu), ("memory", a.memory)].into_iter().filter_map(|(res, target)| {
        let target = target?;
        Some(MetricSpec {
            type_: "Resource".to_string(),
            resource: Some(ResourceMetricSource {
                name: res.to_string(),
                target: MetricTarget {
                    type_: "Utilization".to_string(),
                    average_utilization: Some(i32::try_from(target).unwrap_or(i32::MAX)),
                    ..MetricTarget::default()
                },
            }),
            ..MetricSpec::default()
        })
    });
    let pods = a.pods.iter().map(|(metric, target)| MetricSpec {
        type_: "Pods".to_string(),
        pods: Some(PodsMetricSource {
            metric: MetricIdentifier { name: metric.clone(), selector: None },
            target: MetricTarget {
                type_: "AverageValue".to_string(),
                average_value: Some(Quantity(target.clone())),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    });
    resources.chain(pods).collect()
}

/// The same rules as [`rules`], in KEDA's types.
fn keda_rules(b: &PlanBehavior) -> HpaScalingRules {
    HpaScalingRules {
        stabilization_window_seconds: i32_of(b.stabilization.seconds()),
        select_policy: b.select.clone(),
        policies: b
            .policies
            .iter()
            .map(|(percent, value, period)| HpaScalingPolicy {
                type_: if *percent { "Percent" } else { "Pods" }.to_string(),
                value: i32::try_from(*value).unwrap_or(i32::MAX),
                period_seconds: i32_of(*period),
            })
            .collect(),
    }
}

fn rules(b: &PlanBehavior) -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: Some(i32_of(b.stabilization.seconds())),
        select_policy: b.select.clone(),
        policies: Some(
            b.policies
                .iter()
                .map(|(percent, value, period)| HPAScalingPolicy {
                    type_: if *percent { "Percent" } else { "Pods" }.to_string(),
                    value: i32::try_from(*value).unwrap_or(i32::MAX),
                    period_seconds: i32_of(*period),
                })
                .collect(),
        ),
        ..HPAScalingRules::default()
    }
}

/// The disruption budget: at most (or at least) so many pods at a time.
pub(super) fn disruption_budget(p: &Plan) -> Option<Object> {
    let (max_unavailable, min_available) = match p.disruption? {
        IntOrPercentBound::MaxUnavailable(v) => (Some(int_or_percent(v)), None),
        IntOrPercentBound::MinAvailable(v) => (None, Some(int_or_percent(v))),
    };
    let mut prov = BTreeMap::new();
    let name = super::named(&p.names.disruption_budget, &mut prov);
    let pdb = PodDisruptionBudget {
        metadata: meta(p, name),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(selector(p)),
            max_unavailable,
            min_available,
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".to_string()),
        }),
        ..PodDisruptionBudget::default()
    };
    Some(object(name, p, &pdb, prov))
}
