//! `probes { liveness …; readiness …; startup … }`: per-kind defaults, the
//! port each probe checks, and svcc's TCP readiness probe when a service
//! that serves traffic declares none (SVC0401).

use super::Cx;
use super::merge::Merger;
use super::ports::Ports;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Probe, ProbeHandler, ProbeKind, ProbeSetting, Probes};
use crate::plan::{PlanProbe, PlanProbeHandler};
use crate::settings as s;
use crate::source::Spanned;

/// Item by item, by kind: the check and each property replace one by one;
/// `#false` turns a kind off. A new probe needs its check.
pub(super) fn merge(c: &mut Merger<'_>, base: &Probes, over: &Probes) -> Probes {
    let Probes { liveness: b_liveness, readiness: b_readiness, startup: b_startup } = base;
    let Probes { liveness, readiness, startup } = over;
    Probes {
        liveness: merge_kind(c, ProbeKind::Liveness, b_liveness, liveness),
        readiness: merge_kind(c, ProbeKind::Readiness, b_readiness, readiness),
        startup: merge_kind(c, ProbeKind::Startup, b_startup, startup),
    }
}

fn merge_kind(
    c: &mut Merger<'_>,
    kind: ProbeKind,
    base: &Option<ProbeSetting>,
    over: &Option<ProbeSetting>,
) -> Option<ProbeSetting> {
    let Some(o) = over else { return base.clone() };
    match (o, base) {
        (ProbeSetting::Off(s), _) => Some(ProbeSetting::Off(*s)),
        (ProbeSetting::On(p), Some(ProbeSetting::On(bp))) => Some(ProbeSetting::On(merge_probe(c, kind, bp, p))),
        (ProbeSetting::On(p), _) if p.handler.is_none() => {
            c.refines(
                &format!("the {} probe", kind.name()),
                p.node,
                "declare the probe in the service, or say what to probe here (e.g. `\"/healthz\"`)",
            );
            base.clone()
        }
        (ProbeSetting::On(p), _) => Some(ProbeSetting::On(p.clone())),
    }
}

fn merge_probe(c: &mut Merger<'_>, kind: ProbeKind, base: &Probe, over: &Probe) -> Probe {
    let k = kind.name();
    let Probe {
        node: _,
        handler: b_handler,
        port: b_port,
        scheme: b_scheme,
        grpc_service: b_grpc_service,
        initial_delay: b_initial_delay,
        period: b_period,
        timeout: b_timeout,
        failure_threshold: b_failure_threshold,
        success_threshold: b_success_threshold,
        headers: b_headers,
    } = base;
    let Probe {
        node,
        handler,
        port,
        scheme,
        grpc_service,
        initial_delay,
        period,
        timeout,
        failure_threshold,
        success_threshold,
        headers,
    } = over;
    Probe {
        node: *node,
        handler: c.pick_at(&s::PROBE_HANDLER, k, handler, b_handler),
        port: c.pick_at(&s::PROBE_PORT, k, port, b_port),
        scheme: c.pick_at(&s::PROBE_SCHEME, k, scheme, b_scheme),
        grpc_service: c.pick_at(&s::PROBE_SERVICE, k, grpc_service, b_grpc_service),
        initial_delay: c.pick_at(&s::PROBE_INITIAL_DELAY, k, initial_delay, b_initial_delay),
        period: c.pick_at(&s::PROBE_PERIOD, k, period, b_period),
        timeout: c.pick_at(&s::PROBE_TIMEOUT, k, timeout, b_timeout),
        failure_threshold: c.pick_at(&s::PROBE_FAILURE_THRESHOLD, k, failure_threshold, b_failure_threshold),
        success_threshold: c.pick_at(&s::PROBE_SUCCESS_THRESHOLD, k, success_threshold, b_success_threshold),
        headers: c.pick_at(&s::PROBE_HEADERS, k, headers, b_headers),
    }
}

pub(super) fn resolve(cx: &Cx<'_>, probes: &Probes, ports: &Ports<'_>, diags: &mut Diagnostics) -> Vec<PlanProbe> {
    let mut out = Vec::new();
    for kind in [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness] {
        if let Some(ProbeSetting::On(p)) = probes.get(kind) {
            out.extend(resolve_probe(kind, p, ports, diags));
        }
    }
    // Declared (even if it failed to resolve, which is reported already) or turned off.
    let readiness_declared = probes.readiness.is_some();
    // The service's container serves traffic through its Service; the
    // others are probed only as their spec says.
    if cx.container.is_none()
        && !ports.list.is_empty()
        && !out.iter().any(|p| p.kind == ProbeKind::Readiness)
        && !readiness_declared
    {
        diags.push(
            Diagnostic::warning(Code::NoReadiness, "no readiness probe: svcc probes the first port over TCP")
                .at(cx.origin, "serves traffic without a readiness check")
                .help("add `probes { readiness \"/ready\" }` with an endpoint that reports real readiness, or `readiness #false` to opt out")
                .note("without readiness, a rollout can send traffic to pods that are not ready"),
        );
        if let Some(first) = ports.list.first() {
            out.push(PlanProbe {
                kind: ProbeKind::Readiness,
                handler: PlanProbeHandler::Tcp { port: first.name.clone() },
                initial_delay: 0,
                period: 5,
                timeout: 3,
                failure_threshold: 3,
                success_threshold: 1,
                span: cx.origin,
            });
        }
    }
    out
}

