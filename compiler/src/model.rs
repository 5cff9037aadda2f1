//! The typed spec: what a `service` block says, with the span of every
//! user-written value. Decoding fills it; checking resolves it into a
//! per-environment [`crate::plan::Plan`].
//!
//! Optional fields are `None` when the spec does not set them, so that an
//! environment block (which decodes into the same [`Body`]) can say exactly
//! what it overrides.

use indexmap::IndexMap;

use crate::source::{Span, Spanned};

mod analysis;
mod config;
mod gitops;
mod jobs;
mod monitoring;
mod network;
mod objects;
mod pod;
mod rollout;
mod route;

pub use analysis::*;
pub use config::*;
pub use gitops::*;
pub use jobs::*;
pub use monitoring::*;
pub use network::*;
pub use objects::*;
pub use pod::*;
pub use rollout::*;
pub use route::*;

pub type Map<V> = IndexMap<String, V>;

#[derive(Clone, Debug)]
pub struct Spec {
    pub name: Spanned<String>,
    /// Span of the `service` node's name token, used as the origin of every
    /// generated object.
    pub node: Span,
    /// `use "preset"` lines, in order: the presets under this service.
    pub uses: Vec<Spanned<String>>,
    pub body: Body,
    pub environments: Vec<Environment>,
    /// `pipeline { … }`: the CI/CD workflow, Dockerfile and deploy script
    /// (service-level only; docs/pipeline.md).
    pub ci: Option<Ci>,
    /// `service NAME folder="…"`: the output folder, when not the name.
    pub folder: Option<Spanned<String>>,
}

impl Spec {
    /// The service's output folder (`FOLDER/ENVIRONMENT/`, `FOLDER/pipeline/`):
    /// `folder=`, else the service name.
    pub fn folder(&self) -> &str {
        self.folder.as_ref().map_or(&self.name.value, |f| &f.value)
    }
}

/// `pipeline node=20 { … }` as written: every setting `None` when it takes
/// the runtime preset's default.
#[derive(Clone, Debug)]
pub struct Ci {
    /// The `pipeline` node's name token.
    pub node: Span,
    /// The runtime preset and its version (`node=20`).
    pub runtime: Option<(Runtime, Spanned<String>)>,
    /// The branch pushes deploy from and pull requests target.
    pub branch: Option<Spanned<String>>,
    /// Tag pattern that also triggers a release (`tags "v*"`, `tags #false`).
    pub tags: Option<Spanned<Option<String>>>,
    pub lint: Option<Spanned<bool>>,
    pub type_check: Option<Spanned<bool>>,
    pub audit: Option<Spanned<bool>>,
    pub unit_tests: Option<Spanned<bool>>,
    pub coverage: Option<Spanned<bool>>,
    /// Service containers of the integration tests, in order.
    pub integration: Option<Vec<(Spanned<String>, Spanned<String>)>>,
    pub platforms: Option<Spanned<Vec<String>>>,
    pub scan: Option<Spanned<bool>>,
    /// How CI installs svcc itself (`install-svcc url=… sha256=…`);
    /// `Some(None)` when written but invalid (already reported).
    pub install_svcc: Option<Spanned<Option<SvccInstall>>>,
    /// The promotion path, in order.
    pub stages: Vec<Stage>,
    /// `template "./ci/x.hbs" to="x"`: the user's own handlebars templates,
    /// rendered into `<service>/pipeline/<to>`.
    pub templates: Vec<UserTemplate>,
}

/// A way to install svcc in CI that proves what it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SvccInstall {
    /// Download one executable and check its SHA-256 before running it.
    Url { url: String, sha256: String },
    /// `cargo install --locked` from one commit of a git repository.
    Git { url: String, rev: String },
    /// svcc's GitHub Action (`action.yml` of its repository) at one commit:
    /// `uses: OWNER/REPO@<rev>`, which builds svcc from that commit.
    Action { repo: String, rev: String },
}

#[derive(Clone, Debug)]
pub struct UserTemplate {
    pub path: Spanned<String>,
    pub to: Spanned<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Node,
}

impl Runtime {
    /// Property names of the runtime presets (`pipeline node=20`).
    pub const ALL: &'static [(&'static str, Runtime)] = &[("node", Runtime::Node)];
}

