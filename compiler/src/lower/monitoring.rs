//! ServiceMonitor and PrometheusRule (monitoring.coreos.com/v1).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Kind, Object, meta, object};
use crate::crd::{
    Endpoint, NamespaceSelector, PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup, ServiceMonitor,
    ServiceMonitorSpec,
};
use crate::plan::{Plan, PlanMonitoring, PlanScrape};

/// One ServiceMonitor endpoint.
fn endpoint(s: &PlanScrape) -> Endpoint {
    Endpoint {
        port: s.port.clone(),
        path: Some(s.path.clone()),
        interval: s.interval.clone(),
        scheme: s.scheme.clone(),
        scrape_timeout: s.scrape_timeout.clone(),
        honor_labels: s.honor_labels,
        tls_config: s.tls.clone(),
        authorization: s.authorization.clone(),
        bearer_token_file: s.bearer_token_file.clone(),
        relabelings: s.relabelings.clone(),
        metric_relabelings: s.metric_relabelings.clone(),
    }
}

pub fn lower(p: &Plan, m: &PlanMonitoring) -> Vec<Object> {
    let mut out = Vec::new();
    let mut metadata = meta(p, &p.service);
    let mut labels = metadata.labels.take().unwrap_or_default();
    labels.extend(m.prometheus_labels.clone());
    metadata.labels = Some(labels);
    if let Some(s) = &m.scrape {
        let sm = ServiceMonitor {
            api_version: Kind::ServiceMonitor.api_version().into(),
            kind: Kind::ServiceMonitor.as_str().into(),
            metadata: ObjectMeta { name: Some(p.names.service_monitor.name.clone()), ..metadata.clone() },
            spec: ServiceMonitorSpec {
                selector: super::metadata::service_selector(p, s.select.as_ref()),
                namespace_selector: p.namespace.as_ref().map(|ns| NamespaceSelector { match_names: vec![ns.clone()] }),
                endpoints: std::iter::once(s).chain(&s.endpoints).map(endpoint).collect(),
                job_label: s.job_label.clone(),
            },
        };
        let mut prov = BTreeMap::new();
        let name = super::named(&p.names.service_monitor, &mut prov);
        out.push(object(name, p, &sm, prov));
    }
    if !m.groups.is_empty() {
        let mut provenance = BTreeMap::new();
        let groups = m
            .groups
            .iter()
            .enumerate()
            .map(|(gi, g)| RuleGroup {
                name: g.name.clone(),
                rules: g
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| {
                        provenance.insert(format!("/spec/groups/{gi}/rules/{ri}"), r.span);
                        Rule {
                            alert: r.alert.clone(),
                            record: r.record.clone(),
                            expr: r.expr.clone(),
                            for_: r.for_.clone(),
                            labels: r.labels.clone(),
                            annotations: r.annotations.clone(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let pr = PrometheusRule {
            api_version: Kind::PrometheusRule.api_version().into(),
            kind: Kind::PrometheusRule.as_str().into(),
            metadata: ObjectMeta { name: Some(p.names.prometheus_rule.name.clone()), ..metadata },
            spec: PrometheusRuleSpec { groups },
        };
        let name = super::named(&p.names.prometheus_rule, &mut provenance);
        out.push(object(name, p, &pr, provenance));
    }
    out
}
