//! The `rollout` block: `blue-green` and `canary` (progressive delivery
//! with Argo Rollouts, docs/rollouts.md) and their analysis gates.

use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Spanned;
use crate::values;

mod job;
mod query;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "blue-green",
        order: 26,
        summary: "Blue-green updates with Argo Rollouts: a preview, gates, then the switch",
        doc: "rollouts.md#blue-green",
        args: "[#true|#false]",
        props: &["deploy-budget"],
        children: Some(&BLUE_GREEN),
        ..Node::new(|n, d, c| c.body.blue_green = Some(blue_green(n, d)))
    },
    Node {
        name: "canary",
        order: 27,
        summary: "Canary updates with Argo Rollouts: weighted steps, pauses and gates",
        doc: "rollouts.md#canary",
        args: "[#true|#false]",
        props: &["deploy-budget"],
        children: Some(&CANARY),
        ..Node::new(|n, d, c| c.body.canary = Some(canary(n, d)))
    },
];

/// Children of `blue-green`.
const BLUE_GREEN: &[Node<BlueGreen>] = &[
    Node {
        name: "auto-promote",
        summary: "Switch to the new version without a person (now, or `after=` a delay)",
        doc: "rollouts.md#blue-green",
        args: "[#true|#false]",
        props: &["after"],
        ..Node::new(auto_promote)
    },
    Node {
        name: "rollback-window",
        summary: "How long the previous version stays up after the switch",
        doc: "rollouts.md#blue-green",
        args: "DURATION",
        ..Node::new(|n, d, bg| {
            bg.rollback_window = one_arg(n, d, "a duration", "rollback-window \"5m\"", reader::seconds);
        })
    },
    Node {
        name: "preview-replicas",
        summary: "How many pods of the new version run before the switch",
        doc: "rollouts.md#blue-green",
        args: "COUNT",
        ..Node::new(|n, d, bg| {
            bg.preview_replicas =
                one_arg(n, d, "a replica count", "preview-replicas 1", |d, e| reader::u32_in(d, e, 1, 10_000));
        })
    },
    Node {
        name: "pre-promotion",
        summary: "Gates that measure the preview before the switch",
        doc: "rollouts.md#blue-green",
        props: &["template"],
        children: Some(&GATES),
        ..Node::new(|n, d, bg| bg.pre_promotion = Some(analysis(n, d)))
    },
    Node {
        name: "post-promotion",
        summary: "Gates that measure the new version after the switch",
        doc: "rollouts.md#blue-green",
        props: &["template"],
        children: Some(&GATES),
        ..Node::new(|n, d, bg| bg.post_promotion = Some(analysis(n, d)))
    },
];

/// Children of `canary`.
const CANARY: &[Node<Canary>] = &[
    Node {
        name: "auto-promote",
        summary: "Whether the update may finish without a person (checked against the pauses)",
        doc: "rollouts.md#canary",
        args: "#true|#false",
        ..Node::new(|n, d, c| c.auto_promote = one_arg(n, d, "#true or #false", "auto-promote #true", reader::boolean))
    },
    Node {
        name: "max-surge",
        summary: "How many extra pods an update may add",
        doc: "rollouts.md#canary",
        args: "COUNT|PERCENT",
        ..Node::new(|n, d, c| {
            c.max_surge = one_arg(n, d, "a count or percentage", "max-surge \"25%\"", reader::int_or_percent);
        })
    },
    Node {
        name: "max-unavailable",
        summary: "How many pods an update may take down",
        doc: "rollouts.md#canary",
        args: "COUNT|PERCENT",
        ..Node::new(|n, d, c| {
            c.max_unavailable = one_arg(n, d, "a count or percentage", "max-unavailable 0", reader::int_or_percent);
        })
    },
    Node {
        name: "traffic",
        summary: "Route a share of the requests to the canary through a traffic router",
        doc: "rollouts.md#canary",
        args: "nginx|gateway-api",
        props: &["ingress"],
        ..Node::new(traffic)
    },
    Node {
        name: "analysis",
        summary: "Gates measured in the background for the whole update",
        doc: "rollouts.md#canary",
        props: &["template"],
        children: Some(&GATES),
        ..Node::new(|n, d, c| c.background = Some(analysis(n, d)))
    },
    Node {
        name: "steps",
        summary: "The update's steps: weights, pauses and analyses",
        doc: "rollouts.md#canary",
        children: Some(&STEPS),
        ..Node::new(steps)
    },
];

/// Children of `steps`.
const STEPS: &[Node<Vec<Step>>] = &[
    Node {
        name: "set-weight",
        summary: "Send this percentage of the pods (or traffic) to the new version",
        doc: "rollouts.md#canary",
        args: "PERCENT",
        repeat: true,
        ..Node::new(|n, d, steps| {
            if let Some(w) = one_arg(n, d, "a weight in percent", "set-weight 20", |d, e| reader::u32_in(d, e, 0, 100))
            {
                steps.push(Step::SetWeight(w));
            }
        })
    },
    Node {
        name: "pause",
        summary: "Wait for a duration, or without one for `kubectl argo rollouts promote`",
        doc: "rollouts.md#canary",
        args: "[DURATION|SECONDS]",
        repeat: true,
        ..Node::new(pause)
    },
    Node {
        name: "analysis",
        summary: "Gates that must pass before the next step",
        doc: "rollouts.md#canary",
        props: &["template"],
        children: Some(&GATES),
        repeat: true,
        ..Node::new(|n, d, steps| steps.push(Step::Analysis(analysis(n, d))))
    },
];

