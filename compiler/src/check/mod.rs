//! Stage 3: `model::Spec` → one [`Plan`] per environment, with every
//! semantic check. All problems are collected; plans are returned only
//! when there are no errors.

pub mod ci;
pub mod merge;
mod monitoring;
pub mod rollout;
mod security;

use std::collections::BTreeMap;

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::plan::*;
use crate::source::{Span, Spanned};
use crate::values::{format_quantity, parse_quantity};

use crate::pipeline::Options;

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

pub const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
];

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

/// Resolve one environment's merged body into a plan. A problem in the
/// service's own settings is found once per environment; exact duplicates
/// are dropped by `Diagnostics::into_sorted`.
fn resolve(spec: &Spec, env_name: &str, b: &Body, opts: &Options, diags: &mut Diagnostics) -> Option<Plan> {
    let errors_before = diags.error_count();
    let env = env_name;
    let service = spec.name.value.clone();
    let sspan = spec.name.span;
    let named_env = !spec.environments.is_empty();

    // Image.
    let (image, image_span, version, pull_policy) = match &b.image {
        Some(Image { repository: Some(repo), tag, digest, pull_policy, node }) => {
            let tag: Option<Spanned<String>> = match &opts.image_tag {
                Some(t) => Some(Spanned::new(t.clone(), repo.span)),
                None => tag.clone(),
            };
            if let Some(t) = &tag {
                if t.value == "latest" {
                    diags.push(
                        Diagnostic::error(Code::ImageTag, "the image tag `latest` is not allowed")
                            .at(t.span, "`latest` moves under you")
                            .help("pin a version or a commit (`--image-tag 1.4.2` or `--image-tag $GIT_SHA`)")
                            .note("with `latest`, two nodes can run different code and a rollback does not roll back"),
                    );
                }
            } else if digest.is_none() && opts.require_tag {
                let envs = if named_env { format!(" for environment `{env}`") } else { String::new() };
                diags.push(
                    Diagnostic::error(Code::ImageTag, format!("no image tag{envs}"))
                        .at(repo.span, "this image has no tag")
                        .help("pass `--image-tag TAG` (e.g. the commit SHA), or pin one in the spec: `image \"…\" tag=\"1.4.2\"`")
                        .note("svcc never falls back to `latest`"),
                );
            }
            let mut reference = repo.value.clone();
            let version = tag.as_ref().map(|t| t.value.clone());
            match (&tag, digest) {
                (Some(t), _) => {
                    reference.push(':');
                    reference.push_str(&t.value);
                }
                (None, None) => reference.push_str(":unset"),
                _ => {}
            }
            if let Some(d) = digest {
                reference.push('@');
                reference.push_str(&d.value);
            }
            let pp = pull_policy.as_ref().map_or("IfNotPresent".to_string(), |p| p.value.clone());
            let _ = node;
            (reference, repo.span, version, pp)
        }
        other => {
            let at = other.as_ref().map_or(sspan, |i| i.node);
            diags.push(
                Diagnostic::error(Code::MissingValue, "the service has no image")
                    .at(at, "needs an image")
                    .help("add `image \"ghcr.io/acme/my-app\"` to the service"),
            );
            (String::new(), sspan, None, String::new())
        }
    };

    // Ports.
    let mut ports = Vec::new();
    let mut by_number: BTreeMap<(u16, String), Span> = BTreeMap::new();
    let mut by_service_port: BTreeMap<(u16, String), Span> = BTreeMap::new();
    for p in b.ports.values() {
        let Some(number) = &p.number else {
            diags.push(
                Diagnostic::error(Code::MissingValue, format!("port `{}` has no number", p.name.value))
                    .at(p.name.span, "needs a port number")
                    .help(format!("write `port {} 8080`", p.name.value)),
            );
            continue;
        };
        let protocol = p.protocol.as_ref().map_or("TCP".to_string(), |x| x.value.clone());
        let number_taken = by_number.contains_key(&(number.value, protocol.clone()));
        if let Some(first) = by_number.get(&(number.value, protocol.clone())) {
            diags.push(
                Diagnostic::error(Code::DuplicatePort, format!("port number {} is used twice", number.value))
                    .at(number.span, "used again here")
                    .also(*first, "first used here")
                    .help("each container port needs its own number"),
            );
        } else {
            by_number.insert((number.value, protocol.clone()), number.span);
        }
        let service_port = p.service_port.as_ref().unwrap_or(number);
        if let Some(first) = by_service_port.get(&(service_port.value, protocol.clone())) {
            // With the default service port, a repeated number is already reported.
            if *first != number.span && !(number_taken && p.service_port.is_none()) {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicatePort,
                        format!("service port {} is used twice", service_port.value),
                    )
                    .at(service_port.span, "used again here")
                    .also(*first, "first used here")
                    .help("give one of them a different `service-port=`"),
                );
            }
        } else {
            by_service_port.insert((service_port.value, protocol.clone()), service_port.span);
        }
        ports.push(PlanPort {
            name: p.name.value.clone(),
            number: number.value,
            service_port: service_port.value,
            protocol,
            span: number.span,
        });
    }
    let port_names: Vec<&str> = b.ports.keys().map(String::as_str).collect();
    let find_port = |name: &Spanned<String>, diags: &mut Diagnostics, what: &str| -> Option<u16> {
        if let Some(p) = ports.iter().find(|p| p.name == name.value) {
            return Some(p.number);
        }
        if b.ports.contains_key(&name.value) {
            // Declared, but without a number: reported above.
            return None;
        }
        let mut d =
            Diagnostic::error(Code::UnknownPort, format!("{what} uses port `{}`, which is not declared", name.value))
                .at(name.span, "no port has this name");
        d = match did_you_mean(&name.value, &port_names) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if port_names.is_empty() => d.help(format!("declare it: `port {} 8080`", name.value)),
            None => d.help(format!("declared ports: {}", port_names.join(", "))),
        };
        diags.push(d);
        None
    };

    // Replicas and autoscaling.
    let autoscale = b.autoscale.as_ref().filter(|a| a.enabled.as_ref().is_none_or(|e| e.value));
    let mut plan_autoscale = None;
    if let Some(a) = autoscale {
        match (&a.min, &a.max) {
            (Some(min), Some(max)) => {
                if min.value > max.value {
                    diags.push(
                        Diagnostic::error(
                            Code::AutoscaleBounds,
                            format!("autoscale `min` ({}) is above `max` ({})", min.value, max.value),
                        )
                        .at(min.span, "min")
                        .also(max.span, "max")
                        .help("swap them, or raise `max`"),
                    );
                } else if min.value == 0 {
                    diags.push(
                        Diagnostic::error(Code::AutoscaleBounds, "autoscale `min` must be at least 1")
                            .at(min.span, "zero")
                            .help("an HPA cannot scale to zero; use `autoscale #false` and `replicas 0` to stop the service"),
                    );
                }
                if let Some(r) = &b.replicas {
                    diags.push(
                        Diagnostic::warning(
                            Code::ReplicasIgnored,
                            "`replicas` is ignored because `autoscale` owns the replica count",
                        )
                        .at(r.span, "ignored")
                        .also(a.node, "the autoscaler sets replicas between min and max")
                        .help("remove `replicas`, or turn autoscaling off in this environment with `autoscale #false`"),
                    );
                }
                let mut pods: Vec<(String, String)> =
                    a.pods.values().map(|p| (p.metric.value.clone(), format_quantity(p.target.value))).collect();
                pods.sort();
                let cpu = a.cpu.as_ref().map(|v| v.value);
                let memory = a.memory.as_ref().map(|v| v.value);
                let cpu = if cpu.is_none() && memory.is_none() && pods.is_empty() {
                    Some(defaults::AUTOSCALE_CPU)
                } else {
                    cpu
                };
                plan_autoscale = Some(PlanAutoscale {
                    min: min.value,
                    max: max.value,
                    span: a.node,
                    cpu,
                    memory,
                    pods,
                    scale_up: behavior(a.scale_up.as_ref(), true),
                    scale_down: behavior(a.scale_down.as_ref(), false),
                });
            }
            (min, max) => {
                let what = if min.is_none() && max.is_none() {
                    "`min` and `max`"
                } else if min.is_none() {
                    "`min`"
                } else {
                    "`max`"
                };
                diags.push(
                    Diagnostic::error(Code::MissingValue, format!("autoscale needs {what}"))
                        .at(a.node, format!("missing {what}"))
                        .help("write `autoscale min=2 max=10 { cpu 70 }`"),
                );
            }
        }
    }
    let replicas = if plan_autoscale.is_some() {
        None
    } else {
        Some(b.replicas.as_ref().map_or((defaults::REPLICAS, sspan), |r| (r.value, r.span)))
    };

    // Resources: defaults, normalisation, limits ≥ requests.
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for (kind, default) in
        [(ResourceKind::Cpu, defaults::CPU_REQUEST), (ResourceKind::Memory, defaults::MEMORY_REQUEST)]
    {
        // Without a request, Kubernetes would take the limit as the request;
        // svcc takes its default, but never more than an explicit limit.
        let req = b.resources.requests.get(&kind).cloned().or_else(|| {
            let d = parse_quantity(default).ok()?;
            let q = match b.resources.limits.get(&kind) {
                Some(l) if l.value.millis < d.millis => l.value,
                _ => d,
            };
            Some(Spanned::new(q, sspan))
        });
        let lim = b.resources.limits.get(&kind).cloned().or_else(|| {
            req.as_ref().map(|r| Spanned::new(Quantity { millis: r.value.millis * 2, binary: r.value.binary }, r.span))
        });
        if let (Some(r), Some(l)) = (&req, &lim)
            && l.value.millis < r.value.millis
            && b.resources.limits.contains_key(&kind)
        {
            diags.push(
                Diagnostic::error(
                    Code::LimitsBelowRequests,
                    format!(
                        "the {} limit ({}) is below the request ({})",
                        kind.k8s_name(),
                        format_quantity(l.value),
                        format_quantity(r.value)
                    ),
                )
                .at(l.span, "limit")
                .also(r.span, "request")
                .help("a container can never get less than it requests; raise the limit or lower the request"),
            );
        }
        if let Some(r) = req {
            requests.insert(kind.k8s_name(), (format_quantity(r.value), r.span));
        }
        if let Some(l) = lim {
            limits.insert(kind.k8s_name(), (format_quantity(l.value), l.span));
        }
    }
    let kind = ResourceKind::EphemeralStorage;
    if let Some(r) = b.resources.requests.get(&kind) {
        requests.insert(kind.k8s_name(), (format_quantity(r.value), r.span));
    }
    if let Some(l) = b.resources.limits.get(&kind) {
        if let Some(r) = b.resources.requests.get(&kind)
            && l.value.millis < r.value.millis
        {
            diags.push(
                Diagnostic::error(Code::LimitsBelowRequests, "the ephemeral-storage limit is below the request")
                    .at(l.span, "limit")
                    .also(r.span, "request"),
            );
        }
        limits.insert(kind.k8s_name(), (format_quantity(l.value), l.span));
    }

    // Probes.
    let mut probes = Vec::new();
    for kind in [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness] {
        let Some(ProbeSetting::On(p)) = b.probes.get(kind) else {
            continue;
        };
        let Some(handler) = &p.handler else {
            diags.push(
                Diagnostic::error(Code::MissingValue, format!("the {} probe says nothing to check", kind.name()))
                    .at(p.node, "needs a path, `tcp`, `grpc` or `exec`")
                    .help(format!("write `{} \"/healthz\"`", kind.name())),
            );
            continue;
        };
        let port_name = match &p.port {
            Some(n) => Some(n.clone()),
            // The first declared port (which `find_port` skips silently if
            // it has no number).
            None => b.ports.values().next().map(|x| Spanned::new(x.name.value.clone(), handler.span)),
        };
        let needs_port = !matches!(handler.value, ProbeHandler::Exec(_));
        let port = if needs_port {
            match &port_name {
                Some(n) => find_port(n, diags, &format!("the {} probe", kind.name())).map(|num| (n.value.clone(), num)),
                None => {
                    diags.push(
                        Diagnostic::error(
                            Code::UnknownPort,
                            format!("the {} probe needs a port, and the service has none", kind.name()),
                        )
                        .at(handler.span, "probes a port")
                        .help("declare a port (`port http 8080`), or use `exec \"cmd\"` for a worker"),
                    );
                    None
                }
            }
        } else {
            None
        };
        let is_http = matches!(handler.value, ProbeHandler::Http { .. });
        let is_grpc = matches!(handler.value, ProbeHandler::Grpc);
        for (set, applies, what, fix) in [
            (
                &p.scheme,
                is_http,
                "`scheme` applies to HTTP probes only",
                "remove it, or probe an HTTP path such as \"/healthz\"",
            ),
            (
                &p.grpc_service,
                is_grpc,
                "`service` applies to gRPC probes only",
                "remove it, or make this a gRPC probe: `grpc service=\"…\"`",
            ),
        ] {
            if let Some(v) = set
                && !applies
            {
                diags.push(
                    Diagnostic::error(Code::UnknownProperty, what)
                        .at(v.span, format!("the {} probe does not use it", kind.name()))
                        .also(handler.span, "the probe's check")
                        .help(fix),
                );
            }
        }
        let handler = match (&handler.value, port) {
            (ProbeHandler::Http { path, .. }, Some((name, _))) => PlanProbeHandler::Http {
                path: path.clone(),
                port: name,
                scheme: p.scheme.as_ref().map(|s| s.value.clone()),
            },
            (ProbeHandler::Tcp, Some((name, _))) => PlanProbeHandler::Tcp { port: name },
            (ProbeHandler::Grpc, Some((_, num))) => {
                PlanProbeHandler::Grpc { port: num, service: p.grpc_service.as_ref().map(|s| s.value.clone()) }
            }
            (ProbeHandler::Exec(cmd), _) => PlanProbeHandler::Exec(cmd.clone()),
            _ => continue,
        };
        let (period, timeout, failure) = match kind {
            ProbeKind::Liveness => (10, 5, 3),
            ProbeKind::Readiness => (5, 3, 3),
            ProbeKind::Startup => (10, 5, 30),
        };
        let success = p.success_threshold.as_ref().map_or(1, |s| s.value);
        if success != 1
            && kind != ProbeKind::Readiness
            && let Some(s) = &p.success_threshold
        {
            diags.push(
                Diagnostic::error(
                    Code::OutOfRange,
                    format!("the {} probe's `success-threshold` must be 1", kind.name()),
                )
                .at(s.span, "Kubernetes requires 1 here")
                .help("only readiness probes can require several successes"),
            );
        }
        let period_s = p.period.as_ref().map_or(period, |d| d.value.seconds());
        let timeout_s = p.timeout.as_ref().map_or(timeout, |d| d.value.seconds());
        probes.push(PlanProbe {
            kind,
            handler,
            initial_delay: p.initial_delay.as_ref().map_or(0, |d| d.value.seconds()),
            period: period_s,
            timeout: timeout_s,
            failure_threshold: p.failure_threshold.as_ref().map_or(failure, |f| f.value),
            success_threshold: success,
            span: p.node,
        });
    }
    // Declared (even if it failed to resolve, which is reported already) or turned off.
    let readiness_declared = b.probes.readiness.is_some();
    if !ports.is_empty() && !probes.iter().any(|p| p.kind == ProbeKind::Readiness) && !readiness_declared {
        diags.push(
            Diagnostic::warning(Code::NoReadiness, "no readiness probe: svcc probes the first port over TCP")
                .at(sspan, "serves traffic without a readiness check")
                .help("add `probes { readiness \"/ready\" }` with an endpoint that reports real readiness, or `readiness #false` to opt out")
                .note("without readiness, a rollout can send traffic to pods that are not ready"),
        );
        if let Some(first) = ports.first() {
            probes.push(PlanProbe {
                kind: ProbeKind::Readiness,
                handler: PlanProbeHandler::Tcp { port: first.name.clone() },
                initial_delay: 0,
                period: 5,
                timeout: 3,
                failure_threshold: 3,
                success_threshold: 1,
                span: sspan,
            });
        }
    }

    // Environment variables.
    let env_vars: Vec<PlanEnv> = b
        .env
        .values()
        .map(|v| PlanEnv {
            name: v.name.value.clone(),
            span: v.name.span,
            value: match &v.value {
                EnvValue::Literal(s) => PlanEnvValue::Literal(s.value.clone()),
                EnvValue::Secret { name, key, optional } => {
                    PlanEnvValue::Secret { name: name.value.clone(), key: key.value.clone(), optional: *optional }
                }
                EnvValue::ConfigMap { name, key, optional } => {
                    PlanEnvValue::ConfigMap { name: name.value.clone(), key: key.value.clone(), optional: *optional }
                }
                EnvValue::Field(f) => PlanEnvValue::Field(f.value.clone()),
            },
        })
        .collect();
    let env_from = b
        .env_from
        .values()
        .map(|f| PlanEnvFrom {
            secret: f.kind == EnvFromKind::Secret,
            name: f.name.value.clone(),
            prefix: f.prefix.as_ref().map(|p| p.value.clone()),
            optional: f.optional,
        })
        .collect();

    // Labels.
    let mut labels = BTreeMap::new();
    for (k, v) in &b.labels {
        if RESERVED_LABELS.contains(&k.as_str()) {
            diags.push(
                Diagnostic::error(Code::ReservedLabel, format!("label `{k}` is set by svcc"))
                    .at(v.span, "derived from the service")
                    .help("remove it; svcc derives the standard `app.kubernetes.io/*` labels so selectors stay consistent"),
            );
            continue;
        }
        labels.insert(k.clone(), v.value.clone());
    }
    let mut selector = BTreeMap::new();
    selector.insert("app.kubernetes.io/name".to_string(), service.clone());
    selector.insert("app.kubernetes.io/instance".to_string(), service.clone());
    labels.extend(selector.clone());
    labels.insert("app.kubernetes.io/managed-by".to_string(), "svcc".to_string());
    if let Some(v) = &version
        && crate::values::check_label_value(v).is_ok()
    {
        labels.insert("app.kubernetes.io/version".to_string(), v.clone());
    }
    let annotations: BTreeMap<String, String> =
        b.annotations.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    let mut pod_annotations: BTreeMap<String, String> =
        b.pod_annotations.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    if let Some(m) = &b.metrics {
        let port = match &m.port {
            Some(n) => find_port(n, diags, "`metrics`"),
            None => ports.first().map(|p| p.number),
        };
        match port {
            Some(num) => {
                pod_annotations.insert("prometheus.io/scrape".into(), "true".into());
                pod_annotations.insert("prometheus.io/port".into(), num.to_string());
                pod_annotations.insert(
                    "prometheus.io/path".into(),
                    m.path.as_ref().map_or("/metrics".to_string(), |p| p.value.clone()),
                );
            }
            None if m.port.is_none() && b.ports.is_empty() => diags.push(
                Diagnostic::error(Code::UnknownPort, "`metrics` needs a port, and the service has none")
                    .at(m.node, "scrapes a port")
                    .help("declare a port (`port metrics 9090`) and name it: `metrics port=metrics`"),
            ),
            None => {}
        }
    }

    // Volumes.
    let mut volumes = Vec::new();
    let mut by_path: BTreeMap<String, Span> = BTreeMap::new();
    for v in b.volumes.values() {
        let Some(path) = &v.path else {
            diags.push(
                Diagnostic::error(Code::MissingValue, format!("volume `{}` has no mount path", v.name.value))
                    .at(v.name.span, "needs a path")
                    .help(format!("write `{} \"/tmp\"`", v.name.value)),
            );
            continue;
        };
        let norm = path.value.trim_end_matches('/').to_string();
        if norm.is_empty() {
            diags.push(
                Diagnostic::error(Code::MountConflict, "a volume cannot be mounted at `/`")
                    .at(path.span, "the root filesystem")
                    .help("mount writable folders where the app writes, e.g. \"/tmp\""),
            );
            continue;
        }
        if let Some(first) = by_path.get(&norm) {
            diags.push(
                Diagnostic::error(Code::MountConflict, format!("two volumes are mounted at `{}`", path.value))
                    .at(path.span, "mounted again here")
                    .also(*first, "first mounted here")
                    .help("give each volume its own path"),
            );
            continue;
        }
        by_path.insert(norm, path.span);
        volumes.push(PlanVolume {
            name: v.name.value.clone(),
            path: path.value.clone(),
            source: v.source.clone().unwrap_or(VolumeSource::Scratch),
            size_limit: v.size_limit.as_ref().map(|q| format_quantity(q.value)),
            memory: v.memory.as_ref().is_some_and(|m| m.value),
        });
    }

    // Service account.
    let sa = b.service_account.as_ref();
    let service_account = PlanServiceAccount {
        name: sa.and_then(|s| s.name.as_ref()).map_or(service.clone(), |n| n.value.clone()),
        create: sa.and_then(|s| s.create.as_ref()).is_none_or(|c| c.value),
        automount: sa.and_then(|s| s.automount.as_ref()).is_some_and(|c| c.value),
        annotations: sa
            .map(|s| s.annotations.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect())
            .unwrap_or_default(),
    };

    let security = security::resolve(&b.security, diags);
    pod_annotations.extend(security::annotations(&security));

    // Rollout and shutdown.
    let max_surge = b.rolling.max_surge.as_ref().map_or(IntOrPercent::Percent(25), |v| v.value);
    let max_unavailable = b.rolling.max_unavailable.as_ref().map_or(IntOrPercent::Int(0), |v| v.value);
    if max_surge.is_zero() && max_unavailable.is_zero() {
        let at = b.rolling.max_surge.as_ref().or(b.rolling.max_unavailable.as_ref()).map_or(sspan, |v| v.span);
        let mut d = Diagnostic::error(
            Code::RolloutStalls,
            "a rolling update with `max-surge` 0 and `max-unavailable` 0 can never progress",
        )
        .at(at, "both are zero")
        .help("keep `max-unavailable=0` for zero downtime and allow a surge: `max-surge=1`");
        if let (Some(sg), Some(u)) = (&b.rolling.max_surge, &b.rolling.max_unavailable) {
            d = d.at(sg.span, "no new pod may be added").also(u.span, "and no old pod may be removed");
        }
        diags.push(d);
    }
    let pre_stop = b.shutdown.pre_stop.as_ref().map_or(defaults::PRE_STOP_SECONDS, |d| d.value.seconds());
    let grace = b.shutdown.grace.as_ref().map_or(defaults::GRACE_SECONDS, |d| d.value.seconds());
    // A pre-stop of 0 s means no hook at all, which any grace period allows.
    if pre_stop > 0 && pre_stop >= grace {
        let at = b.shutdown.pre_stop.as_ref().or(b.shutdown.grace.as_ref()).map_or(sspan, |d| d.span);
        let mut d = Diagnostic::error(
            Code::ShutdownTiming,
            format!("the pre-stop pause ({pre_stop}s) must be shorter than the grace period ({grace}s)"),
        )
        .at(at, "leaves no time to shut down");
        if let (Some(p), Some(g)) = (&b.shutdown.pre_stop, &b.shutdown.grace) {
            if p.span != at {
                d = d.also(p.span, "pre-stop");
            }
            if g.span != at {
                d = d.also(g.span, "grace period");
            }
        }
        diags.push(
            d.help(format!("raise `grace` to at least \"{}s\" so the app can drain after the pause", pre_stop + 10)),
        );
    }

    // Disruption budget, when more than one replica can run.
    let max_replicas = plan_autoscale.as_ref().map_or(replicas.map_or(0, |r| r.0), |a| a.max);
    let min_replicas = plan_autoscale.as_ref().map_or(replicas.map_or(0, |r| r.0), |a| a.min);
    let disruption = if max_replicas > 1 {
        let bound = match &b.disruption {
            Some(Disruption { min_available: Some(m), .. }) => {
                let blocks = match m.value {
                    IntOrPercent::Int(n) => n >= min_replicas,
                    // Kubernetes rounds a percentage of pods up.
                    IntOrPercent::Percent(p) => {
                        (u64::from(p) * u64::from(min_replicas)).div_ceil(100) >= u64::from(min_replicas)
                    }
                };
                if blocks {
                    diags.push(
                        Diagnostic::error(Code::DisruptionBlocked, "this disruption budget never allows an eviction")
                            .at(m.span, format!("with {min_replicas} replica(s), no pod may ever be evicted"))
                            .help("node drains and cluster upgrades would hang; prefer `max-unavailable=1`"),
                    );
                }
                IntOrPercentBound::MinAvailable(m.value)
            }
            Some(Disruption { max_unavailable: Some(m), .. }) => {
                if m.value.is_zero() {
                    diags.push(
                        Diagnostic::error(Code::DisruptionBlocked, "`max-unavailable` 0 never allows an eviction")
                            .at(m.span, "zero")
                            .help("node drains and cluster upgrades would hang; use `max-unavailable=1`"),
                    );
                }
                IntOrPercentBound::MaxUnavailable(m.value)
            }
            _ => IntOrPercentBound::MaxUnavailable(IntOrPercent::Int(1)),
        };
        Some(bound)
    } else {
        None
    };

    let namespace = match &b.namespace {
        Some(n) => Some(n.value.clone()),
        None if named_env => Some(env.to_string()),
        None => None,
    };

    // The metric names are checked once; alerts, SLOs and analyses share them.
    let vocab = monitoring::vocabulary(b, diags);
    let monitoring = monitoring::resolve(
        &monitoring::Context {
            service: &service,
            namespace: namespace.as_deref(),
            ports: &ports,
            limits: &limits,
            vocab: vocab.as_ref(),
        },
        b,
        diags,
    );

    let delivery = rollout::resolve(
        &rollout::Context {
            service: &service,
            namespace: namespace.as_deref(),
            has_ports: !ports.is_empty(),
            scraped: monitoring.as_ref().is_some_and(|m| m.scrape.is_some()),
            declares_metrics: b.metrics.is_some(),
            autoscale: plan_autoscale.as_ref(),
            origin: sspan,
            vocab: vocab.as_ref(),
        },
        b,
        diags,
    );

    if diags.error_count() > errors_before {
        return None;
    }
    let settings = settings_written(b);
    let environment_block = spec.environments.iter().find(|e| e.name.value == env).map(|e| e.block);
    Some(Plan {
        environment_block,
        settings,
        service,
        patches: b.patches.clone(),
        environment: env.to_string(),
        namespace,
        origin: sspan,
        image,
        image_span,
        pull_policy,
        version,
        ports,
        replicas,
        requests,
        limits,
        probes,
        env: env_vars,
        env_from,
        command: b.command.as_ref().map(|c| c.value.clone()),
        args: b.args.as_ref().map(|c| c.value.clone()),
        labels,
        selector,
        annotations,
        pod_annotations,
        volumes,
        service_account,
        security,
        autoscale: plan_autoscale,
        max_surge,
        max_unavailable,
        pre_stop_seconds: pre_stop,
        grace_seconds: grace,
        disruption,
        node_selector: b.node_selector.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        tolerations: b
            .tolerations
            .values()
            .map(|t| PlanToleration {
                key: t.key.value.clone(),
                operator: t.operator.as_ref().map(|v| v.value.clone()),
                value: t.value.as_ref().map(|v| v.value.clone()),
                effect: t.effect.as_ref().map(|v| v.value.clone()),
                seconds: t.seconds.as_ref().map(|v| v.value),
            })
            .collect(),
        monitoring,
        delivery,
    })
}

