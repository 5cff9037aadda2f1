//! The `scheduling` block: which nodes the pods may run on, next to what,
//! and with which priority.

use kdl::KdlNode;

use super::body::Contents;
use super::metadata::{child_map, string_map};
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Affinity, Map, NodeAffinity, PodAntiAffinity, Toleration};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "node-selector",
        order: 21,
        summary: "Node labels the pods require (`nodeSelector`)",
        doc: "language.md#node-selector",
        ..Node::new(|n, d, c| c.body.node_selector = string_map(n, d, "label", true))
    },
    Node {
        name: "tolerations",
        order: 22,
        summary: "Taints the pods tolerate, one per child: `KEY [VALUE] effect=…`",
        doc: "language.md#tolerations",
        item_props: &["operator", "effect", "seconds"],
        ..Node::new(|n, d, c| tolerations(n, d, &mut c.body.tolerations))
    },
    Node {
        name: "affinity",
        order: 22,
        summary: "Node affinity and pod anti-affinity presets (`affinity`)",
        doc: "language.md#affinity-and-priority-class",
        children: Some(&AFFINITY),
        ..Node::new(|n, d, c| c.body.placement.affinity = Some(affinity(n, d)))
    },
    Node {
        name: "priority-class",
        order: 22,
        summary: "The pods' PriorityClass (`priorityClassName`)",
        doc: "language.md#affinity-and-priority-class",
        args: "NAME",
        ..Node::new(|n, d, c| c.body.placement.priority_class = priority_class(n, d))
    },
];

/// Children of `affinity`.
const AFFINITY: &[Node<Affinity>] = &[
    Node {
        name: "node",
        summary: "A node label whose value must (or with `prefer=`, should) be one of these",
        doc: "language.md#affinity-and-priority-class",
        args: "KEY VALUE…",
        props: &["prefer"],
        repeat: true,
        ..Node::new(node_affinity)
    },
    Node {
        name: "pod-anti-affinity",
        summary: "Keep the service's pods (or the pods with the labels below it) on different nodes (`node`) or zones (`zone`)",
        doc: "language.md#affinity-and-priority-class",
        args: "node | zone",
        props: &["required", "prefer"],
        repeat: true,
        ..Node::new(pod_anti_affinity)
    },
];

fn affinity(node: &KdlNode, diags: &mut Diagnostics) -> Affinity {
    NodeReader::new(node).finish(diags);
    let mut a = Affinity { node: name_span(node), nodes: Vec::new(), anti: Vec::new() };
    node::decode_children(AFFINITY, node, Twice::Decode, &mut a, diags);
    if a.nodes.is_empty() && a.anti.is_empty() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "`affinity` says nothing")
                .at(a.node, "an empty affinity")
                .help("add `node \"KEY\" \"VALUE\"` or `pod-anti-affinity \"node\"`, or remove it"),
        );
    }
    a
}

/// `node "kubernetes.io/arch" "amd64" "arm64" prefer=50`.
fn node_affinity(node: &KdlNode, diags: &mut Diagnostics, a: &mut Affinity) {
    let mut r = NodeReader::new(node);
    let key = match r.arg(0) {
        Some(e) => reader::name(diags, e, "node label", values::check_qualified_name),
        None => {
            diags.push(missing(r.name_span(), "a node label", "write `node \"kubernetes.io/arch\" \"amd64\"`"));
            None
        }
    };
    let values: Vec<Spanned<String>> = r
        .rest_args(1)
        .into_iter()
        .filter_map(|e| reader::name(diags, e, "label value", values::check_label_value))
        .collect();
    let prefer = r.prop("prefer").and_then(|e| reader::u32_in(diags, e, 1, 100));
    r.finish(diags);
    no_children(diags, node);
    let Some(key) = key else { return };
    if values.is_empty() && node.entries().iter().filter(|e| e.name().is_none()).count() < 2 {
        diags.push(missing(
            key.span,
            "the values the label may take",
            format!("write `node \"{}\" \"VALUE\"` (one or more values)", key.value),
        ));
        return;
    }
    a.nodes.push(NodeAffinity { key, values, prefer });
}

