//! The `metadata` block: the namespace, and the labels and annotations of
//! the generated objects and of the pods.

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Names, ObjectMetadata, Selector};
use crate::source::{Span, Spanned};
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "namespace",
        order: 2,
        summary: "The namespace of every generated object (default: the environment's name)",
        doc: "language.md#namespace",
        args: "NAME",
        ..Node::new(|n, d, c| c.body.namespace = namespace(n, d))
    },
    Node {
        name: "version",
        order: 11,
        summary: "The `app.kubernetes.io/version` label, when the app's version is not its image tag",
        doc: "language.md#version",
        args: "VERSION",
        ..Node::new(|n, d, c| c.body.version = version(n, d))
    },
    Node {
        name: "labels",
        order: 11,
        summary: "Labels of every generated object and of the pods (never the selectors)",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.labels = string_map(n, d, "label", true))
    },
    Node {
        name: "annotations",
        order: 12,
        summary: "Annotations of every generated object (not the pods)",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.annotations = string_map(n, d, "annotation", false))
    },
    Node {
        name: "pod-annotations",
        order: 13,
        summary: "Annotations of the pod template",
        doc: "language.md#labels-annotations-pod-annotations",
        ..Node::new(|n, d, c| c.body.pod_annotations = string_map(n, d, "annotation", false))
    },
    Node {
        name: "object",
        order: 13,
        summary: "Labels and annotations of one generated object only (the ServiceAccount, an `expose`d Service, …)",
        doc: "language.md#object-per-object-labels-and-annotations",
        args: "OBJECT",
        repeat: true,
        children: Some(&OBJECT),
        ..Node::new(|n, d, c| object_metadata(n, d, &mut c.body.objects))
    },
    Node {
        name: "selector",
        order: 13,
        summary: "Adopt a live workload: the selector labels it already has, kept as given",
        doc: "language.md#selector-adopting-a-workload",
        item_props: &["service"],
        ..Node::new(|n, d, c| c.body.selector = selector(n, d))
    },
    Node {
        name: "names",
        order: 13,
        summary: "Names of generated objects other than the service's: the workload, the Services, …",
        doc: "language.md#names-object-names",
        children: Some(&NAMES),
        ..Node::new(|n, d, c| c.body.names = names(n, d))
    },
];

/// A child of `names`: the name of one generated object.
const fn object_name(
    name: &'static str,
    summary: &'static str,
    decode: fn(&KdlNode, &mut Diagnostics, &mut Names),
) -> Node<Names> {
    Node { name, summary, doc: "language.md#names-object-names", args: "NAME", ..Node::new(decode) }
}