fn resolve_probe(kind: ProbeKind, p: &Probe, ports: &Ports<'_>, diags: &mut Diagnostics) -> Option<PlanProbe> {
    let Some(handler) = &p.handler else {
        diags.push(
            Diagnostic::error(Code::MissingValue, format!("the {} probe says nothing to check", kind.name()))
                .at(p.node, "needs a path, `tcp`, `grpc` or `exec`")
                .help(format!("write `{} \"/healthz\"`", kind.name())),
        );
        return None;
    };
    let port = port_of(kind, p, handler, ports, diags);
    properties_apply(kind, p, handler, diags);
    let handler = match (&handler.value, port) {
        (ProbeHandler::Http { path, .. }, Some((name, _))) => PlanProbeHandler::Http {
            path: path.clone(),
            port: name,
            scheme: p.scheme.as_ref().map(|s| s.value.clone()),
            headers: p.headers.as_ref().map(|h| h.value.clone()).unwrap_or_default(),
        },
        (ProbeHandler::Tcp, Some((name, _))) => PlanProbeHandler::Tcp { port: name },
        (ProbeHandler::Grpc, Some((_, num))) => {
            PlanProbeHandler::Grpc { port: num, service: p.grpc_service.as_ref().map(|s| s.value.clone()) }
        }
        (ProbeHandler::Exec(cmd), _) => PlanProbeHandler::Exec(cmd.clone()),
        _ => return None,
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
            Diagnostic::error(Code::OutOfRange, format!("the {} probe's `success-threshold` must be 1", kind.name()))
                .at(s.span, "Kubernetes requires 1 here")
                .help("only readiness probes can require several successes"),
        );
    }
    Some(PlanProbe {
        kind,
        handler,
        initial_delay: p.initial_delay.as_ref().map_or(0, |d| d.value.seconds()),
        period: p.period.as_ref().map_or(period, |d| d.value.seconds()),
        timeout: p.timeout.as_ref().map_or(timeout, |d| d.value.seconds()),
        failure_threshold: p.failure_threshold.as_ref().map_or(failure, |f| f.value),
        success_threshold: success,
        span: p.node,
    })
}

/// The port (name, number) the probe checks: its `port=`, else the first
/// declared port; `None` for `exec`, and when it is reported.
fn port_of(
    kind: ProbeKind,
    p: &Probe,
    handler: &Spanned<ProbeHandler>,
    ports: &Ports<'_>,
    diags: &mut Diagnostics,
) -> Option<(String, u16)> {
    if matches!(handler.value, ProbeHandler::Exec(_)) {
        return None;
    }
    let name = match &p.port {
        Some(n) => n.clone(),
        // The first declared port (which `find` skips silently if it has no number).
        None => match ports.first_declared() {
            Some(x) => Spanned::new(x.name.value.clone(), handler.span),
            None => {
                diags.push(
                    Diagnostic::error(
                        Code::UnknownPort,
                        format!("the {} probe needs a port, and the service has none", kind.name()),
                    )
                    .at(handler.span, "probes a port")
                    .help("declare a port (`port http 8080`), or use `exec \"cmd\"` for a worker"),
                );
                return None;
            }
        },
    };
    ports.find(&name, &format!("the {} probe", kind.name()), diags).map(|num| (name.value, num))
}

/// `scheme=` and headers are for HTTP probes and `service=` for gRPC probes only.
fn properties_apply(kind: ProbeKind, p: &Probe, handler: &Spanned<ProbeHandler>, diags: &mut Diagnostics) {
    let is_http = matches!(handler.value, ProbeHandler::Http { .. });
    if let Some(h) = &p.headers
        && !is_http
    {
        diags.push(
            Diagnostic::error(Code::UnknownNode, "`header` applies to HTTP probes only")
                .at(h.span, format!("the {} probe does not send them", kind.name()))
                .also(handler.span, "the probe's check")
                .help("remove the headers, or probe an HTTP path such as \"/healthz\""),
        );
    }
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
}