/// The gates of an analysis block, its arguments, and the block's name.
struct Gates {
    parent: String,
    list: Vec<Gate>,
    args: Vec<AnalysisArg>,
}

/// Children of `pre-promotion`, `post-promotion` and `analysis`.
const GATES: &[Node<Gates>] = &[
    Node {
        name: "success-rate",
        summary: "Passes while the share of non-5xx requests is at least a ratio",
        doc: "rollouts.md#analysis-gates",
        props: &["at-least", "interval", "count", "failure-limit", "inconclusive-limit"],
        ..Node::new(|n, d, g| gate(n, d, g, GateKind::SuccessRate))
    },
    Node {
        name: "latency",
        summary: "Passes while a latency quantile is at most a duration",
        doc: "rollouts.md#analysis-gates",
        props: &["quantile", "at-most", "interval", "count", "failure-limit", "inconclusive-limit"],
        ..Node::new(|n, d, g| gate(n, d, g, GateKind::Latency))
    },
    Node {
        name: "query",
        summary: "Passes or fails on a PromQL query of yours, judged by conditions on its result",
        doc: "rollouts.md#custom-queries",
        args: "NAME",
        props: &["expr", "success", "failure", "interval", "count", "failure-limit", "inconclusive-limit"],
        repeat: true,
        ..Node::new(query::gate)
    },
    Node {
        name: "job",
        summary: "Passes when a Job of yours completes: a smoke test against the new version",
        doc: "rollouts.md#job-gates",
        args: "NAME",
        props: &["interval", "count", "failure-limit", "inconclusive-limit"],
        repeat: true,
        children: Some(&crate::decode::jobs::SETTINGS),
        ..Node::new(job::gate)
    },
    Node {
        name: "arg",
        summary: "A value the Rollout passes to the queries, read as `{{args.NAME}}`",
        doc: "rollouts.md#custom-queries",
        args: "NAME",
        props: &["value", "pod-template-hash", "field"],
        repeat: true,
        ..Node::new(query::arg)
    },
];

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

fn blue_green(node: &KdlNode, diags: &mut Diagnostics) -> BlueGreen {
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
    node::decode_children(BLUE_GREEN, node, Twice::InParent, &mut bg, diags);
    bg
}

/// `auto-promote #false` or `auto-promote after="10m"` in `blue-green`.
fn auto_promote(node: &KdlNode, diags: &mut Diagnostics, bg: &mut BlueGreen) {
    let mut r = NodeReader::new(node);
    let enabled = r.arg(0).and_then(|e| reader::boolean(diags, e));
    let after = r.prop("after").and_then(|e| positive_seconds(diags, e, "after"));
    r.finish(diags);
    no_children(diags, node);
    bg.auto_promote = Some(AutoPromote { node: name_span(node), enabled, after });
}

fn canary(node: &KdlNode, diags: &mut Diagnostics) -> Canary {
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
    node::decode_children(CANARY, node, Twice::InParent, &mut c, diags);
    c
}

/// `traffic nginx ingress="my-app"`.
fn traffic(node: &KdlNode, diags: &mut Diagnostics, c: &mut Canary) {
    let mut r = NodeReader::new(node);
    let provider = match r.arg(0) {
        Some(e) if matches!(e.value(), kdl::KdlValue::Bool(_)) => {
            diags.push(reader::wrong_type(
                e,
                "a traffic router",
                Some("name the router: `traffic nginx`; to split traffic by replica count, leave `traffic` out".into()),
            ));
            None
        }
        Some(e) => reader::choice(diags, e, &["nginx", "gateway-api"]),
        None => {
            diags.push(missing(name_span(node), "a traffic router", "write `traffic nginx ingress=\"my-app\"`"));
            None
        }
    };
    let ingress =
        r.prop("ingress").and_then(|e| reader::name(diags, e, "Ingress name", values::check_dns1123_subdomain));
    r.finish(diags);
    no_children(diags, node);
    if let (Some(p), Some(i)) = (&provider, &ingress)
        && p.value == "gateway-api"
    {
        diags.push(
            Diagnostic::error(Code::UnexpectedArgument, "`ingress=` belongs to the NGINX router")
                .at(i.span, "the Gateway API router splits the service's route")
                .help("remove `ingress=`: the plugin shifts the weights of the HTTPRoute (GRPCRoute) the `route` block generates"),
        );
        return;
    }
    if let Some(provider) = provider {
        c.traffic = Some(Traffic { node: name_span(node), provider, ingress });
    }
}

