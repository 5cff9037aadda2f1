//! Rollout and AnalysisTemplate (argoproj.io/v1alpha1): the progressive
//! replacement of the Deployment, built from the same pod template,
//! selector and labels.

use std::collections::BTreeMap;

use super::{Kind, Object, int_or_percent, meta, object, pod_template, selector};
use crate::crd::{
    AnalysisMetric, AnalysisTemplate, AnalysisTemplateRef, AnalysisTemplateSpec, BlueGreenStrategy, CanaryStep,
    CanaryStrategy, MetricProvider, NginxTrafficRouting, PrometheusMetric, Rollout, RolloutAnalysis, RolloutPause,
    RolloutSpec, RolloutStrategy, TrafficRouting,
};
use crate::model::Duration;
use crate::plan::{Plan, PlanAnalysis, PlanDelivery, PlanStep, PlanStrategy};
use crate::values::format_duration;

pub const API_VERSION: &str = "argoproj.io/v1alpha1";

fn i32_of(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn analysis(template: &Option<String>) -> Option<RolloutAnalysis> {
    template.as_ref().map(|t| RolloutAnalysis { templates: vec![AnalysisTemplateRef { template_name: t.clone() }] })
}

pub fn rollout(p: &Plan, d: &PlanDelivery) -> Object {
    let mut prov = BTreeMap::new();
    let template = pod_template(p, &mut prov);
    if let Some((_, span)) = p.replicas {
        prov.insert("/spec/replicas".to_string(), span);
    }
    prov.insert("/spec/strategy".to_string(), d.span);
    let strategy = match &d.strategy {
        PlanStrategy::BlueGreen {
            active_service,
            preview_service,
            auto_promote,
            auto_promote_seconds,
            scale_down_delay,
            preview_replicas,
            pre_promotion,
            post_promotion,
        } => RolloutStrategy {
            blue_green: Some(BlueGreenStrategy {
                active_service: active_service.clone(),
                preview_service: preview_service.clone(),
                auto_promotion_enabled: *auto_promote,
                auto_promotion_seconds: auto_promote_seconds.map(i32_of),
                scale_down_delay_seconds: i32_of(*scale_down_delay),
                preview_replica_count: preview_replicas.map(|r| i32_of(u64::from(r))),
                pre_promotion_analysis: analysis(pre_promotion),
                post_promotion_analysis: analysis(post_promotion),
            }),
            canary: None,
        },
        PlanStrategy::Canary {
            stable_service,
            canary_service,
            max_surge,
            max_unavailable,
            nginx_ingress,
            background,
            steps,
        } => RolloutStrategy {
            blue_green: None,
            canary: Some(CanaryStrategy {
                stable_service: stable_service.clone(),
                canary_service: canary_service.clone(),
                max_surge: int_or_percent(*max_surge),
                max_unavailable: int_or_percent(*max_unavailable),
                analysis: analysis(background),
                steps: steps
                    .iter()
                    .map(|s| match s {
                        PlanStep::SetWeight(w) => {
                            CanaryStep { set_weight: Some(i32_of(u64::from(*w))), ..CanaryStep::default() }
                        }
                        PlanStep::Pause(d) => CanaryStep {
                            pause: Some(RolloutPause {
                                duration: d.map(|s| format_duration(Duration { millis: s * 1000 })),
                            }),
                            ..CanaryStep::default()
                        },
                        PlanStep::Analysis(t) => {
                            CanaryStep { analysis: analysis(&Some(t.clone())), ..CanaryStep::default() }
                        }
                    })
                    .collect(),
                traffic_routing: nginx_ingress
                    .as_ref()
                    .map(|i| TrafficRouting { nginx: NginxTrafficRouting { stable_ingress: i.clone() } }),
            }),
        },
    };
    let r = Rollout {
        api_version: API_VERSION.into(),
        kind: "Rollout".into(),
        metadata: meta(p, &p.service),
        spec: RolloutSpec {
            replicas: p.replicas.map(|(r, _)| i32::try_from(r).unwrap_or(i32::MAX)),
            selector: selector(p),
            template,
            strategy,
        },
    };
    object(Kind::Rollout, &p.service, p.origin, &r, prov)
}

pub fn analysis_template(p: &Plan, a: &PlanAnalysis) -> Object {
    let mut prov = BTreeMap::new();
    prov.insert("/spec".to_string(), a.span);
    let metrics = a
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            prov.insert(format!("/spec/metrics/{i}"), m.span);
            AnalysisMetric {
                name: m.name.clone(),
                interval: m.interval.clone(),
                count: i32_of(u64::from(m.count)),
                success_condition: m.success_condition.clone(),
                failure_condition: m.failure_condition.clone(),
                failure_limit: i32_of(u64::from(m.failure_limit)),
                inconclusive_limit: i32_of(u64::from(m.inconclusive_limit)),
                provider: MetricProvider {
                    prometheus: PrometheusMetric { address: m.address.clone(), query: m.query.clone() },
                },
            }
        })
        .collect();
    let t = AnalysisTemplate {
        api_version: API_VERSION.into(),
        kind: "AnalysisTemplate".into(),
        metadata: meta(p, &a.name),
        spec: AnalysisTemplateSpec { metrics },
    };
    object(Kind::AnalysisTemplate, &a.name, p.origin, &t, prov)
}
