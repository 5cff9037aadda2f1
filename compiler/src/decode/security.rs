//! Decoding `security { … }`: the security context settings and the
//! exceptions to the hardening rules (`allow NAME reason="…"`).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::reader::{self, NodeReader, children, missing, name_span, no_children, unknown_node};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Security, SecurityException};
use crate::source::{Span, Spanned};

pub fn security(node: &KdlNode, diags: &mut Diagnostics, sec: &mut Security) {
    NodeReader::new(node).finish(diags);
    const KNOWN: &[&str] = &[
        "run-as-user",
        "run-as-group",
        "fs-group",
        "run-as-non-root",
        "read-only-root-filesystem",
        "allow-privilege-escalation",
        "add-capabilities",
        "seccomp",
        "allow",
    ];
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    for child in children(node) {
        let name = child.name().value();
        let mut r = NodeReader::new(child);
        let span = name_span(child);
        if name == "allow" {
            allow(child, diags, &mut sec.allow);
            continue;
        }
        if KNOWN.contains(&name) && !reader::first_time(&mut seen, child, "security", diags) {
            continue;
        }
        match name {
            "run-as-user" | "run-as-group" | "fs-group" => {
                let v = match r.arg(0) {
                    Some(e) => {
                        reader::int(diags, e, 0, 2_147_483_647).map(|s| s.map(|v| i64::try_from(v).unwrap_or(0)))
                    }
                    None => {
                        diags.push(missing(span, "an id", format!("write `{name} 1001`")));
                        None
                    }
                };
                match name {
                    "run-as-user" => sec.run_as_user = v,
                    "run-as-group" => sec.run_as_group = v,
                    _ => sec.fs_group = v,
                }
            }
            "run-as-non-root" | "read-only-root-filesystem" | "allow-privilege-escalation" => {
                let v = match r.arg(0) {
                    Some(e) => reader::boolean(diags, e),
                    None => {
                        diags.push(missing(span, "#true or #false", format!("write `{name} #true`")));
                        None
                    }
                };
                match name {
                    "run-as-non-root" => sec.run_as_non_root = v,
                    "read-only-root-filesystem" => sec.read_only_root_filesystem = v,
                    _ => sec.allow_privilege_escalation = v,
                }
            }
            "add-capabilities" => {
                let items = r.rest_args(0);
                let mut caps: Vec<String> = Vec::new();
                for e in items {
                    let Some(s) = reader::string(diags, e) else {
                        continue;
                    };
                    if !s.value.is_empty() && s.value.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                        caps.push(s.value);
                    } else {
                        diags.push(reader::invalid_name(
                            s.span,
                            "capability",
                            &s.value,
                            "capabilities are upper-case, such as NET_BIND_SERVICE",
                        ));
                    }
                }
                sec.add_capabilities = Some(Spanned::new(caps, span));
            }
            "seccomp" => {
                sec.seccomp = match r.arg(0) {
                    Some(e) => reader::choice(diags, e, &["RuntimeDefault", "Unconfined"]),
                    None => {
                        diags.push(missing(span, "a profile", "write `seccomp \"RuntimeDefault\"`"));
                        None
                    }
                };
            }
            _ => {
                unknown_node(diags, child, "security", KNOWN);
                continue;
            }
        }
        r.finish(diags);
        no_children(diags, child);
    }
}

/// `allow host-network reason="node exporter reads host interfaces"`: one
/// rule of `harden::rules::RULES` broken on purpose, with the reason.
fn allow(node: &KdlNode, diags: &mut Diagnostics, allows: &mut Map<SecurityException>) {
    let mut r = NodeReader::new(node);
    let names = crate::harden::rules::allow_names();
    let name = match r.arg(0) {
        Some(e) => reader::choice(diags, e, &names),
        None => {
            diags.push(missing(
                r.name_span(),
                "the rule to allow",
                format!("write `allow host-network reason=\"…\"`; rules: {}", names.join(", ")),
            ));
            None
        }
    };
    let reason = match r.prop("reason") {
        Some(e) => reader::string(diags, e).filter(|s| {
            let ok = !s.value.trim().is_empty();
            if !ok {
                diags.push(missing(s.span, "a reason", "say why the workload needs it: reviewers read this"));
            }
            ok
        }),
        None => {
            diags.push(missing(
                r.name_span(),
                "a `reason`",
                "say why the workload needs it: `reason=\"node exporter reads host interfaces\"`",
            ));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    let (Some(name), Some(reason)) = (name, reason) else { return };
    if let Some(prev) = allows.get(&name.value) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`allow {}` is given twice", name.value))
                .at(name.span, "given again here")
                .also(prev.name.span, "first given here")
                .help("keep one, with one reason"),
        );
        return;
    }
    allows.insert(name.value.clone(), SecurityException { name, reason });
}
