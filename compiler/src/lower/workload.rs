//! The workload: the pod template (one container, assembled from the
//! blocks' builders) and the Deployment that runs it. A progressive
//! delivery strategy runs the same template in a Rollout (`rollout.rs`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};

use super::metadata::pod_meta;
use super::{
    Object, env, int_or_percent, lifecycle, non_empty, object, ports, probes, resources, scheduling, workload_meta,
};
use super::{security, selector, volumes};
use crate::plan::Plan;
use crate::source::Span;

/// The JSON pointer of the service's container in a workload.
pub(super) const CONTAINER: &str = "/spec/template/spec/containers/0";

/// The pod template, shared by every workload kind; the spans of its
/// values go into `prov`.
pub fn pod_template(p: &Plan, prov: &mut BTreeMap<String, Span>) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(pod_meta(p)),
        spec: Some(PodSpec {
            service_account_name: Some(p.service_account.name.clone()),
            automount_service_account_token: Some(p.service_account.automount),
            security_context: Some(security::pod_security_context(p)),
            termination_grace_period_seconds: Some(lifecycle::grace_seconds(p)),
            containers: vec![container(p, prov)],
            volumes: non_empty(volumes::volumes(p)),
            node_selector: scheduling::node_selector(p),
            tolerations: non_empty(scheduling::tolerations(p)),
            topology_spread_constraints: Some(scheduling::spread(p)),
            ..PodSpec::default()
        }),
    }
}

/// The service's container.
fn container(p: &Plan, prov: &mut BTreeMap<String, Span>) -> Container {
    prov.insert(format!("{CONTAINER}/image"), p.image_span);
    let mut c = Container {
        name: p.service.clone(),
        image: Some(p.image.clone()),
        image_pull_policy: Some(p.pull_policy.clone()),
        command: p.command.clone(),
        args: p.args.clone(),
        ports: non_empty(ports::container_ports(p, prov)),
        env: non_empty(env::env(p, prov)),
        env_from: non_empty(env::env_from(p)),
        resources: Some(resources::resources(p, prov)),
        security_context: Some(security::container_security_context(p)),
        volume_mounts: non_empty(volumes::mounts(p)),
        lifecycle: lifecycle::lifecycle(p),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Container::default()
    };
    probes::add_probes(p, &mut c, prov);
    c
}

/// The Deployment, when no progressive delivery strategy replaces it: a
/// rolling update, and no replica count when an autoscaler owns it.
pub(super) fn deployment(p: &Plan) -> Object {
    let mut prov = BTreeMap::new();
    let template = pod_template(p, &mut prov);
    if let Some((_, span)) = p.replicas {
        prov.insert("/spec/replicas".to_string(), span);
    }
    let d = Deployment {
        metadata: workload_meta(p, &p.service),
        spec: Some(DeploymentSpec {
            replicas: p.replicas.map(|(r, _)| i32::try_from(r).unwrap_or(i32::MAX)),
            selector: selector(p),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".to_string()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(int_or_percent(p.max_surge)),
                    max_unavailable: Some(int_or_percent(p.max_unavailable)),
                }),
            }),
            template,
            min_ready_seconds: p.updates.min_ready.map(super::i32_of),
            progress_deadline_seconds: p.updates.progress_deadline.map(super::i32_of),
            revision_history_limit: p.updates.revision_history.map(|n| super::i32_of(u64::from(n))),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    object(&p.service, p, &d, prov)
}
