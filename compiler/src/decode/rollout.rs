//! Decoding `blue-green` and `canary` (progressive delivery with Argo
//! Rollouts) and their analysis gates.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::reader::{self, NodeReader, children, missing, name_span, no_children, unknown_node};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Spanned;
use crate::values;

/// A positive duration in whole seconds.
fn positive_seconds(diags: &mut Diagnostics, e: &kdl::KdlEntry, what: &str) -> Option<Spanned<Duration>> {
    let d = reader::seconds(diags, e)?;
    if d.value.millis == 0 {
        diags.push(
            Diagnostic::error(Code::InvalidDuration, format!("`{what}` cannot be zero"))
                .at(d.span, "zero")
                .help("write a positive duration such as \"1m\""),
        );
        return None;
    }
    Some(d)
}

fn one_arg<T>(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    example: &str,
    read: impl FnOnce(&mut Diagnostics, &kdl::KdlEntry) -> Option<T>,
) -> Option<T> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => read(diags, e),
        None => {
            diags.push(missing(name_span(node), what, format!("write `{example}`")));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

pub fn blue_green(node: &KdlNode, diags: &mut Diagnostics) -> BlueGreen {
    let mut r = NodeReader::new(node);
    let enabled = r.arg(0).and_then(|e| reader::boolean(diags, e));
    let deploy_budget = r.prop("deploy-budget").and_then(|e| positive_seconds(diags, e, "deploy-budget"));
    r.finish(diags);
    let mut bg = BlueGreen {
        node: name_span(node),
        enabled,
        deploy_budget,
        auto_promote: None,
        rollback_window: None,
        preview_replicas: None,
        pre_promotion: None,
        post_promotion: None,
    };
    const KNOWN: &[&str] = &["auto-promote", "rollback-window", "preview-replicas", "pre-promotion", "post-promotion"];
    let mut seen = IndexMap::new();
    for child in children(node) {
        let name = child.name().value();
        if !KNOWN.contains(&name) {
            unknown_node(diags, child, "blue-green", KNOWN);
            continue;
        }
        if !reader::first_time(&mut seen, child, "blue-green", diags) {
            continue;
        }
        match name {
            "auto-promote" => {
                let mut cr = NodeReader::new(child);
                let enabled = cr.arg(0).and_then(|e| reader::boolean(diags, e));
                let after = cr.prop("after").and_then(|e| positive_seconds(diags, e, "after"));
                cr.finish(diags);
                no_children(diags, child);
                bg.auto_promote = Some(AutoPromote { node: name_span(child), enabled, after });
            }
            "rollback-window" => {
                bg.rollback_window = one_arg(child, diags, "a duration", "rollback-window \"5m\"", reader::seconds);
            }
            "preview-replicas" => {
                bg.preview_replicas = one_arg(child, diags, "a replica count", "preview-replicas 1", |d, e| {
                    reader::u32_in(d, e, 1, 10_000)
                });
            }
            "pre-promotion" => bg.pre_promotion = Some(analysis(child, diags)),
            _ => bg.post_promotion = Some(analysis(child, diags)),
        }
    }
    bg
}

pub fn canary(node: &KdlNode, diags: &mut Diagnostics) -> Canary {
    let mut r = NodeReader::new(node);
    let enabled = r.arg(0).and_then(|e| reader::boolean(diags, e));
    let deploy_budget = r.prop("deploy-budget").and_then(|e| positive_seconds(diags, e, "deploy-budget"));
    r.finish(diags);
    let mut c = Canary {
        node: name_span(node),
        enabled,
        deploy_budget,
        auto_promote: None,
        max_surge: None,
        max_unavailable: None,
        traffic: None,
        background: None,
        steps: None,
    };
    const KNOWN: &[&str] = &["auto-promote", "max-surge", "max-unavailable", "traffic", "analysis", "steps"];
    let mut seen = IndexMap::new();
    for child in children(node) {
        let name = child.name().value();
        if !KNOWN.contains(&name) {
            unknown_node(diags, child, "canary", KNOWN);
            continue;
        }
        if !reader::first_time(&mut seen, child, "canary", diags) {
            continue;
        }
        match name {
            "auto-promote" => {
                c.auto_promote = one_arg(child, diags, "#true or #false", "auto-promote #true", reader::boolean);
            }
            "max-surge" => {
                c.max_surge =
                    one_arg(child, diags, "a count or percentage", "max-surge \"25%\"", reader::int_or_percent)
            }
            "max-unavailable" => {
                c.max_unavailable =
                    one_arg(child, diags, "a count or percentage", "max-unavailable 0", reader::int_or_percent);
            }
            "traffic" => {
                let mut cr = NodeReader::new(child);
                let provider = match cr.arg(0) {
                    Some(e) => reader::choice(diags, e, &["nginx"]),
                    None => {
                        diags.push(missing(
                            name_span(child),
                            "a traffic router",
                            "write `traffic nginx ingress=\"my-app\"`",
                        ));
                        None
                    }
                };
                let ingress = cr
                    .prop("ingress")
                    .and_then(|e| reader::name(diags, e, "Ingress name", values::check_dns1123_subdomain));
                cr.finish(diags);
                no_children(diags, child);
                if let Some(provider) = provider {
                    c.traffic = Some(Traffic { node: name_span(child), provider, ingress });
                }
            }
            "analysis" => c.background = Some(analysis(child, diags)),
            _ => {
                NodeReader::new(child).finish(diags);
                let mut steps = Vec::new();
                for s in children(child) {
                    match s.name().value() {
                        "set-weight" => {
                            if let Some(w) = one_arg(s, diags, "a weight in percent", "set-weight 20", |d, e| {
                                reader::u32_in(d, e, 0, 100)
                            }) {
                                steps.push(Step::SetWeight(w));
                            }
                        }
                        "pause" => {
                            let mut pr = NodeReader::new(s);
                            let duration = pr.arg(0).and_then(|e| positive_seconds(diags, e, "pause"));
                            let given = s.entries().iter().any(|e| e.name().is_none());
                            pr.finish(diags);
                            no_children(diags, s);
                            if given && duration.is_none() {
                                continue;
                            }
                            steps.push(Step::Pause { node: name_span(s), duration });
                        }
                        "analysis" => steps.push(Step::Analysis(analysis(s, diags))),
                        _ => unknown_node(diags, s, "steps", &["set-weight", "pause", "analysis"]),
                    }
                }
                c.steps = Some(Spanned::new(steps, name_span(child)));
            }
        }
    }
    c
}

/// `pre-promotion { success-rate …; latency … }` and the other gate sets.
fn analysis(node: &KdlNode, diags: &mut Diagnostics) -> Analysis {
    NodeReader::new(node).finish(diags);
    let parent = node.name().value().to_string();
    let mut gates: Vec<Gate> = Vec::new();
    const KNOWN: &[&str] = &["success-rate", "latency"];
    for child in children(node) {
        let name = child.name().value();
        let kind = match name {
            "success-rate" => GateKind::SuccessRate,
            "latency" => GateKind::Latency,
            _ => {
                unknown_node(diags, child, &parent, KNOWN);
                continue;
            }
        };
        let mut cr = NodeReader::new(child);
        let mut g = Gate {
            kind,
            name: Spanned::new(name.to_string(), name_span(child)),
            at_least: None,
            quantile: None,
            at_most: None,
            interval: None,
            count: None,
            failure_limit: None,
            inconclusive_limit: None,
        };
        if kind == GateKind::SuccessRate {
            g.at_least = cr.prop("at-least").and_then(|e| reader::ratio(diags, e));
        } else {
            g.quantile = cr.prop("quantile").and_then(|e| reader::number(diags, e));
            if let Some(q) = &g.quantile
                && !(q.value > 0.0 && q.value < 1.0)
            {
                diags.push(
                    Diagnostic::error(Code::OutOfRange, format!("{} is not a quantile", q.value))
                        .at(q.span, "must be between 0 and 1")
                        .help("write `quantile=0.95` for the 95th percentile"),
                );
                g.quantile = None;
            }
            g.at_most = cr.prop("at-most").and_then(|e| reader::duration(diags, e));
            if let Some(d) = &g.at_most
                && d.value.millis == 0
            {
                diags.push(
                    Diagnostic::error(Code::InvalidDuration, "`at-most` cannot be zero")
                        .at(d.span, "zero")
                        .help("write the slowest acceptable latency, such as \"500ms\""),
                );
                g.at_most = None;
            }
        }
        g.interval = cr.prop("interval").and_then(|e| positive_seconds(diags, e, "interval"));
        g.count = cr.prop("count").and_then(|e| reader::u32_in(diags, e, 1, 1000));
        g.failure_limit = cr.prop("failure-limit").and_then(|e| reader::u32_in(diags, e, 0, 1000));
        g.inconclusive_limit = cr.prop("inconclusive-limit").and_then(|e| reader::u32_in(diags, e, 0, 1000));
        cr.finish(diags);
        no_children(diags, child);
        if let Some(prev) = gates.iter().find(|x| x.kind == kind) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{name}` is set twice in `{parent}`"))
                    .at(g.name.span, "set again here")
                    .also(prev.name.span, "first set here")
                    .help("one gate of each kind per analysis"),
            );
            continue;
        }
        gates.push(g);
    }
    if gates.is_empty() {
        diags.push(missing(
            name_span(node),
            "an analysis gate",
            format!("write `{parent} {{ success-rate at-least=0.95 }}`"),
        ));
    }
    Analysis { node: name_span(node), gates }
}
