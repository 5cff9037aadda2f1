//! Stage 4: [`Plan`] → typed Kubernetes objects (k8s-openapi, Kubernetes
//! 1.33 API), each with the spec spans of the values it carries.
//!
//! Names, labels and selectors are derived once from the plan and used by
//! every object, so the objects cannot disagree with each other.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec, MetricTarget,
    PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, Lifecycle,
    LifecycleHandler, ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecretEnvSource, SecretKeySelector, SecretVolumeSource, SecurityContext, Service, ServiceAccount,
    ServicePort, ServiceSpec, SleepAction, TCPSocketAction, Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

mod kinds;
mod monitoring;
mod rollout;

pub use kinds::Kind;
use kinds::OfKind;

use crate::model::{IntOrPercent, ProbeKind, VolumeSource};
use crate::plan::*;
use crate::source::Span;

/// One generated object, as a JSON value, with where its values came from.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: Kind,
    pub name: String,
    pub value: serde_json::Value,
    /// The spec span of the object as a whole (the `service` name).
    pub origin: Span,
    /// JSON pointer → where the value at that pointer came from. A pointer
    /// without an entry inherits the origin of its nearest recorded ancestor.
    pub provenance: BTreeMap<String, Origin>,
    /// JSON pointers written or removed by patches (`crate::patch`).
    pub patched: Vec<String>,
}

/// Where a generated value came from (`svcc explain KIND/NAME POINTER FILE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written in the `service` block.
    Spec(Span),
    /// Written in (or overridden by) an `environment NAME { … }` block.
    Environment { name: String, span: Span },
    /// Not written anywhere: the documented default of this setting.
    Default { setting: String },
    /// Computed from another value, e.g. names and selectors from the service name.
    Derived { from: Span, what: &'static str },
    /// Written or removed by a `patch` block.
    Patch(Span),
}

impl Origin {
    /// The spec token this origin points at, if any.
    pub fn span(&self) -> Option<Span> {
        match self {
            Origin::Spec(s)
            | Origin::Environment { span: s, .. }
            | Origin::Derived { from: s, .. }
            | Origin::Patch(s) => Some(*s),
            Origin::Default { .. } => None,
        }
    }
}

/// The origin of a value the plan traced to `span`: the service name's span
/// stands for a default (see `check`), a span inside the environment block
/// for an override.
fn origin_of(p: &Plan, span: Span, pointer: &str) -> Origin {
    if span == p.origin {
        return Origin::Default { setting: default_setting(pointer).to_string() };
    }
    match p.environment_block {
        Some(b) if b.start <= span.start && span.end <= b.end => {
            Origin::Environment { name: p.environment.clone(), span }
        }
        _ => Origin::Spec(span),
    }
}

/// The documented setting a defaulted pointer belongs to.
fn default_setting(pointer: &str) -> &'static str {
    const TABLE: &[(&str, &str)] = &[
        ("/spec/replicas", "replicas"),
        ("/resources/requests/cpu", "resources.requests.cpu"),
        ("/resources/requests/memory", "resources.requests.memory"),
        ("/resources/limits/cpu", "resources.limits.cpu"),
        ("/resources/limits/memory", "resources.limits.memory"),
        ("/readinessProbe", "probes.readiness"),
    ];
    TABLE.iter().find(|(suffix, _)| pointer.ends_with(suffix)).map_or("the service", |(_, s)| s)
}

