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
