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
mod jobs;
mod objects;
pub use analysis::*;
pub use objects::*;
mod pod;
pub use config::*;
pub use jobs::*;
pub use pod::*;

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

/// `route { … }` as one layer writes it.
#[derive(Clone, Debug)]
pub struct Route {
    /// The `route` node's name token.
    pub node: Span,
    /// `route #false`: no exposure in this layer and those it overrides.
    pub enabled: Option<Spanned<bool>>,
    /// `gateway NAME namespace=… section=…`: an HTTPRoute (GRPCRoute).
    pub gateway: Option<RouteGateway>,
    /// `ingress-class NAME`: an Ingress of that class.
    pub ingress_class: Option<Spanned<String>>,
    /// `host NAME…`: replaced as a whole by a later layer.
    pub hosts: Option<Spanned<Vec<Spanned<String>>>>,
    /// `path PATH match=…`: replaced as a whole by a later layer.
    pub paths: Option<Vec<RoutePath>>,
    /// `port NAME`: the container port the route reaches (default: the first).
    pub port: Option<Spanned<String>>,
    /// `tls issuer=… | secret=…`, or `tls #false`.
    pub tls: Option<RouteTls>,
}

#[derive(Clone, Debug)]
pub struct RouteGateway {
    pub node: Span,
    pub name: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub section: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct RoutePath {
    pub node: Span,
    pub path: Spanned<String>,
    /// `match="exact"` (default `prefix`).
    pub exact: bool,
}

#[derive(Clone, Debug)]
pub struct RouteTls {
    pub node: Span,
    /// `tls #false`.
    pub enabled: Option<Spanned<bool>>,
    /// cert-manager issuer: a Certificate is generated.
    pub issuer: Option<Spanned<String>>,
    /// `Issuer` or `ClusterIssuer` (default).
    pub issuer_kind: Option<Spanned<String>>,
    /// The Secret holding the certificate: an existing one, or the one the
    /// Certificate writes (default `SERVICE-tls`).
    pub secret: Option<Spanned<String>>,
}

/// `gitops argocd { … }` or `gitops flux { … }` as one layer writes it:
/// every setting `None` when the layer does not give it.
#[derive(Clone, Debug)]
pub struct Gitops {
    /// The `gitops` node's name token.
    pub node: Span,
    /// `argocd` or `flux`; `Some(None)` for `gitops #false` (the service is
    /// not deployed by an engine); `None` refines the engine a layer below chose.
    pub engine: Option<Spanned<Option<Engine>>>,
    /// Argo CD: the repository it reads (`repo URL revision=REV`).
    pub repo: Option<Spanned<String>>,
    pub revision: Option<Spanned<String>>,
    /// The output folder's path in the repository.
    pub path: Option<Spanned<String>>,
    /// Where the engine's objects live (`argocd`, `flux-system`).
    pub namespace: Option<Spanned<String>>,
    /// The ApplicationSet's name; the Flux Kustomizations' prefix.
    pub name: Option<Spanned<String>>,
    /// Argo CD: one ApplicationSet (`#true`) or an Application each.
    pub application_set: Option<Spanned<bool>>,
    pub project: Option<Spanned<String>>,
    pub create_project: Option<Spanned<bool>>,
    /// Flux: the source (`source NAME kind=… namespace=…`).
    pub source: Option<Spanned<String>>,
    pub source_kind: Option<Spanned<String>>,
    pub source_namespace: Option<Spanned<String>>,
    /// `sync …`: Argo CD's automated sync; prune for both; Flux's timing.
    pub automated: Option<Spanned<bool>>,
    pub prune: Option<Spanned<bool>>,
    pub self_heal: Option<Spanned<bool>>,
    pub interval: Option<Spanned<Duration>>,
    pub wait: Option<Spanned<bool>>,
    pub timeout: Option<Spanned<Duration>>,
    /// Argo CD: `sync-options "ServerSideApply=true" …`, as written.
    pub sync_options: Option<Spanned<Vec<String>>>,
    /// `cluster ENV NAME`: each environment's cluster, by environment name.
    pub clusters: Map<Cluster>,
}

impl Gitops {
    /// A block that gives nothing (what a layer without `gitops` gives).
    pub fn new(node: Span) -> Gitops {
        Gitops {
            node,
            engine: None,
            repo: None,
            revision: None,
            path: None,
            namespace: None,
            name: None,
            application_set: None,
            project: None,
            create_project: None,
            source: None,
            source_kind: None,
            source_namespace: None,
            automated: None,
            prune: None,
            self_heal: None,
            interval: None,
            wait: None,
            timeout: None,
            sync_options: None,
            clusters: Map::new(),
        }
    }
}

/// The engine a `gitops` block deploys with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    ArgoCd,
    Flux,
}

