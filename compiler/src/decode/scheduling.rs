//! The `scheduling` block: which nodes the pods may run on.

use kdl::KdlNode;

use super::body::Contents;
use super::metadata::string_map;
use super::node::Node;
use super::reader::{self, NodeReader, children, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Toleration};
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
];

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
