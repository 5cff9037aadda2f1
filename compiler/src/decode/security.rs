//! The `security` block: the pod's identity (`service-account`), its
//! security context settings and the exceptions to the hardening rules
//! (`security { allow NAME reason="…" }`).

use indexmap::IndexMap;
use kdl::KdlNode;

use super::body::Contents;
use super::metadata::string_map;
use super::node::{self, Node, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{IMAGE_ID, Map, Security, SecurityException, ServiceAccount};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "service-account",
        order: 15,
        summary: "The pods' ServiceAccount: its name, whether svcc creates it, and its API token",
        doc: "language.md#service-account",
        args: "NAME",
        props: &["create", "automount-token", "calls-api"],
        children: Some(&ACCOUNT),
        ..Node::new(|n, d, c| c.body.service_account = service_account(n, d))
    },
    Node {
        name: "security",
        order: 16,
        summary: "The pod and container security context, and deliberate exceptions to the hardening",
        doc: "language.md#security",
        children: Some(&SECURITY),
        ..Node::new(|n, d, c| security(n, d, &mut c.body.security))
    },
];

/// Children of `service-account`.
const ACCOUNT: &[Node<ServiceAccount>] = &[Node {
    name: "annotations",
    summary: "Annotations of the ServiceAccount (e.g. a cloud IAM role)",
    doc: "language.md#service-account",
    ..Node::new(|n, d, sa| sa.annotations = string_map(n, d, "annotation", false))
}];

/// Children of `security`.
const SECURITY: &[Node<Security>] = &[
    Node {
        name: "run-as-user",
        summary: "The pod's user id (default 10001)",
        doc: "language.md#security",
        args: "ID | \"image\"",
        ..Node::new(|n, d, s| s.run_as_user = id_or_image(n, d))
    },
    Node {
        name: "run-as-group",
        summary: "The pod's group id (default 10001)",
        doc: "language.md#security",
        args: "ID | \"image\"",
        ..Node::new(|n, d, s| s.run_as_group = id_or_image(n, d))
    },
    Node {
        name: "fs-group",
        summary: "The group that owns mounted volumes (default 10001)",
        doc: "language.md#security",
        args: "ID",
        ..Node::new(|n, d, s| s.fs_group = id(n, d))
    },
    Node {
        name: "run-as-non-root",
        summary: "Refuse to start a container that runs as root (default #true)",
        doc: "language.md#security",
        args: "#true|#false",
        ..Node::new(|n, d, s| s.run_as_non_root = flag(n, d))
    },
    Node {
        name: "read-only-root-filesystem",
        summary: "Mount the image read-only (default #true; write to `volumes`)",
        doc: "language.md#security",
        args: "#true|#false",
        ..Node::new(|n, d, s| s.read_only_root_filesystem = flag(n, d))
    },
    Node {
        name: "allow-privilege-escalation",
        summary: "Let a process gain more privileges than its parent (default #false)",
        doc: "language.md#security",
        args: "#true|#false",
        ..Node::new(|n, d, s| s.allow_privilege_escalation = flag(n, d))
    },
    Node {
        name: "add-capabilities",
        summary: "Capabilities added back after dropping ALL",
        doc: "language.md#security",
        args: "CAPABILITY…",
        ..Node::new(|n, d, s| s.add_capabilities = Some(capabilities(n, d)))
    },
    Node {
        name: "seccomp",
        summary: "The seccomp profile (default RuntimeDefault)",
        doc: "language.md#security",
        args: "RuntimeDefault|Unconfined",
        ..Node::new(|n, d, s| s.seccomp = seccomp(n, d))
    },
    Node {
        name: "per-container",
        summary: "Repeat the pod's user, group and seccomp profile in every container, with `privileged: false` (default #false)",
        doc: "language.md#security",
        args: "#true|#false",
        ..Node::new(|n, d, s| s.per_container = flag(n, d))
    },
    Node {
        name: "allow",
        summary: "Accept one weakening of the hardened pod on purpose, with the reason",
        doc: "language.md#security",
        args: "RULE",
        props: &["reason"],
        repeat: true,
        ..Node::new(|n, d, s| allow(n, d, &mut s.allow))
    },
];

fn service_account(node: &KdlNode, diags: &mut Diagnostics) -> Option<ServiceAccount> {
    let mut r = NodeReader::new(node);
    let name = r.arg(0).and_then(|e| reader::name(diags, e, "service account name", values::check_dns1123_subdomain));
    let create = r.prop("create").and_then(|e| reader::boolean(diags, e));
    let automount = r.prop("automount-token").and_then(|e| reader::boolean(diags, e));
    let calls_api = r.prop("calls-api").and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    if let (Some(a), Some(c)) = (&automount, &calls_api)
        && c.value
        && !a.value
    {
        diags.push(
            Diagnostic::error(Code::TokenNeeded, "a service that calls the API needs its token")
                .at(a.span, "no token mounted")
                .also(c.span, "calls the Kubernetes API")
                .help("remove `automount-token=#false`: `calls-api=#true` mounts the token"),
        );
    }
    let automount = automount.or(calls_api);
    let mut sa = ServiceAccount { node: name_span(node), name, create, automount, annotations: IndexMap::new() };
    node::decode_children(ACCOUNT, node, Twice::Decode, &mut sa, diags);
    Some(sa)
}

fn security(node: &KdlNode, diags: &mut Diagnostics, sec: &mut Security) {
    NodeReader::new(node).finish(diags);
    node::decode_children(SECURITY, node, Twice::InParent, sec, diags);
}

/// Reads the one argument of `node` with `read`, or reports it missing
/// (`what`, and `example` after the node's name).
fn one<T>(
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
            diags.push(missing(name_span(node), what, example.to_string()));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    v
}

/// `run-as-user 1001` and the other ids.
fn id(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<i64>> {
    let example = format!("write `{} 1001`", node.name().value());
    one(node, diags, "an id", &example, |diags, e| {
        reader::int(diags, e, 0, 2_147_483_647).map(|s| s.map(|v| i64::try_from(v).unwrap_or(0)))
    })
}

/// `run-as-user 1001`, or `run-as-user "image"`: the image's own `USER`
/// ([`IMAGE_ID`]).
fn id_or_image(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<i64>> {
    let image = node.entries().iter().find(|e| e.name().is_none()).filter(|e| e.value().as_string() == Some("image"));
    match image {
        Some(e) => {
            let mut r = NodeReader::new(node);
            r.arg(0);
            r.finish(diags);
            no_children(diags, node);
            Some(Spanned::new(IMAGE_ID, reader::value_span(e)))
        }
        None => id(node, diags),
    }
}

/// `run-as-non-root #true` and the other switches.
fn flag(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
    let example = format!("write `{} #true`", node.name().value());
    one(node, diags, "#true or #false", &example, reader::boolean)
}

fn seccomp(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    one(node, diags, "a profile", "write `seccomp \"RuntimeDefault\"`", |diags, e| {
        reader::choice(diags, e, &["RuntimeDefault", "Unconfined"])
    })
}

/// `add-capabilities "NET_BIND_SERVICE"`.
fn capabilities(node: &KdlNode, diags: &mut Diagnostics) -> Spanned<Vec<String>> {
    let mut r = NodeReader::new(node);
    let mut caps: Vec<String> = Vec::new();
    for e in r.rest_args(0) {
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
    r.finish(diags);
    no_children(diags, node);
    Spanned::new(caps, name_span(node))
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