impl Engine {
    /// The argument names (`gitops argocd`).
    pub const ALL: [(&'static str, Engine); 2] = [("argocd", Engine::ArgoCd), ("flux", Engine::Flux)];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::ArgoCd => "argocd",
            Engine::Flux => "flux",
        }
    }
}

/// `cluster production "prod-eu"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub environment: Spanned<String>,
    pub name: Spanned<String>,
}

/// `network { calls …; called-by …; egress …; dns …; prometheus …; ingress-controller … }`.
#[derive(Clone, Debug)]
pub struct Network {
    pub node: Span,
    /// `network #false`: no NetworkPolicy (the calls stay in the graph).
    pub enabled: Option<Spanned<bool>>,
    /// `calls NAME port=PORT`, keyed by `NAME/PORT`.
    pub calls: Map<Call>,
    /// `called-by NAME [port=PORT]`, keyed by `NAME/PORT` (`NAME/` for every port).
    pub callers: Map<Caller>,
    /// `egress "CIDR|HOST" [port=N]`, keyed by destination and port.
    pub egress: Map<Egress>,
    /// `ingress "CIDR" [port=PORT]`: clients outside the cluster (a
    /// LoadBalancer's), keyed by range and port.
    pub ingress: Map<Ingress>,
    /// Where the cluster's DNS, Prometheus and ingress controller run.
    pub dns: Option<Peer>,
    pub prometheus: Option<Peer>,
    pub ingress_controller: Option<Peer>,
}

/// `calls ledger port=grpc [namespace="payments"] [protocol="TCP"]`.
#[derive(Clone, Debug)]
pub struct Call {
    pub node: Span,
    pub service: Spanned<String>,
    pub port: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub protocol: Option<Spanned<String>>,
}

/// `called-by storefront [port=http] [namespace="web"]`.
#[derive(Clone, Debug)]
pub struct Caller {
    pub node: Span,
    pub service: Spanned<String>,
    pub port: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
}

/// `egress "10.20.0.0/16" port=5432`, `egress "api.stripe.com" port=443 cidr="…"`,
/// `egress namespace="data" port=5432 { app "invoices-db" }`.
#[derive(Clone, Debug)]
pub struct Egress {
    pub node: Span,
    /// A CIDR, a host name (which a NetworkPolicy cannot match), or pods.
    pub to: Endpoint,
    /// The host's addresses, when `to` is a host.
    pub cidr: Option<Spanned<String>>,
    /// A number; or, to pods, the name of one of their ports.
    pub port: Option<Spanned<PortRef>>,
    pub protocol: Option<Spanned<String>>,
}

/// `ingress "0.0.0.0/0" port=http`: addresses outside the cluster that
/// reach one of the service's ports (or all of them); `ingress
/// namespace="batch" { app "legacy-cron" }`: pods of the cluster svcc does
/// not build.
#[derive(Clone, Debug)]
pub struct Ingress {
    pub node: Span,
    pub from: Endpoint,
    pub port: Option<Spanned<String>>,
}

/// The other end of an `egress` or `ingress` line.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A CIDR, or (egress) a host name.
    Address(Spanned<String>),
    /// Pods by their labels, in `namespace=` or the service's own.
    Pods(Peer),
}

impl Endpoint {
    /// The span to point at: the address, or the node's name.
    pub fn span(&self) -> Span {
        match self {
            Endpoint::Address(a) => a.span,
            Endpoint::Pods(p) => p.node,
        }
    }
}

/// A port by number or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

