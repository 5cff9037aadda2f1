//! `slo`: recording rules for the SLI and the multi-window, multi-burn-rate
//! alerts of the Google SRE workbook (chapter 5), every query built by
//! [`promql`].

use std::collections::BTreeMap;

use super::{Context, camel, percent};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Body, Slo, SloKind};
use crate::plan::PlanRule;
use crate::promql::{self, Target, Vocabulary};

/// The windows (seconds) the SLI is recorded over: 5m, 30m, 1h, 2h, 6h, 1d, 3d.
const RECORD_WINDOWS: [u64; 7] = [300, 1800, 3600, 7200, 21_600, 86_400, 259_200];

/// A burn condition: (long window, short window, share of the error budget
/// that burns in the long window).
type Burn = (u64, u64, f64);

/// The two alerts: (name suffix, severity, `for`, speed, its conditions).
/// A page when 2% of the budget burns in 1h or 5% in 6h, a ticket when 10%
/// burns in 1d or in 3d.
const ALERTS: [(&str, &str, &str, &str, [Burn; 2]); 2] = [
    ("ErrorBudgetBurn", "critical", "2m", "fast", [(3600, 300, 0.02), (21_600, 1800, 0.05)]),
    ("ErrorBudgetBurnSlow", "warning", "15m", "slow", [(86_400, 7200, 0.10), (259_200, 21_600, 0.10)]),
];

/// How many times faster than sustainable the budget burns when `share` of
/// it goes in `alert_window` of an SLO `window` (both in seconds).
fn factor(share: f64, window: u64, alert_window: u64) -> f64 {
    share * window as f64 / alert_window as f64
}

/// Recording rules for the SLI at the windows the alerts need, and the page
/// and ticket alerts. Burn-rate factors scale with the SLO window.
pub(super) fn rules(
    cx: &Context<'_>,
    target: &Target,
    vocab: &Vocabulary,
    prefix: &str,
    b: &Body,
    slo: &Slo,
    diags: &mut Diagnostics,
) -> Vec<PlanRule> {
    let objective = slo.objective.as_ref().map_or(0.999, |o| o.value);
    if objective >= 1.0 {
        return Vec::new();
    }
    let window = slo.window.as_ref().map_or(30 * 86_400, |w| w.value.seconds());
    let budget = 1.0 - objective;
    let kind = if slo.kind == SloKind::Availability { "availability" } else { "latency" };
    let le = slo.threshold.as_ref().map(|t| t.value.millis as f64 / 1000.0);
    if RECORD_WINDOWS.iter().any(|w| *w * 10 > window * 3) {
        let at = slo.window.as_ref().map_or(slo.name.span, |w| w.span);
        if window < 259_200 * 4 {
            diags.push(
                Diagnostic::error(
                    Code::OutOfRange,
                    "an SLO window must be at least 12 days for multi-window burn-rate alerts",
                )
                .at(at, "too short")
                .help("use the usual 28d or 30d window"),
            );
            return Vec::new();
        }
    }
    unreachable_burns(slo, objective, window, diags);
    let mut rule_labels = BTreeMap::new();
    rule_labels.insert("service".to_string(), cx.service.to_string());
    rule_labels.insert("slo".to_string(), kind.to_string());
    let mut out = Vec::new();
    for w in RECORD_WINDOWS {
        let range = promql::range(w);
        let expr = match (&le, slo.kind) {
            (Some(le), SloKind::Latency) => promql::slow_ratio(vocab, target, *le, &range),
            _ => promql::error_ratio(vocab, target, &range),
        };
        out.push(PlanRule {
            alert: None,
            record: Some(promql::slo_record(w)),
            expr: promql::generated(expr),
            for_: None,
            labels: rule_labels.clone(),
            annotations: BTreeMap::new(),
            span: slo.name.span,
        });
    }
    let sel = promql::slo_selector(cx.service, kind, cx.namespace);
    let objective_text = percent(objective);
    let title = camel(kind);
    let mut labels: BTreeMap<String, String> =
        b.alerts.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
    labels.insert("service".to_string(), cx.service.to_string());
    for (suffix, severity, for_, speed, burns) in ALERTS {
        let [a, c] =
            burns.map(|(long, short, share)| promql::burn(&sel, long, short, factor(share, window, long), budget));
        let expr = promql::generated(promql::or(&a, &c));
        let mut l = labels.clone();
        l.insert("severity".to_string(), severity.to_string());
        let name = format!("{prefix}{title}{suffix}");
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "summary".to_string(),
            format!("{} {kind} SLO is burning its error budget ({speed}) in {{{{ $labels.namespace }}}}", cx.service),
        );
        annotations.insert(
            "description".to_string(),
            format!(
                "At the current {kind} error rate, {} will miss its {objective_text} objective over {} if nothing changes.",
                cx.service,
                promql::range(window)
            ),
        );
        if let Some(base) = &b.alerts.runbook {
            annotations.insert(
                "runbook_url".to_string(),
                format!("{}/{}", base.value.trim_end_matches('/'), name.to_ascii_lowercase()),
            );
        }
        out.push(PlanRule {
            alert: Some(name),
            record: None,
            expr,
            for_: Some(for_.to_string()),
            labels: l,
            annotations,
            span: slo.name.span,
        });
    }
    out
}

