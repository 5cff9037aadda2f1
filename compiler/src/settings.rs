//! The settings registry: one entry per documented setting path
//! (`replicas`, `image.tag`, `service-account.automount-token`,
//! `labels.KEY`, …), the one place those names are spelled.
//!
//! Every stage that names a setting reads it from here:
//!
//! - the layer merge (`check::merge`) reports a setting by its path, in
//!   conflicts between presets (SVC0332) and in `Merger::set_paths`;
//! - `check` records the span of each [`Setting::written`] setting in
//!   `Plan::settings`;
//! - lowering attributes each of a setting's [`Setting::fields`] to that span,
//!   or to the setting's default, and names the setting of a
//!   [`Setting::traced`] value that took its default (`svcc explain`).
//!
//! A path segment in capitals is a key the spec chooses: `labels.KEY` is
//! reported as `labels.team`, `port.NAME.protocol` as `port.http.protocol`
//! ([`Setting::with_key`]); [`by_path`] finds the entry of either form.

use std::sync::LazyLock;

use crate::lower::Kind;
use crate::model::Body;
use crate::source::{Span, Spanned};

/// Where a merged body writes a setting: the span of its value.
pub type Find = fn(&Body) -> Option<Span>;

/// One documented setting.
#[derive(Debug)]
pub struct Setting {
    /// The documented name, as messages and `svcc explain` show it.
    pub path: &'static str,
    /// Whether the layer merge reports it on its own (a conflict between
    /// presets, a `set_paths` entry). `false` for a setting that is merged
    /// with its block as a whole (`disruption-budget`) or that names a whole
    /// block (`probes.readiness`).
    pub reported: bool,
    /// Where a merged body writes it: the span of the value, recorded in
    /// `Plan::settings` for provenance. `None` when the plan traces the value
    /// itself, or the setting is keyed.
    pub written: Option<Find>,
    /// The output fields this setting alone decides (kind, JSON pointer):
    /// their provenance is the span [`Setting::written`] finds, or this
    /// setting's default. Every workload carries the Deployment's pod
    /// template, so a Deployment field in it is also a Rollout's ([`applies`]).
    pub fields: &'static [(Kind, &'static str)],
    /// Pointer suffixes of values the plan traces to a span itself, where
    /// the service's own span stands for this setting's default.
    pub traced: &'static [&'static str],
    /// For a default that changes what services relying on Kubernetes'
    /// own notice: what it is and why, and how to change it (`svcc
    /// explain` prints both).
    pub default: Option<(&'static str, &'static str)>,
}

impl Setting {
    const fn new(path: &'static str) -> Setting {
        Setting { path, reported: true, written: None, fields: &[], traced: &[], default: None }
    }

    const fn default(mut self, why: &'static str, change: &'static str) -> Setting {
        self.default = Some((why, change));
        self
    }

    const fn unreported(mut self) -> Setting {
        self.reported = false;
        self
    }

    const fn written(mut self, at: Find) -> Setting {
        self.written = Some(at);
        self
    }

    const fn fields(mut self, fields: &'static [(Kind, &'static str)]) -> Setting {
        self.fields = fields;
        self
    }

    const fn traced(mut self, suffixes: &'static [&'static str]) -> Setting {
        self.traced = suffixes;
        self
    }

    /// The path around its key segment (`port.`, `.protocol`), when the
    /// path has one.
    fn around_key(&self) -> Option<(&'static str, &'static str)> {
        let path = self.path;
        let mut start = 0;
        for segment in path.split('.') {
            let end = start + segment.len();
            if !segment.is_empty() && segment.bytes().all(|c| c.is_ascii_uppercase()) {
                return Some((&path[..start], &path[end..]));
            }
            start = end + 1;
        }
        None
    }

    /// The path with its key filled in: `labels.KEY` with `team` is
    /// `labels.team`. A path without a key is returned as it is.
    pub fn with_key(&self, key: &str) -> String {
        match self.around_key() {
            Some((before, after)) => format!("{before}{key}{after}"),
            None => self.path.to_string(),
        }
    }

    /// How much of `path` this setting's own spelling fixes, if `path`
    /// names it (with the key filled in or not).
    fn fit(&self, path: &str) -> Option<usize> {
        if path == self.path {
            return Some(usize::MAX);
        }
        let (before, after) = self.around_key()?;
        let key = path.strip_prefix(before)?.strip_suffix(after)?;
        (!key.is_empty()).then_some(before.len() + after.len())
    }

    /// Whether one of [`Setting::fields`] is `pointer` of a `kind` object.
    pub fn sets(&self, kind: Kind, pointer: &str) -> bool {
        self.fields.iter().any(|(k, p)| *p == pointer && applies(*k, p, kind))
    }
}

