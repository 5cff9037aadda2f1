//! Rollout and AnalysisTemplate (argoproj.io/v1alpha1): the progressive
//! replacement of the Deployment, built from the same pod template,
//! selector and labels.

use std::collections::BTreeMap;

use super::{Kind, Object, i32_of, int_or_percent, meta, object, pod_template, selector, workload_meta};
use crate::check::rollout::NAMESPACE_ARG;
use crate::crd::{
    AnalysisMetric, AnalysisRunArgument, AnalysisTemplate, AnalysisTemplateRef, AnalysisTemplateSpec, Argument,
    ArgumentValueFrom, BlueGreenStrategy, CanaryStep, CanaryStrategy, FieldRef, GatewayApiRouting, MetricProvider,
    NginxTrafficRouting, PrometheusMetric, Rollout, RolloutAnalysis, RolloutPause, RolloutSpec, RolloutStrategy,
    TrafficPlugins, TrafficRouting,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::model::{ArgSource, Duration};
use crate::plan::{Plan, PlanAnalysis, PlanDelivery, PlanProvider, PlanRouter, PlanStep, PlanStrategy};
use crate::values::format_duration;

/// A Rollout argument read from one of its own fields.
fn from_field(name: &str, path: &str) -> AnalysisRunArgument {
    AnalysisRunArgument {
        name: name.to_string(),
        value: None,
        value_from: Some(ArgumentValueFrom {
            field_ref: Some(FieldRef { field_path: path.to_string() }),
            pod_template_hash_value: None,
        }),
    }
}

/// The reference to one AnalysisTemplate, passing the Rollout's namespace
/// when the templates read it ([`NAMESPACE_ARG`]) and the template's own
/// arguments.
fn analysis(template: &Option<String>, d: &PlanDelivery) -> Option<RolloutAnalysis> {
    let t = template.as_ref()?;
    let a = d.analyses.iter().find(|a| &a.name == t)?;
    let mut args: Vec<AnalysisRunArgument> =
        a.namespace_arg.then(|| from_field(NAMESPACE_ARG, "metadata.namespace")).into_iter().collect();
    args.extend(a.args.iter().map(|a| match &a.source {
        ArgSource::Value(v) => AnalysisRunArgument { name: a.name.clone(), value: Some(v.clone()), value_from: None },
        ArgSource::Field(f) => from_field(&a.name, f),
        ArgSource::PodTemplateHash(which) => AnalysisRunArgument {
            name: a.name.clone(),
            value: None,
            value_from: Some(ArgumentValueFrom {
                field_ref: None,
                pod_template_hash_value: Some((*which).to_string()),
            }),
        },
    }));
    Some(RolloutAnalysis { templates: vec![AnalysisTemplateRef { template_name: t.clone() }], args })
}

pub fn rollout(p: &Plan, d: &PlanDelivery) -> Object {
    let mut prov = BTreeMap::new();
    let template = pod_template(p, &mut prov);
    if let Some((_, span)) = p.replicas {
        prov.insert("/spec/replicas".to_string(), span);
    }
    prov.insert("/spec/strategy".to_string(), d.span);
    let name = super::named(&p.names.workload, &mut prov);
    let r = Rollout {
        api_version: Kind::Rollout.api_version().into(),
        kind: Kind::Rollout.as_str().into(),
        metadata: workload_meta(p, name),
        spec: RolloutSpec {
            replicas: p.replicas.map(|(r, _)| i32::try_from(r).unwrap_or(i32::MAX)),
            selector: selector(p),
            template: template.into(),
            strategy: strategy(p, d),
            min_ready_seconds: p.updates.min_ready.map(i32_of),
            progress_deadline_seconds: p.updates.progress_deadline.map(i32_of),
            revision_history_limit: p.updates.revision_history.map(|n| i32_of(u64::from(n))),
        },
    };
    object(name, p, &r, prov)
}

/// Blue-green or canary, with the analyses that gate each.
fn strategy(p: &Plan, d: &PlanDelivery) -> RolloutStrategy {
    match &d.strategy {
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
                pre_promotion_analysis: analysis(pre_promotion, d),
                post_promotion_analysis: analysis(post_promotion, d),
            }),
            canary: None,
        },
        PlanStrategy::Canary {
            stable_service,
            canary_service,
            max_surge,
            max_unavailable,
            router,
            background,
            steps,
        } => RolloutStrategy {
            blue_green: None,
            canary: Some(CanaryStrategy {
                stable_service: stable_service.clone(),
                canary_service: canary_service.clone(),
                max_surge: int_or_percent(*max_surge),
                max_unavailable: int_or_percent(*max_unavailable),
                analysis: analysis(background, d),
                steps: steps
                    .iter()
                    .map(|s| match s {
                        PlanStep::SetWeight(w) => {
                            CanaryStep { set_weight: Some(i32_of(u64::from(*w))), ..CanaryStep::default() }
                        }
                        PlanStep::Pause { seconds, bare } => CanaryStep {
                            pause: Some(RolloutPause {
                                duration: seconds.map(|s| {
                                    if *bare {
                                        IntOrString::Int(i32_of(s))
                                    } else {
                                        IntOrString::String(format_duration(Duration { millis: s * 1000 }))
                                    }
                                }),
                            }),
                            ..CanaryStep::default()
                        },
                        PlanStep::Analysis(t) => {
                            CanaryStep { analysis: analysis(&Some(t.clone()), d), ..CanaryStep::default() }
                        }
                    })
                    .collect(),
                traffic_routing: router.as_ref().map(|r| traffic_routing(p, r)),
            }),
        },
    }
}