/// Pointers whose value is one documented setting: the spec's span when the
/// setting is written, its default otherwise.
const SETTINGS: &[(Kind, &str, &str)] = &[
    (Kind::Deployment, "/spec/template/spec/securityContext/runAsUser", "security.run-as-user"),
    (Kind::Deployment, "/spec/template/spec/securityContext/runAsGroup", "security.run-as-group"),
    (Kind::Deployment, "/spec/template/spec/securityContext/fsGroup", "security.fs-group"),
    (Kind::Deployment, "/spec/template/spec/securityContext/runAsNonRoot", "security.run-as-non-root"),
    (Kind::Deployment, "/spec/template/spec/securityContext/seccompProfile", "security.seccomp"),
    (Kind::Deployment, "/spec/template/spec/containers/0/securityContext/runAsNonRoot", "security.run-as-non-root"),
    (
        Kind::Deployment,
        "/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem",
        "security.read-only-root-filesystem",
    ),
    (
        Kind::Deployment,
        "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
        "security.allow-privilege-escalation",
    ),
    (
        Kind::Deployment,
        "/spec/template/spec/containers/0/securityContext/capabilities/add",
        "security.add-capabilities",
    ),
    (Kind::Deployment, "/spec/template/spec/containers/0/imagePullPolicy", "image.pull-policy"),
    (Kind::Deployment, "/spec/template/spec/containers/0/lifecycle/preStop", "shutdown.pre-stop"),
    (Kind::Deployment, "/spec/template/spec/terminationGracePeriodSeconds", "shutdown.grace"),
    (Kind::Deployment, "/spec/template/spec/automountServiceAccountToken", "service-account.automount-token"),
    (Kind::Deployment, "/spec/strategy/rollingUpdate/maxSurge", "rolling-update.max-surge"),
    (Kind::Deployment, "/spec/strategy/rollingUpdate/maxUnavailable", "rolling-update.max-unavailable"),
    (Kind::ServiceAccount, "/automountServiceAccountToken", "service-account.automount-token"),
    (Kind::HorizontalPodAutoscaler, "/spec/minReplicas", "autoscale.min"),
    (Kind::HorizontalPodAutoscaler, "/spec/maxReplicas", "autoscale.max"),
    (Kind::HorizontalPodAutoscaler, "/spec/behavior/scaleUp", "autoscale.scale-up"),
    (Kind::HorizontalPodAutoscaler, "/spec/behavior/scaleDown", "autoscale.scale-down"),
    (Kind::PodDisruptionBudget, "/spec/maxUnavailable", "disruption-budget"),
    (Kind::PodDisruptionBudget, "/spec/minAvailable", "disruption-budget"),
];

/// Values derived from the service name (identity, selectors).
const DERIVED: &[&str] = &[
    "/metadata/name",
    "/metadata/labels",
    "/spec/selector",
    "/spec/template/metadata/labels",
    "/spec/scaleTargetRef",
    "/spec/template/spec/containers/0/name",
];

impl Object {
    /// The file name inside an environment folder, e.g. `deployment-backend-api.yaml`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.file_stem(), self.name)
    }
}

