//! `resources { requests …; limits … }`: the documented defaults,
//! normalised quantities, and limits never below requests.

use std::collections::BTreeMap;

use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Quantity, ResourceKind, Resources};
use crate::source::{Span, Spanned};
use crate::values::{format_quantity, parse_quantity};

/// Resource name → (normalised quantity, span; the service's span for a default).
pub(super) type Quantities = BTreeMap<&'static str, (String, Span)>;

pub(super) struct ResourcePlan {
    pub requests: Quantities,
    pub limits: Quantities,
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