/// Whether a field listed for `listed` objects is a field of a `kind` object:
/// every workload (a Rollout too) carries the Deployment's pod template.
pub fn applies(listed: Kind, pointer: &str, kind: Kind) -> bool {
    let in_template = |t: &str| pointer.strip_prefix(t).is_some_and(|rest| rest.starts_with('/'));
    listed == kind || (listed == Kind::Deployment && kind.pod_template().is_some_and(in_template))
}

/// The setting `path` names: `labels.team` finds `labels.KEY`; among keyed
/// settings, the one whose spelling fixes most of the path
/// (`port.http.protocol` is `port.NAME.protocol`, not `port.NAME`).
pub fn by_path(path: &str) -> Option<&'static Setting> {
    ALL.iter().copied().filter_map(|s| s.fit(path).map(|n| (n, s))).max_by_key(|(n, _)| *n).map(|(_, s)| s)
}

/// The setting whose value lowering writes at `pointer` of a `kind` object:
/// one of its [`Setting::fields`], else a [`Setting::traced`] suffix.
pub fn by_pointer(kind: Kind, pointer: &str) -> Option<&'static Setting> {
    ALL.iter().copied().find(|s| s.sets(kind, pointer)).or_else(|| traced_at(pointer))
}

/// The setting a traced value at `pointer` belongs to (whatever the kind).
pub fn traced_at(pointer: &str) -> Option<&'static Setting> {
    // Listed once: lowering asks for every value that took its default.
    static TRACED: LazyLock<Vec<(&'static str, &'static Setting)>> =
        LazyLock::new(|| ALL.iter().flat_map(|s| s.traced.iter().map(move |suffix| (*suffix, *s))).collect());
    TRACED.iter().find(|(suffix, _)| pointer.ends_with(suffix)).map(|(_, s)| *s)
}

/// Every (setting, kind, pointer) of [`Setting::fields`], in registry order
/// (listed once: lowering walks it for every object).
pub fn fields() -> &'static [(&'static Setting, Kind, &'static str)] {
    static FIELDS: LazyLock<Vec<(&'static Setting, Kind, &'static str)>> =
        LazyLock::new(|| ALL.iter().flat_map(|s| s.fields.iter().map(move |(k, p)| (*s, *k, *p))).collect());
    &FIELDS
}