/// `value.pointer(ptr)` for the constant pointers of this module, which
/// have no `~` escapes: without the escape handling, which allocates twice
/// per segment (and lowering looks up some thirty pointers per object).
fn at<'v>(value: &'v serde_json::Value, ptr: &str) -> Option<&'v serde_json::Value> {
    debug_assert!(!ptr.contains('~'), "{ptr} needs unescaping");
    ptr.split('/').skip(1).try_fold(value, |v, seg| match v {
        serde_json::Value::Object(m) => m.get(seg),
        serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The object `t` (its kind is its type's) with the provenance of its
/// values: derived names, the documented settings, and `spans`.
pub(crate) fn object<T: Serialize + OfKind>(name: &str, p: &Plan, t: &T, spans: BTreeMap<String, Span>) -> Object {
    let kind = T::KIND;
    let value = serde_json::to_value(t).unwrap_or(serde_json::Value::Null);
    let mut provenance: BTreeMap<String, Origin> = BTreeMap::new();
    for ptr in DERIVED {
        if at(&value, ptr).is_some() {
            provenance.insert((*ptr).to_string(), Origin::Derived { from: p.origin, what: "the service name" });
        }
    }
    if let Some(ns) = at(&value, "/metadata/namespace") {
        let origin = match p.settings.get("namespace") {
            Some(s) => origin_of(p, *s, "/metadata/namespace"),
            None => Origin::Derived {
                from: p.environment_block.unwrap_or(p.origin),
                what: if ns.as_str() == Some(p.environment.as_str()) { "the environment name" } else { "the service" },
            },
        };
        provenance.insert("/metadata/namespace".to_string(), origin);
    }
    for (k, ptr, setting) in SETTINGS {
        // Every workload (a Rollout too) carries the Deployment's pod template.
        let in_template = |t: &str| ptr.strip_prefix(t).is_some_and(|rest| rest.starts_with('/'));
        let same = *k == kind || (*k == Kind::Deployment && kind.pod_template().is_some_and(in_template));
        if same && at(&value, ptr).is_some() {
            let origin = match p.settings.get(setting) {
                Some(s) => origin_of(p, *s, ptr),
                None => Origin::Default { setting: (*setting).to_string() },
            };
            provenance.insert((*ptr).to_string(), origin);
        }
    }
    for (ptr, span) in spans {
        let origin = origin_of(p, span, &ptr);
        provenance.insert(ptr, origin);
    }
    if kind == Kind::Deployment {
        let image = "/spec/template/spec/containers/0/image";
        // The tag is what changes between environments: point at it when written.
        if let (Some(tag), Some(Origin::Spec(_))) = (p.settings.get("image.tag"), provenance.get(image)) {
            let origin = origin_of(p, *tag, image);
            if matches!(origin, Origin::Environment { .. }) {
                provenance.insert(image.to_string(), origin);
            }
        }
        if let (None, Some(a)) = (at(&value, "/spec/replicas"), &p.autoscale) {
            provenance.insert(
                "/spec/replicas".to_string(),
                Origin::Derived { from: a.span, what: "the autoscaler, which owns the replica count" },
            );
        }
    }
    Object { kind, name: name.to_string(), value, origin: p.origin, provenance, patched: Vec::new() }
}

pub(crate) fn meta(p: &Plan, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: p.namespace.clone(),
        labels: Some(p.labels.clone()),
        annotations: if p.annotations.is_empty() { None } else { Some(p.annotations.clone()) },
        ..ObjectMeta::default()
    }
}

pub(crate) fn selector(p: &Plan) -> LabelSelector {
    LabelSelector { match_labels: Some(p.selector.clone()), ..LabelSelector::default() }
}

pub(crate) fn int_or_percent(v: IntOrPercent) -> IntOrString {
    match v {
        IntOrPercent::Int(n) => IntOrString::Int(i32::try_from(n).unwrap_or(i32::MAX)),
        IntOrPercent::Percent(n) => IntOrString::String(format!("{n}%")),
    }
}

fn i32_of(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// Lower one plan into its objects, in a fixed order.
pub fn lower(p: &Plan) -> Vec<Object> {
    let mut out = Vec::new();
    let name = p.service.as_str();
    if p.service_account.create {
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                annotations: if p.service_account.annotations.is_empty() {
                    meta(p, &p.service_account.name).annotations
                } else {
                    let mut a = p.annotations.clone();
                    a.extend(p.service_account.annotations.clone());
                    Some(a)
                },
                ..meta(p, &p.service_account.name)
            },
            automount_service_account_token: Some(p.service_account.automount),
            ..ServiceAccount::default()
        };
        out.push(object(&p.service_account.name, p, &sa, BTreeMap::new()));
    }
    if !p.ports.is_empty() {
        let mut prov = BTreeMap::new();
        let ports: Vec<ServicePort> = p
            .ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                prov.insert(format!("/spec/ports/{i}"), port.span);
                ServicePort {
                    name: Some(port.name.clone()),
                    port: i32::from(port.service_port),
                    target_port: Some(IntOrString::String(port.name.clone())),
                    protocol: Some(port.protocol.clone()),
                    ..ServicePort::default()
                }
            })
            .collect();
        // Argo Rollouts adds the pod-template hash of the version each
        // Service should reach to these selectors; svcc writes the identity
        // selector, which is what both Services select between updates.
        let mut names = vec![name.to_string()];
        if let Some(d) = &p.delivery {
            names.push(d.second_service.clone());
        }
        for n in &names {
            let svc = Service {
                metadata: meta(p, n),
                spec: Some(ServiceSpec {
                    type_: Some("ClusterIP".to_string()),
                    selector: Some(p.selector.clone()),
                    ports: Some(ports.clone()),
                    ..ServiceSpec::default()
                }),
                ..Service::default()
            };
            out.push(object(n, p, &svc, prov.clone()));
        }
    }
    match &p.delivery {
        Some(d) => {
            out.push(rollout::rollout(p, d));
            out.extend(d.analyses.iter().map(|a| rollout::analysis_template(p, a)));
        }
        None => {
            let (deployment, prov) = deployment(p);
            out.push(object(name, p, &deployment, prov));
        }
    }
    if let Some(a) = &p.autoscale {
        let hpa = hpa(p, a);
        let mut prov = BTreeMap::new();
        prov.insert("/spec".to_string(), a.span);
        out.push(object(name, p, &hpa, prov));
    }
    if let Some(bound) = p.disruption {
        let (max_unavailable, min_available) = match bound {
            IntOrPercentBound::MaxUnavailable(v) => (Some(int_or_percent(v)), None),
            IntOrPercentBound::MinAvailable(v) => (None, Some(int_or_percent(v))),
        };
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
        out.push(object(name, p, &pdb, BTreeMap::new()));
    }
    if let Some(m) = &p.monitoring {
        out.extend(monitoring::lower(p, m));
    }
    out
}

