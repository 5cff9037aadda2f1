//! `job` gates: the gate's Job, resolved as a job of the service by the
//! context's resolver (`check::jobs::analysis`: the same container and pod
//! as the service's own jobs), how long it may last, and the `{{…}}`
//! placeholders Argo Rollouts fills in it (SVC0266).

use super::{Context, NAMESPACE_ARG, defaults};
use crate::check::jobs::ANALYSIS_DEADLINE;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{AnalysisArg, Gate, Job};
use crate::plan::{PlanEnvValue, PlanJob, PlanProvider};
use crate::source::Span;

/// A job gate's provider (its Job) and whether the Job reads the
/// namespace argument, or `None` (reported).
pub(super) fn measure(
    cx: &Context<'_>,
    j: &Job,
    args: &[AnalysisArg],
    diags: &mut Diagnostics,
) -> Option<(PlanProvider, bool)> {
    let errors = diags.error_count();
    let plan = (cx.job)(j, diags);
    let reads_namespace = placeholders(j, &plan, args, cx.namespace.is_none(), diags);
    (diags.error_count() == errors).then(|| (PlanProvider::Job(Box::new(plan)), reads_namespace))
}

/// The longest a job gate lasts: each of its `count` Jobs may run for its
/// `deadline`, and the next starts `interval` after one ends.
pub(super) fn seconds(g: &Gate, j: &Job) -> u64 {
    let count = u64::from(g.count.as_ref().map_or(defaults::JOB_COUNT, |c| c.value));
    let interval = g.interval.as_ref().map_or(defaults::INTERVAL, |d| d.value.seconds());
    let deadline = j.deadline.as_ref().map_or(ANALYSIS_DEADLINE, |d| d.value.seconds());
    count * deadline + count.saturating_sub(1) * interval
}

/// SVC0266: Argo Rollouts replaces every `{{TAG}}` of a metric, the Job's
/// strings included, by the argument `TAG` names (`args.NAME`, spaces
/// trimmed), and fails the analysis on a tag it cannot resolve or a `{{`
/// without its `}}` (`utils/template.ResolveArgs`, fasttemplate). Whether
/// a string reads the namespace argument.
fn placeholders(j: &Job, plan: &PlanJob, args: &[AnalysisArg], namespace_arg: bool, diags: &mut Diagnostics) -> bool {
    let c = &plan.container;
    let own = |s: &Option<crate::source::Spanned<Vec<String>>>| s.as_ref().map_or(j.name.span, |s| s.span);
    let mut strings: Vec<(&str, Span)> = Vec::new();
    strings.extend(c.command.iter().flatten().map(|s| (s.as_str(), own(&j.body.command))));
    strings.extend(c.args.iter().flatten().map(|s| (s.as_str(), own(&j.body.args))));
    for e in &c.env {
        if let PlanEnvValue::Literal(v) = &e.value {
            strings.push((v, e.span));
        }
    }
    strings.extend(c.volumes.iter().map(|v| (v.path.as_str(), j.name.span)));
    strings.extend(c.env_from.iter().filter_map(|e| e.prefix.as_deref()).map(|p| (p, j.name.span)));
    let known = |tag: &str| {
        tag.strip_prefix("args.")
            .is_some_and(|n| (namespace_arg && n == NAMESPACE_ARG) || args.iter().any(|a| a.name.value == n))
    };
    let mut reads_namespace = false;
    for (s, span) in strings {
        if let Some(bad) = tags(s).find(|t| !t.is_some_and(|t| known(t.trim()))) {
            report(&j.name.value, bad, span, args, diags);
            return false;
        }
        reads_namespace |= tags(s).flatten().any(|t| t.trim().strip_prefix("args.") == Some(NAMESPACE_ARG));
    }
    reads_namespace
}

/// The tags of `s` as Argo Rollouts' template engine reads them: the text
/// between each `{{` and the next `}}`; `None` for a `{{` never closed.
pub(crate) fn tags(s: &str) -> impl Iterator<Item = Option<&str>> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let open = rest?.find("{{")?;
        let after = &rest?[open + 2..];
        match after.find("}}") {
            Some(close) => {
                rest = Some(&after[close + 2..]);
                Some(Some(&after[..close]))
            }
            None => {
                rest = None;
                Some(None)
            }
        }
    })
}

fn report(gate: &str, tag: Option<&str>, at: Span, args: &[AnalysisArg], diags: &mut Diagnostics) {
    let declared: Vec<String> = args.iter().map(|a| format!("`{{{{args.{}}}}}`", a.name.value)).collect();
    let (message, label) = match tag {
        Some(t) => (
            format!("job gate `{gate}` reads `{{{{{t}}}}}`, which is not an argument of its analysis"),
            "Argo Rollouts would fail the analysis on this placeholder",
        ),
        None => (
            format!("job gate `{gate}` has a `{{{{` without its `}}}}`"),
            "Argo Rollouts would fail the analysis on this text",
        ),
    };
    diags.push(
        Diagnostic::error(Code::AnalysisJobPlaceholder, message)
            .at(at, label)
            .help(if declared.is_empty() {
                "declare the argument in the analysis block (`arg NAME pod-template-hash=\"latest\"`) and write `{{args.NAME}}`; `{{` cannot stand for itself in a job gate".to_string()
            } else {
                format!("declare it with `arg`, or use one of {}", declared.join(", "))
            })
            .note("Argo Rollouts fills every `{{…}}` of an analysis metric, the Job's command, arguments and environment included, with the analysis' arguments"),
    );
}

#[cfg(test)]
mod tests {
    use super::tags;

    #[test]
    fn tags_are_read_as_argo_rollouts_reads_them() {
        let all = |s| tags(s).collect::<Vec<_>>();
        assert_eq!(all("no tags"), Vec::<Option<&str>>::new());
        assert_eq!(all("a {{args.x}} b {{ args.y }}"), [Some("args.x"), Some(" args.y ")]);
        assert_eq!(all("{{}}"), [Some("")]);
        assert_eq!(all("x {{args.x} }"), [None]);
        assert_eq!(all("{{a}} {{b"), [Some("a"), None]);
        assert_eq!(all("$((1+2)) ${X} {x}"), Vec::<Option<&str>>::new());
    }
}
