//! `svcc adapter-rules`: the prometheus-adapter rules that serve the Pods
//! metrics the generated HPAs ask for, derived from the specs.
//!
//! An HPA (`autoscale-engine hpa`, the default) asks the custom metrics API
//! for a Pods metric by name: `requests-per-second` for the rate of the
//! service's request counter (metric vocabulary, `metrics { requests … }`),
//! `pods "NAME"` for a value the pods export under that name. Each distinct
//! (metric name, source) becomes one rule; one metric name read from two
//! sources is a conflict (SVC0732): the adapter serves one definition per
//! name, so one of the HPAs would scale on the wrong series. Services that
//! KEDA scales ask no adapter and are left out.
//!
//! Every name reaching the rules was validated as a Prometheus metric name
//! at decode (`values::check_metric_name`) and is checked again here; the
//! queries come from `promql.rs`, the YAML from `emit.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::Compiled;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::promql;
use crate::source::Span;

/// The rate window of a request-rate rule (as KEDA's trigger queries).
const WINDOW: &str = "2m";

/// Where the value of a metric an HPA asks for comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The per-second rate of this request counter (`requests-per-second`).
    Rate(String),
    /// The series the pods export under the metric's own name (`pods`).
    Value,
}

impl Source {
    fn describe(&self, metric: &str) -> String {
        match self {
            Source::Rate(counter) => format!("the rate of the counter `{counter}`"),
            Source::Value => format!("the series `{metric}` the pods export"),
        }
    }
}

/// One rule: the metric name the HPAs ask for and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub metric: String,
    pub source: Source,
}

/// Where a rule's layout goes: the Helm chart's values (`rules.custom`) or
/// the adapter's own `config.yaml` (`rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    HelmValues,
    Config,
}

/// One HPA's request: the rule, and where (result, environment, span).
struct Ask {
    rule: Rule,
    result: usize,
    environment: String,
    span: Span,
}

/// What the HPAs of `results` ask for, in result and environment order.
/// `environments` (when not empty) keeps only those environments.
fn asks(results: &[Compiled], environments: &[String]) -> Vec<Ask> {
    let mut out = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let Some(g) = &r.graph else { continue };
        for env in g.envs.iter().filter(|e| environments.is_empty() || environments.contains(&e.name)) {
            let Some(a) = env.autoscale.as_ref().filter(|a| a.keda.is_none()) else { continue };
            for (metric, _) in &a.pods {
                let source = if a.requests_metric.as_deref() == Some(metric.as_str()) {
                    match &a.requests_counter {
                        Some(c) => Source::Rate(c.clone()),
                        None => continue,
                    }
                } else {
                    Source::Value
                };
                let names_ok = crate::values::check_metric_name(metric).is_ok()
                    && match &source {
                        Source::Rate(c) => crate::values::check_metric_name(c).is_ok(),
                        Source::Value => true,
                    };
                if names_ok {
                    let rule = Rule { metric: metric.clone(), source };
                    out.push(Ask { rule, result: i, environment: env.name.clone(), span: a.span });
                }
            }
        }
    }
    out
}

/// The rules the HPAs of `results` need, one per metric name, sorted by
/// name; a metric name asked for from two sources is reported (SVC0732)
/// on both results, which then have errors.
pub fn rules(results: &mut [Compiled], environments: &[String]) -> Vec<Rule> {
    let asks = asks(results, environments);
    let mut first: BTreeMap<&str, &Ask> = BTreeMap::new();
    let mut found: BTreeMap<usize, Vec<Diagnostic>> = BTreeMap::new();
    let mut reported: BTreeSet<(usize, &str)> = BTreeSet::new();
    for ask in &asks {
        let Some(prev) = first.get(ask.rule.metric.as_str()).copied() else {
            first.insert(&ask.rule.metric, ask);
            continue;
        };
        if prev.rule.source == ask.rule.source {
            continue;
        }
        for (this, other) in [(ask, prev), (prev, ask)] {
            if reported.insert((this.result, this.rule.metric.as_str())) {
                let d = conflict(results, this, other);
                found.entry(this.result).or_default().push(d);
            }
        }
    }
    for (i, new) in found {
        let r = &mut results[i];
        let mut diags = Diagnostics::new();
        diags.extend(std::mem::take(&mut r.diagnostics));
        diags.extend(new);
        r.diagnostics = diags.into_sorted();
    }
    first.into_values().map(|a| a.rule.clone()).collect()
}

