//! The workload: the pod template (its containers, each assembled from
//! the blocks' builders) and the Deployment that runs it. A progressive
//! delivery strategy runs the same template in a Rollout (`rollout.rs`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};

use super::metadata::pod_meta;
use super::{
    Object, env, int_or_percent, lifecycle, non_empty, object, ports, probes, resources, scheduling, workload_meta,
};
use super::{security, selector, volumes};
use crate::plan::{Plan, PlanContainer, Role};
use crate::source::Span;

/// The JSON pointer of a workload's pod spec.
const POD: &str = "/spec/template/spec";
/// The JSON pointer of the service's container in a workload.
pub(super) const CONTAINER: &str = "/spec/template/spec/containers/0";

/// The pod template, shared by every workload kind; the spans of its
/// values go into `prov`.
pub fn pod_template(p: &Plan, prov: &mut BTreeMap<String, Span>) -> PodTemplateSpec {
    let mut containers = vec![container(p, &p.container, CONTAINER.to_string(), prov)];
    let mut init = Vec::new();
    for c in &p.containers {
        let at = match c.role.is_init() {
            true => format!("{POD}/initContainers/{}", init.len()),
            false => format!("{POD}/containers/{}", containers.len()),
        };
        let built = container(p, c, at, prov);
        if c.role.is_init() { init.push(built) } else { containers.push(built) }
    }
    PodTemplateSpec {
        metadata: Some(pod_meta(p)),
        spec: Some(PodSpec {
            service_account_name: Some(p.service_account.name.clone()),
            automount_service_account_token: Some(p.service_account.automount),
            security_context: Some(security::pod_security_context(p)),
            termination_grace_period_seconds: Some(lifecycle::grace_seconds(p)),
            init_containers: non_empty(init),
            containers,
            volumes: non_empty(volumes::volumes(p)),
            node_selector: scheduling::node_selector(p),
            tolerations: non_empty(scheduling::tolerations(p)),
            affinity: scheduling::affinity(p),
            priority_class_name: p.priority_class.clone(),
            topology_spread_constraints: Some(scheduling::spread(p)),
            ..PodSpec::default()
        }),
    }
}

/// One container of the pod, at the JSON pointer `at`: every container
/// gets the same security context but for added capabilities, which only
/// the service's own gets; the service's own also its pre-stop
/// pause, a native sidecar its `restartPolicy: Always`.
fn container(p: &Plan, c: &PlanContainer, at: String, prov: &mut BTreeMap<String, Span>) -> Container {
    prov.insert(format!("{at}/image"), c.image_span);
    if c.role != Role::Main {
        prov.insert(format!("{at}/name"), c.span);
    }
    let mut built = Container {
        name: c.name.clone(),
        image: Some(c.image.clone()),
        image_pull_policy: Some(c.pull_policy.clone()),
        command: c.command.clone(),
        args: c.args.clone(),
        ports: non_empty(ports::container_ports(c, &at, prov)),
        env: non_empty(env::env(c, &at, prov)),
        env_from: non_empty(env::env_from(c)),
        resources: Some(resources::resources(c, &at, prov)),
        security_context: Some(security::container_security_context(p, c.role == Role::Main)),
        volume_mounts: non_empty(volumes::mounts(c)),
        lifecycle: if c.role == Role::Main { lifecycle::lifecycle(p) } else { None },
        restart_policy: (c.role == Role::NativeSidecar).then(|| "Always".to_string()),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Container::default()
    };
    probes::add_probes(c, &at, &mut built, prov);
    built
}

/// The Deployment, when no progressive delivery strategy replaces it: a
/// rolling update, and no replica count when an autoscaler owns it.
pub(super) fn deployment(p: &Plan) -> Object {
    let mut prov = BTreeMap::new();
    let template = pod_template(p, &mut prov);
    if let Some((_, span)) = p.replicas {
        prov.insert("/spec/replicas".to_string(), span);
    }
    let name = super::named(&p.names.workload, &mut prov);
    let d = Deployment {
        metadata: workload_meta(p, name),
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
    object(name, p, &d, prov)
}
