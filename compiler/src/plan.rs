//! The per-environment plan: a spec with the environment's overrides merged
//! and every default applied. Lowering reads only this, so it never sees
//! unmerged or missing data. Spans are kept where a generated value can be
//! traced back to one spec token (for schema errors and provenance).

use std::collections::BTreeMap;

use crate::model::{Duration, IntOrPercent, ProbeKind};
use crate::source::Span;

mod jobs;
mod objects;
pub use objects::*;
mod pod;
pub use jobs::*;
pub use pod::*;

#[derive(Clone, Debug)]
pub struct Plan {
    pub service: String,
    /// Escape-hatch patches, in order (applied after lowering).
    pub patches: Vec<crate::model::Patch>,
    pub environment: String,
    pub namespace: Option<String>,
    /// The `service` node: origin of every generated object.
    pub origin: Span,
    /// The service's container: its image, ports (which the Services
    /// expose), resources, probes, environment and mounts.
    pub container: PlanContainer,
    /// The pod's other containers, in declaration order.
    pub containers: Vec<PlanContainer>,
    /// The image tag, used as the `app.kubernetes.io/version` label.
    pub version: Option<String>,
    /// `None` when an autoscaler owns the replica count.
    pub replicas: Option<(u32, Span)>,
    /// Labels on every object: the derived `app.kubernetes.io/*` ones plus the spec's.
    pub labels: BTreeMap<String, String>,
    /// The identity labels a selector uses (never a version).
    pub selector: BTreeMap<String, String>,
    /// The Services' selector: `selector` less its `service=#false` labels.
    pub service_selector: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    pub service_account: PlanServiceAccount,
    pub security: PlanSecurity,
    pub autoscale: Option<PlanAutoscale>,
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
    pub pre_stop_seconds: u64,
    pub grace_seconds: u64,
    pub disruption: Option<IntOrPercentBound>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<PlanToleration>,
    pub affinity: PlanAffinity,
    pub priority_class: Option<String>,
    /// The `environment NAME { … }` block this plan merged, if any: values
    /// whose span lies inside it are environment overrides.
    pub environment_block: Option<Span>,
    /// Settings the spec (or the environment) writes, by documented name
    /// (`security.run-as-user`), with the span of the value; a setting
    /// absent here took its default. Used for provenance only.
    pub settings: BTreeMap<&'static str, Span>,
    pub monitoring: Option<PlanMonitoring>,
    /// `Some` when an Argo Rollouts strategy replaces the rolling Deployment.
    pub delivery: Option<PlanDelivery>,
    /// The generated objects' names (`objects.rs`).
    pub names: PlanNames,
    /// The main Service first (when the service has ports), then `expose`'s.
    pub services: Vec<PlanService>,
    /// `object`: labels and annotations of one object, by object
    /// (`workload`, `service-account`, … or an `expose` name).
    pub objects: BTreeMap<String, PlanObjectMetadata>,
    /// `Some` when a GitOps engine deploys this environment (`gitops`).
    pub gitops: Option<PlanGitops>,
    /// `min-ready`, `progress-deadline`, `revision-history` (the workload's).
    pub updates: PlanUpdates,
    /// `job` and `cron-job`, in declaration order.
    pub jobs: Vec<PlanJob>,
    /// `config-map`, in declaration order.
    pub config_maps: Vec<PlanConfigMap>,
    /// `external-secret`, in declaration order.
    pub external_secrets: Vec<PlanExternalSecret>,
    /// `Some` when a `network` block applies (in the service, a preset or
    /// the org defaults).
    pub network: Option<PlanNetwork>,
    /// `Some` when the service is exposed (`route` with a host).
    pub route: Option<PlanRoute>,
}

/// `network { … }` resolved: the declared edges of the service graph and
/// what the NetworkPolicy admits.
#[derive(Clone, Debug)]
pub struct PlanNetwork {
    /// `false` for `network #false`: no NetworkPolicy, the calls stay in the graph.
    pub policy: bool,
    pub calls: Vec<PlanCall>,
    pub callers: Vec<PlanCaller>,
    pub egress: Vec<PlanEgress>,
    /// `ingress "CIDR"`: address ranges outside the cluster admitted in.
    pub ingress: Vec<PlanIngress>,
    pub dns: PlanPeer,
    pub prometheus: PlanPeer,
    pub ingress_controller: PlanPeer,
    /// The ports (numbers, protocols) the ingress controller reaches:
    /// `ingress-controller port=…` (exposure adds its ports here).
    pub exposed: Vec<(u16, String)>,
    /// The `network` node.
    pub span: Span,
}