/// `version "1.9.5"`: a label value.
fn version(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let v = match r.arg(0) {
        Some(e) => reader::name(diags, e, "version", |s| {
            if s.is_empty() { Err("a version is not empty".into()) } else { values::check_label_value(s) }
        }),
        None => {
            diags.push(missing(r.name_span(), "a version", "write `version \"1.9.5\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// Children of `names`, one per object whose name can differ from the service's.
const NAMES: &[Node<Names>] = &[
    object_name("workload", "The Deployment or Rollout (and the autoscaler's target)", |n, d, x| {
        x.workload = object(n, d, values::check_dns1123_subdomain);
    }),
    object_name("service", "The main Service (blue-green's active, canary's stable)", |n, d, x| {
        x.service = object(n, d, values::check_dns1035_label);
    }),
    object_name("preview-service", "The blue-green preview Service (default NAME-preview)", |n, d, x| {
        x.preview_service = object(n, d, values::check_dns1035_label);
    }),
    Node {
        args: "NAME|#false",
        ..object_name("canary-service", "The canary Service (default NAME-canary); `#false`: none", canary_service)
    },
    object_name("autoscaler", "The HorizontalPodAutoscaler", |n, d, x| {
        x.autoscaler = object(n, d, values::check_dns1123_subdomain);
    }),
    object_name("disruption-budget", "The PodDisruptionBudget", |n, d, x| {
        x.disruption_budget = object(n, d, values::check_dns1123_subdomain);
    }),
    object_name("service-monitor", "The ServiceMonitor", |n, d, x| {
        x.service_monitor = object(n, d, values::check_dns1123_subdomain);
    }),
    object_name("prometheus-rule", "The PrometheusRule", |n, d, x| {
        x.prometheus_rule = object(n, d, values::check_dns1123_subdomain);
    }),
];

fn names(node: &KdlNode, diags: &mut Diagnostics) -> Names {
    NodeReader::new(node).finish(diags);
    let mut names = Names { node: Some(name_span(node)), ..Names::default() };
    node::decode_children(NAMES, node, Twice::InParent, &mut names, diags);
    names
}

/// The one argument of a `names` child: an object name `check` accepts.
fn object(node: &KdlNode, diags: &mut Diagnostics, check: fn(&str) -> Result<(), String>) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let what = format!("{} name", node.name().value());
    let v = match r.arg(0) {
        Some(e) => reader::name(diags, e, &what, check),
        None => {
            diags.push(missing(r.name_span(), "a name", format!("write `{} \"my-name\"`", r.name())));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// `canary-service "NAME"`, or `canary-service #false` for none.
fn canary_service(node: &KdlNode, diags: &mut Diagnostics, x: &mut Names) {
    if let Some(e) = node.entries().iter().find(|e| e.name().is_none())
        && let kdl::KdlValue::Bool(b) = e.value()
    {
        let mut r = NodeReader::new(node);
        let off = r.arg(0).and_then(|e| reader::boolean(diags, e));
        r.finish(diags);
        no_children(diags, node);
        if *b {
            diags.push(reader::wrong_type(
                e,
                "a Service name or `#false`",
                Some("name the Service (`canary-service \"api-canary\"`), or write `#false` for none".into()),
            ));
        } else if let Some(off) = off {
            x.canary_service = Some(Spanned::new(None, off.span));
        }
        return;
    }
    x.canary_service = object(node, diags, values::check_dns1035_label).map(|s| s.map(Some));
}

/// Children of `object`.
const OBJECT: &[Node<ObjectMetadata>] = &[
    Node {
        name: "labels",
        summary: "Labels of this object only",
        doc: "language.md#object-per-object-labels-and-annotations",
        ..Node::new(|n, d, o| o.labels = string_map(n, d, "label", true))
    },
    Node {
        name: "annotations",
        summary: "Annotations of this object only",
        doc: "language.md#object-per-object-labels-and-annotations",
        ..Node::new(|n, d, o| o.annotations = string_map(n, d, "annotation", false))
    },
];

/// `object "service-account" { labels { … } annotations { … } }`.
fn object_metadata(node: &KdlNode, diags: &mut Diagnostics, objects: &mut Map<ObjectMetadata>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "object", values::check_dns1035_label),
        None => {
            diags.push(missing(
                r.name_span(),
                "the object",
                "write `object \"service-account\" { labels { team \"search\" } }`",
            ));
            None
        }
    };
    r.finish(diags);
    // The children are checked even when the object's name is not.
    let mut o = ObjectMetadata {
        name: name.clone().unwrap_or_else(|| Spanned::new(String::new(), name_span(node))),
        labels: Map::new(),
        annotations: Map::new(),
    };
    node::decode_children(OBJECT, node, Twice::InParent, &mut o, diags);
    if name.is_none() {
        return;
    }
    if let Some(prev) = objects.get(&o.name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`object {}` is declared twice", o.name.value))
                .at(o.name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("write its labels and annotations in one `object` block"),
        );
        return;
    }
    objects.insert(o.name.value.clone(), o);
}

/// `selector { app "details" }`: the legacy selector, at least one label.
fn selector(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Selector>> {
    NodeReader::new(node).finish(diags);
    let (labels, workload_only) = flagged_map(node, diags, "selector label", true, Some("service"));
    if labels.is_empty() && children(node).is_empty() {
        diags.push(
            Diagnostic::error(Code::EmptySelector, "a selector needs at least one label")
                .at(name_span(node), "selects every pod of the namespace")
                .help("write the live workload's selector labels, e.g. `selector { app \"details\" }`, or remove `selector` to let svcc select on its identity labels"),
        );
        return None;
    }
    if !labels.is_empty() && labels.keys().all(|k| workload_only.iter().any(|w| &w.value == k)) {
        diags.push(
            Diagnostic::error(Code::ServiceSelectsNothing, "every selector label is `service=#false`")
                .at(name_span(node), "the Services would have no selector")
                .help("keep at least one label in the Services' selector: remove `service=#false` from the label every version shares (e.g. `app`)")
                .note("a Service without a selector routes to no pod svcc manages: its endpoints are left to be written by hand"),
        );
        return None;
    }
    Some(Spanned::new(Selector { labels, workload_only }, name_span(node)))
}

fn namespace(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let namespace = match r.arg(0) {
        Some(e) => reader::name(diags, e, "namespace", values::check_dns1123_label),
        None => {
            diags.push(missing(r.name_span(), "a namespace name", "write `namespace \"payments\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    namespace
}

/// `labels { key "value" }`-style maps.
pub(super) fn string_map(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    label_values: bool,
) -> Map<Spanned<String>> {
    NodeReader::new(node).finish(diags);
    flagged_map(node, diags, what, label_values, None).0
}

/// The `key "value"` children of a node whose own arguments and
/// properties its caller reads (`pod-anti-affinity "node" { … }`).
pub(super) fn child_map(node: &KdlNode, diags: &mut Diagnostics, what: &str) -> Map<Spanned<String>> {
    flagged_map(node, diags, what, true, None).0
}

/// The children of a `labels`-style map, whose entries may carry the
/// boolean property `flag` (`version "v1" service=#false`): the map, and
/// the keys (with their spans) whose `flag` is `#false`. The node's own
/// arguments and properties are its caller's to read.
fn flagged_map(
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    label_values: bool,
    flag: Option<&'static str>,
) -> (Map<Spanned<String>>, Vec<Spanned<String>>) {
    let mut off = Vec::new();
    let mut out: Map<Spanned<String>> = IndexMap::new();
    let mut key_spans: IndexMap<String, Span> = IndexMap::new();
    for child in children(node) {
        let key = child.name().value();
        let kspan = name_span(child);
        if let Err(why) = values::check_qualified_name(key) {
            diags.push(reader::invalid_name(kspan, &format!("{what} key"), key, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let value = match r.arg(0) {
            Some(e) => reader::text(diags, e),
            None => {
                diags.push(missing(kspan, "a value", format!("write `\"{key}\" \"value\"`")));
                None
            }
        };
        let flagged = flag.and_then(|f| r.prop(f)).and_then(|e| reader::boolean(diags, e));
        r.finish(diags);
        no_children(diags, child);
        let Some(value) = value else { continue };
        if label_values && let Err(why) = values::check_label_value(&value.value) {
            diags.push(reader::invalid_name(value.span, "label value", &value.value, &why));
            continue;
        }
        if let Some(first) = key_spans.get(key) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("{what} `{key}` is set twice"))
                    .at(kspan, "set again here")
                    .also(*first, "first set here"),
            );
            continue;
        }
        key_spans.insert(key.to_string(), kspan);
        if flagged.is_some_and(|b| !b.value) {
            off.push(Spanned::new(key.to_string(), kspan));
        }
        out.insert(key.to_string(), value);
    }
    (out, off)
}