/// The Rollout's `trafficRouting`: NGINX's stable Ingress, or the Gateway
/// API plugin's route (named like the service, in its namespace).
fn traffic_routing(p: &Plan, r: &PlanRouter) -> TrafficRouting {
    match r {
        PlanRouter::Nginx { ingress } => {
            TrafficRouting { nginx: Some(NginxTrafficRouting { stable_ingress: ingress.clone() }), plugins: None }
        }
        PlanRouter::GatewayApi => {
            let grpc = p.route.as_ref().is_some_and(|r| r.grpc);
            TrafficRouting {
                nginx: None,
                plugins: Some(TrafficPlugins {
                    gateway_api: GatewayApiRouting {
                        http_route: (!grpc).then(|| p.service.clone()),
                        grpc_route: grpc.then(|| p.service.clone()),
                        namespace: p.namespace.clone(),
                    },
                }),
            }
        }
    }
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
            let (conditions, provider) = match &m.provider {
                PlanProvider::Prometheus { address, query, success_condition, failure_condition } => (
                    (Some(success_condition.clone()), Some(failure_condition.clone())),
                    MetricProvider {
                        prometheus: Some(PrometheusMetric { address: address.clone(), query: query.clone() }),
                        job: None,
                    },
                ),
                PlanProvider::Job(j) => (
                    (None, None),
                    MetricProvider {
                        prometheus: None,
                        job: Some(super::jobs::analysis(p, j, &format!("/spec/metrics/{i}/provider/job"), &mut prov)),
                    },
                ),
            };
            AnalysisMetric {
                name: m.name.clone(),
                interval: m.interval.clone(),
                count: m.count.map(|c| i32_of(u64::from(c))),
                success_condition: conditions.0,
                failure_condition: conditions.1,
                failure_limit: i32_of(u64::from(m.failure_limit)),
                inconclusive_limit: i32_of(u64::from(m.inconclusive_limit)),
                provider,
            }
        })
        .collect();
    let t = AnalysisTemplate {
        api_version: Kind::AnalysisTemplate.api_version().into(),
        kind: Kind::AnalysisTemplate.as_str().into(),
        metadata: meta(p, &a.name),
        spec: AnalysisTemplateSpec {
            args: a
                .namespace_arg
                .then(|| NAMESPACE_ARG.to_string())
                .into_iter()
                .chain(a.args.iter().map(|x| x.name.clone()))
                .map(|name| Argument { name })
                .collect(),
            metrics,
        },
    };
    object(&a.name, p, &t, prov)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::diagnostic::Diagnostics;
    use crate::lower::{Kind, Object, lower};

    const SPEC: &str = r#"
