//! `node-selector` and `tolerations`.

use serde_json::Value;

use super::{Cx, POD, kdl, map_block, s};

fn toleration(t: &Value) -> Option<String> {
    let m = t.as_object()?;
    if m.keys().any(|k| !matches!(k.as_str(), "key" | "operator" | "value" | "effect" | "tolerationSeconds")) {
        return None;
    }
    let mut line = match m.get("key").and_then(Value::as_str) {
        Some(k) => kdl::name(k),
        None => "\"*\"".into(),
    };
    if let Some(v) = m.get("value").and_then(Value::as_str) {
        line.push_str(&format!(" {}", s(v)));
    }
    if let Some(o) = m.get("operator").and_then(Value::as_str).filter(|_| m.contains_key("key")) {
        line.push_str(&format!(" operator={}", s(o)));
    }
    if let Some(e) = m.get("effect").and_then(Value::as_str) {
        line.push_str(&format!(" effect={}", s(e)));
    }
    if let Some(n) = m.get("tolerationSeconds").and_then(Value::as_u64) {
        line.push_str(&format!(" seconds={n}"));
    }
    Some(line)
}

/// `node KEY VALUE…` of one `In` requirement.
fn node(r: &Value) -> Option<String> {
    if r.get("operator")?.as_str()? != "In" || r.as_object()?.len() != 3 {
        return None;
    }
    let values: Option<Vec<String>> = r.get("values")?.as_array()?.iter().map(|v| v.as_str().map(s)).collect();
    Some(format!("node {} {}", s(r.get("key")?.as_str()?), values.filter(|v| !v.is_empty())?.join(" ")))
}

/// `pod-anti-affinity node|zone` for a term of the workload's own selector
/// or of other pods' labels (`{ LABEL VALUE … }`); `weight` is a preferred
/// term's (`None`: required).
fn anti(cx: &Cx, term: &Value, weight: Option<u64>) -> Option<String> {
    let topology = match term.get("topologyKey")?.as_str()? {
        "kubernetes.io/hostname" => "node",
        "topology.kubernetes.io/zone" => "zone",
        _ => return None,
    };
    let selector = term.get("labelSelector")?.as_object()?;
    let labels = selector.get("matchLabels")?.as_object().filter(|m| !m.is_empty())?;
    if term.as_object()?.len() != 2 || selector.len() != 1 {
        return None;
    }
    let body = if cx.at("/spec/selector/matchLabels").and_then(Value::as_object) == Some(labels) {
        String::new()
    } else {
        format!(" {}", map_block(labels)?)
    };
    let how = match weight {
        None => " required=#true".to_string(),
        Some(100) => String::new(),
        Some(w @ 1..=99) => format!(" prefer={w}"),
        Some(_) => return None,
    };
    Some(format!("pod-anti-affinity {}{how}{body}", s(topology)))
}

/// `affinity { … }`: the terms svcc writes, in its order, each list up to
/// the first term it cannot say (a patch writes the rest).
fn affinity(cx: &Cx) -> Vec<String> {
    let mut out = Vec::new();
    let at = |p: &str| cx.at(&format!("{POD}/affinity/{p}")).and_then(Value::as_array).cloned().unwrap_or_default();
    let required = at("nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms");
    if let [term] = required.as_slice()
        && let Some(exprs) = term.get("matchExpressions").and_then(Value::as_array)
    {
        out.extend(exprs.iter().map_while(node));
    }
    for t in at("nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution") {
        let (Some(w), Some([r])) = (
            t.get("weight").and_then(Value::as_u64),
            t.pointer("/preference/matchExpressions").and_then(Value::as_array).map(Vec::as_slice),
        ) else {
            break;
        };
        let Some(line) = node(r) else { break };
        out.push(format!("{line} prefer={w}"));
    }
    for t in at("podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution") {
        let Some(line) = t.get("podAffinityTerm").and_then(|term| anti(cx, term, Some(t.get("weight")?.as_u64()?)))
        else {
            break;
        };
        out.push(line);
    }
    out.extend(
        at("podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution").iter().map_while(|t| anti(cx, t, None)),
    );
    out
}

pub fn map(cx: &mut Cx) {
    let lines = affinity(cx);
    if !lines.is_empty() {
        cx.node("affinity", format!("affinity {{\n    {}\n}}", lines.join("\n    ")));
        cx.claim(0, format!("{POD}/affinity"), "scheduling");
    }
    if let Some(p) = cx.text(&format!("{POD}/priorityClassName")) {
        cx.node("priority-class", format!("priority-class {}", s(p)));
        cx.claim(0, format!("{POD}/priorityClassName"), "scheduling");
    }
    if let Some(body) =
        cx.at(&format!("{POD}/nodeSelector")).and_then(Value::as_object).filter(|m| !m.is_empty()).and_then(map_block)
    {
        cx.node("node-selector", format!("node-selector {body}"));
        cx.claim(0, format!("{POD}/nodeSelector"), "scheduling");
    }
    let Some(ts) = cx.at(&format!("{POD}/tolerations")).and_then(Value::as_array) else { return };
    let lines: Option<Vec<String>> = ts.iter().map(toleration).collect();
    if let Some(lines) = lines.filter(|l| !l.is_empty()) {
        let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
        cx.node("tolerations", format!("tolerations {{\n{}\n}}", body.join("\n")));
        cx.claim(0, format!("{POD}/tolerations"), "scheduling");
    }
}
