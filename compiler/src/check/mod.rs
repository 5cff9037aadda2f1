//! Stage 3: `model::Spec` → one [`Plan`] per environment, with every
//! semantic check. All problems are collected; plans are returned only
//! when there are no errors.
//!
//! One module per spec block, named as in the other stages: each resolves
//! its settings of the merged [`Body`] (with their defaults and checks) into
//! its part of the plan, and holds its block's merge rules (`merge.rs` is
//! the layer merge that calls them). [`resolve`] calls them in order and
//! assembles the [`Plan`]:
//!
//! | module | settings |
//! |---|---|
//! | `image` | `image` |
//! | `command` | `command`, `args` |
//! | `ports` | `port` |
//! | `scaling` | `replicas`, `autoscale`, `disruption-budget` |
//! | `resources` | `resources` |
//! | `probes` | `probes` |
//! | `env` | `env`, `env-from` |
//! | `metadata` | `namespace`, `labels`, `annotations`, `pod-annotations` |
//! | `volumes` | `volumes` |
//! | `security` | `security`, `service-account` |
//! | `lifecycle` | `rolling-update`, `shutdown` |
//! | `scheduling` | `node-selector`, `tolerations` |
//! | `monitoring` | `metrics`, `alerts`, `slo` |
//! | `rollout` | `blue-green`, `canary` |
//! | `gitops` | `gitops` (the engine; its objects span services: `crate::gitops`) |
//! | `ci` | `pipeline` (once for all environments, called by `lib::compile_with`) |

pub mod ci;
mod command;
mod env;
pub mod gitops;
mod image;
mod lifecycle;
pub mod merge;
mod metadata;
mod monitoring;
mod ports;
mod probes;
mod resources;
pub mod rollout;
mod scaling;
mod scheduling;
mod security;
mod volumes;

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostics;
use crate::model::{Body, Spec};
use crate::pipeline::Options;
use crate::plan::Plan;
use crate::source::Span;

/// The environment a spec without `environment` blocks builds as.
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// The documented defaults (`docs/language.md`, "Defaults").
pub mod defaults {
    pub const REPLICAS: u32 = 2;
    pub const CPU_REQUEST: &str = "100m";
    pub const MEMORY_REQUEST: &str = "128Mi";
    pub const RUN_AS_ID: i64 = 10001;
    pub const PRE_STOP_SECONDS: u64 = 5;
    pub const GRACE_SECONDS: u64 = 30;
    pub const AUTOSCALE_CPU: u32 = 80;
}

/// The names of the environments a spec builds, in order.
pub fn environment_names(spec: &Spec) -> Vec<String> {
    if spec.environments.is_empty() {
        vec![DEFAULT_ENVIRONMENT.to_string()]
    } else {
        spec.environments.iter().map(|e| e.name.value.clone()).collect()
    }
}

pub fn check(spec: &Spec, opts: &Options, diags: &mut Diagnostics) -> Vec<Plan> {
    // A spec with decode errors is not checked: every value that failed to
    // decode is `None` here and would be reported again as missing.
    if diags.has_errors() {
        return Vec::new();
    }
    gitops::check_clusters(spec, diags);
    let mut plans = Vec::new();
    let selected = |name: &str| opts.environments.is_empty() || opts.environments.iter().any(|e| e == name);
    if spec.environments.is_empty() {
        if selected(DEFAULT_ENVIRONMENT) {
            plans.extend(resolve(spec, DEFAULT_ENVIRONMENT, &spec.body, opts, diags));
        }
    } else {
        for env in &spec.environments {
            if !selected(&env.name.value) {
                continue;
            }
            let body = merge::merge(spec, env, diags);
            plans.extend(resolve(spec, &env.name.value, &body, opts, diags));
        }
    }
    if diags.has_errors() { Vec::new() } else { plans }
}

/// What every block's resolver may read besides its own settings.
pub(super) struct Cx<'a> {
    /// The service's name.
    pub service: &'a str,
    /// The environment being resolved.
    pub env: &'a str,
    /// Whether the spec has `environment` blocks (without, `env` is
    /// [`DEFAULT_ENVIRONMENT`]).
    pub named_env: bool,
    /// The service's name token: the origin of every object, and the span
    /// of a value that took its default.
    pub origin: Span,
    pub opts: &'a Options,
}