/// One step of the promotion path.
#[derive(Clone, Debug)]
pub enum Stage {
    /// `deploy ENV`.
    Deploy(Spanned<String>),
    /// `e2e base-url="…"`: the runtime's end-to-end suite against the
    /// environment deployed just before.
    E2e { node: Span, base_url: Spanned<String> },
    /// `smoke "URL"`: an HTTP check after the deploy before it.
    Smoke { node: Span, url: Spanned<String> },
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub name: Spanned<String>,
    pub node: Span,
    /// The whole `environment NAME { … }` node: values inside it are overrides.
    pub block: Span,
    pub body: Body,
}

/// A file that is not a service: a preset (`preset NAME { … }`, used with
/// `use`) or an org defaults file (`defaults { … }` in `_defaults.kdl`).
#[derive(Clone, Debug)]
pub struct Preset {
    pub kind: PresetKind,
    /// The preset's name (`None` for a defaults file).
    pub name: Option<Spanned<String>>,
    /// The `preset` / `defaults` node name token.
    pub node: Span,
    /// The presets this one builds on.
    pub uses: Vec<Spanned<String>>,
    pub body: Body,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetKind {
    Preset,
    Defaults,
}

/// An escape-hatch patch of one generated object (`docs/patches.md`).
#[derive(Clone, Debug)]
pub struct Patch {
    pub node: Span,
    /// The object's kind, e.g. `Deployment`.
    pub kind: Spanned<String>,
    /// The object's name; `None` targets the only object of that kind.
    pub name: Option<Spanned<String>>,
    pub ops: Vec<PatchOp>,
}

#[derive(Clone, Debug)]
pub struct PatchOp {
    pub op: PatchOpKind,
    /// The `set` / `merge` / `remove` token.
    pub node: Span,
    /// The whole operation, with its value or block.
    pub whole: Span,
    /// A JSON pointer (RFC 6901), e.g. `/spec/template/spec/hostAliases`.
    pub pointer: Spanned<String>,
    /// The value (`None` for `remove`).
    pub value: Option<PatchValue>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchOpKind {
    Set,
    Merge,
    Remove,
}

impl PatchOpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Set => "set",
            PatchOpKind::Merge => "merge",
            PatchOpKind::Remove => "remove",
        }
    }
}

/// A JSON value written in KDL, with the span of every part.
#[derive(Clone, Debug)]
pub enum PatchValue {
    Scalar(Spanned<serde_json::Value>),
    /// Keys with their spans, in source order.
    Object(Span, Vec<(Spanned<String>, PatchValue)>),
    Array(Span, Vec<PatchValue>),
}

impl PatchValue {
    pub fn span(&self) -> Span {
        match self {
            PatchValue::Scalar(s) => s.span,
            PatchValue::Object(s, _) | PatchValue::Array(s, _) => *s,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PatchValue::Scalar(s) => s.value.clone(),
            PatchValue::Object(_, kv) => {
                serde_json::Value::Object(kv.iter().map(|(k, v)| (k.value.clone(), v.to_json())).collect())
            }
            PatchValue::Array(_, items) => serde_json::Value::Array(items.iter().map(PatchValue::to_json).collect()),
        }
    }
}

