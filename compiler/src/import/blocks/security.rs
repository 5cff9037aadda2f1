//! `security` (the pod's user and groups) and `service-account`.

use serde_json::Value;

use super::{Cx, POD, s};

pub fn map(cx: &mut Cx) {
    let mut lines = Vec::new();
    for (field, node) in [("runAsUser", "run-as-user"), ("runAsGroup", "run-as-group"), ("fsGroup", "fs-group")] {
        if let Some(n) = cx.at(&format!("{POD}/securityContext/{field}")).and_then(Value::as_u64) {
            lines.push(format!("    {node} {n}"));
            cx.claim(0, format!("{POD}/securityContext/{field}"), "security");
        }
    }
    if !lines.is_empty() {
        cx.node("security", format!("security {{\n{}\n}}", lines.join("\n")));
    }
    account(cx);
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
