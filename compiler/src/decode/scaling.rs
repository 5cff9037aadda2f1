//! The `scaling` block: the replica count, the autoscaler and the
//! disruption budget.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Autoscale, AutoscaleEngine, Behavior, Disruption, PodsMetric, ScalingPolicy};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "replicas",
        order: 4,
        summary: "The number of pods (default 2; ignored while autoscaling is on)",
        doc: "language.md#replicas",
        args: "COUNT",
        ..Node::new(|n, d, c| c.body.replicas = replicas(n, d))
    },
    Node {
        name: "autoscale",
        order: 17,
        summary: "A HorizontalPodAutoscaler: bounds, targets and scaling behaviour",
        doc: "language.md#autoscale",
        args: "[#true|#false]",
        props: &["min", "max"],
        children: Some(&AUTOSCALE),
        ..Node::new(|n, d, c| c.body.autoscale = autoscale(n, d))
    },
    Node {
        name: "autoscale-engine",
        order: 18,
        summary: "What runs `autoscale`: a HorizontalPodAutoscaler (`hpa`, default) or a KEDA ScaledObject (`keda`)",
        doc: "language.md#autoscale-engine",
        args: "hpa|keda",
        props: &["prometheus"],
        ..Node::new(|n, d, c| c.body.autoscale_engine = Some(engine(n, d)))
    },
    Node {
        name: "disruption-budget",
        order: 20,
        summary: "The PodDisruptionBudget's bound (default `max-unavailable=1`)",
        doc: "language.md#disruption-budget",
        props: &["max-unavailable", "min-available"],
        ..Node::new(|n, d, c| c.body.disruption = Some(disruption(n, d)))
    },
];

/// Children of `autoscale`.
const AUTOSCALE: &[Node<Autoscale>] = &[
    Node {
        name: "cpu",
        summary: "Target CPU utilisation, in percent of the request",
        doc: "language.md#autoscale",
        args: "PERCENT",
        ..Node::new(|n, d, a| a.cpu = utilisation(n, d))
    },
    Node {
        name: "memory",
        summary: "Target memory utilisation, in percent of the request",
        doc: "language.md#autoscale",
        args: "PERCENT",
        ..Node::new(|n, d, a| a.memory = utilisation(n, d))
    },
    Node {
        name: "requests-per-second",
        summary: "Target request rate per pod (a Pods metric)",
        doc: "language.md#autoscale",
        args: "QUANTITY",
        props: &["metric"],
        ..Node::new(|n, d, a| pods_metric(n, d, a, false))
    },
    Node {
        name: "pods",
        summary: "Target average value of a custom per-pod metric",
        doc: "language.md#autoscale",
        args: "METRIC QUANTITY",
        repeat: true,
        ..Node::new(|n, d, a| pods_metric(n, d, a, true))
    },
    Node {
        name: "scale-up",
        summary: "How fast the autoscaler adds pods",
        doc: "language.md#autoscale",
        props: &["stabilization", "select"],
        children: Some(&POLICIES),
        ..Node::new(|n, d, a| a.scale_up = Some(behavior(n, d)))
    },
    Node {
        name: "scale-down",
        summary: "How fast the autoscaler removes pods",
        doc: "language.md#autoscale",
        props: &["stabilization", "select"],
        children: Some(&POLICIES),
        ..Node::new(|n, d, a| a.scale_down = Some(behavior(n, d)))
    },
];

/// Children of `scale-up` and `scale-down`.
const POLICIES: &[Node<Behavior>] = &[
    Node {
        name: "percent",
        summary: "A policy: at most this percentage of the pods per period",
        doc: "language.md#autoscale",
        args: "PERCENT",
        props: &["per"],
        repeat: true,
        ..Node::new(|n, d, b| policy(n, d, b, true))
    },
    Node {
        name: "pods",
        summary: "A policy: at most this many pods per period",
        doc: "language.md#autoscale",
        args: "COUNT",
        props: &["per"],
        repeat: true,
        ..Node::new(|n, d, b| policy(n, d, b, false))
    },
];

