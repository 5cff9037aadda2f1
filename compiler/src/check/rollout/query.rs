//! `query` gates: the user's PromQL, expanded with the same selector as
//! the built-in gates, parsed by svcc's PromQL parser with every
//! `{{args.NAME}}` resolved, and judged by conditions that get the same
//! empty-result and NaN guard as the built-in gates ([`condition::guarded`]).

use crate::condition::{self, Reads};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{AnalysisArg, ArgSource, QueryGate};
use crate::promql::{self, ResultType, Target};
use crate::source::Spanned;

use super::NAMESPACE_ARG;

/// What stands for an argument the Rollout fills at run time when the
/// query is parsed: text that is valid PromQL only inside a string, so an
/// argument used anywhere else (a number, a metric name) is refused.
const RUNTIME_SAMPLE: &str = "a b";

/// A `query` gate's (metric name, query, success and failure conditions),
/// or `None` (reported).
pub(super) fn measure(
    name: &str,
    q: &QueryGate,
    target: &Target,
    window: &str,
    args: &[AnalysisArg],
    namespace_arg: bool,
    diags: &mut Diagnostics,
) -> Option<(String, String, String, String)> {
    let query = promql::expand(&q.expr.value.replace("${window}", window), target);
    let parsed = resolve_args(&query, &q.expr, args, namespace_arg, diags)?;
    let scalar = match promql::result_type(&parsed) {
        Ok(ResultType::Vector) => false,
        Ok(ResultType::Scalar) => true,
        Ok(ResultType::Other(what)) => {
            diags.push(
                Diagnostic::error(
                    Code::AnalysisQuery,
                    format!("the query of `{name}` returns {what}, which an analysis cannot judge"),
                )
                .at(q.expr.span, format!("returns {what}"))
                .help("reduce it to one value per series: `sum(rate(x[5m]))`, not `x[5m]`")
                .note("Argo Rollouts judges an instant vector (`result[0]`) or a scalar (`result`)"),
            );
            return None;
        }
        Err(why) => {
            diags.push(
                Diagnostic::error(Code::InvalidPromql, format!("the query of `{name}` is not valid PromQL"))
                    .at(q.expr.span, why.lines().next().unwrap_or("invalid PromQL").to_string())
                    .help("check the expression with `promtool` or the Prometheus UI; `${selector}` expands to the measured Service's selector, `${window}` to the gate's range"),
            );
            return None;
        }
    };
    let mut ok = true;
    for c in [&q.success, &q.failure].into_iter().flatten() {
        ok &= fits(name, c, &condition::reads(&c.value), scalar, q, diags);
    }
    if !ok {
        return None;
    }
    let (success, failure) = match (&q.success, &q.failure) {
        (Some(s), Some(f)) => {
            (condition::guarded(&s.value, false, scalar), condition::guarded(&f.value, false, scalar))
        }
        (Some(s), None) => (condition::guarded(&s.value, false, scalar), condition::guarded(&s.value, true, scalar)),
        (None, Some(f)) => (condition::guarded(&f.value, true, scalar), condition::guarded(&f.value, false, scalar)),
        (None, None) => return None,
    };
    Some((name.to_string(), query, success, failure))
}

/// SVC0391: a condition must read the result as the query returns it.
fn fits(
    name: &str,
    c: &Spanned<condition::Expr>,
    r: &Reads,
    scalar: bool,
    q: &QueryGate,
    diags: &mut Diagnostics,
) -> bool {
    let (reads, returns, help) = match (scalar, r.vector(), r.bare) {
        (true, true, _) => ("`result[N]` or `len(result)`", "a scalar", "compare `result` itself: `result < 5`"),
        (false, _, true) => ("`result` as a number", "an instant vector", "compare one value: `result[0] < 5`"),
        _ => return true,
    };
    diags.push(
        Diagnostic::error(
            Code::ConditionResultType,
            format!("a condition of `{name}` reads {reads}, but its query returns {returns}"),
        )
        .at(c.span, format!("reads {reads}"))
        .also(q.expr.span, format!("returns {returns}"))
        .help(help),
    );
    false
}

/// The query with every `{{args.NAME}}` replaced for parsing: a literal
/// value by itself, a value the Rollout fills at run time by
/// [`RUNTIME_SAMPLE`]. A placeholder that names no declared argument is
/// SVC0390 (Argo Rollouts would fail the analysis when it starts).
fn resolve_args(
    query: &str,
    expr: &Spanned<String>,
    args: &[AnalysisArg],
    namespace_arg: bool,
    diags: &mut Diagnostics,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = query;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            unknown(expr, &after[..after.len().min(40)], args, diags);
            return None;
        };
        let inner = &after[..close];
        let value = match inner.strip_prefix("args.") {
            Some(NAMESPACE_ARG) if namespace_arg => RUNTIME_SAMPLE,
            Some(n) => match args.iter().find(|a| a.name.value == n).map(|a| &a.source) {
                Some(ArgSource::Value(v)) => v.as_str(),
                Some(_) => RUNTIME_SAMPLE,
                None => {
                    unknown(expr, inner, args, diags);
                    return None;
                }
            },
            None => {
                unknown(expr, inner, args, diags);
                return None;
            }
        };
        out.push_str(value);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn unknown(expr: &Spanned<String>, inner: &str, args: &[AnalysisArg], diags: &mut Diagnostics) {
    let declared: Vec<String> = args.iter().map(|a| format!("`{{{{args.{}}}}}`", a.name.value)).collect();
    let mut d =
        Diagnostic::error(Code::AnalysisQuery, format!("`{{{{{inner}}}}}` is not an argument of this analysis"))
            .at(expr.span, "Argo Rollouts would fail the analysis on this placeholder")
            .help(if declared.is_empty() {
                "declare it in the analysis block: `arg NAME pod-template-hash=\"latest\"`, then write `{{args.NAME}}`"
                    .to_string()
            } else {
                format!("declare it with `arg`, or use one of {}", declared.join(", "))
            });
    if inner == "args.namespace" {
        d = d.note("the namespace is known here: write `${namespace}`");
    }
    diags.push(d);
}