/// `pod-anti-affinity "node" required=#true`, `pod-anti-affinity "node"
/// prefer=5 { "app.kubernetes.io/part-of" "shop" }`.
fn pod_anti_affinity(node: &KdlNode, diags: &mut Diagnostics, a: &mut Affinity) {
    let mut r = NodeReader::new(node);
    let topology = match r.arg(0) {
        Some(e) => reader::choice(diags, e, &["node", "zone"]),
        None => {
            diags.push(missing(r.name_span(), "`node` or `zone`", "write `pod-anti-affinity \"node\"`"));
            None
        }
    };
    let required = r.prop("required").and_then(|e| reader::boolean(diags, e));
    let prefer = r.prop("prefer").and_then(|e| reader::u32_in(diags, e, 1, 100));
    r.finish(diags);
    let labels = child_map(node, diags, "pod label");
    let Some(topology) = topology else { return };
    if let (Some(req), Some(w)) = (required.as_ref().filter(|r| r.value), &prefer) {
        diags.push(
            Diagnostic::error(Code::Duplicate, "`pod-anti-affinity` is both required and preferred")
                .at(w.span, "a preference's weight")
                .also(req.span, "a requirement")
                .help("a required term has no weight: keep `required=#true` or `prefer=`"),
        );
    }
    let same = |p: &PodAntiAffinity| {
        p.topology.value == topology.value
            && p.labels.len() == labels.len()
            && p.labels.iter().all(|(k, v)| labels.get(k).is_some_and(|x| x.value == v.value))
    };
    if let Some(prev) = a.anti.iter().find(|p| same(p)) {
        let whose = if labels.is_empty() { String::new() } else { " for the same labels".to_string() };
        diags.push(
            Diagnostic::error(
                Code::Duplicate,
                format!("`pod-anti-affinity \"{}\"` is set twice{whose}", topology.value),
            )
            .at(topology.span, "set again here")
            .also(prev.topology.span, "first set here"),
        );
        return;
    }
    let prefer = prefer.filter(|_| !required.as_ref().is_some_and(|r| r.value));
    a.anti.push(PodAntiAffinity { topology, required, prefer, labels });
}

/// `priority-class "business-critical"`.
fn priority_class(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "priority class name", values::check_dns1123_subdomain),
        None => {
            diags.push(missing(r.name_span(), "a priority class name", "write `priority-class \"high\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    name
}

fn tolerations(node: &KdlNode, diags: &mut Diagnostics, tols: &mut Map<Toleration>) {
    NodeReader::new(node).finish(diags);
    for child in children(node) {
        let key_str = child.name().value();
        let key = Spanned::new(key_str.to_string(), name_span(child));
        if key_str != "*"
            && let Err(why) = values::check_qualified_name(key_str)
        {
            diags.push(reader::invalid_name(key.span, "taint key", key_str, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let value = r.arg(0).and_then(|e| reader::text(diags, e));
        let operator = r.prop("operator").and_then(|e| reader::choice(diags, e, &["Exists", "Equal"]));
        let effect =
            r.prop("effect").and_then(|e| reader::choice(diags, e, &["NoSchedule", "PreferNoSchedule", "NoExecute"]));
        let seconds = r
            .prop("seconds")
            .and_then(|e| reader::int(diags, e, 0, i128::from(i64::MAX)))
            .map(|s| s.map(|v| i64::try_from(v).unwrap_or(0)));
        r.finish(diags);
        no_children(diags, child);
        if let (Some(s), Some(e)) = (&seconds, &effect)
            && e.value != "NoExecute"
        {
            diags.push(
                Diagnostic::error(Code::InvalidChoice, "`seconds` applies only to the `NoExecute` effect")
                    .at(s.span, "ignored by Kubernetes for this effect")
                    .also(e.span, "effect set here"),
            );
        }
        if let (Some(v), Some(o)) = (&value, &operator)
            && o.value == "Exists"
        {
            diags.push(
                Diagnostic::error(Code::InvalidChoice, "a toleration with `operator=\"Exists\"` takes no value")
                    .at(v.span, "value given here")
                    .also(o.span, "operator set here"),
            );
        }
        let map_key = format!("{key_str}:{}", effect.as_ref().map_or("", |e| e.value.as_str()));
        if let Some(prev) = tols.get(&map_key) {
            diags.push(
                Diagnostic::error(
                    Code::Duplicate,
                    format!("toleration `{key_str}` is declared twice for the same effect"),
                )
                .at(key.span, "declared again here")
                .also(prev.key.span, "first declared here"),
            );
            continue;
        }
        tols.insert(map_key, Toleration { key, operator, value, effect, seconds });
    }
}