/// `steps { set-weight 20; pause "5m"; analysis { … } }`.
fn steps(node: &KdlNode, diags: &mut Diagnostics, c: &mut Canary) {
    NodeReader::new(node).finish(diags);
    let mut steps = Vec::new();
    node::decode_children(STEPS, node, Twice::Decode, &mut steps, diags);
    c.steps = Some(Spanned::new(steps, name_span(node)));
}

/// The longest pause in bare seconds: ten years, as for a duration.
const MAX_PAUSE_SECONDS: u32 = 10 * 365 * 86_400;

/// `pause` (until promoted), `pause "5m"`, or `pause 300` (whole seconds,
/// as Argo Rollouts accepts them: the Rollout gets the integer).
fn pause(node: &KdlNode, diags: &mut Diagnostics, steps: &mut Vec<Step>) {
    let mut r = NodeReader::new(node);
    let arg = r.arg(0);
    let bare = arg.is_some_and(|e| matches!(e.value(), kdl::KdlValue::Integer(_)));
    let duration = arg.and_then(|e| match e.value() {
        kdl::KdlValue::Integer(i) => match u32::try_from(*i).ok().filter(|s| (1..=MAX_PAUSE_SECONDS).contains(s)) {
            Some(s) => Some(Spanned::new(Duration { millis: u64::from(s) * 1000 }, reader::value_span(e))),
            None => {
                diags.push(
                    Diagnostic::error(Code::OutOfRange, format!("a pause of {i} seconds is out of range"))
                        .at(reader::value_span(e), format!("must be between 1 and {MAX_PAUSE_SECONDS} (ten years)"))
                        .help("write a positive number of seconds (`pause 30`), a duration (`pause \"5m\"`), or `pause` alone to wait for `kubectl argo rollouts promote`"),
                );
                None
            }
        },
        _ => positive_seconds(diags, e, "pause"),
    });
    let given = node.entries().iter().any(|e| e.name().is_none());
    r.finish(diags);
    no_children(diags, node);
    if given && duration.is_none() {
        return;
    }
    steps.push(Step::Pause { node: name_span(node), duration, bare });
}

/// `pre-promotion { success-rate …; latency … }` and the other gate sets.
fn analysis(node: &KdlNode, diags: &mut Diagnostics) -> Analysis {
    let mut r = NodeReader::new(node);
    let template = r
        .prop("template")
        .and_then(|e| reader::name(diags, e, "AnalysisTemplate name", values::check_dns1123_subdomain));
    r.finish(diags);
    let parent = node.name().value();
    let mut gates = Gates { parent: parent.to_string(), list: Vec::new(), args: Vec::new() };
    node::decode_children(GATES, node, Twice::Decode, &mut gates, diags);
    if gates.list.is_empty() {
        diags.push(missing(
            name_span(node),
            "an analysis gate",
            format!("write `{parent} {{ success-rate at-least=0.95 }}`"),
        ));
    }
    Analysis { node: name_span(node), template, gates: gates.list, args: gates.args }
}

/// One gate of `kind`; a second gate of a kind in one block is reported.
fn gate(node: &KdlNode, diags: &mut Diagnostics, gates: &mut Gates, kind: GateKind) {
    let name = node.name().value();
    let mut r = NodeReader::new(node);
    let mut g = Gate::new(kind, Spanned::new(name.to_string(), name_span(node)));
    if kind == GateKind::SuccessRate {
        g.at_least = r.prop("at-least").and_then(|e| reader::ratio(diags, e));
    } else {
        latency_bound(&mut r, diags, &mut g);
    }
    measurements(&mut r, diags, &mut g);
    r.finish(diags);
    no_children(diags, node);
    if let Some(prev) = gates.list.iter().find(|x| x.kind == kind) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{name}` is set twice in `{}`", gates.parent))
                .at(g.name.span, "set again here")
                .also(prev.name.span, "first set here")
                .help("one gate of each kind per analysis"),
        );
        return;
    }
    gates.list.push(g);
}

/// `interval=`, `count=` (or `count="whole-update"`), `failure-limit=` and
/// `inconclusive-limit=`: how a gate measures, shared by every gate kind.
fn measurements(r: &mut NodeReader, diags: &mut Diagnostics, g: &mut Gate) {
    g.interval = r.prop("interval").and_then(|e| positive_seconds(diags, e, "interval"));
    match r.prop("count") {
        Some(e) if matches!(e.value(), kdl::KdlValue::String(_)) => {
            g.whole_update = reader::choice(diags, e, &["whole-update"]).map(|s| s.span);
        }
        Some(e) => g.count = reader::u32_in(diags, e, 1, 1000),
        None => {}
    }
    g.failure_limit = r.prop("failure-limit").and_then(|e| reader::u32_in(diags, e, 0, 1000));
    g.inconclusive_limit = r.prop("inconclusive-limit").and_then(|e| reader::u32_in(diags, e, 0, 1000));
}

/// `quantile=0.95 at-most="500ms"` of a latency gate.
fn latency_bound(r: &mut NodeReader, diags: &mut Diagnostics, g: &mut Gate) {
    g.quantile = r.prop("quantile").and_then(|e| reader::number(diags, e));
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
    g.at_most = r.prop("at-most").and_then(|e| reader::duration(diags, e));
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
