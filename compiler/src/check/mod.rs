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
//! | `jobs` | `job`, `cron-job` (their containers by the blocks above) |
//! | `config` | `config-map`, `external-secret` |
//! | `containers` | `container-name`, `container`, `init-container` (every container, by the blocks above) |
//! | `ports` | `port`, `expose` |
//! | `scaling` | `replicas`, `autoscale`, `disruption-budget` |
//! | `resources` | `resources` |
//! | `probes` | `probes` |
//! | `env` | `env`, `env-from` |
//! | `metadata` | `namespace`, `labels`, `annotations`, `pod-annotations`, `selector`, `object`, `names` |
//! | `volumes` | `volumes` |
//! | `security` | `security`, `service-account` |
//! | `lifecycle` | `rolling-update`, `shutdown` |
//! | `scheduling` | `node-selector`, `tolerations` |
//! | `monitoring` | `metrics`, `alerts`, `slo` |
//! | `rollout` | `blue-green`, `canary` |
//! | `gitops` | `gitops` (the engine; its objects span services: `crate::gitops`) |
//! | `network` | `network` |
//! | `route` | `route` (public exposure: Gateway routes, Ingress, Certificate) |
//! | `ci` | `pipeline` (once for all environments, called by `lib::compile_with`) |

pub mod ci;
mod command;
pub mod config;
mod containers;
mod env;
pub mod gitops;
mod image;
pub(crate) mod jobs;
mod lifecycle;
pub mod merge;
mod metadata;
mod monitoring;
pub(crate) mod network;
mod ports;
mod probes;
mod resources;
pub mod rollout;
pub mod route;
mod scaling;
mod scheduling;
mod security;
mod volumes;

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostics;
use crate::model::{Body, Job, Spec};
use crate::pipeline::Options;
use crate::plan::{Plan, PlanDelivery, Role};
use crate::promql;
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
    /// The container being resolved: `None` for the service's own.
    pub container: Option<&'a str>,
}

impl<'a> Cx<'a> {
    /// The context of the service's own settings in environment `env`.
    fn service(spec: &'a Spec, env: &'a str, opts: &'a Options) -> Self {
        Cx {
            service: &spec.name.value,
            env,
            named_env: !spec.environments.is_empty(),
            origin: spec.name.span,
            opts,
            container: None,
        }
    }
}

