//! `query NAME expr=… success=… failure=…` and `arg NAME …` in an analysis
//! block: custom analysis gates (docs/rollouts.md#custom-queries). The
//! conditions are parsed here ([`condition`], SVC0241); the query, which
//! needs the service's selector and the block's arguments, is checked in
//! `check/rollout/query.rs`.

use kdl::{KdlEntry, KdlNode};

use super::Gates;
use crate::condition;
use crate::decode::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Spanned;
use crate::values;

/// The node's name argument, checked as an RFC 1123 label.
fn label(
    r: &mut NodeReader,
    node: &KdlNode,
    diags: &mut Diagnostics,
    what: &str,
    example: &str,
) -> Option<Spanned<String>> {
    match r.arg(0) {
        Some(e) => reader::name(diags, e, what, values::check_dns1123_label),
        None => {
            diags.push(missing(name_span(node), what, format!("write `{example}`")));
            None
        }
    }
}

/// A condition, parsed (SVC0241 when it is outside the accepted subset).
fn condition(diags: &mut Diagnostics, e: &KdlEntry, key: &str) -> Option<Spanned<condition::Expr>> {
    let s = reader::string(diags, e)?;
    match condition::parse(&s.value) {
        Ok(x) => Some(Spanned::new(x, s.span)),
        Err(err) => {
            diags.push(
                Diagnostic::error(Code::InvalidCondition, format!("`{key}` is not a condition svcc can check"))
                    .at(s.span, err.message)
                    .help("compare the result with numbers: `result[0] >= 0.95`, combined with `&&`, `||`, `!`, `len(result)`, `isNaN(…)`")
                    .note(format!("at character {} of the condition", err.offset + 1)),
            );
            None
        }
    }
}

/// `query NAME expr="…" success="…" failure="…" interval=… count=… …`.
pub(super) fn gate(node: &KdlNode, diags: &mut Diagnostics, gates: &mut Gates) {
    let mut r = NodeReader::new(node);
    let name =
        label(&mut r, node, diags, "analysis query name", "query queue-depth expr=\"…\" success=\"result[0] < 100\"");
    let expr = r.prop("expr").and_then(|e| reader::string(diags, e));
    let success = r.prop("success").and_then(|e| condition(diags, e, "success"));
    let failure = r.prop("failure").and_then(|e| condition(diags, e, "failure"));
    let given = |k: &str| node.entries().iter().any(|e| e.name().is_some_and(|n| n.value() == k));
    let (has_expr, has_condition) = (given("expr"), given("success") || given("failure"));
    let mut g = Gate::new(GateKind::Query, Spanned::new(String::new(), name_span(node)));
    super::measurements(&mut r, diags, &mut g);
    r.finish(diags);
    no_children(diags, node);
    if !has_expr {
        diags.push(missing(
            name_span(node),
            "a query",
            "write the PromQL: `expr=\"sum(rate(jobs_failed_total{${selector}}[5m]))\"`",
        ));
    }
    if !has_condition {
        diags.push(missing(
            name_span(node),
            "a condition",
            "say when a measurement passes or fails: `success=\"result[0] < 5\"` and/or `failure=\"result[0] > 10\"`",
        ));
    }
    // An incomplete gate (reported) still counts as the block's gate, so
    // the block is not also reported empty.
    let Some(name) = name else { return };
    if let Some(prev) = gates.list.iter().find(|x| x.kind == GateKind::Query && x.name.value == name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("query `{}` is set twice in `{}`", name.value, gates.parent))
                .at(name.span, "set again here")
                .also(prev.name.span, "first set here")
                .help("give each query of an analysis its own name: it is the AnalysisTemplate metric's name"),
        );
        return;
    }
    g.name = name;
    if let Some(expr) = expr
        && (success.is_some() || failure.is_some())
    {
        g.query = Some(Box::new(QueryGate { expr, success, failure }));
    }
    gates.list.push(g);
}

/// `arg NAME value="…" | pod-template-hash="latest"|"stable" | field="…"`.
pub(super) fn arg(node: &KdlNode, diags: &mut Diagnostics, gates: &mut Gates) {
    let mut r = NodeReader::new(node);
    let name = label(&mut r, node, diags, "argument name", "arg canary-hash pod-template-hash=\"latest\"");
    let mut sources = Vec::new();
    if let Some(e) = r.prop("value") {
        sources.push(reader::text(diags, e).map(|v| ArgSource::Value(v.value)));
    }
    if let Some(e) = r.prop("pod-template-hash") {
        sources.push(
            reader::choice(diags, e, &["latest", "stable"])
                .map(|v| ArgSource::PodTemplateHash(if v.value == "latest" { "Latest" } else { "Stable" })),
        );
    }
    if let Some(e) = r.prop("field") {
        sources.push(reader::string(diags, e).and_then(|v| field(diags, v)));
    }
    r.finish(diags);
    no_children(diags, node);
    let Some(name) = name else { return };
    if sources.len() != 1 {
        diags.push(
            Diagnostic::error(Code::AnalysisArg, format!("argument `{}` needs exactly one value", name.value))
                .at(name_span(node), if sources.is_empty() { "no value" } else { "more than one value" })
                .help("write one of `value=\"…\"`, `pod-template-hash=\"latest\"` or `field=\"metadata.name\"`"),
        );
        return;
    }
    let Some(source) = sources.pop().flatten() else { return };
    if name.value == crate::check::rollout::NAMESPACE_ARG {
        diags.push(
            Diagnostic::error(Code::AnalysisArg, "`namespace` is the argument svcc passes itself")
                .at(name.span, "reserved")
                .help("write `${namespace}` in the query for the namespace, or give the argument another name"),
        );
        return;
    }
    if let Some(prev) = gates.args.iter().find(|a| a.name.value == name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("argument `{}` is set twice in `{}`", name.value, gates.parent))
                .at(name.span, "set again here")
                .also(prev.name.span, "first set here"),
        );
        return;
    }
    gates.args.push(AnalysisArg { name, source });
}

/// The Rollout fields Argo Rollouts resolves for an argument and whose
/// values are safe inside a PromQL string: `metadata.name`,
/// `metadata.namespace`, `metadata.labels['KEY']` (SVC0242 otherwise).
fn field(diags: &mut Diagnostics, v: Spanned<String>) -> Option<ArgSource> {
    let f = v.value.as_str();
    let ok = matches!(f, "metadata.name" | "metadata.namespace")
        || f.strip_prefix("metadata.labels['")
            .and_then(|k| k.strip_suffix("']"))
            .is_some_and(|k| values::check_qualified_name(k).is_ok());
    if ok {
        return Some(ArgSource::Field(v.value));
    }
    diags.push(
        Diagnostic::error(Code::AnalysisArg, format!("`{f}` is not a field an argument can read"))
            .at(v.span, "not one of the Rollout's readable fields")
            .help("read `metadata.name`, `metadata.namespace` or a label: `metadata.labels['team']`")
            .note("label values cannot hold quotes, so they are safe inside a PromQL string; annotations can, and are not accepted"),
    );
    None
}
