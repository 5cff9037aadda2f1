//! The `probes` block: startup, liveness and readiness probes.

use kdl::{KdlNode, KdlValue};

use super::body::Contents;
use super::node::{self, Node, Place, Twice};
use super::reader::{self, NodeReader, missing, name_span, no_children, value_span};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Probe, ProbeHandler, ProbeKind, ProbeSetting, Probes};
use crate::source::{Span, Spanned};
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "probes",
    place: Place::ANY_CONTAINER,
    order: 6,
    summary: "The container's startup, liveness and readiness probes",
    doc: "language.md#probes",
    children: Some(&CHILDREN),
    ..Node::new(|n, d, c| probes(n, d, &mut c.body.probes))
}];

/// What every probe takes.
const PROBE_ARGS: &str = "\"/PATH\" | http \"/PATH\" | tcp | grpc | exec COMMAND… | #false";
const PROBE_PROPS: &[&str] =
    &["scheme", "service", "port", "initial-delay", "period", "timeout", "failure-threshold", "success-threshold"];

/// Children of `probes`.
const CHILDREN: &[Node<Probes>] = &[
    Node {
        name: "liveness",
        summary: "Restart the container when this check fails",
        doc: "language.md#probes",
        args: PROBE_ARGS,
        props: PROBE_PROPS,
        children: Some(&PROBE_CHILDREN),
        ..Node::new(|n, d, p| slot(n, d, p, ProbeKind::Liveness))
    },
    Node {
        name: "readiness",
        summary: "Route traffic to the pod only while this check passes",
        doc: "language.md#probes",
        args: PROBE_ARGS,
        props: PROBE_PROPS,
        children: Some(&PROBE_CHILDREN),
        ..Node::new(|n, d, p| slot(n, d, p, ProbeKind::Readiness))
    },
    Node {
        name: "startup",
        summary: "Hold the other probes until this check first passes",
        doc: "language.md#probes",
        args: PROBE_ARGS,
        props: PROBE_PROPS,
        children: Some(&PROBE_CHILDREN),
        ..Node::new(|n, d, p| slot(n, d, p, ProbeKind::Startup))
    },
];

/// Children of a probe.
const PROBE_CHILDREN: &[Node<Vec<(String, String)>>] = &[Node {
    name: "header",
    summary: "An HTTP header the probe sends (`httpHeaders`), e.g. `header \"Host\" \"api.example.com\"`",
    doc: "language.md#probes",
    args: "NAME VALUE",
    repeat: true,
    ..Node::new(header)
}];