/// Every setting that a service and an environment block can both hold.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub image: Option<Image>,
    /// `version "1.9.5"`: the `app.kubernetes.io/version` label, when the
    /// app's version is not its image tag.
    pub version: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    pub ports: Map<Port>,
    pub replicas: Option<Spanned<u32>>,
    pub resources: Resources,
    pub probes: Probes,
    pub env: Map<EnvVar>,
    pub env_from: Map<EnvFrom>,
    pub command: Option<Spanned<Vec<String>>>,
    pub args: Option<Spanned<Vec<String>>>,
    pub labels: Map<Spanned<String>>,
    pub annotations: Map<Spanned<String>>,
    pub pod_annotations: Map<Spanned<String>>,
    pub volumes: Map<Volume>,
    pub service_account: Option<ServiceAccount>,
    pub security: Security,
    pub autoscale: Option<Autoscale>,
    pub rolling: Rolling,
    pub shutdown: Shutdown,
    pub disruption: Option<Disruption>,
    pub node_selector: Map<Spanned<String>>,
    pub tolerations: Map<Toleration>,
    /// `affinity { … }`, `priority-class`.
    pub placement: Placement,
    pub metrics: Option<Metrics>,
    pub alerts: Alerts,
    pub slos: Map<Slo>,
    /// `blue-green { … }`: an Argo Rollouts blue-green update instead of a rolling Deployment.
    pub blue_green: Option<BlueGreen>,
    /// `canary { … }`: an Argo Rollouts canary update instead of a rolling Deployment.
    pub canary: Option<Canary>,
    /// `network { … }`: who may reach the service and what it reaches (a
    /// NetworkPolicy), and its place in the service graph.
    pub network: Option<Network>,
    /// `container-name NAME`: the service's container's name (default: the
    /// service's).
    pub container_name: Option<Spanned<String>>,
    /// `container NAME { … }` and `init-container NAME { … }`, by name.
    pub containers: Map<Container>,
    /// `min-ready`, `progress-deadline`, `revision-history`: how the
    /// workload (Deployment or Rollout) judges and remembers its updates.
    pub updates: Updates,
    /// `job NAME { … }` and `cron-job NAME { … }`, by name.
    pub jobs: Map<Job>,
    /// `config-map NAME { … }`, by name.
    pub config_maps: Map<ConfigMap>,
    /// `external-secret NAME { … }`, by name.
    pub external_secrets: Map<ExternalSecret>,
    /// Escape-hatch patches, applied in order after lowering.
    pub patches: Vec<Patch>,
    /// Object names, Services, selector and per-object metadata (`objects.rs`).
    pub names: Names,
    /// `selector { … }`: the labels a live workload already selects on,
    /// kept as given (the span is the `selector` node's).
    pub selector: Option<Spanned<Selector>>,
    /// `expose NAME { … }`: Services beside the main one, or its own shape.
    pub exposes: Map<Expose>,
    /// `object OBJECT { … }`: labels and annotations of one object only.
    pub objects: Map<ObjectMetadata>,
    /// `gitops argocd { … }`: how a GitOps engine deploys the service
    /// (service, preset and org defaults only; docs/gitops.md).
    pub gitops: Option<Gitops>,
    /// `route { … }`: public HTTP(S) exposure through a Gateway or an
    /// Ingress (docs/traffic.md).
    pub route: Option<Route>,
    /// `autoscale-engine hpa|keda`: what runs `autoscale` (docs/traffic.md).
    pub autoscale_engine: Option<AutoscaleEngine>,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub node: Span,
    pub repository: Option<Spanned<String>>,
    pub tag: Option<Spanned<String>>,
    pub digest: Option<Spanned<String>>,
    pub pull_policy: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct Port {
    pub name: Spanned<String>,
    pub number: Option<Spanned<u16>>,
    pub service_port: Option<Spanned<u16>>,
    pub protocol: Option<Spanned<String>>,
    /// `host-port=`: the port on the node's own address (a warning).
    pub host_port: Option<Spanned<u16>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Cpu,
    Memory,
    EphemeralStorage,
}