fn probe(pp: &PlanProbe) -> Probe {
    let mut pr = Probe {
        initial_delay_seconds: if pp.initial_delay > 0 { Some(i32_of(pp.initial_delay)) } else { None },
        period_seconds: Some(i32_of(pp.period)),
        timeout_seconds: Some(i32_of(pp.timeout)),
        failure_threshold: Some(i32::try_from(pp.failure_threshold).unwrap_or(i32::MAX)),
        success_threshold: if pp.kind == ProbeKind::Readiness && pp.success_threshold != 1 {
            Some(i32::try_from(pp.success_threshold).unwrap_or(i32::MAX))
        } else {
            None
        },
        ..Probe::default()
    };
    match &pp.handler {
        PlanProbeHandler::Http { path, port, scheme } => {
            pr.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port.clone()),
                scheme: scheme.clone(),
                ..HTTPGetAction::default()
            });
        }
        PlanProbeHandler::Tcp { port } => {
            pr.tcp_socket =
                Some(TCPSocketAction { port: IntOrString::String(port.clone()), ..TCPSocketAction::default() });
        }
        PlanProbeHandler::Grpc { port, service } => {
            pr.grpc = Some(GRPCAction { port: i32::from(*port), service: service.clone() });
        }
        PlanProbeHandler::Exec(cmd) => pr.exec = Some(ExecAction { command: Some(cmd.clone()) }),
    }
    pr
}

fn quantities(m: &BTreeMap<&'static str, (String, Span)>) -> Option<BTreeMap<String, Quantity>> {
    if m.is_empty() {
        return None;
    }
    Some(m.iter().map(|(k, (v, _))| (k.to_string(), Quantity(v.clone()))).collect())
}