/// `header "Host" "api.example.com"`.
fn header(node: &KdlNode, diags: &mut Diagnostics, out: &mut Vec<(String, String)>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "header name", values::check_header_name),
        None => {
            diags.push(missing(r.name_span(), "a header name", "write `header \"Host\" \"api.example.com\"`"));
            None
        }
    };
    let value = match r.arg(1) {
        Some(e) => reader::text(diags, e),
        None => {
            diags.push(missing(r.name_span(), "a header value", "write `header \"Host\" \"api.example.com\"`"));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    if let (Some(n), Some(v)) = (name, value) {
        out.push((n.value, v.value));
    }
}

fn probes(node: &KdlNode, diags: &mut Diagnostics, probes: &mut Probes) {
    NodeReader::new(node).finish(diags);
    node::decode_children(CHILDREN, node, Twice::Decode, probes, diags);
}

/// One probe of `kind`, unless that kind is already set.
fn slot(node: &KdlNode, diags: &mut Diagnostics, probes: &mut Probes, kind: ProbeKind) {
    let name = node.name().value();
    if let Some(prev) = probes.get(kind) {
        let prev_span = match prev {
            ProbeSetting::Off(s) => *s,
            ProbeSetting::On(p) => p.node,
        };
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{name}` probe is set twice"))
                .at(name_span(node), "set again here")
                .also(prev_span, "first set here"),
        );
        return;
    }
    if let Some(p) = probe(node, diags) {
        *probes.slot(kind) = Some(p);
    }
}

/// An HTTP probe path: it reaches the deploy script and the Dockerfile's
/// `HEALTHCHECK` as well as the manifests, so it must be a plain URL path
/// (`values::check_url_path`). Reports and returns `false` when it is not.
fn http_path(diags: &mut Diagnostics, path: &str, span: Span) -> bool {
    let Err(why) = values::check_url_path(path) else {
        return true;
    };
    let help = if path.starts_with('/') {
        "percent-encode anything else, e.g. a space as `%20`".to_string()
    } else {
        format!("write \"/{path}\"")
    };
    diags.push(
        Diagnostic::error(Code::InvalidName, format!("`{}` is not an HTTP path", path.escape_debug()))
            .at(span, why)
            .help(help),
    );
    false
}

fn probe(node: &KdlNode, diags: &mut Diagnostics) -> Option<ProbeSetting> {
    let mut r = NodeReader::new(node);
    let mut p = Probe {
        node: name_span(node),
        handler: None,
        port: None,
        scheme: None,
        grpc_service: None,
        initial_delay: None,
        period: None,
        timeout: None,
        failure_threshold: None,
        success_threshold: None,
        headers: None,
    };
    if let Some(first) = r.arg(0) {
        let span = value_span(first);
        match first.value() {
            KdlValue::Bool(false) => {
                r.finish(diags);
                no_children(diags, node);
                return Some(ProbeSetting::Off(span));
            }
            KdlValue::String(s) if s.starts_with('/') => {
                if http_path(diags, s, span) {
                    p.handler = Some(Spanned::new(ProbeHandler::Http { path: s.clone() }, span));
                }
            }
            KdlValue::String(s) if s == "http" => {
                let path = match r.arg(1) {
                    Some(e) => reader::string(diags, e),
                    None => {
                        diags.push(missing(span, "an HTTP path", "write `http \"/healthz\"` or just `\"/healthz\"`"));
                        None
                    }
                };
                if let Some(path) = path
                    && http_path(diags, &path.value, path.span)
                {
                    p.handler = Some(Spanned::new(ProbeHandler::Http { path: path.value }, span));
                }
            }
            KdlValue::String(s) if s == "tcp" => p.handler = Some(Spanned::new(ProbeHandler::Tcp, span)),
            KdlValue::String(s) if s == "grpc" => {
                p.handler = Some(Spanned::new(ProbeHandler::Grpc, span));
            }
            KdlValue::String(s) if s == "exec" => {
                let cmd: Vec<String> =
                    r.rest_args(1).into_iter().filter_map(|e| reader::string(diags, e)).map(|s| s.value).collect();
                if cmd.is_empty() {
                    diags.push(missing(span, "a command", "write `exec \"cat\" \"/tmp/ready\"`"));
                } else {
                    p.handler = Some(Spanned::new(ProbeHandler::Exec(cmd), span));
                }
            }
            KdlValue::String(s) => {
                let mut d = Diagnostic::error(Code::InvalidChoice, format!("`{s}` is not a probe"))
                    .at(span, "expected a path starting with `/`, `tcp`, `grpc`, `exec` or #false");
                if let Some(m) = crate::diagnostic::suggest::did_you_mean(s, &["http", "tcp", "grpc", "exec"]) {
                    d = d.help(format!("did you mean `{m}`?"));
                } else {
                    d = d.help(format!("for an HTTP probe write the path with a leading slash: \"/{s}\""));
                }
                diags.push(d);
            }
            _ => diags.push(reader::wrong_type(
                first,
                "a probe path or kind",
                Some("write `\"/healthz\"`, `tcp`, `grpc` or `exec \"cmd\"`".into()),
            )),
        }
    }
    p.scheme = r.prop("scheme").and_then(|e| reader::choice(diags, e, &["HTTP", "HTTPS"]));
    p.grpc_service = r.prop("service").and_then(|e| reader::string(diags, e));
    p.port = r.prop("port").and_then(|e| match e.value() {
        KdlValue::Integer(_) => reader::port_ref(diags, e, |_| Ok(())),
        _ => reader::string(diags, e),
    });
    if let (Some(port), Some(Spanned { value: ProbeHandler::Exec(_), span })) = (&p.port, &p.handler) {
        diags.push(
            Diagnostic::error(Code::UnknownProperty, "`port` does not apply to an `exec` probe")
                .at(port.span, "an exec probe runs a command")
                .also(*span, "exec probe")
                .help("remove `port=`, or probe the port with `tcp` or a path"),
        );
    }
    p.initial_delay = r.prop("initial-delay").and_then(|e| reader::seconds(diags, e));
    p.period = r.prop("period").and_then(|e| reader::seconds(diags, e));
    p.timeout = r.prop("timeout").and_then(|e| reader::seconds(diags, e));
    for (key, slot) in [("period", &p.period), ("timeout", &p.timeout)] {
        if let Some(d) = slot
            && d.value.millis == 0
        {
            diags.push(
                Diagnostic::error(Code::OutOfRange, format!("a probe `{key}` must be at least one second"))
                    .at(d.span, "zero"),
            );
        }
    }
    p.failure_threshold = r.prop("failure-threshold").and_then(|e| reader::u32_in(diags, e, 1, 10_000));
    p.success_threshold = r.prop("success-threshold").and_then(|e| reader::u32_in(diags, e, 1, 10_000));
    r.finish(diags);
    if let Some(block) = node.children() {
        let mut headers = Vec::new();
        node::decode_children(PROBE_CHILDREN, node, Twice::Decode, &mut headers, diags);
        p.headers = Some(Spanned::new(headers, block.span().into()));
    }
    Some(ProbeSetting::On(p))
}