/// Resolve one environment's merged body into a plan. A problem in the
/// service's own settings is found once per environment; exact duplicates
/// are dropped by `Diagnostics::into_sorted`. The blocks run in this order,
/// which is the order of their diagnostics at one position.
fn resolve(spec: &Spec, env: &str, b: &Body, opts: &Options, diags: &mut Diagnostics) -> Option<Plan> {
    let errors_before = diags.error_count();
    let cx =
        Cx { service: &spec.name.value, env, named_env: !spec.environments.is_empty(), origin: spec.name.span, opts };
    let image = image::resolve(&cx, b.image.as_ref(), diags);
    let ports = ports::resolve(&b.ports, diags);
    let scaling = scaling::resolve(&cx, &b.replicas, b.autoscale.as_ref(), diags);
    let resources = resources::resolve(&cx, &b.resources, diags);
    let probes = probes::resolve(&cx, &b.probes, &ports, diags);
    let written = metadata::Written {
        namespace: &b.namespace,
        labels: &b.labels,
        annotations: &b.annotations,
        pod_annotations: &b.pod_annotations,
    };
    let mut metadata = metadata::resolve(&cx, &written, image.version.as_deref(), diags);
    metadata.pod_annotations.extend(monitoring::scrape_annotations(b.metrics.as_ref(), &ports, diags));
    let volumes = volumes::resolve(&b.volumes, diags);
    let service_account = security::service_account(&cx, b.service_account.as_ref());
    let security = security::resolve(&b.security, diags);
    metadata.pod_annotations.extend(security::annotations(&security));
    let lifecycle = lifecycle::resolve(&cx, &b.rolling, &b.shutdown, diags);
    let disruption = scaling::disruption(b.disruption.as_ref(), &scaling, diags);

    // The metric names are checked once; alerts, SLOs and analyses share them.
    let vocab = monitoring::vocabulary(b, diags);
    let monitoring = monitoring::resolve(
        &monitoring::Context {
            service: cx.service,
            namespace: metadata.namespace.as_deref(),
            ports: &ports.list,
            limits: &resources.limits,
            vocab: vocab.as_ref(),
            rollout: rollout::declared(b),
        },
        b,
        diags,
    );
    let delivery = rollout::resolve(
        &rollout::Context {
            service: cx.service,
            namespace: metadata.namespace.as_deref(),
            has_ports: !ports.list.is_empty(),
            scraped: monitoring.as_ref().is_some_and(|m| m.scrape.is_some()),
            declares_metrics: b.metrics.is_some(),
            autoscale: scaling.autoscale.as_ref(),
            origin: cx.origin,
            vocab: vocab.as_ref(),
        },
        b,
        diags,
    );

    let gitops = gitops::resolve(&cx, b.gitops.as_ref(), metadata.namespace.as_deref(), diags);

    if diags.error_count() > errors_before {
        return None;
    }
    let (command, args) = command::resolve(&b.command, &b.args);
    Some(Plan {
        environment_block: spec.environments.iter().find(|e| e.name.value == env).map(|e| e.block),
        settings: settings_written(b),
        service: cx.service.to_string(),
        patches: b.patches.clone(),
        environment: env.to_string(),
        namespace: metadata.namespace,
        origin: cx.origin,
        image: image.reference,
        image_span: image.span,
        pull_policy: image.pull_policy,
        version: image.version,
        ports: ports.list,
        replicas: scaling.replicas,
        requests: resources.requests,
        limits: resources.limits,
        probes,
        env: env::resolve(&b.env),
        env_from: env::resolve_from(&b.env_from),
        command,
        args,
        labels: metadata.labels,
        selector: metadata.selector,
        annotations: metadata.annotations,
        pod_annotations: metadata.pod_annotations,
        volumes,
        service_account,
        security,
        autoscale: scaling.autoscale,
        max_surge: lifecycle.max_surge,
        max_unavailable: lifecycle.max_unavailable,
        pre_stop_seconds: lifecycle.pre_stop_seconds,
        grace_seconds: lifecycle.grace_seconds,
        disruption,
        node_selector: scheduling::node_selector(&b.node_selector),
        tolerations: scheduling::tolerations(&b.tolerations),
        monitoring,
        delivery,
        gitops,
    })
}

/// The spans of the settings a merged body writes, by documented name, for
/// provenance (`svcc explain KIND/NAME POINTER FILE`).
fn settings_written(b: &Body) -> BTreeMap<&'static str, Span> {
    crate::settings::written_in(b).collect()
}
