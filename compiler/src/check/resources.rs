//! `resources { requests …; limits … }`: the documented defaults,
//! normalised quantities, and limits never below requests.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::merge::Merger;
use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Quantity, ResourceKind, Resources};
use crate::settings::{self as s, Setting};
use crate::source::{Span, Spanned};
use crate::values::{format_quantity, parse_quantity};

/// Resource name → (normalised quantity, span; the service's span for a default).
pub(super) type Quantities = BTreeMap<&'static str, (String, Span)>;

pub(super) struct ResourcePlan {
    pub requests: Quantities,
    pub limits: Quantities,
}

fn request(kind: ResourceKind) -> &'static Setting {
    match kind {
        ResourceKind::Cpu => &s::REQUESTS_CPU,
        ResourceKind::Memory => &s::REQUESTS_MEMORY,
        ResourceKind::EphemeralStorage => &s::REQUESTS_EPHEMERAL_STORAGE,
    }
}

fn limit(kind: ResourceKind) -> &'static Setting {
    match kind {
        ResourceKind::Cpu => &s::LIMITS_CPU,
        ResourceKind::Memory => &s::LIMITS_MEMORY,
        ResourceKind::EphemeralStorage => &s::LIMITS_EPHEMERAL_STORAGE,
    }
}

/// Per resource: `requests cpu=` replaces only the CPU request.
pub(super) fn merge(c: &mut Merger<'_>, base: &Resources, over: &Resources) -> Resources {
    let Resources { requests: b_requests, limits: b_limits } = base;
    let Resources { requests, limits } = over;
    Resources { requests: per_kind(c, request, b_requests, requests), limits: per_kind(c, limit, b_limits, limits) }
}

type PerKind = IndexMap<ResourceKind, Spanned<Quantity>>;

fn per_kind(
    c: &mut Merger<'_>,
    setting: fn(ResourceKind) -> &'static Setting,
    base: &PerKind,
    over: &PerKind,
) -> PerKind {
    let mut out = base.clone();
    for (k, v) in over {
        c.note(setting(*k).path.to_string(), v, base.get(k));
        out.insert(*k, v.clone());
    }
    out
}

pub(super) fn resolve(cx: &Cx<'_>, r: &Resources, diags: &mut Diagnostics) -> ResourcePlan {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for (kind, default) in
        [(ResourceKind::Cpu, defaults::CPU_REQUEST), (ResourceKind::Memory, defaults::MEMORY_REQUEST)]
    {
        // Without a request, Kubernetes would take the limit as the request;
        // svcc takes its default, but never more than an explicit limit.
        let req = r.requests.get(&kind).cloned().or_else(|| {
            let d = parse_quantity(default).ok()?;
            let q = match r.limits.get(&kind) {
                Some(l) if l.value.millis < d.millis => l.value,
                _ => d,
            };
            Some(Spanned::new(q, cx.origin))
        });
        let lim = r.limits.get(&kind).cloned().or_else(|| {
            req.as_ref().map(|r| Spanned::new(Quantity { millis: r.value.millis * 2, binary: r.value.binary }, r.span))
        });
        if let (Some(rq), Some(l)) = (&req, &lim)
            && l.value.millis < rq.value.millis
            && r.limits.contains_key(&kind)
        {
            diags.push(
                Diagnostic::error(
                    Code::LimitsBelowRequests,
                    format!(
                        "the {} limit ({}) is below the request ({})",
                        kind.k8s_name(),
                        format_quantity(l.value),
                        format_quantity(rq.value)
                    ),
                )
                .at(l.span, "limit")
                .also(rq.span, "request")
                .help("a container can never get less than it requests; raise the limit or lower the request"),
            );
        }
        if let Some(rq) = req {
            requests.insert(kind.k8s_name(), (format_quantity(rq.value), rq.span));
        }
        if let Some(l) = lim {
            limits.insert(kind.k8s_name(), (format_quantity(l.value), l.span));
        }
    }
    let kind = ResourceKind::EphemeralStorage;
    if let Some(rq) = r.requests.get(&kind) {
        requests.insert(kind.k8s_name(), (format_quantity(rq.value), rq.span));
    }
    if let Some(l) = r.limits.get(&kind) {
        if let Some(rq) = r.requests.get(&kind)
            && l.value.millis < rq.value.millis
        {
            diags.push(
                Diagnostic::error(Code::LimitsBelowRequests, "the ephemeral-storage limit is below the request")
                    .at(l.span, "limit")
                    .also(rq.span, "request"),
            );
        }
        limits.insert(kind.k8s_name(), (format_quantity(l.value), l.span));
    }
    ResourcePlan { requests, limits }
}