/// `calls NAME port=PORT`: egress to the pods of service NAME.
#[derive(Clone, Debug)]
pub struct PlanCall {
    pub service: String,
    /// The callee's port, by name (the policy names the pod's port).
    pub port: String,
    /// Where the callee runs: `namespace=`, else the caller's own.
    pub namespace: Option<String>,
    /// Whether `namespace=` was written.
    pub explicit_namespace: bool,
    pub protocol: String,
    pub span: Span,
    pub service_span: Span,
    pub port_span: Span,
    pub namespace_span: Option<Span>,
}

/// `called-by NAME [port=PORT]`: ingress from the pods of service NAME.
#[derive(Clone, Debug)]
pub struct PlanCaller {
    pub service: String,
    /// `None`: every port of the service.
    pub port: Option<String>,
    /// The caller's own ports admitted: (number, protocol).
    pub ports: Vec<(u16, String)>,
    pub namespace: Option<String>,
    pub span: Span,
    pub service_span: Span,
}

/// `egress "CIDR|HOST" port=N`: an address range outside the cluster;
/// `egress namespace=NS { LABELS }`: pods of the cluster.
#[derive(Clone, Debug)]
pub struct PlanEgress {
    /// The host name, when the destination is one.
    pub host: Option<String>,
    pub to: PlanEndpoint,
    pub port: Option<crate::model::PortRef>,
    pub protocol: String,
    pub span: Span,
}

/// `ingress "CIDR" [port=PORT]`, `ingress namespace=NS { LABELS }`: where
/// it comes from and the ports it reaches (number, protocol).
#[derive(Clone, Debug)]
pub struct PlanIngress {
    pub from: PlanEndpoint,
    pub ports: Vec<(u16, String)>,
    pub span: Span,
}

/// The other end of an `egress` or `ingress` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanEndpoint {
    /// Address ranges (every address for a host without `cidr=`).
    Cidrs(Vec<String>),
    /// Pods with these labels, in this namespace (`None`: the service's own).
    Pods { namespace: Option<String>, labels: BTreeMap<String, String> },
}

impl PlanEndpoint {
    /// How the graph and messages name it: the ranges, or
    /// `pods NAMESPACE/k=v,…`.
    pub fn describe(&self) -> String {
        match self {
            PlanEndpoint::Cidrs(c) => c.join(", "),
            PlanEndpoint::Pods { namespace, labels } => {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                match namespace {
                    Some(ns) => format!("pods {ns}/{}", l.join(",")),
                    None => format!("pods {}", l.join(",")),
                }
            }
        }
    }
}

/// Pods of the cluster: a namespace (by name) and pod labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPeer {
    pub namespace: String,
    pub pods: BTreeMap<String, String>,
}

/// `route { … }` resolved: the entry point, the hosts and paths, the
/// Service port the route reaches, and TLS.
#[derive(Clone, Debug)]
pub struct PlanRoute {
    pub entry: PlanEntry,
    /// A GRPCRoute rather than an HTTPRoute (a Gateway route to a gRPC port).
    pub grpc: bool,
    pub hosts: Vec<String>,
    /// (path, exact match).
    pub paths: Vec<(String, bool)>,
    /// The main Service's name, and its port the route reaches.
    pub service: String,
    pub service_port: u16,
    /// The container port behind it: its name, number and protocol.
    pub port: String,
    pub port_number: u16,
    pub protocol: String,
    pub tls: Option<PlanRouteTls>,
    /// The `route` node.
    pub span: Span,
}

/// Where the route enters the cluster.
#[derive(Clone, Debug)]
pub enum PlanEntry {
    /// A Gateway API Gateway (and one of its listeners).
    Gateway { name: String, namespace: Option<String>, section: Option<String> },
    /// An Ingress of this class.
    Ingress { class: String },
}

