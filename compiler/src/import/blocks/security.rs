//! `security` (the pod's user and groups, the container's hardening
//! switches and capabilities) and `service-account`.
//!
//! A weakening the input has and `security` can say (a capability, root, a
//! writable root filesystem) is written as that setting, without an
//! `allow`: svcc then warns (SVC0403) at every build until someone records
//! why (`allow … reason=`) or takes it out. What only a patch could say (a
//! privileged container) stays changed by design.

use serde_json::Value;

use super::{CONTAINER, Cx, POD, s};

pub fn map(cx: &mut Cx) {
    let mut lines = Vec::new();
    let pod = |f: &str| format!("{POD}/securityContext/{f}");
    let container = |f: &str| format!("{CONTAINER}/securityContext/{f}");
    // The ids: the pod's, else the service's container's (which
    // `per-container` writes there too).
    for (field, node) in [("runAsUser", "run-as-user"), ("runAsGroup", "run-as-group"), ("fsGroup", "fs-group")] {
        let n = cx.at(&pod(field)).or_else(|| cx.at(&container(field))).and_then(Value::as_u64);
        if let Some(n) = n {
            lines.push(format!("    {node} {n}"));
            cx.claim(0, pod(field), "security");
        }
    }
    switches(cx, &mut lines);
    let each = ["runAsUser", "runAsGroup", "seccompProfile"].iter().any(|f| cx.at(&container(f)).is_some())
        || cx.at(&container("privileged")).and_then(Value::as_bool) == Some(false);
    if each {
        lines.push("    per-container #true".into());
        for f in ["runAsUser", "runAsGroup", "seccompProfile", "privileged"] {
            cx.claim(0, container(f), "security");
        }
    }
    if let Some(caps) = cx.at(&format!("{CONTAINER}/securityContext/capabilities/add")).and_then(Value::as_array) {
        let names: Option<Vec<String>> = caps.iter().map(|c| c.as_str().map(s)).collect();
        if let Some(names) = names.filter(|n| !n.is_empty()) {
            lines.push(format!("    add-capabilities {}", names.join(" ")));
            cx.claim(0, format!("{CONTAINER}/securityContext/capabilities/add"), "security");
        }
    }
    let seccomp = pod("seccompProfile/type");
    if let Some(t) =
        cx.text(&seccomp).or_else(|| cx.text(&container("seccompProfile/type"))).filter(|t| *t == "Unconfined")
    {
        lines.push(format!("    seccomp {}", s(t)));
        cx.claim(0, seccomp, "security");
    }
    if !lines.is_empty() {
        cx.node("security", format!("security {{\n{}\n}}", lines.join("\n")));
    }
    account(cx);
}

/// `run-as-non-root`, `read-only-root-filesystem` and
/// `allow-privilege-escalation`, written only when the input says the
/// opposite of svcc's default (the pod's or the container's field).
fn switches(cx: &mut Cx, lines: &mut Vec<String>) {
    let pod = |f: &str| format!("{POD}/securityContext/{f}");
    let container = |f: &str| format!("{CONTAINER}/securityContext/{f}");
    // Root (user 0) with no word on non-root: the input runs as root.
    let root = [pod("runAsUser"), container("runAsUser")].iter().any(|p| cx.at(p).and_then(Value::as_u64) == Some(0));
    let flags: [(&str, bool, Vec<String>); 3] = [
        ("run-as-non-root", true, vec![pod("runAsNonRoot"), container("runAsNonRoot")]),
        ("read-only-root-filesystem", true, vec![container("readOnlyRootFilesystem")]),
        ("allow-privilege-escalation", false, vec![container("allowPrivilegeEscalation")]),
    ];
    for (node, default, at) in flags {
        let given: Vec<bool> = at.iter().filter_map(|p| cx.at(p).and_then(Value::as_bool)).collect();
        let implied = (node == "run-as-non-root" && root && given.is_empty()).then_some(false);
        // Only a value every field agrees on is one setting.
        let Some(v) = given.first().copied().filter(|v| given.iter().all(|x| x == v)).or(implied) else { continue };
        if v != default {
            lines.push(format!("    {node} {}", if v { "#true" } else { "#false" }));
        }
        for p in at {
            cx.claim(0, p, "security");
        }
    }
}

fn account(cx: &mut Cx) {
    let name = cx.text(&format!("{POD}/serviceAccountName")).or_else(|| cx.text(&format!("{POD}/serviceAccount")));
    let sa = cx.first("ServiceAccount");
    let automount = cx
        .at(&format!("{POD}/automountServiceAccountToken"))
        .and_then(Value::as_bool)
        .or_else(|| sa.and_then(|(_, v)| v.get("automountServiceAccountToken")).and_then(Value::as_bool));
    let mut text = String::from("service-account");
    match name {
        Some(n) if n != cx.service => text.push_str(&format!(" {}", s(n))),
        _ => {}
    }
    if sa.is_none() && name.is_some() {
        text.push_str(" create=#false");
    }
    if automount == Some(true) {
        text.push_str(" automount-token=#true");
    }
    if text != "service-account" {
        cx.node("service-account", text);
    }
    cx.claim(0, format!("{POD}/serviceAccountName"), "security");
    cx.claim(0, format!("{POD}/automountServiceAccountToken"), "security");
    if let Some((i, _)) = sa {
        cx.claim(i, "", "security");
    }
}
