//! Typed custom resources svcc emits (prometheus-operator, Argo Rollouts;
//! Argo CD and Flux in [`gitops`]):
//! plain serde structs holding the fields svcc sets. The objects are
//! validated against the complete upstream CRD schemas
//! (`validate::upstream`), which take only `metadata` and the Rollout's pod
//! template from these types' schemars schemas; `tests/schemas.rs` checks
//! that every field declared here exists upstream with the same type.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde::Serialize;

mod gitops;
mod secrets;
mod traffic;
pub use gitops::*;
pub use secrets::*;
pub use traffic::*;

/// monitoring.coreos.com/v1 ServiceMonitor.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitor {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ServiceMonitorSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    pub selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<NamespaceSelector>,
    pub endpoints: Vec<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_label: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    pub match_names: Vec<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub port: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honor_labels: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<SafeAuthorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabelings: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric_relabelings: Vec<RelabelConfig>,
}

/// A ServiceMonitor endpoint's `tlsConfig`.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<SecretOrConfigMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SecretOrConfigMap {
    pub secret: SecretKeySelector,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SecretKeySelector {
    pub name: String,
    pub key: String,
}

/// A ServiceMonitor endpoint's `authorization`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SafeAuthorization {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    pub credentials: SecretKeySelector,
}

/// One `relabelings` or `metricRelabelings` entry.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelabelConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// monitoring.coreos.com/v1 PrometheusRule.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRule {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: PrometheusRuleSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PrometheusRuleSpec {
    pub groups: Vec<RuleGroup>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// argoproj.io/v1alpha1 Rollout: the Deployment's replacement when a
/// progressive update strategy is declared. Only the fields svcc sets.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: RolloutSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    /// `None` when an autoscaler owns the replica count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    pub selector: LabelSelector,
    pub template: RolloutPodTemplate,
    pub strategy: RolloutStrategy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreenStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenStrategy {
    pub active_service: String,
    pub preview_service: String,
    pub auto_promotion_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_promotion_seconds: Option<i32>,
    pub scale_down_delay_seconds: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_replica_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_promotion_analysis: Option<RolloutAnalysis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_promotion_analysis: Option<RolloutAnalysis>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStrategy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_service: Option<String>,
    pub max_surge: IntOrString,
    pub max_unavailable: IntOrString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
    /// Optional upstream: without steps the update is a rolling one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<CanaryStep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_routing: Option<TrafficRouting>,
}

/// One canary step: exactly one field is set.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_weight: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<RolloutPause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// `pause: {}` waits for a promotion; `duration` in seconds otherwise.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct RolloutPause {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// One router: `nginx`, or a plugin.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TrafficRouting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nginx: Option<NginxTrafficRouting>,
    /// Free-form upstream (`x-kubernetes-preserve-unknown-fields`): each
    /// plugin reads its own entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins: Option<TrafficPlugins>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TrafficPlugins {
    /// The Gateway API plugin, under the name its installation registers.
    #[serde(rename = "argoproj-labs/gatewayAPI")]
    pub gateway_api: GatewayApiRouting,
}

/// The Gateway API plugin's configuration: the route whose backends'
/// weights it shifts, and its namespace (the Rollout's by default).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayApiRouting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_route: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_route: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NginxTrafficRouting {
    pub stable_ingress: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RolloutAnalysis {
    pub templates: Vec<AnalysisTemplateRef>,
    /// Values for the templates' `args`, read from the Rollout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<AnalysisRunArgument>,
}

/// An argument a Rollout passes to its analyses: a literal `value`, or
/// `valueFrom` one of its own fields (`fieldRef`, e.g. `metadata.namespace`)
/// or the pod-template hash of a version (`podTemplateHashValue`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunArgument {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ArgumentValueFrom>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArgumentValueFrom {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldRef>,
    /// `Latest` (the new version) or `Stable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_template_hash_value: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    pub field_path: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateRef {
    pub template_name: String,
}

/// argoproj.io/v1alpha1 AnalysisTemplate with Prometheus and Job metrics.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplate {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: AnalysisTemplateSpec,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AnalysisTemplateSpec {
    /// Arguments the Rollout must supply; queries read them as `{{args.NAME}}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Argument>,
    pub metrics: Vec<AnalysisMetric>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Argument {
    pub name: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisMetric {
    pub name: String,
    pub interval: String,
    /// Left out: measured until the analysis is stopped (a background
    /// analysis, stopped when the update ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    /// Left out for a Job metric: its measurement is the Job's outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    pub failure_limit: i32,
    pub inconclusive_limit: i32,
    pub provider: MetricProvider,
}

/// Exactly one provider is set (Argo Rollouts' `ValidateMetric`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct MetricProvider {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMetric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobMetric>,
}

/// A Job metric: Argo Rollouts creates a Job of this spec at each
/// measurement, with these labels and annotations (and its own).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct JobMetric {
    pub metadata: JobMetricMetadata,
    pub spec: AnalysisJobSpec,
}

/// The fields of a Job's spec svcc sets, in the order Kubernetes writes
/// them; its pod template's metadata is labels and annotations only, as
/// upstream's CRD allows.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisJobSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    pub template: RolloutPodTemplate,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct JobMetricMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PrometheusMetric {
    pub address: String,
    pub query: String,
}

/// A Rollout's pod template (and a job metric's Job's). Upstream's CRD
/// allows only labels and annotations in its metadata (not a full
/// ObjectMeta), so the type does too.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RolloutPodTemplate {
    pub metadata: RolloutPodMetadata,
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct RolloutPodMetadata {
    // Alphabetical, as k8s-openapi writes ObjectMeta, so the YAML of a
    // Rollout's template reads like the Deployment's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl From<PodTemplateSpec> for RolloutPodTemplate {
    fn from(t: PodTemplateSpec) -> Self {
        let m = t.metadata.unwrap_or_default();
        RolloutPodTemplate {
            metadata: RolloutPodMetadata {
                labels: m.labels.unwrap_or_default(),
                annotations: m.annotations.unwrap_or_default(),
            },
            spec: t.spec.unwrap_or_default(),
        }
    }
}