/// The route's certificate: the Secret holding it, and the cert-manager
/// issuer (name, kind) that issues it (`None`: an existing Secret).
#[derive(Clone, Debug)]
pub struct PlanRouteTls {
    pub secret: String,
    pub issuer: Option<(String, String)>,
}

/// The workload's update settings, in seconds and versions; `None` leaves
/// the Kubernetes default (0 s, 600 s, 10).
#[derive(Clone, Debug, Default)]
pub struct PlanUpdates {
    pub min_ready: Option<u64>,
    pub progress_deadline: Option<u64>,
    pub revision_history: Option<u32>,
}

/// How a GitOps engine deploys one environment of a service: `gitops`
/// resolved, with its defaults. The objects it asks for span services, so
/// they are built after every service compiled (`crate::gitops`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanGitops {
    pub engine: PlanEngine,
    /// The output folder's path in the repository; `None`: the build's
    /// `-o` folder, from the repository root.
    pub path: Option<String>,
    /// Where the engine's objects go.
    pub namespace: String,
    /// The ApplicationSet's name; the Flux Kustomizations' prefix.
    pub name: String,
    pub prune: bool,
    /// This environment's cluster; `None`: the engine's own.
    pub cluster: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanEngine {
    ArgoCd {
        repo: String,
        revision: String,
        project: String,
        /// Generate the AppProject.
        create_project: bool,
        /// One ApplicationSet rather than an Application each.
        application_set: bool,
        automated: bool,
        self_heal: bool,
        /// `syncPolicy.syncOptions` besides `CreateNamespace=true`.
        sync_options: Vec<String>,
    },
    Flux {
        source: String,
        source_kind: String,
        source_namespace: Option<String>,
        /// Flux's duration syntax (`5m`, `1h30m`).
        interval: String,
        wait: bool,
        timeout: Option<String>,
    },
}

/// Progressive delivery: the Rollout's strategy, its extra Service and its
/// analyses, with every name already derived.
#[derive(Clone, Debug)]
pub struct PlanDelivery {
    pub strategy: PlanStrategy,
    /// The Service Argo Rollouts points at the new version only (preview or
    /// canary; `None`: a canary without one).
    pub second_service: Option<String>,
    pub analyses: Vec<PlanAnalysis>,
    /// How long a deploy waits for the update, in seconds: its analyses,
    /// timed pauses and promotion delay, time for the pods to become ready
    /// (within `deploy-budget`), and an allowance for each manual promotion.
    pub deploy_wait: u64,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PlanStrategy {
    BlueGreen {
        active_service: String,
        preview_service: String,
        auto_promote: bool,
        auto_promote_seconds: Option<u64>,
        scale_down_delay: u64,
        preview_replicas: Option<u32>,
        /// Template names.
        pre_promotion: Option<String>,
        post_promotion: Option<String>,
    },
    Canary {
        stable_service: Option<String>,
        canary_service: Option<String>,
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
        /// The traffic router, when the canary's share is routed.
        router: Option<PlanRouter>,
        background: Option<String>,
        steps: Vec<PlanStep>,
    },
}

/// A canary's traffic router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanRouter {
    /// Argo Rollouts' NGINX router: the existing Ingress it copies into a
    /// weighted canary Ingress.
    Nginx { ingress: String },
    /// Argo Rollouts' Gateway API plugin (`argoproj-labs/gatewayAPI`): it
    /// shifts the weights of the route's two backends, the stable and the
    /// canary Service (the route, `PlanRoute`, is the service's own).
    GatewayApi,
}

#[derive(Clone, Debug)]
pub enum PlanStep {
    SetWeight(u32),
    Pause(Option<u64>),
    /// The template name.
    Analysis(String),
}

/// One AnalysisTemplate.
#[derive(Clone, Debug)]
pub struct PlanAnalysis {
    pub name: String,
    pub metrics: Vec<PlanAnalysisMetric>,
    /// The arguments its queries read (besides the namespace argument),
    /// declared by the template and passed by the Rollout.
    pub args: Vec<PlanArg>,
    /// No namespace is known at build time (no `namespace`, no
    /// environments) and the analysis reads it (its queries, or a job gate
    /// that says `{{args.namespace}}`): from an argument the Rollout fills
    /// with its own `metadata.namespace`.
    pub namespace_arg: bool,
    pub span: Span,
}