service api {
    image "ghcr.io/acme/api" tag="1.0.0"
    port http 8080
    probes { readiness "/ready" }
    metrics { prometheus-labels { release "kube-prometheus-stack" } }
    autoscale min=3 max=10 { cpu 70 }
    blue-green {
        preview-replicas 1
        pre-promotion { success-rate at-least=0.95; latency quantile=0.95 at-most="500ms" }
        post-promotion { success-rate }
    }
    environment staging { blue-green #false }
    environment production {
        canary {
            traffic nginx
            analysis { success-rate }
            steps { set-weight 20; pause "1m"; analysis { latency }; set-weight 100 }
        }
    }
    environment edge {
        canary { steps { set-weight 50; pause; set-weight 100 } }
    }
    environment blue
}
"#;

    fn build() -> Vec<(String, Vec<Object>)> {
        let mut diags = Diagnostics::new();
        let doc = crate::syntax::parse(SPEC, &mut diags).expect("parses");
        let spec = crate::decode::decode(&doc, &mut diags).expect("decodes");
        let plans = crate::check::check(&spec, &crate::Options::default(), &mut diags);
        assert!(!diags.has_errors(), "{:?}", diags.iter().collect::<Vec<_>>());
        plans.iter().map(|p| (p.environment.clone(), lower(p))).collect()
    }

    fn env(all: &[(String, Vec<Object>)], name: &str) -> Vec<Object> {
        all.iter().find(|(e, _)| e == name).map(|(_, o)| o.clone()).expect("environment")
    }

    fn one(objs: &[Object], kind: Kind) -> &Value {
        let mut it = objs.iter().filter(|o| o.kind == kind);
        let v = &it.next().unwrap_or_else(|| panic!("no {kind:?}")).value;
        assert!(it.next().is_none(), "more than one {kind:?}");
        v
    }

    fn services(objs: &[Object]) -> Vec<&Value> {
        objs.iter().filter(|o| o.kind == Kind::Service).map(|o| &o.value).collect()
    }

    /// Every analysis query parses, and its `job` is a generated Service.
    fn queries_select_generated_services(objs: &[Object]) -> Vec<String> {
        let names: Vec<String> =
            services(objs).iter().map(|s| s["metadata"]["name"].as_str().unwrap().to_string()).collect();
        let mut jobs = Vec::new();
        for t in objs.iter().filter(|o| o.kind == Kind::AnalysisTemplate) {
            for m in t.value["spec"]["metrics"].as_array().unwrap() {
                let q = m["provider"]["prometheus"]["query"].as_str().unwrap();
                crate::promql::check(q).unwrap_or_else(|e| panic!("{q}: {e}"));
                let job = q.split("job=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
                assert!(names.contains(&job), "{job} is not one of {names:?}");
                let cond = m["successCondition"].as_str().unwrap();
                assert!(cond.starts_with("len(result) > 0 && !isNaN(result[0]) && "), "{cond}");
                jobs.push(job);
            }
        }
        jobs
    }

    #[test]
    fn blue_green_replaces_the_deployment_and_shares_names_and_selectors() {
        let objs = env(&build(), "blue");
        assert!(objs.iter().all(|o| o.kind != Kind::Deployment), "never a Deployment beside the Rollout");
        let r = one(&objs, Kind::Rollout);
        let bg = &r["spec"]["strategy"]["blueGreen"];
        assert_eq!(bg["activeService"], "api");
        assert_eq!(bg["previewService"], "api-preview");
        assert_eq!(bg["previewReplicaCount"], 1);
        assert!(r["spec"].get("replicas").is_none(), "the HPA owns replicas");
        let sel = &r["spec"]["selector"]["matchLabels"];
        let svcs = services(&objs);
        let names: Vec<&str> = svcs.iter().map(|s| s["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["api", "api-preview"]);
        for s in &svcs {
            assert_eq!(&s["spec"]["selector"], sel);
        }
        assert_eq!(&one(&objs, Kind::PodDisruptionBudget)["spec"]["selector"]["matchLabels"], sel);
        // The ServiceMonitor selects the Services (by labels Argo CD's label
        // tracking leaves alone), not the pods.
        let sm = &one(&objs, Kind::ServiceMonitor)["spec"]["selector"]["matchLabels"];
        for s in &svcs {
            for (k, v) in sm.as_object().unwrap() {
                assert_eq!(&s["metadata"]["labels"][k], v, "{k}");
            }
        }
        assert!(sm.get("app.kubernetes.io/instance").is_none());
        let target = &one(&objs, Kind::HorizontalPodAutoscaler)["spec"]["scaleTargetRef"];
        assert_eq!(target["apiVersion"], "argoproj.io/v1alpha1");
        assert_eq!(target["kind"], "Rollout");
        assert_eq!(target["name"], r["metadata"]["name"]);
        // The hardened pod template is the Deployment's.
        let c = &r["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert!(c.get("readinessProbe").is_some());
        // Pre-promotion measures the preview, post-promotion the active side.
        assert_eq!(bg["prePromotionAnalysis"]["templates"][0]["templateName"], "api-pre-promotion");
        assert_eq!(bg["postPromotionAnalysis"]["templates"][0]["templateName"], "api-post-promotion");
        assert_eq!(queries_select_generated_services(&objs), ["api-preview", "api-preview", "api"]);
    }

    #[test]
    fn staging_turns_the_strategy_off() {
        let objs = env(&build(), "staging");
        assert!(objs.iter().all(|o| !matches!(o.kind, Kind::Rollout | Kind::AnalysisTemplate)));
        one(&objs, Kind::Deployment);
        assert_eq!(services(&objs).len(), 1);
        assert_eq!(one(&objs, Kind::HorizontalPodAutoscaler)["spec"]["scaleTargetRef"]["kind"], "Deployment");
    }

    #[test]
    fn canary_with_and_without_a_traffic_router() {
        let all = build();
        let routed = env(&all, "production");
        let c = &one(&routed, Kind::Rollout)["spec"]["strategy"]["canary"];
        assert_eq!(c["stableService"], "api");
        assert_eq!(c["canaryService"], "api-canary");
        assert_eq!(c["trafficRouting"]["nginx"]["stableIngress"], "api");
        assert_eq!(c["steps"][1]["pause"]["duration"], "1m");
        assert!(queries_select_generated_services(&routed).iter().all(|j| j == "api-canary"));

        let weighted = env(&all, "edge");
        let c = &one(&weighted, Kind::Rollout)["spec"]["strategy"]["canary"];
        assert!(c.get("stableService").is_none(), "the main Service keeps selecting every pod");
        assert!(c.get("trafficRouting").is_none());
        assert_eq!(c["steps"][1]["pause"], serde_json::json!({}));
    }
}