/// The pod template, shared by every workload kind.
pub fn pod_template(p: &Plan, prov: &mut BTreeMap<String, Span>) -> PodTemplateSpec {
    let c = "/spec/template/spec/containers/0";
    prov.insert(format!("{c}/image"), p.image_span);
    let ports: Vec<ContainerPort> = p
        .ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            prov.insert(format!("{c}/ports/{i}"), port.span);
            ContainerPort {
                name: Some(port.name.clone()),
                container_port: i32::from(port.number),
                protocol: Some(port.protocol.clone()),
                ..ContainerPort::default()
            }
        })
        .collect();
    let env: Vec<EnvVar> = p
        .env
        .iter()
        .enumerate()
        .map(|(i, e)| {
            prov.insert(format!("{c}/env/{i}"), e.span);
            match &e.value {
                PlanEnvValue::Literal(v) => EnvVar { name: e.name.clone(), value: Some(v.clone()), value_from: None },
                PlanEnvValue::Secret { name, key, optional } => EnvVar {
                    name: e.name.clone(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: name.clone(),
                            key: key.clone(),
                            optional: if *optional { Some(true) } else { None },
                        }),
                        ..EnvVarSource::default()
                    }),
                },
                PlanEnvValue::ConfigMap { name, key, optional } => EnvVar {
                    name: e.name.clone(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        config_map_key_ref: Some(ConfigMapKeySelector {
                            name: name.clone(),
                            key: key.clone(),
                            optional: if *optional { Some(true) } else { None },
                        }),
                        ..EnvVarSource::default()
                    }),
                },
                PlanEnvValue::Field(f) => EnvVar {
                    name: e.name.clone(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector { field_path: f.clone(), api_version: None }),
                        ..EnvVarSource::default()
                    }),
                },
            }
        })
        .collect();
    let env_from: Vec<EnvFromSource> = p
        .env_from
        .iter()
        .map(|f| {
            let optional = if f.optional { Some(true) } else { None };
            EnvFromSource {
                prefix: f.prefix.clone(),
                secret_ref: f.secret.then(|| SecretEnvSource { name: f.name.clone(), optional }),
                config_map_ref: (!f.secret).then(|| ConfigMapEnvSource { name: f.name.clone(), optional }),
            }
        })
        .collect();
    for (k, (_, span)) in &p.requests {
        prov.insert(format!("{c}/resources/requests/{k}"), *span);
    }
    for (k, (_, span)) in &p.limits {
        prov.insert(format!("{c}/resources/limits/{k}"), *span);
    }
    let mut container = Container {
        name: p.service.clone(),
        image: Some(p.image.clone()),
        image_pull_policy: Some(p.pull_policy.clone()),
        command: p.command.clone(),
        args: p.args.clone(),
        ports: non_empty(ports),
        env: non_empty(env),
        env_from: non_empty(env_from),
        resources: Some(ResourceRequirements {
            requests: quantities(&p.requests),
            limits: quantities(&p.limits),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(p.security.allow_privilege_escalation),
            read_only_root_filesystem: Some(p.security.read_only_root_filesystem),
            run_as_non_root: Some(p.security.run_as_non_root),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                add: non_empty(p.security.add_capabilities.clone()),
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: non_empty(
            p.volumes
                .iter()
                .map(|v| VolumeMount {
                    name: v.name.clone(),
                    mount_path: v.path.clone(),
                    read_only: if v.source == VolumeSource::Scratch { None } else { Some(true) },
                    ..VolumeMount::default()
                })
                .collect(),
        ),
        lifecycle: if p.pre_stop_seconds > 0 {
            Some(Lifecycle {
                pre_stop: Some(LifecycleHandler {
                    sleep: Some(SleepAction { seconds: i64::try_from(p.pre_stop_seconds).unwrap_or(i64::MAX) }),
                    ..LifecycleHandler::default()
                }),
                ..Lifecycle::default()
            })
        } else {
            None
        },
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Container::default()
    };
    for pp in &p.probes {
        let pr = Some(probe(pp));
        match pp.kind {
            ProbeKind::Liveness => {
                prov.insert(format!("{c}/livenessProbe"), pp.span);
                container.liveness_probe = pr;
            }
            ProbeKind::Readiness => {
                prov.insert(format!("{c}/readinessProbe"), pp.span);
                container.readiness_probe = pr;
            }
            ProbeKind::Startup => {
                prov.insert(format!("{c}/startupProbe"), pp.span);
                container.startup_probe = pr;
            }
        }
    }
    let volumes: Vec<Volume> = p
        .volumes
        .iter()
        .map(|v| {
            let mut vol = Volume { name: v.name.clone(), ..Volume::default() };
            match &v.source {
                VolumeSource::Scratch => {
                    vol.empty_dir = Some(EmptyDirVolumeSource {
                        medium: v.memory.then(|| "Memory".to_string()),
                        size_limit: v.size_limit.clone().map(Quantity),
                    });
                }
                VolumeSource::Secret(s) => {
                    vol.secret =
                        Some(SecretVolumeSource { secret_name: Some(s.clone()), ..SecretVolumeSource::default() });
                }
                VolumeSource::ConfigMap(cm) => {
                    vol.config_map =
                        Some(ConfigMapVolumeSource { name: cm.clone(), ..ConfigMapVolumeSource::default() });
                }
            }
            vol
        })
        .collect();
    let spread = |key: &str| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.to_string(),
        when_unsatisfiable: "ScheduleAnyway".to_string(),
        label_selector: Some(selector(p)),
        ..TopologySpreadConstraint::default()
    };
    let tolerations: Vec<Toleration> = p
        .tolerations
        .iter()
        .map(|t| Toleration {
            key: if t.key == "*" { None } else { Some(t.key.clone()) },
            // An empty key matches every taint only with `Exists`.
            operator: if t.key == "*" { Some("Exists".to_string()) } else { t.operator.clone() },
            value: t.value.clone(),
            effect: t.effect.clone(),
            toleration_seconds: t.seconds,
        })
        .collect();
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(p.labels.clone()),
            annotations: if p.pod_annotations.is_empty() { None } else { Some(p.pod_annotations.clone()) },
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(p.service_account.name.clone()),
            automount_service_account_token: Some(p.service_account.automount),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(p.security.run_as_non_root),
                run_as_user: Some(p.security.run_as_user),
                run_as_group: Some(p.security.run_as_group),
                fs_group: Some(p.security.fs_group),
                seccomp_profile: Some(SeccompProfile { type_: p.security.seccomp.clone(), localhost_profile: None }),
                ..PodSecurityContext::default()
            }),
            termination_grace_period_seconds: Some(i64::try_from(p.grace_seconds).unwrap_or(i64::MAX)),
            containers: vec![container],
            volumes: non_empty(volumes),
            node_selector: if p.node_selector.is_empty() { None } else { Some(p.node_selector.clone()) },
            tolerations: non_empty(tolerations),
            topology_spread_constraints: Some(vec![
                spread("topology.kubernetes.io/zone"),
                spread("kubernetes.io/hostname"),
            ]),
            ..PodSpec::default()
        }),
    }
}