fn conflict(results: &[Compiled], this: &Ask, other: &Ask) -> Diagnostic {
    let metric = &this.rule.metric;
    let d = Diagnostic::error(
        Code::AdapterMetricConflict,
        format!("prometheus-adapter can serve the metric `{metric}` only one way, and the HPAs ask for two"),
    )
    .at(this.span, format!("environment `{}`: {}", this.environment, this.rule.source.describe(metric)));
    let d = if this.result == other.result {
        d.also(other.span, format!("environment `{}`: {}", other.environment, other.rule.source.describe(metric)))
    } else {
        let o = &results[other.result];
        let who = o.service.as_ref().map_or(String::new(), |(n, _)| format!("service `{n}` "));
        d.note(format!(
            "{who}({}), environment `{}`, asks for `{metric}` as {}",
            o.file.name,
            other.environment,
            other.rule.source.describe(metric)
        ))
    };
    d.help(format!(
        "give one of them another metric name (`requests-per-second N metric=\"NAME\"`), or the same source; \
         `{metric}` names one series cluster-wide"
    ))
}

/// The rule as prometheus-adapter reads it.
fn rule_value(r: &Rule) -> serde_json::Value {
    let (series, query) = match &r.source {
        Source::Rate(counter) => (counter.as_str(), promql::adapter_rate(WINDOW)),
        Source::Value => (r.metric.as_str(), promql::adapter_value()),
    };
    json!({
        "seriesQuery": promql::adapter_series(series),
        "resources": { "overrides": {
            "namespace": { "resource": "namespace" },
            "pod": { "resource": "pod" },
        }},
        "name": { "matches": format!("^{series}$"), "as": r.metric },
        "metricsQuery": query,
    })
}

/// The rules as YAML for `layout`, with a header saying where they go.
pub fn yaml(rules: &[Rule], layout: Layout) -> String {
    let list: Vec<serde_json::Value> = rules.iter().map(rule_value).collect();
    let (doc, header) = match layout {
        Layout::HelmValues => (
            json!({ "rules": { "custom": list } }),
            "# prometheus-adapter rules for the Pods metrics svcc's HPAs ask for.\n\
             # Helm chart values (prometheus-community/prometheus-adapter): merge into\n\
             # your values file, or pass with `helm upgrade -f`.\n",
        ),
        Layout::Config => (
            json!({ "rules": list }),
            "# prometheus-adapter rules for the Pods metrics svcc's HPAs ask for.\n\
             # The adapter's config.yaml (the ConfigMap its --config flag reads):\n\
             # the `rules` list (custom metrics).\n",
        ),
    };
    format!("# Generated by `svcc adapter-rules`; do not edit.\n{header}---\n{}", crate::emit::yaml(&doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_once_filled_in() {
        let rules = [
            Rule { metric: "http_requests_per_second".into(), source: Source::Rate("http_requests_total".into()) },
            Rule { metric: "queue_depth".into(), source: Source::Value },
        ];
        for r in &rules {
            let v = rule_value(r);
            promql::check(v["seriesQuery"].as_str().unwrap()).unwrap();
            let series = v["name"]["matches"].as_str().unwrap().trim_matches(['^', '$']);
            promql::check(&promql::adapter_fill(v["metricsQuery"].as_str().unwrap(), series)).unwrap();
        }
        let text = yaml(&rules, Layout::Config);
        assert!(text.contains("as: http_requests_per_second"), "{text}");
    }
}