/// The settings a merged body writes, with the span of each value (every
/// [`Setting::written`] that finds one).
pub fn written_in(b: &Body) -> impl Iterator<Item = (&'static str, Span)> + '_ {
    static WRITTEN: LazyLock<Vec<(&'static str, Find)>> =
        LazyLock::new(|| ALL.iter().filter_map(|s| Some((s.path, s.written?))).collect());
    WRITTEN.iter().filter_map(move |(path, at)| Some((*path, at(b)?)))
}

fn at<T>(v: &Option<Spanned<T>>) -> Option<Span> {
    v.as_ref().map(|v| v.span)
}

macro_rules! registry {
    ($($(#[$doc:meta])* $name:ident = $setting:expr;)*) => {
        $($(#[$doc])* pub static $name: Setting = $setting;)*
        /// Every setting, in the order of `docs/language.md`.
        pub static ALL: &[&Setting] = &[$(&$name),*];
    };
}

registry! {
    /// `image "REPOSITORY"`.
    IMAGE = Setting::new("image");
    IMAGE_TAG = Setting::new("image.tag").written(|b| b.image.as_ref().and_then(|i| at(&i.tag)));
    IMAGE_DIGEST = Setting::new("image.digest");
    /// `version "1.9.5"`: the version label, instead of the image tag.
    VERSION = Setting::new("version")
        .written(|b| at(&b.version))
        .fields(&[
            (Kind::Deployment, "/metadata/labels/app.kubernetes.io~1version"),
            (Kind::Deployment, "/spec/template/metadata/labels/app.kubernetes.io~1version"),
        ])
        .default(
            "the image tag (`1.4.2` of `ghcr.io/acme/api:1.4.2`), the app's version as Kubernetes' recommended labels say it",
            "`version \"1.4.2\"` when the app's version is not its image tag",
        );
    IMAGE_PULL_POLICY = Setting::new("image.pull-policy")
        .written(|b| b.image.as_ref().and_then(|i| at(&i.pull_policy)))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/imagePullPolicy")]);
    /// `container-name NAME`: the service's container (default: the service's name).
    CONTAINER_NAME = Setting::new("container-name")
        .written(|b| at(&b.container_name))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/name")]);
    /// Another container of the pod: its settings are reported under this
    /// path (`container.envoy.image.tag`).
    CONTAINER = Setting::new("container.NAME").unreported();
    /// A `job` or `cron-job`: its settings are reported under this path
    /// (`job.migrate.deadline`, `job.migrate.image.tag`).
    JOB = Setting::new("job.NAME").unreported();
    /// A `config-map`'s keys (`config-map.app-config.LOG_LEVEL`).
    CONFIG_MAP = Setting::new("config-map.NAME").unreported();
    /// An `external-secret` (`external-secret.db.store`).
    EXTERNAL_SECRET = Setting::new("external-secret.NAME").unreported();
    /// Lowering attributes `/metadata/namespace` of every object itself
    /// (derived from the environment when not written).
    NAMESPACE = Setting::new("namespace").written(|b| at(&b.namespace));
    PORT = Setting::new("port.NAME");
    PORT_SERVICE_PORT = Setting::new("port.NAME.service-port");
    PORT_PROTOCOL = Setting::new("port.NAME.protocol");
    PORT_HOST_PORT = Setting::new("port.NAME.host-port");
    /// `expose NAME #false`.
    EXPOSE = Setting::new("expose.NAME");
    EXPOSE_TYPE = Setting::new("expose.NAME.type");
    EXPOSE_HEADLESS = Setting::new("expose.NAME.headless");
    EXPOSE_EXTERNAL_TRAFFIC_POLICY = Setting::new("expose.NAME.external-traffic-policy");
    /// The `port` list, replaced as a whole.
    EXPOSE_PORT = Setting::new("expose.NAME.port");
    REPLICAS = Setting::new("replicas").written(|b| at(&b.replicas)).traced(&["/spec/replicas"]).default(
        "2, where Kubernetes runs 1: one pod can be lost to a drain or a failure without an outage",
        "`replicas 1` for a service that must run once",
    );
    REQUESTS_CPU = Setting::new("resources.requests.cpu").traced(&["/resources/requests/cpu"]).default(
        "100m, so the pod is scheduled with room to run and CPU autoscaling has a base",
        "`resources { requests cpu=\"…\" }`",
    );
    REQUESTS_MEMORY = Setting::new("resources.requests.memory").traced(&["/resources/requests/memory"]).default(
        "128Mi, so the scheduler reserves real memory for the pod",
        "`resources { requests memory=\"…\" }`",
    );
    REQUESTS_EPHEMERAL_STORAGE = Setting::new("resources.requests.ephemeral-storage");
    LIMITS_CPU = Setting::new("resources.limits.cpu").traced(&["/resources/limits/cpu"]).default(
        "twice the CPU request (a 5m request gets a 10m limit, which throttles hard)",
        "`resources { limits cpu=\"…\" }`, or no CPU limit at all: `resources { limits cpu=#false }`",
    );
    LIMITS_MEMORY = Setting::new("resources.limits.memory").traced(&["/resources/limits/memory"]).default(
        "twice the memory request, so a leak cannot take the node down",
        "`resources { limits memory=\"…\" }`",
    );
    LIMITS_EPHEMERAL_STORAGE = Setting::new("resources.limits.ephemeral-storage");
    /// The readiness probe as a whole: svcc's TCP probe when not declared.
    PROBES_READINESS = Setting::new("probes.readiness").unreported().traced(&["/readinessProbe"]);
    PROBE_HANDLER = Setting::new("probes.KIND.handler");
    PROBE_PORT = Setting::new("probes.KIND.port");
    PROBE_SCHEME = Setting::new("probes.KIND.scheme");
    PROBE_SERVICE = Setting::new("probes.KIND.service");
    PROBE_INITIAL_DELAY = Setting::new("probes.KIND.initial-delay");
    PROBE_PERIOD = Setting::new("probes.KIND.period");
    PROBE_TIMEOUT = Setting::new("probes.KIND.timeout");
    PROBE_FAILURE_THRESHOLD = Setting::new("probes.KIND.failure-threshold");
    PROBE_SUCCESS_THRESHOLD = Setting::new("probes.KIND.success-threshold");
    /// Replaced as a whole list by the layer above.
    PROBE_HEADERS = Setting::new("probes.KIND.header");
    ENV = Setting::new("env.KEY");
    COMMAND = Setting::new("command");
    ARGS = Setting::new("args");
    LABELS = Setting::new("labels.KEY");
    ANNOTATIONS = Setting::new("annotations.KEY");
    POD_ANNOTATIONS = Setting::new("pod-annotations.KEY");
    /// A volume's mount path.
    VOLUME = Setting::new("volumes.NAME");
    VOLUME_SIZE_LIMIT = Setting::new("volumes.NAME.size-limit");
    VOLUME_MEMORY = Setting::new("volumes.NAME.memory");
    VOLUME_OPTIONAL = Setting::new("volumes.NAME.optional");
    VOLUME_READ_ONLY = Setting::new("volumes.NAME.read-only");
    /// Replaced as a whole list by the layer above.
    VOLUME_ITEMS = Setting::new("volumes.NAME.items");
    SERVICE_ACCOUNT_NAME =
        Setting::new("service-account.name").written(|b| b.service_account.as_ref().and_then(|s| at(&s.name)));
    SERVICE_ACCOUNT_CREATE = Setting::new("service-account.create");
    SERVICE_ACCOUNT_AUTOMOUNT_TOKEN = Setting::new("service-account.automount-token")
        .written(|b| b.service_account.as_ref().and_then(|s| at(&s.automount)))
        .fields(&[
            (Kind::Deployment, "/spec/template/spec/automountServiceAccountToken"),
            (Kind::ServiceAccount, "/automountServiceAccountToken"),
        ])
        .default(
            "off: the pods get no Kubernetes API token, and one that calls the API fails at its first call",
            "`service-account calls-api=#true` for a service that calls the Kubernetes API",
        );
    RUN_AS_USER = Setting::new("security.run-as-user")
        .written(|b| at(&b.security.run_as_user))
        .fields(&[(Kind::Deployment, "/spec/template/spec/securityContext/runAsUser")])
        .default(
            "10001, a non-root id that is no real user on the node",
            "`security { run-as-user 1001 }`, or the image's own user: `security { run-as-user \"image\" }`",
        );
    RUN_AS_GROUP = Setting::new("security.run-as-group")
        .written(|b| at(&b.security.run_as_group))
        .fields(&[(Kind::Deployment, "/spec/template/spec/securityContext/runAsGroup")]);
    FS_GROUP = Setting::new("security.fs-group")
        .written(|b| at(&b.security.fs_group))
        .fields(&[(Kind::Deployment, "/spec/template/spec/securityContext/fsGroup")]);
    RUN_AS_NON_ROOT = Setting::new("security.run-as-non-root")
        .written(|b| at(&b.security.run_as_non_root))
        .fields(&[
            (Kind::Deployment, "/spec/template/spec/securityContext/runAsNonRoot"),
            (Kind::Deployment, "/spec/template/spec/containers/0/securityContext/runAsNonRoot"),
        ]);
    READ_ONLY_ROOT_FILESYSTEM = Setting::new("security.read-only-root-filesystem")
        .written(|b| at(&b.security.read_only_root_filesystem))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem")]);
    ALLOW_PRIVILEGE_ESCALATION = Setting::new("security.allow-privilege-escalation")
        .written(|b| at(&b.security.allow_privilege_escalation))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation")]);
    ADD_CAPABILITIES = Setting::new("security.add-capabilities")
        .written(|b| at(&b.security.add_capabilities))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/securityContext/capabilities/add")]);
    SECCOMP = Setting::new("security.seccomp")
        .written(|b| at(&b.security.seccomp))
        .fields(&[(Kind::Deployment, "/spec/template/spec/securityContext/seccompProfile")]);
    PER_CONTAINER = Setting::new("security.per-container");
    SECURITY_ALLOW = Setting::new("security.allow.KEY");
    AUTOSCALE_ENABLED = Setting::new("autoscale.enabled");
    AUTOSCALE_MIN = Setting::new("autoscale.min")
        .written(|b| b.autoscale.as_ref().and_then(|a| at(&a.min)))
        .fields(&[(Kind::HorizontalPodAutoscaler, "/spec/minReplicas")]);
    AUTOSCALE_MAX = Setting::new("autoscale.max")
        .written(|b| b.autoscale.as_ref().and_then(|a| at(&a.max)))
        .fields(&[(Kind::HorizontalPodAutoscaler, "/spec/maxReplicas")]);
    AUTOSCALE_CPU = Setting::new("autoscale.cpu").written(|b| b.autoscale.as_ref().and_then(|a| at(&a.cpu)));
    AUTOSCALE_MEMORY =
        Setting::new("autoscale.memory").written(|b| b.autoscale.as_ref().and_then(|a| at(&a.memory)));
    /// Replaced as a whole by the layer above.
    AUTOSCALE_SCALE_UP = Setting::new("autoscale.scale-up")
        .unreported()
        .written(|b| b.autoscale.as_ref().and_then(|a| a.scale_up.as_ref()).map(|v| v.node))
        .fields(&[(Kind::HorizontalPodAutoscaler, "/spec/behavior/scaleUp")]);
    /// Replaced as a whole by the layer above.
    AUTOSCALE_SCALE_DOWN = Setting::new("autoscale.scale-down")
        .unreported()
        .written(|b| b.autoscale.as_ref().and_then(|a| a.scale_down.as_ref()).map(|v| v.node))
        .fields(&[(Kind::HorizontalPodAutoscaler, "/spec/behavior/scaleDown")]);
    MAX_SURGE = Setting::new("rolling-update.max-surge")
        .written(|b| at(&b.rolling.max_surge))
        .fields(&[(Kind::Deployment, "/spec/strategy/rollingUpdate/maxSurge")]);
    MAX_UNAVAILABLE = Setting::new("rolling-update.max-unavailable")
        .written(|b| at(&b.rolling.max_unavailable))
        .fields(&[(Kind::Deployment, "/spec/strategy/rollingUpdate/maxUnavailable")]);
    PRE_STOP = Setting::new("shutdown.pre-stop")
        .written(|b| at(&b.shutdown.pre_stop))
        .fields(&[(Kind::Deployment, "/spec/template/spec/containers/0/lifecycle/preStop")]);
    GRACE = Setting::new("shutdown.grace")
        .written(|b| at(&b.shutdown.grace))
        .fields(&[(Kind::Deployment, "/spec/template/spec/terminationGracePeriodSeconds")]);
    MIN_READY = Setting::new("min-ready")
        .written(|b| at(&b.updates.min_ready))
        .fields(&[(Kind::Deployment, "/spec/minReadySeconds"), (Kind::Rollout, "/spec/minReadySeconds")]);
    PROGRESS_DEADLINE = Setting::new("progress-deadline").written(|b| at(&b.updates.progress_deadline)).fields(&[
        (Kind::Deployment, "/spec/progressDeadlineSeconds"),
        (Kind::Rollout, "/spec/progressDeadlineSeconds"),
    ]);
    REVISION_HISTORY = Setting::new("revision-history").written(|b| at(&b.updates.revision_history)).fields(&[
        (Kind::Deployment, "/spec/revisionHistoryLimit"),
        (Kind::Rollout, "/spec/revisionHistoryLimit"),
    ]);
    /// Replaced as a whole by the layer above.
    DISRUPTION_BUDGET = Setting::new("disruption-budget")
        .unreported()
        .written(|b| {
            let d = b.disruption.as_ref()?;
            d.max_unavailable.as_ref().or(d.min_available.as_ref()).map(|v| v.span)
        })
        .fields(&[
            (Kind::PodDisruptionBudget, "/spec/maxUnavailable"),
            (Kind::PodDisruptionBudget, "/spec/minAvailable"),
        ]);
    NODE_SELECTOR = Setting::new("node-selector.KEY");
    /// Replaced as a whole by the layer above.
    AFFINITY = Setting::new("affinity")
        .unreported()
        .written(|b| b.placement.affinity.as_ref().map(|a| a.node))
        .fields(&[(Kind::Deployment, "/spec/template/spec/affinity")]);
    PRIORITY_CLASS = Setting::new("priority-class")
        .written(|b| at(&b.placement.priority_class))
        .fields(&[(Kind::Deployment, "/spec/template/spec/priorityClassName")]);
    /// One object's labels and annotations, merged key by key.
    OBJECT = Setting::new("object.OBJECT").unreported();
    /// Replaced as a whole by the layer above.
    SELECTOR = Setting::new("selector").unreported().written(|b| at(&b.selector));
    NAMES_WORKLOAD = Setting::new("names.workload");
    NAMES_SERVICE = Setting::new("names.service");
    NAMES_PREVIEW_SERVICE = Setting::new("names.preview-service");
    NAMES_CANARY_SERVICE = Setting::new("names.canary-service");
    NAMES_AUTOSCALER = Setting::new("names.autoscaler");
    NAMES_DISRUPTION_BUDGET = Setting::new("names.disruption-budget");
    NAMES_SERVICE_MONITOR = Setting::new("names.service-monitor");
    NAMES_PROMETHEUS_RULE = Setting::new("names.prometheus-rule");
    METRICS_PATH = Setting::new("metrics.path");
    METRICS_PORT = Setting::new("metrics.port");
    /// The engine (`gitops argocd`, `gitops #false`).
    GITOPS = Setting::new("gitops");
    GITOPS_REPO = Setting::new("gitops.repo");
    GITOPS_REPO_REVISION = Setting::new("gitops.repo.revision");
    GITOPS_PATH = Setting::new("gitops.path");
    GITOPS_NAMESPACE = Setting::new("gitops.namespace");
    GITOPS_NAME = Setting::new("gitops.name");
    GITOPS_APPLICATION_SET = Setting::new("gitops.application-set");
    GITOPS_PROJECT = Setting::new("gitops.project");
    GITOPS_PROJECT_CREATE = Setting::new("gitops.project.create");
    GITOPS_SOURCE = Setting::new("gitops.source");
    GITOPS_SOURCE_KIND = Setting::new("gitops.source.kind");
    GITOPS_SOURCE_NAMESPACE = Setting::new("gitops.source.namespace");
    GITOPS_SYNC_AUTOMATED = Setting::new("gitops.sync.automated");
    GITOPS_SYNC_PRUNE = Setting::new("gitops.sync.prune");
    GITOPS_SYNC_SELF_HEAL = Setting::new("gitops.sync.self-heal");
    GITOPS_SYNC_INTERVAL = Setting::new("gitops.sync.interval");
    GITOPS_SYNC_WAIT = Setting::new("gitops.sync.wait");
    GITOPS_SYNC_TIMEOUT = Setting::new("gitops.sync.timeout");
    GITOPS_SYNC_OPTIONS = Setting::new("gitops.sync-options");
    GITOPS_CLUSTER = Setting::new("gitops.cluster.ENV");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::node::Info;

    /// Path segments that name an argument rather than a word of the
    /// language: a probe's `handler` is its path, `tcp`, `grpc` or `exec`,
    /// `autoscale.enabled` is `autoscale #false`, and a volume's `items`
    /// are its `KEY "PATH"` children.
    const ARGUMENTS: &[&str] = &["handler", "enabled", "items"];

    /// Every path is spelled as the language is (the decoder's node tables,
    /// which `tests/language_docs.rs` holds to the documentation): a body
    /// node, then children, properties or arguments of it, and keys.
    #[test]
    fn paths_are_spelled_as_the_language() {
        for (i, s) in ALL.iter().enumerate() {
            assert!(ALL[..i].iter().all(|t| t.path != s.path), "`{}` twice", s.path);
            let mut segments = s.path.split('.');
            let first = segments.next().unwrap_or_default();
            let mut at: Vec<Info> = crate::decode::SERVICE.children().into_iter().filter(|n| n.name == first).collect();
            assert!(!at.is_empty(), "`{}`: no node `{first}`", s.path);
            for seg in segments {
                if seg.bytes().all(|c| c.is_ascii_uppercase()) {
                    // A key; `KIND` chooses one of the children.
                    if seg == "KIND" {
                        at = at.iter().flat_map(Info::children).collect();
                    }
                    continue;
                }
                let children: Vec<Info> = at.iter().flat_map(Info::children).filter(|c| c.name == seg).collect();
                if !children.is_empty() {
                    at = children;
                    continue;
                }
                let known = ARGUMENTS.contains(&seg)
                    || at.iter().any(|n| {
                        n.props.contains(&seg) || n.item_props.contains(&seg) || n.args.eq_ignore_ascii_case(seg)
                    });
                assert!(known, "`{}`: `{seg}` is not a child, property or argument of `{}`", s.path, at[0].name);
            }
        }
    }

    #[test]
    fn a_field_or_a_traced_value_has_one_setting() {
        let all = fields();
        for (i, (s, k, p)) in all.iter().enumerate() {
            assert!(p.starts_with('/'), "{p}");
            let other = all[..i].iter().find(|(_, k2, p2)| k2 == k && p2 == p);
            assert!(other.is_none(), "{k:?} {p}: `{}` and `{}`", s.path, other.unwrap().0.path);
        }
        for s in ALL {
            for suffix in s.traced {
                let owners: Vec<&str> =
                    ALL.iter().filter(|t| t.traced.iter().any(|x| x.ends_with(suffix))).map(|t| t.path).collect();
                assert_eq!(owners, [s.path], "{suffix}");
            }
        }
    }

    #[test]
    fn lookup_by_path() {
        assert_eq!(by_path("replicas").map(|s| s.path), Some("replicas"));
        assert_eq!(by_path("labels.team").map(|s| s.path), Some("labels.KEY"));
        assert_eq!(by_path("labels.example.com/org").map(|s| s.path), Some("labels.KEY"));
        assert_eq!(by_path("labels.KEY").map(|s| s.path), Some("labels.KEY"));
        assert_eq!(by_path("port.http").map(|s| s.path), Some("port.NAME"));
        assert_eq!(by_path("port.http.protocol").map(|s| s.path), Some("port.NAME.protocol"));
        assert_eq!(by_path("probes.liveness.period").map(|s| s.path), Some("probes.KIND.period"));
        assert_eq!(by_path("probes.readiness").map(|s| s.path), Some("probes.readiness"));
        assert_eq!(by_path("security.allow.host-network").map(|s| s.path), Some("security.allow.KEY"));
        assert_eq!(by_path("service-account.automount-token").map(|s| s.path), Some("service-account.automount-token"));
        assert!(by_path("service-account.automount").is_none());
        assert!(by_path("labels").is_none());
        assert!(by_path("labels.").is_none());
        assert_eq!(PORT_PROTOCOL.with_key("http"), "port.http.protocol");
        assert_eq!(LABELS.with_key("example.com/org"), "labels.example.com/org");
        assert_eq!(REPLICAS.with_key("x"), "replicas");
        assert!(LABELS.around_key().is_some() && REPLICAS.around_key().is_none());
    }

    #[test]
    fn lookup_by_pointer() {
        fn path(k: Kind, p: &str) -> Option<&'static str> {
            by_pointer(k, p).map(|s| s.path)
        }
        let c = "/spec/template/spec/containers/0";
        assert_eq!(
            path(Kind::Deployment, "/spec/template/spec/securityContext/runAsUser"),
            Some("security.run-as-user")
        );
        assert_eq!(path(Kind::Rollout, "/spec/template/spec/securityContext/runAsUser"), Some("security.run-as-user"));
        assert_eq!(path(Kind::Rollout, "/spec/strategy/rollingUpdate/maxSurge"), None);
        assert_eq!(
            path(Kind::ServiceAccount, "/automountServiceAccountToken"),
            Some("service-account.automount-token")
        );
        assert_eq!(path(Kind::PodDisruptionBudget, "/spec/minAvailable"), Some("disruption-budget"));
        assert_eq!(path(Kind::Deployment, "/spec/replicas"), Some("replicas"));
        assert_eq!(path(Kind::Rollout, &format!("{c}/resources/limits/memory")), Some("resources.limits.memory"));
        assert_eq!(path(Kind::Deployment, &format!("{c}/readinessProbe")), Some("probes.readiness"));
        assert_eq!(path(Kind::Deployment, "/metadata/name"), None);
    }

    /// Lowering reads these from `Plan::settings` by name.
    #[test]
    fn lowering_finds_the_settings_it_names() {
        for name in ["namespace", "image.tag"] {
            assert!(by_path(name).is_some_and(|s| s.written.is_some()), "{name}");
        }
    }
}
