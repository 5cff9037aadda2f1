//! A canary's steps: their weights (SVC0322) and how they promote
//! (SVC0323).

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Canary, Step};
use crate::source::Span;

/// SVC0322: the canary weights go up and end at 100%.
pub(super) fn check_weights(c: &Canary, steps: &[Step], diags: &mut Diagnostics) {
    let mut last: Option<(u32, Span)> = None;
    for s in steps {
        if let Step::SetWeight(w) = s {
            if let Some((prev, prev_span)) = last
                && w.value < prev
            {
                diags.push(
                    Diagnostic::error(Code::CanaryIncomplete, format!("the canary weight goes down from {prev}% to {}%", w.value))
                        .at(w.span, "lower than before")
                        .also(prev_span, "set here")
                        .help("list weights in increasing order; to go back, abort the rollout (`kubectl argo rollouts abort`)"),
                );
            }
            last = Some((w.value, w.span));
        }
    }
    if let Some(st) = &c.steps
        && steps.is_empty()
    {
        diags.push(
            Diagnostic::error(Code::CanaryIncomplete, "the canary's `steps` block is empty")
                .at(st.span, "no step")
                .help("list the steps, e.g. `set-weight 20`, `pause \"5m\"`, `set-weight 100`; or leave `steps` out for an update without pauses")
                .note("without steps, Argo Rollouts replaces the pods like a rolling update, within `max-surge` and `max-unavailable`"),
        );
    } else if let Some(st) = &c.steps {
        match last {
            Some((w, span)) if w < 100 => diags.push(
                Diagnostic::error(Code::CanaryIncomplete, format!("the canary steps stop at {w}% and never reach 100%"))
                    .at(span, "last weight")
                    .help("end the steps with `set-weight 100`, after the last pause or analysis that should gate it")
                    .note("Argo Rollouts jumps to 100% after the last step anyway; svcc asks for the step so the spec says when it happens"),
            ),
            None => diags.push(
                Diagnostic::error(Code::CanaryIncomplete, "the canary steps never send traffic to the new version")
                    .at(st.span, "no `set-weight` step")
                    .help("add weights, e.g. `set-weight 20`, `pause \"5m\"`, `set-weight 100`"),
            ),
            _ => {}
        }
    }
}

/// SVC0323: an indefinite `pause` waits for a person, which `auto-promote`
/// contradicts, and `auto-promote #false` needs such a pause.
pub(super) fn check_promotion(c: &Canary, steps: &[Step], diags: &mut Diagnostics) {
    let indefinite: Vec<Span> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Pause { node, duration: None, .. } => Some(*node),
            _ => None,
        })
        .collect();
    if let Some(ap) = &c.auto_promote {
        if ap.value
            && let Some(p) = indefinite.first()
        {
            diags.push(
                Diagnostic::error(
                    Code::PromotionConflict,
                    "a `pause` without a duration waits for a person, but `auto-promote` is on",
                )
                .at(*p, "waits for `kubectl argo rollouts promote`")
                .also(ap.span, "promises automatic promotion")
                .help("give the pause a duration (`pause \"10m\"`), or set `auto-promote #false`"),
            );
        } else if !ap.value && indefinite.is_empty() {
            diags.push(
                Diagnostic::error(Code::PromotionConflict, "`auto-promote #false`, but no step waits for a person")
                    .at(ap.span, "promises a manual promotion")
                    .also(c.steps.as_ref().map_or(c.node, |s| s.span), "every step continues on its own")
                    .help("add a `pause` without a duration where a person should promote"),
            );
        }
    }
}
