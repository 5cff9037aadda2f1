//! `rolling-update` and `shutdown`: how a rolling update replaces pods and
//! how a pod stops (pre-stop pause, grace period), with the checks that
//! keep both zero-downtime.

use super::merge::Merger;
use super::{Cx, defaults};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{IntOrPercent, Rolling, Shutdown, Updates};
use crate::plan::PlanUpdates;
use crate::settings as s;
use crate::values::format_duration;

pub(super) struct Lifecycle {
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
    pub pre_stop_seconds: u64,
    pub grace_seconds: u64,
}

/// Each property replaces.
pub(super) fn merge_rolling(c: &mut Merger<'_>, base: &Rolling, over: &Rolling) -> Rolling {
    let Rolling { max_surge: b_max_surge, max_unavailable: b_max_unavailable } = base;
    let Rolling { max_surge, max_unavailable } = over;
    Rolling {
        max_surge: c.pick(&s::MAX_SURGE, max_surge, b_max_surge),
        max_unavailable: c.pick(&s::MAX_UNAVAILABLE, max_unavailable, b_max_unavailable),
    }
}

/// Each property replaces.
pub(super) fn merge_shutdown(c: &mut Merger<'_>, base: &Shutdown, over: &Shutdown) -> Shutdown {
    let Shutdown { pre_stop: b_pre_stop, grace: b_grace } = base;
    let Shutdown { pre_stop, grace } = over;
    Shutdown { pre_stop: c.pick(&s::PRE_STOP, pre_stop, b_pre_stop), grace: c.pick(&s::GRACE, grace, b_grace) }
}

pub(super) fn resolve(cx: &Cx<'_>, rolling: &Rolling, shutdown: &Shutdown, diags: &mut Diagnostics) -> Lifecycle {
    let max_surge = rolling.max_surge.as_ref().map_or(IntOrPercent::Percent(25), |v| v.value);
    let max_unavailable = rolling.max_unavailable.as_ref().map_or(IntOrPercent::Int(0), |v| v.value);
    if max_surge.is_zero() && max_unavailable.is_zero() {
        let at = rolling.max_surge.as_ref().or(rolling.max_unavailable.as_ref()).map_or(cx.origin, |v| v.span);
        let mut d = Diagnostic::error(
            Code::RolloutStalls,
            "a rolling update with `max-surge` 0 and `max-unavailable` 0 can never progress",
        )
        .at(at, "both are zero")
        .help("keep `max-unavailable=0` for zero downtime and allow a surge: `max-surge=1`");
        if let (Some(sg), Some(u)) = (&rolling.max_surge, &rolling.max_unavailable) {
            d = d.at(sg.span, "no new pod may be added").also(u.span, "and no old pod may be removed");
        }
        diags.push(d);
    }
    let pre_stop = shutdown.pre_stop.as_ref().map_or(defaults::PRE_STOP_SECONDS, |d| d.value.seconds());
    let grace = shutdown.grace.as_ref().map_or(defaults::GRACE_SECONDS, |d| d.value.seconds());
    // A pre-stop of 0 s means no hook at all, which any grace period allows.
    if pre_stop > 0 && pre_stop >= grace {
        let at = shutdown.pre_stop.as_ref().or(shutdown.grace.as_ref()).map_or(cx.origin, |d| d.span);
        let mut d = Diagnostic::error(
            Code::ShutdownTiming,
            format!("the pre-stop pause ({pre_stop}s) must be shorter than the grace period ({grace}s)"),
        )
        .at(at, "leaves no time to shut down");
        if let (Some(p), Some(g)) = (&shutdown.pre_stop, &shutdown.grace) {
            if p.span != at {
                d = d.also(p.span, "pre-stop");
            }
            if g.span != at {
                d = d.also(g.span, "grace period");
            }
        }
        let lower = match grace {
            0 | 1 => "turn the pause off with `pre-stop=\"0s\"`".to_string(),
            g => format!("lower `pre-stop` below the grace period (e.g. `pre-stop=\"{}s\"`)", (g / 2).max(1)),
        };
        diags.push(d.help(format!(
            "raise `grace` to at least \"{}s\" so the app can drain after the pause, or {lower}",
            pre_stop + 10
        )));
    }
    Lifecycle { max_surge, max_unavailable, pre_stop_seconds: pre_stop, grace_seconds: grace }
}

/// Each setting replaces.
pub(super) fn merge_updates(c: &mut Merger<'_>, base: &Updates, over: &Updates) -> Updates {
    let Updates {
        min_ready: b_min_ready,
        progress_deadline: b_progress_deadline,
        revision_history: b_revision_history,
    } = base;
    let Updates { min_ready, progress_deadline, revision_history } = over;
    Updates {
        min_ready: c.pick(&s::MIN_READY, min_ready, b_min_ready),
        progress_deadline: c.pick(&s::PROGRESS_DEADLINE, progress_deadline, b_progress_deadline),
        revision_history: c.pick(&s::REVISION_HISTORY, revision_history, b_revision_history),
    }
}

/// Kubernetes' and Argo Rollouts' `progressDeadlineSeconds` when not set.
pub const PROGRESS_DEADLINE_DEFAULT: u64 = 600;

/// The workload's update settings; the deadline must be longer than
/// `min-ready` (both the API server and Argo Rollouts refuse it otherwise).
pub(super) fn updates(u: &Updates, diags: &mut Diagnostics) -> PlanUpdates {
    let min_ready = u.min_ready.as_ref().map(|d| d.value.seconds());
    let deadline = u.progress_deadline.as_ref().map(|d| d.value.seconds());
    if let Some(m) = &u.min_ready {
        let limit = deadline.unwrap_or(PROGRESS_DEADLINE_DEFAULT);
        if m.value.seconds() >= limit {
            let written = u.progress_deadline.as_ref();
            let mut d = Diagnostic::error(
                Code::OutOfRange,
                format!(
                    "`progress-deadline` ({}) must be longer than `min-ready` ({})",
                    format_duration(crate::model::Duration { millis: limit * 1000 }),
                    format_duration(m.value)
                ),
            )
            .at(written.map_or(m.span, |p| p.span), "no update could ever complete in time");
            if written.is_some() {
                d = d.also(m.span, "min-ready");
            } else {
                d = d.note("without `progress-deadline`, Kubernetes gives an update 10 minutes");
            }
            diags.push(d.help(format!(
                "raise `progress-deadline` above \"{}\", or lower `min-ready`",
                format_duration(m.value)
            )));
        }
    }
    if let Some(p) = &u.progress_deadline
        && p.value.millis == 0
    {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "`progress-deadline` must be at least one second").at(p.span, "zero"),
        );
    }
    PlanUpdates {
        min_ready,
        progress_deadline: deadline,
        revision_history: u.revision_history.as_ref().map(|r| r.value),
    }
}