/// Pods of the cluster a policy names: `dns namespace="kube-system" { k8s-app "kube-dns" }`.
#[derive(Clone, Debug)]
pub struct Peer {
    pub node: Span,
    pub namespace: Option<Spanned<String>>,
    /// Pod labels (replaced as a whole by a layer that gives any).
    pub pods: Map<Spanned<String>>,
    /// `ingress-controller port=http`: the service's port it reaches.
    pub port: Option<Spanned<String>>,
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

#[derive(Clone, Debug)]
pub struct Metrics {
    pub node: Span,
    pub path: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
    pub interval: Option<Spanned<Duration>>,
    pub scheme: Option<Spanned<String>>,
    /// The request counter (e.g. `http_requests_total`).
    pub requests: Option<Spanned<String>>,
    /// The label of the request counter that holds the HTTP status code.
    pub status_label: Option<Spanned<String>>,
    /// The request latency histogram, without `_bucket` (e.g. `http_request_duration_seconds`).
    pub latency: Option<Spanned<String>>,
    /// Labels the cluster's Prometheus selects ServiceMonitors and rules by.
    pub prometheus_labels: Map<Spanned<String>>,
    /// `select { app "example-app" }`: the labels the ServiceMonitor selects
    /// the Services by, instead of the identity labels (replaced as a whole).
    pub select: Option<Spanned<Map<Spanned<String>>>>,
    /// The Prometheus URL rollout analyses query.
    pub prometheus: Option<Spanned<String>>,
    /// The ServiceMonitor endpoint's other settings.
    pub scrape: ScrapeOptions,
}

/// `metrics scrape-timeout=… honor-labels=… { tls …; authorization …; relabel … }`:
/// how Prometheus scrapes the endpoint. Each replaces the lower layer's; a
/// relabeling list replaces it as a whole.
#[derive(Clone, Debug, Default)]
pub struct ScrapeOptions {
    pub scrape_timeout: Option<Spanned<Duration>>,
    pub honor_labels: Option<Spanned<bool>>,
    pub tls: Option<ScrapeTls>,
    pub authorization: Option<ScrapeAuthorization>,
    pub bearer_token_file: Option<Spanned<String>>,
    pub relabelings: Option<Spanned<Vec<Relabel>>>,
    pub metric_relabelings: Option<Spanned<Vec<Relabel>>>,
}

/// `tls server-name="…" ca-secret="…" ca-key="…" insecure-skip-verify=#false`.
#[derive(Clone, Debug)]
pub struct ScrapeTls {
    pub node: Span,
    pub server_name: Option<Spanned<String>>,
    pub ca_secret: Option<Spanned<String>>,
    pub ca_key: Option<Spanned<String>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
}

/// `authorization secret="…" key="…" type="Bearer"`.
#[derive(Clone, Debug)]
pub struct ScrapeAuthorization {
    pub node: Span,
    pub type_: Option<Spanned<String>>,
    pub secret: Spanned<String>,
    pub key: Spanned<String>,
}

/// `relabel "SOURCE"… action=… target-label=… regex=… replacement=…`.
#[derive(Clone, Debug, PartialEq)]
pub struct Relabel {
    pub node: Span,
    pub source_labels: Vec<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub target_label: Option<Spanned<String>>,
    pub regex: Option<Spanned<String>>,
    pub replacement: Option<Spanned<String>>,
    pub separator: Option<Spanned<String>>,
    pub modulus: Option<Spanned<u64>>,
}

/// `alerts { … }`: built-in alert kinds and custom rules.
#[derive(Clone, Debug, Default)]
pub struct Alerts {
    pub node: Option<Span>,
    pub severity: Option<Spanned<String>>,
    pub runbook: Option<Spanned<String>>,
    pub labels: Map<Spanned<String>>,
    /// Keyed by kind (`error-rate`) or, for `custom`/`record`, by rule name.
    pub rules: Map<AlertRule>,
}

#[derive(Clone, Debug)]
pub struct AlertRule {
    pub kind: AlertKind,
    /// The node name, or the custom rule's name.
    pub name: Spanned<String>,
    /// `error-rate #false` in an environment turns one alert off.
    pub enabled: Option<Spanned<bool>>,
    pub above: Option<Spanned<f64>>,
    pub above_duration: Option<Spanned<Duration>>,
    pub quantile: Option<Spanned<f64>>,
    pub for_: Option<Spanned<Duration>>,
    pub within: Option<Spanned<Duration>>,
    pub severity: Option<Spanned<String>>,
    pub runbook: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub expr: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    Down,
    ErrorRate,
    Latency,
    Memory,
    CpuThrottling,
    Restarts,
    NotReady,
    Custom,
    Record,
}

impl AlertKind {
    pub const ALL: [(&'static str, AlertKind); 9] = [
        ("down", AlertKind::Down),
        ("error-rate", AlertKind::ErrorRate),
        ("latency", AlertKind::Latency),
        ("memory", AlertKind::Memory),
        ("cpu-throttling", AlertKind::CpuThrottling),
        ("restarts", AlertKind::Restarts),
        ("not-ready", AlertKind::NotReady),
        ("custom", AlertKind::Custom),
        ("record", AlertKind::Record),
    ];
}

/// `slo availability objective=0.999 window="30d"`.
#[derive(Clone, Debug)]
pub struct Slo {
    pub kind: SloKind,
    pub name: Spanned<String>,
    pub objective: Option<Spanned<f64>>,
    pub window: Option<Spanned<Duration>>,
    pub threshold: Option<Spanned<Duration>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloKind {
    Availability,
    Latency,
}

/// `blue-green deploy-budget="15m" { … }`.
#[derive(Clone, Debug)]
pub struct BlueGreen {
    pub node: Span,
    /// `blue-green #false` in an environment turns it off there.
    pub enabled: Option<Spanned<bool>>,
    pub deploy_budget: Option<Spanned<Duration>>,
    pub auto_promote: Option<AutoPromote>,
    pub rollback_window: Option<Spanned<Duration>>,
    pub preview_replicas: Option<Spanned<u32>>,
    pub pre_promotion: Option<Analysis>,
    pub post_promotion: Option<Analysis>,
}

/// `auto-promote #false`, `auto-promote after="10m"`.
#[derive(Clone, Debug)]
pub struct AutoPromote {
    pub node: Span,
    pub enabled: Option<Spanned<bool>>,
    pub after: Option<Spanned<Duration>>,
}

/// `canary deploy-budget="30m" { … }`.
#[derive(Clone, Debug)]
pub struct Canary {
    pub node: Span,
    pub enabled: Option<Spanned<bool>>,
    pub deploy_budget: Option<Spanned<Duration>>,
    pub auto_promote: Option<Spanned<bool>>,
    pub max_surge: Option<Spanned<IntOrPercent>>,
    pub max_unavailable: Option<Spanned<IntOrPercent>>,
    pub traffic: Option<Traffic>,
    /// `analysis { … }` directly in `canary`: runs in the background for the whole update.
    pub background: Option<Analysis>,
    /// `steps { … }`, with the span of the `steps` node.
    pub steps: Option<Spanned<Vec<Step>>>,
}

/// `traffic nginx ingress="backend-api"`.
#[derive(Clone, Debug)]
pub struct Traffic {
    pub node: Span,
    pub provider: Spanned<String>,
    pub ingress: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub enum Step {
    SetWeight(Spanned<u32>),
    /// `pause` (indefinite: waits for `kubectl argo rollouts promote`) or `pause "5m"`.
    Pause {
        node: Span,
        duration: Option<Spanned<Duration>>,
    },
    Analysis(Analysis),
}

/// A set of gates measured together (one AnalysisTemplate).
#[derive(Clone, Debug)]
pub struct Analysis {
    pub node: Span,
    /// `template="NAME"`: the AnalysisTemplate's name (default derived from
    /// the service and the block: `NAME-canary-background`, …).
    pub template: Option<Spanned<String>>,
    pub gates: Vec<Gate>,
    /// `arg NAME …`: values the Rollout passes, read as `{{args.NAME}}`.
    pub args: Vec<AnalysisArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateKind {
    SuccessRate,
    Latency,
    /// `query NAME expr=… success=… failure=…`: the user's PromQL.
    Query,
    /// `job NAME { … }`: a Job of the user's, passing when it completes.
    Job,
}

/// `success-rate at-least=0.95 interval="60s" count=5 failure-limit=3` or
/// `latency quantile=0.95 at-most="500ms" …`.
#[derive(Clone, Debug)]
pub struct Gate {
    pub kind: GateKind,
    pub name: Spanned<String>,
    pub at_least: Option<Spanned<f64>>,
    pub quantile: Option<Spanned<f64>>,
    pub at_most: Option<Spanned<Duration>>,
    pub interval: Option<Spanned<Duration>>,
    pub count: Option<Spanned<u32>>,
    /// `count="whole-update"`: no count, measured until the update ends.
    pub whole_update: Option<Span>,
    pub failure_limit: Option<Spanned<u32>>,
    pub inconclusive_limit: Option<Spanned<u32>>,
    /// The query and conditions of a `query` gate.
    pub query: Option<Box<QueryGate>>,
    /// The Job of a `job` gate: its settings and container, as a `job` block's.
    pub job: Option<Box<Job>>,
}

impl Gate {
    /// A gate of `kind` named `name` that says nothing else yet.
    pub fn new(kind: GateKind, name: Spanned<String>) -> Gate {
        Gate {
            kind,
            name,
            at_least: None,
            quantile: None,
            at_most: None,
            interval: None,
            count: None,
            whole_update: None,
            failure_limit: None,
            inconclusive_limit: None,
            query: None,
            job: None,
        }
    }
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