/// `arg NAME …` of an analysis: its name and where the Rollout takes the value.
#[derive(Clone, Debug)]
pub struct PlanArg {
    pub name: String,
    pub source: crate::model::ArgSource,
}

#[derive(Clone, Debug)]
pub struct PlanAnalysisMetric {
    pub name: String,
    pub interval: String,
    /// `None`: measured until the update ends (`count="whole-update"`).
    pub count: Option<u32>,
    pub failure_limit: u32,
    pub inconclusive_limit: u32,
    pub provider: PlanProvider,
    pub span: Span,
}

/// What one measurement of a metric is.
#[derive(Clone, Debug)]
pub enum PlanProvider {
    /// A PromQL query, judged by its conditions.
    Prometheus { address: String, query: String, success_condition: String, failure_condition: String },
    /// A Job (`job` gate): the measurement passes when it completes.
    Job(Box<PlanJob>),
}

impl PlanDelivery {
    /// The Jobs of the analyses' `job` gates, in order.
    pub fn jobs(&self) -> impl Iterator<Item = &PlanJob> {
        self.analyses.iter().flat_map(|a| &a.metrics).filter_map(|m| match &m.provider {
            PlanProvider::Job(j) => Some(&**j),
            PlanProvider::Prometheus { .. } => None,
        })
    }

    /// The Jobs of the analyses' `job` gates, to rewrite their references
    /// to hashed ConfigMaps like every other container's.
    pub fn jobs_mut(&mut self) -> impl Iterator<Item = &mut PlanJob> {
        self.analyses.iter_mut().flat_map(|a| &mut a.metrics).filter_map(|m| match &mut m.provider {
            PlanProvider::Job(j) => Some(&mut **j),
            PlanProvider::Prometheus { .. } => None,
        })
    }
}

/// The scrape endpoint and the rules of one environment.
#[derive(Clone, Debug)]
pub struct PlanMonitoring {
    /// `None` when the service is not scraped (only cluster-metric alerts).
    pub scrape: Option<PlanScrape>,
    /// Labels the cluster's Prometheus selects ServiceMonitors and rules by.
    pub prometheus_labels: BTreeMap<String, String>,
    pub groups: Vec<PlanRuleGroup>,
}

#[derive(Clone, Debug)]
pub struct PlanScrape {
    /// The `metrics` or `endpoint` node.
    pub at: Span,
    pub port: String,
    /// `metrics job-label=…`: the Service label Prometheus takes the `job` from.
    pub job_label: Option<String>,
    /// `endpoint { … }`: the further endpoints (none of their own).
    pub endpoints: Vec<PlanScrape>,
    /// `metrics { select { … } }`: what the ServiceMonitor selects the
    /// Services by, instead of the identity labels.
    pub select: Option<BTreeMap<String, String>>,
    pub path: String,
    pub interval: Option<String>,
    pub scheme: Option<String>,
    pub scrape_timeout: Option<String>,
    pub honor_labels: Option<bool>,
    pub tls: Option<crate::crd::TlsConfig>,
    pub authorization: Option<crate::crd::SafeAuthorization>,
    pub bearer_token_file: Option<String>,
    pub relabelings: Vec<crate::crd::RelabelConfig>,
    pub metric_relabelings: Vec<crate::crd::RelabelConfig>,
}

#[derive(Clone, Debug)]
pub struct PlanRuleGroup {
    pub name: String,
    pub rules: Vec<PlanRule>,
}