impl ResourceKind {
    pub const ALL: [(&'static str, ResourceKind); 3] = [
        ("cpu", ResourceKind::Cpu),
        ("memory", ResourceKind::Memory),
        ("ephemeral-storage", ResourceKind::EphemeralStorage),
    ];

    pub fn k8s_name(self) -> &'static str {
        match self {
            ResourceKind::Cpu => "cpu",
            ResourceKind::Memory => "memory",
            ResourceKind::EphemeralStorage => "ephemeral-storage",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Resources {
    pub requests: IndexMap<ResourceKind, Spanned<Quantity>>,
    pub limits: IndexMap<ResourceKind, Spanned<Quantity>>,
    /// `limits cpu=#false`: no CPU limit (an org's choice); a layer that
    /// writes a limit above it takes it back.
    pub no_cpu_limit: Option<Spanned<bool>>,
}

/// A Kubernetes resource quantity, held exactly in thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    pub millis: i128,
    pub binary: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
            ProbeKind::Startup => "startup",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Probes {
    pub liveness: Option<ProbeSetting>,
    pub readiness: Option<ProbeSetting>,
    pub startup: Option<ProbeSetting>,
}

impl Probes {
    pub fn get(&self, k: ProbeKind) -> Option<&ProbeSetting> {
        match k {
            ProbeKind::Liveness => self.liveness.as_ref(),
            ProbeKind::Readiness => self.readiness.as_ref(),
            ProbeKind::Startup => self.startup.as_ref(),
        }
    }

    pub fn slot(&mut self, k: ProbeKind) -> &mut Option<ProbeSetting> {
        match k {
            ProbeKind::Liveness => &mut self.liveness,
            ProbeKind::Readiness => &mut self.readiness,
            ProbeKind::Startup => &mut self.startup,
        }
    }
}

// `On` is much larger than `Off`, but a spec holds at most six probes
// (three kinds, service and environment): boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ProbeSetting {
    /// `readiness #false`: no probe of this kind.
    Off(Span),
    On(Probe),
}

#[derive(Clone, Debug)]
pub struct Probe {
    pub node: Span,
    pub handler: Option<Spanned<ProbeHandler>>,
    pub port: Option<Spanned<String>>,
    /// `scheme=` of an HTTP probe; kept apart from the handler so an
    /// environment can set it on an inherited probe.
    pub scheme: Option<Spanned<String>>,
    /// `service=` of a gRPC probe.
    pub grpc_service: Option<Spanned<String>>,
    pub initial_delay: Option<Spanned<Duration>>,
    pub period: Option<Spanned<Duration>>,
    pub timeout: Option<Spanned<Duration>>,
    pub failure_threshold: Option<Spanned<u32>>,
    pub success_threshold: Option<Spanned<u32>>,
    /// `header NAME VALUE` children of an HTTP probe (`httpHeaders`).
    pub headers: Option<Spanned<Vec<(String, String)>>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeHandler {
    Http { path: String },
    Tcp,
    Grpc,
    Exec(Vec<String>),
}

/// A duration, held in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub millis: u64,
}

impl Duration {
    pub fn seconds(self) -> u64 {
        self.millis / 1000
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvVar {
    pub name: Spanned<String>,
    pub value: EnvValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    Literal(Spanned<String>),
    Secret { name: Spanned<String>, key: Spanned<String>, optional: bool },
    ConfigMap { name: Spanned<String>, key: Spanned<String>, optional: bool },
    Field(Spanned<String>),
}

#[derive(Clone, Debug)]
pub struct EnvFrom {
    pub kind: EnvFromKind,
    pub name: Spanned<String>,
    pub prefix: Option<Spanned<String>>,
    pub optional: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvFromKind {
    Secret,
    ConfigMap,
}

#[derive(Clone, Debug)]
pub struct Volume {
    pub name: Spanned<String>,
    pub path: Option<Spanned<String>>,
    /// `None` when not given: a writable scratch folder, or in an environment, the service's source.
    pub source: Option<VolumeSource>,
    pub size_limit: Option<Spanned<Quantity>>,
    pub memory: Option<Spanned<bool>>,
    /// `optional=#true`: a secret or config map that may be missing.
    pub optional: Option<Spanned<bool>>,
    /// The keys to mount, each at its path: `"app.yaml" "config.yaml"`
    /// children; `None` mounts every key under its own name.
    pub items: Option<Spanned<Vec<(String, String)>>>,
    /// `read-only=`: the mount's `readOnly`, written as given (default:
    /// `true` for a secret or config map, none for a scratch folder).
    pub read_only: Option<Spanned<bool>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeSource {
    /// A writable scratch folder (emptyDir).
    Scratch,
    Secret(String),
    ConfigMap(String),
}

#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub node: Span,
    pub name: Option<Spanned<String>>,
    pub create: Option<Spanned<bool>>,
    pub automount: Option<Spanned<bool>>,
    pub annotations: Map<Spanned<String>>,
}

/// `run-as-user "image"` / `run-as-group "image"`: no id in the pod, the
/// image's own `USER` applies. Outside the ids Kubernetes takes (0 and up),
/// so a layer above replaces it like any id.
pub const IMAGE_ID: i64 = -1;

#[derive(Clone, Debug, Default)]
pub struct Security {
    pub run_as_user: Option<Spanned<i64>>,
    pub run_as_group: Option<Spanned<i64>>,
    pub fs_group: Option<Spanned<i64>>,
    pub run_as_non_root: Option<Spanned<bool>>,
    pub read_only_root_filesystem: Option<Spanned<bool>>,
    pub allow_privilege_escalation: Option<Spanned<bool>>,
    pub add_capabilities: Option<Spanned<Vec<String>>>,
    pub seccomp: Option<Spanned<String>>,
    /// `per-container #true`: the pod's user, group and seccomp profile
    /// repeated in every container's security context, with `privileged: false`.
    pub per_container: Option<Spanned<bool>>,
    /// `allow NAME reason="…"`: hardening rules this service breaks on
    /// purpose (`docs/security.md#exceptions`), by rule name.
    pub allow: Map<SecurityException>,
}

/// `allow host-network reason="node exporter reads host interfaces"`.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityException {
    pub name: Spanned<String>,
    pub reason: Spanned<String>,
}

#[derive(Clone, Debug)]
pub struct Autoscale {
    pub node: Span,
    /// `autoscale #false` in an environment turns it off.
    pub enabled: Option<Spanned<bool>>,
    pub min: Option<Spanned<u32>>,
    pub max: Option<Spanned<u32>>,
    pub cpu: Option<Spanned<u32>>,
    pub memory: Option<Spanned<u32>>,
    pub pods: Map<PodsMetric>,
    pub scale_up: Option<Behavior>,
    pub scale_down: Option<Behavior>,
}

#[derive(Clone, Debug)]
pub struct PodsMetric {
    pub metric: Spanned<String>,
    pub target: Spanned<Quantity>,
    /// Written as `requests-per-second` (the request rate of the metric
    /// vocabulary), not `pods`.
    pub requests: bool,
}

/// `autoscale-engine keda prometheus="URL"` or `autoscale-engine hpa`: what
/// runs the autoscaling an `autoscale` block describes (an org choice).
#[derive(Clone, Debug)]
pub struct AutoscaleEngine {
    pub node: Span,
    /// `hpa` or `keda`.
    pub engine: Option<Spanned<String>>,
    /// KEDA's Prometheus server address.
    pub prometheus: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct Behavior {
    pub node: Span,
    pub stabilization: Option<Spanned<Duration>>,
    pub select: Option<Spanned<String>>,
    pub policies: Vec<ScalingPolicy>,
}

#[derive(Clone, Debug)]
pub struct ScalingPolicy {
    pub percent: bool,
    pub value: Spanned<u32>,
    pub period: Spanned<Duration>,
}

#[derive(Clone, Debug, Default)]
pub struct Rolling {
    pub max_surge: Option<Spanned<IntOrPercent>>,
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(u32),
}

impl IntOrPercent {
    pub fn is_zero(self) -> bool {
        matches!(self, IntOrPercent::Int(0) | IntOrPercent::Percent(0))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    pub pre_stop: Option<Spanned<Duration>>,
    pub grace: Option<Spanned<Duration>>,
}

#[derive(Clone, Debug)]
pub struct Disruption {
    pub node: Span,
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
    pub min_available: Option<Spanned<IntOrPercent>>,
}

#[derive(Clone, Debug)]
pub struct Toleration {
    pub key: Spanned<String>,
    pub operator: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    pub effect: Option<Spanned<String>>,
    pub seconds: Option<Spanned<i64>>,
}

/// `min-ready "10s"`, `progress-deadline "10m"`, `revision-history 5`.
#[derive(Clone, Debug, Default)]
pub struct Updates {
    pub min_ready: Option<Spanned<Duration>>,
    pub progress_deadline: Option<Spanned<Duration>>,
    pub revision_history: Option<Spanned<u32>>,
}

/// `selector { app "details"; version "v1" service=#false }`: the labels
/// of a live workload's selector, and those its Services leave out.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    pub labels: Map<Spanned<String>>,
    /// The labels written `service=#false`: in the workload's selector
    /// (and on every pod), not in the Services' (a Service that selects
    /// several versions of one app).
    pub workload_only: Vec<Spanned<String>>,
}
