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
use crate::plan::{IntOrPercentBound, Plan, PlanAutoscale, PlanBehavior};

/// The autoscaler, recorded at the `autoscale` block.
pub(super) fn autoscaler(p: &Plan) -> Option<Object> {
    let a = p.autoscale.as_ref()?;
    let mut prov = BTreeMap::new();
    prov.insert("/spec".to_string(), a.span);
    let name = super::named(&p.names.autoscaler, &mut prov);
    Some(object(name, p, &hpa(p, a, name), prov))
}

fn hpa(p: &Plan, a: &PlanAutoscale, name: &str) -> HorizontalPodAutoscaler {
    // The HPA scales whichever workload runs the pods: the Rollout when a
    // progressive strategy replaces the Deployment.
    let workload = if p.delivery.is_some() { Kind::Rollout } else { Kind::Deployment };
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