/// The spans of the settings a merged body writes, by documented name, for
/// provenance (`svcc explain KIND/NAME POINTER FILE`): every registry setting
/// with a [`Setting::written`](crate::settings::Setting::written) place.
fn settings_written(b: &Body) -> BTreeMap<&'static str, Span> {
    crate::settings::ALL.iter().filter_map(|s| Some((s.path, s.written?(b)?))).collect()
}

/// The documented default behaviour is the seed's: scale up fast (the larger
/// of +50% or +2 pods a minute, after 60 s), scale down slowly (-10% a
/// minute, after 5 minutes of lower load).
fn behavior(b: Option<&Behavior>, up: bool) -> PlanBehavior {
    let (stab, default_policies, default_select): (u64, Vec<PlanPolicy>, Option<&str>) =
        if up { (60, vec![(true, 50, 60), (false, 2, 60)], Some("Max")) } else { (300, vec![(true, 10, 60)], None) };
    match b {
        None => PlanBehavior {
            stabilization: Duration { millis: stab * 1000 },
            select: default_select.map(str::to_string),
            policies: default_policies,
        },
        Some(b) => PlanBehavior {
            stabilization: b.stabilization.as_ref().map_or(Duration { millis: stab * 1000 }, |s| s.value),
            select: match b.select.as_ref().map(|s| s.value.as_str()) {
                Some("max") => Some("Max".to_string()),
                Some("min") => Some("Min".to_string()),
                Some(_) => Some("Disabled".to_string()),
                None => default_select.map(str::to_string),
            },
            policies: if b.policies.is_empty() {
                default_policies
            } else {
                b.policies.iter().map(|p| (p.percent, p.value.value, p.period.value.seconds())).collect()
            },
        },
    }
}
