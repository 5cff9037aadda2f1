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
    let Resources { requests: b_requests, limits: b_limits, no_cpu_limit: b_no_cpu_limit } = base;
    let Resources { requests, limits, no_cpu_limit } = over;
    let mut limits = per_kind(c, limit, b_limits, limits);
    // The upper layer decides between a CPU limit and none.
    let no_cpu_limit = match (no_cpu_limit, over.limits.contains_key(&ResourceKind::Cpu)) {
        (Some(off), _) => {
            limits.shift_remove(&ResourceKind::Cpu);
            c.note(s::LIMITS_CPU.path.to_string(), off, None);
            Some(off.clone())
        }
        (None, true) => None,
        (None, false) => b_no_cpu_limit.clone(),
    };
    Resources { requests: per_kind(c, request, b_requests, requests), limits, no_cpu_limit }
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
        let unlimited = kind == ResourceKind::Cpu && r.no_cpu_limit.as_ref().is_some_and(|o| o.value);
        let lim = r.limits.get(&kind).cloned().filter(|_| !unlimited).or_else(|| {
            if unlimited {
                return None;
            }
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
    implausible(r, diags);
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

/// More cores than a node of any common cloud machine type has.
pub const MAX_PLAUSIBLE_CORES: i128 = 64;
/// Less memory than any process needs.
pub const MIN_PLAUSIBLE_MEMORY: i128 = 4 << 20;
/// A limit this many times the request, or more, is a mistake more often
/// than a plan.
pub const MAX_PLAUSIBLE_RATIO: i128 = 10;

/// SVC0409: written quantities that are valid but almost certainly not
/// meant: a CPU count written as millicores without the `m` (`cpu="500"`:
/// 500 cores), a memory size without its unit (`memory="512"`: 512 bytes),
/// and a limit over ten times the request.
fn implausible(r: &Resources, diags: &mut Diagnostics) {
    for (what, map) in [("request", &r.requests), ("limit", &r.limits)] {
        if let Some(q) = map.get(&ResourceKind::Cpu)
            && q.value.millis > MAX_PLAUSIBLE_CORES * 1000
        {
            let cores = format_quantity(q.value);
            let mut d = Diagnostic::warning(
                Code::ImplausibleResources,
                format!("a CPU {what} of {cores} cores is more than a node has"),
            )
            .at(q.span, format!("{cores} whole CPUs"));
            d = match q.value.millis % 1000 == 0 && q.value.millis <= MAX_PLAUSIBLE_CORES * 1_000_000 {
                true => {
                    let n = q.value.millis / 1000;
                    d.help(format!(
                        "CPU is counted in cores: write `\"{n}m\"` for {n} millicores ({} cores)",
                        n as f64 / 1000.0
                    ))
                }
                false => d.help("CPU is counted in cores (`\"2\"`) or thousandths of a core (`\"500m\"`)"),
            };
            diags.push(d.note(format!(
                "svcc warns above {MAX_PLAUSIBLE_CORES} cores: a pod that asks for more cannot be scheduled on common machine types"
            )));
        }
        if let Some(q) = map.get(&ResourceKind::Memory)
            && q.value.millis < MIN_PLAUSIBLE_MEMORY * 1000
        {
            let bytes = q.value.millis / 1000;
            let mut d = Diagnostic::warning(
                Code::ImplausibleResources,
                format!("a memory {what} of {bytes} bytes is too small for any process"),
            )
            .at(q.span, format!("{bytes} bytes"));
            d = if q.value.millis % 1000 == 0 && bytes > 0 && !q.value.binary {
                d.help(format!("memory is counted in bytes: write `\"{bytes}Mi\"` for {bytes} MiB"))
            } else {
                d.help("write memory with a unit: `\"256Mi\"`, `\"1Gi\"`")
            };
            diags.push(d.note("svcc warns below 4Mi: a container cannot start with less"));
        }
    }
    for kind in [ResourceKind::Cpu, ResourceKind::Memory] {
        if let (Some(rq), Some(l)) = (r.requests.get(&kind), r.limits.get(&kind))
            && rq.value.millis > 0
            && (kind == ResourceKind::Cpu || rq.value.millis >= MIN_PLAUSIBLE_MEMORY * 1000)
            && l.value.millis > MAX_PLAUSIBLE_RATIO * rq.value.millis
        {
            let times = l.value.millis / rq.value.millis;
            diags.push(
                Diagnostic::warning(
                    Code::ImplausibleResources,
                    format!(
                        "the {} limit ({}) is over {MAX_PLAUSIBLE_RATIO} times the request ({})",
                        kind.k8s_name(),
                        format_quantity(l.value),
                        format_quantity(rq.value)
                    ),
                )
                .at(l.span, format!("{times} times the request"))
                .also(rq.span, "request")
                .help("request what the container needs to run, and limit it near that")
                .note("the scheduler places pods by their requests: a node full of pods that use their limits is overcommitted, and under memory pressure the kubelet evicts pods that use more than they request first"),
            );
        }
    }
}