fn deployment(p: &Plan) -> (Deployment, BTreeMap<String, Span>) {
    let mut prov = BTreeMap::new();
    let template = pod_template(p, &mut prov);
    if let Some((_, span)) = p.replicas {
        prov.insert("/spec/replicas".to_string(), span);
    }
    let d = Deployment {
        metadata: meta(p, &p.service),
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
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    (d, prov)
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

fn hpa(p: &Plan, a: &PlanAutoscale) -> HorizontalPodAutoscaler {
    let mut metrics = Vec::new();
    for (res, target) in [("cpu", a.cpu), ("memory", a.memory)] {
        if let Some(t) = target {
            metrics.push(MetricSpec {
                type_: "Resource".to_string(),
                resource: Some(ResourceMetricSource {
                    name: res.to_string(),
                    target: MetricTarget {
                        type_: "Utilization".to_string(),
                        average_utilization: Some(i32::try_from(t).unwrap_or(i32::MAX)),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            });
        }
    }
    for (metric, target) in &a.pods {
        metrics.push(MetricSpec {
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
    }
    HorizontalPodAutoscaler {
        metadata: meta(p, &p.service),
        spec: Some(HorizontalPodAutoscalerSpec {
            // The HPA scales whichever workload runs the pods: the Rollout
            // when a progressive strategy replaces the Deployment.
            scale_target_ref: {
                let kind = if p.delivery.is_some() { Kind::Rollout } else { Kind::Deployment };
                CrossVersionObjectReference {
                    api_version: Some(kind.api_version().to_string()),
                    kind: kind.as_str().to_string(),
                    name: p.service.clone(),
                }
            },
            min_replicas: Some(i32::try_from(a.min).unwrap_or(i32::MAX)),
            max_replicas: i32::try_from(a.max).unwrap_or(i32::MAX),
            metrics: Some(metrics),
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_up: Some(rules(&a.scale_up)),
                scale_down: Some(rules(&a.scale_down)),
            }),
        }),
        ..HorizontalPodAutoscaler::default()
    }
}