/// Resolve one environment's merged body into a plan. A problem in the
/// service's own settings is found once per environment; exact duplicates
/// are dropped by `Diagnostics::into_sorted`. The blocks run in this order,
/// which is the order of their diagnostics at one position.
fn resolve(spec: &Spec, env: &str, b: &Body, opts: &Options, diags: &mut Diagnostics) -> Option<Plan> {
    let errors_before = diags.error_count();
    let cx = Cx::service(spec, env, opts);
    let main = containers::resolve(&cx, Role::Main, cx.origin, b, diags);
    let mut others = containers::others(&cx, b, &main.plan, diags);
    // What a Service, `metrics` and `network` may name: the service's ports and its sidecars'.
    let ports = &main.ports.with_sidecars(&others);
    let mut scaling = scaling::resolve(&cx, &b.replicas, b.autoscale.as_ref(), diags);
    let mut metadata = metadata::resolve(&cx, &metadata::Written::of(b), main.version.as_deref(), diags);
    let names = metadata::names(cx.service, &b.names);
    let objects = metadata::objects(&b.objects, &b.exposes, diags);
    let services = ports::services(ports, &b.exposes, &names, cx.origin, diags);
    metadata.pod_annotations.extend(monitoring::scrape_annotations(b.metrics.as_ref(), ports, diags));
    let service_account = security::service_account(&cx, b.service_account.as_ref());
    let security = security::resolve(&b.security, diags);
    metadata.pod_annotations.extend(security::annotations(&security));
    let lifecycle = lifecycle::resolve(&cx, &b.rolling, &b.shutdown, diags);
    let disruption = scaling::disruption(b.disruption.as_ref(), &scaling, diags);
    let updates = lifecycle::updates(&b.updates, diags);

    // The metric names are checked once; alerts, SLOs and analyses share them.
    let vocab = monitoring::vocabulary(b, diags);
    let job = monitoring::job(b, &metadata.labels, objects.get("service"), &names, diags);
    let mut monitoring = monitoring::resolve(
        &monitoring::Context {
            service: cx.service,
            namespace: metadata.namespace.as_deref(),
            ports: &ports.list,
            sidecar_ports: &ports.sidecars,
            limits: &main.plan.limits,
            vocab: vocab.as_ref(),
            rollout: rollout::declared(b),
            names: &names,
            job: &job,
        },
        b,
        diags,
    );
    let analysis_job = |j: &Job, d: &mut Diagnostics| jobs::analysis(&cx, b, j, &main.plan, d);
    let mut delivery = rollout::resolve(
        &rollout::Context {
            service: cx.service,
            namespace: metadata.namespace.as_deref(),
            has_ports: services.first().is_some_and(|s| !s.extra),
            scraped: monitoring.as_ref().is_some_and(|m| m.scrape.is_some()),
            declares_metrics: b.metrics.is_some(),
            autoscale: scaling.autoscale.as_ref(),
            origin: cx.origin,
            vocab: vocab.as_ref(),
            names: &names,
            job: &analysis_job,
        },
        b,
        diags,
    );
    if let Some(m) = monitoring.as_mut() {
        ports::scrape_port(m, &services, diags);
    }
    monitoring::check_select(b.metrics.as_ref(), &metadata.labels, objects.get("service"), diags);
    ports::unique_names(&services, delivery.as_ref(), &names, diags);
    let mut network = network::resolve(b.network.as_ref(), metadata.namespace.as_deref(), ports, diags);

    let target = scrape_target(&cx, &names, &job, metadata.namespace.as_deref());
    scaling::keda(target, vocab.as_ref(), monitoring.as_ref(), b, &mut scaling.autoscale, diags);
    let gitops = gitops::resolve(&cx, b.gitops.as_ref(), metadata.namespace.as_deref(), diags);
    let mut jobs = jobs::resolve(&cx, b, &main.plan, gitops.as_ref(), diags);
    let (config_maps, config_names) = config::resolve(b, diags);
    let external_secrets = config::external_secrets(b, diags);
    let mut container = main.plan;
    let all_jobs = jobs.iter_mut().chain(delivery.iter_mut().flat_map(PlanDelivery::jobs_mut));
    let all_containers = std::iter::once(&mut container).chain(&mut others).chain(all_jobs.map(|j| &mut j.container));
    all_containers.for_each(|c| config::rewrite(c, &config_names));
    let route = route::resolve(cx.service, &ports.list, &services, &names, b, network.as_mut(), diags);

    if diags.error_count() > errors_before {
        return None;
    }
    Some(Plan {
        environment_block: spec.environments.iter().find(|e| e.name.value == env).map(|e| e.block),
        settings: settings_written(b),
        service: cx.service.to_string(),
        patches: b.patches.clone(),
        environment: env.to_string(),
        namespace: metadata.namespace,
        origin: cx.origin,
        version: main.version,
        container,
        containers: others,
        replicas: scaling.replicas,
        labels: metadata.labels,
        selector: metadata.selector,
        service_selector: metadata.service_selector,
        annotations: metadata.annotations,
        pod_annotations: metadata.pod_annotations,
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
        affinity: scheduling::affinity(&b.placement),
        priority_class: b.placement.priority_class.as_ref().map(|p| p.value.clone()),
        monitoring,
        delivery,
        updates,
        names,
        services,
        objects,
        gitops,
        jobs,
        config_maps,
        external_secrets,
        network,
        route,
    })
}

/// The labels the service's scraped series carry (`job` is the main
/// Service's name, or its `job-label`'s value), as the alerts and analyses
/// select them.
fn scrape_target(cx: &Cx<'_>, names: &crate::plan::PlanNames, job: &str, namespace: Option<&str>) -> promql::Target {
    promql::Target {
        job: job.to_string(),
        namespace: namespace.map(str::to_string),
        workload: names.workload.name.clone(),
        container: cx.service.to_string(),
    }
}

/// The spans of the settings a merged body writes, by documented name, for
/// provenance (`svcc explain KIND/NAME POINTER FILE`).
fn settings_written(b: &Body) -> BTreeMap<&'static str, Span> {
    crate::settings::written_in(b).collect()
}