#[derive(Clone, Debug)]
pub struct PlanRule {
    /// `Some` for an alert, `None` for a recording rule.
    pub alert: Option<String>,
    pub record: Option<String>,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PlanPort {
    pub name: String,
    pub number: u16,
    pub service_port: u16,
    pub protocol: String,
    /// `host-port=`: the node's port that reaches it (a warning).
    pub host_port: Option<u16>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PlanProbe {
    pub kind: ProbeKind,
    pub handler: PlanProbeHandler,
    pub initial_delay: u64,
    pub period: u64,
    pub timeout: u64,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PlanProbeHandler {
    Http { path: String, port: String, scheme: Option<String>, headers: Vec<(String, String)> },
    Tcp { port: String },
    Grpc { port: u16, service: Option<String> },
    Exec(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct PlanEnv {
    pub name: String,
    pub value: PlanEnvValue,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PlanEnvValue {
    Literal(String),
    Secret { name: String, key: String, optional: bool },
    ConfigMap { name: String, key: String, optional: bool },
    Field(String),
}

#[derive(Clone, Debug)]
pub struct PlanEnvFrom {
    pub secret: bool,
    pub name: String,
    pub prefix: Option<String>,
    pub optional: bool,
}

#[derive(Clone, Debug)]
pub struct PlanVolume {
    pub name: String,
    pub path: String,
    pub source: crate::model::VolumeSource,
    pub size_limit: Option<String>,
    pub memory: bool,
    pub optional: bool,
    /// (key, path) of each item; empty mounts every key.
    pub items: Vec<(String, String)>,
    /// The mount's `readOnly` as the spec writes it (`None`: svcc's default).
    pub read_only: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct PlanServiceAccount {
    pub name: String,
    pub create: bool,
    pub automount: bool,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct PlanSecurity {
    /// The pod's ids, also the `USER` of svcc's Dockerfile.
    pub run_as_user: i64,
    pub run_as_group: i64,
    /// `run-as-user "image"`, `run-as-group "image"`: the pod sets no id,
    /// the image's own `USER` applies.
    pub user_from_image: bool,
    pub group_from_image: bool,
    pub fs_group: i64,
    pub run_as_non_root: bool,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
    pub add_capabilities: Vec<String>,
    pub seccomp: String,
    /// `per-container #true`: the ids and seccomp profile on every container too.
    pub per_container: bool,
    /// `allow NAME reason="…"`: rule name → (reason, span of the name).
    pub exceptions: BTreeMap<String, (String, Span)>,
}

#[derive(Clone, Debug)]
pub struct PlanAutoscale {
    pub min: u32,
    pub max: u32,
    pub span: Span,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub pods: Vec<(String, String)>,
    pub scale_up: PlanBehavior,
    pub scale_down: PlanBehavior,
    /// The metric of `pods` that `requests-per-second` wrote.
    pub requests_metric: Option<String>,
    /// The request counter whose rate `requests_metric` is (the metric
    /// vocabulary's `requests`), when there is one.
    pub requests_counter: Option<String>,
    /// `Some` when KEDA runs the autoscaling (`autoscale-engine keda`): a
    /// ScaledObject replaces the HPA.
    pub keda: Option<PlanKeda>,
}

/// A KEDA ScaledObject's triggers beyond cpu and memory: Prometheus
/// queries over the service's metric vocabulary.
#[derive(Clone, Debug)]
pub struct PlanKeda {
    pub server: String,
    /// (metric name, query, threshold per pod).
    pub triggers: Vec<(String, String, String)>,
    /// The `autoscale-engine` node.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PlanBehavior {
    pub stabilization: Duration,
    pub select: Option<String>,
    pub policies: Vec<PlanPolicy>,
}

/// A scaling policy: (in percent rather than pods, value, period in seconds).
pub type PlanPolicy = (bool, u32, u64);

#[derive(Clone, Copy, Debug)]
pub enum IntOrPercentBound {
    MaxUnavailable(IntOrPercent),
    MinAvailable(IntOrPercent),
}

#[derive(Clone, Debug)]
pub struct PlanToleration {
    pub key: String,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub seconds: Option<i64>,
}

/// `pipeline { … }` with every default applied; environments are checked
/// against the spec (not per environment: a pipeline spans them all).
#[derive(Clone, Debug)]
pub struct PlanCi {
    pub runtime: crate::model::Runtime,
    /// The runtime version (`20` for `node=20`).
    pub version: String,
    pub branch: String,
    pub tags: Option<String>,
    pub lint: bool,
    pub type_check: bool,
    pub audit: bool,
    pub unit_tests: bool,
    pub coverage: bool,
    /// Integration-test service containers: (name, image tag).
    pub integration: Vec<(String, String)>,
    pub platforms: Vec<String>,
    pub scan: bool,
    pub install_svcc: crate::model::SvccInstall,
    pub stages: Vec<PlanStage>,
    /// User templates: (file as written in the spec, its span, output file).
    pub templates: Vec<(String, crate::source::Span, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanStage {
    Deploy(String),
    E2e(String),
    Smoke(String),
}