/// The threshold of a burn condition: `factor` × the budget, as the query
/// writes it (the factor to three decimals).
fn threshold(share: f64, window: u64, long: u64, budget: f64) -> f64 {
    (factor(share, window, long) * 1000.0).round() / 1000.0 * budget
}

/// SVC0408: a burn condition whose threshold is an error ratio of 100% or
/// more can never hold (a ratio never exceeds 1): with a large budget (a low
/// objective) or a long window, the 1h page asks for more than every request
/// failing.
fn unreachable_burns(slo: &Slo, objective: f64, window: u64, diags: &mut Diagnostics) {
    let budget = 1.0 - objective;
    let (mut dead, mut live) = (Vec::new(), Vec::new());
    for (_, severity, _, speed, burns) in ALERTS {
        for (long, _, share) in burns {
            let t = threshold(share, window, long, budget);
            let alert = if severity == "critical" { "page" } else { "ticket" };
            let what = format!("the {} condition of the {speed}-burn {alert}", promql::range(long));
            if t >= 1.0 { dead.push((what, t)) } else { live.push(format!("{what} above {}", ratio_text(t))) }
        }
    }
    let Some((first, t)) = dead.first() else { return };
    let at = slo.objective.as_ref().map_or(slo.name.span, |o| o.span);
    let mut d = Diagnostic::warning(
        Code::UnreachableBurnRate,
        format!("{first} can never fire: it needs an error ratio above {}", ratio_text(*t)),
    )
    .at(at, format!("an error budget of {} over {}", percent(budget), promql::range(window)));
    if let Some(w) = &slo.window {
        d = d.also(w.span, "burn-rate factors grow with the window");
    }
    // The 1h page has the largest factor: every condition is reachable
    // when its threshold stays below 1.
    let (long, _, share) = ALERTS[0].4[0];
    let top = factor(share, window, long);
    let min_objective = ((1.0 - 1.0 / top) * 1000.0).floor() / 1000.0 + 0.001;
    let max_days = (long as f64 / (share * budget) / 86_400.0).ceil() as u64 - 1;
    let mut help =
        format!("raise the objective to {} or more", promql::number((min_objective * 1000.0).round() / 1000.0));
    if max_days >= 12 {
        help.push_str(&format!(", or shorten the window to {max_days}d or less"));
    }
    d = d.help(help);
    for (what, t) in dead.iter().skip(1) {
        d = d.note(format!("{what} can never fire either (above {})", ratio_text(*t)));
    }
    if !live.is_empty() {
        d = d.note(format!("these can still fire: {}", live.join(", ")));
    }
    diags.push(d.note(
        "a burn-rate condition fires when the error ratio exceeds its factor × the budget; the factors (14.4, 6, 3 and 1 for a 30d window) grow with the window",
    ));
}

/// `1.44` → `144%`.
fn ratio_text(x: f64) -> String {
    percent((x * 10_000.0).round() / 10_000.0)
}