fn replicas(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<u32>> {
    let mut r = NodeReader::new(node);
    let replicas = match r.arg(0) {
        Some(e) => reader::u32_in(diags, e, 0, 10_000),
        None => {
            diags.push(missing(r.name_span(), "a replica count", "write `replicas 3`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    replicas
}

fn autoscale(node: &KdlNode, diags: &mut Diagnostics) -> Option<Autoscale> {
    let mut r = NodeReader::new(node);
    let mut a = Autoscale {
        node: name_span(node),
        enabled: None,
        min: None,
        max: None,
        cpu: None,
        memory: None,
        pods: IndexMap::new(),
        scale_up: None,
        scale_down: None,
    };
    if let Some(e) = r.arg(0) {
        a.enabled = reader::boolean(diags, e);
    }
    a.min = r.prop("min").and_then(|e| reader::u32_in(diags, e, 0, 10_000));
    a.max = r.prop("max").and_then(|e| reader::u32_in(diags, e, 1, 10_000));
    r.finish(diags);
    node::decode_children(AUTOSCALE, node, Twice::InParent, &mut a, diags);
    Some(a)
}

/// `autoscale-engine keda prometheus="http://prometheus-operated.monitoring.svc:9090"`.
fn engine(node: &KdlNode, diags: &mut Diagnostics) -> AutoscaleEngine {
    let mut r = NodeReader::new(node);
    let engine = match r.arg(0) {
        Some(e) => reader::choice(diags, e, &["hpa", "keda"]),
        None => {
            diags.push(missing(
                name_span(node),
                "an engine",
                "write `autoscale-engine keda prometheus=\"http://prometheus-operated.monitoring.svc:9090\"`",
            ));
            None
        }
    };
    let prometheus =
        r.prop("prometheus").and_then(|e| reader::name(diags, e, "Prometheus address", values::check_http_url));
    r.finish(diags);
    no_children(diags, node);
    AutoscaleEngine { node: name_span(node), engine, prometheus }
}

/// `cpu 70`, `memory 80`.
fn utilisation(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<u32>> {
    let name = node.name().value();
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::u32_in(diags, e, 1, 1000),
        None => {
            diags.push(missing(name_span(node), "a target utilisation in percent", format!("write `{name} 70`")));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// `pods "queue_depth" 30` (`named`) or `requests-per-second 100 [metric="…"]`.
fn pods_metric(node: &KdlNode, diags: &mut Diagnostics, a: &mut Autoscale, named: bool) {
    let span = name_span(node);
    let mut r = NodeReader::new(node);
    let (metric, target) = if named {
        let metric = match r.arg(0) {
            Some(e) => reader::string(diags, e),
            None => {
                diags.push(missing(span, "a metric name", "write `pods \"queue_depth\" 30`"));
                None
            }
        };
        let target = match r.arg(1) {
            Some(e) => reader::quantity(diags, e),
            None => {
                diags.push(missing(span, "a target value", "write `pods \"queue_depth\" 30`"));
                None
            }
        };
        (metric, target)
    } else {
        let target = match r.arg(0) {
            Some(e) => reader::quantity(diags, e),
            None => {
                diags.push(missing(span, "a target rate", "write `requests-per-second 100`"));
                None
            }
        };
        let metric = r
            .prop("metric")
            .and_then(|e| reader::string(diags, e))
            .or_else(|| Some(Spanned::new("http_requests_per_second".to_string(), span)));
        (metric, target)
    };
    r.finish(diags);
    no_children(diags, node);
    if let Some(m) = &metric
        && let Err(why) = values::check_metric_name(&m.value)
    {
        diags.push(reader::invalid_name(m.span, "metric name", &m.value, &why));
        return;
    }
    if let (Some(metric), Some(target)) = (metric, target) {
        if let Some(prev) = a.pods.get(&metric.value) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("metric `{}` is targeted twice", metric.value))
                    .at(metric.span, "again here")
                    .also(prev.metric.span, "first here"),
            );
            return;
        }
        a.pods.insert(metric.value.clone(), PodsMetric { metric, target, requests: !named });
    }
}

/// `scale-up stabilization="0s" select="max" { percent 100 per="15s" }`.
fn behavior(node: &KdlNode, diags: &mut Diagnostics) -> Behavior {
    let mut r = NodeReader::new(node);
    let mut b = Behavior { node: name_span(node), stabilization: None, select: None, policies: Vec::new() };
    b.stabilization = r.prop("stabilization").and_then(|e| reader::seconds(diags, e));
    b.select = r.prop("select").and_then(|e| reader::choice(diags, e, &["max", "min", "disabled"]));
    r.finish(diags);
    node::decode_children(POLICIES, node, Twice::Decode, &mut b, diags);
    if let Some(s) = &b.stabilization
        && s.value.millis > 3_600_000
    {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "a stabilization window is at most one hour")
                .at(s.span, "longer than 1h"),
        );
    }
    b
}

/// `percent 10 per="1m"` (`percent`) or `pods 4 per="15s"`.
fn policy(node: &KdlNode, diags: &mut Diagnostics, b: &mut Behavior, percent: bool) {
    let pname = node.name().value();
    let mut r = NodeReader::new(node);
    let value = match r.arg(0) {
        Some(e) => reader::u32_in(diags, e, 1, 10_000),
        None => {
            diags.push(missing(name_span(node), "a value", format!("write `{pname} 10 per=\"60s\"`")));
            None
        }
    };
    let period = match r.prop("per") {
        Some(e) => reader::seconds(diags, e),
        None => {
            diags.push(missing(name_span(node), "a period", format!("write `{pname} 10 per=\"60s\"`")));
            None
        }
    };
    if let Some(p) = &period
        && (p.value.millis == 0 || p.value.millis > 1_800_000)
    {
        diags.push(
            Diagnostic::error(Code::OutOfRange, "a scaling policy period is 1s to 30m").at(p.span, "out of range"),
        );
    }
    r.finish(diags);
    no_children(diags, node);
    if let (Some(value), Some(period)) = (value, period) {
        b.policies.push(ScalingPolicy { percent, value, period });
    }
}

fn disruption(node: &KdlNode, diags: &mut Diagnostics) -> Disruption {
    let mut r = NodeReader::new(node);
    let max_unavailable = r.prop("max-unavailable").and_then(|e| reader::int_or_percent(diags, e));
    let min_available = r.prop("min-available").and_then(|e| reader::int_or_percent(diags, e));
    if let (Some(a), Some(m)) = (&max_unavailable, &min_available) {
        diags.push(
            Diagnostic::error(Code::Duplicate, "`max-unavailable` and `min-available` cannot both be set")
                .at(m.span, "second bound")
                .also(a.span, "first bound")
                .help(
                    "a PodDisruptionBudget takes one of the two; keep `max-unavailable`, which works with autoscaling",
                ),
        );
    }
    r.finish(diags);
    no_children(diags, node);
    Disruption { node: name_span(node), max_unavailable, min_available }
}
