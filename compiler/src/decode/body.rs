//! Decoding the settings that a `service` and an `environment` share.

use indexmap::IndexMap;
use kdl::{KdlEntry, KdlNode, KdlValue};

use super::reader::{self, NodeReader, children, missing, name_span, no_children, unknown_node, value_span};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::{Span, Spanned};
use crate::values;

/// Every node a body may hold, in documentation order. `environment` is
/// only valid directly in `service`.
pub const BODY_NODES: &[&str] = &[
    "image",
    "namespace",
    "port",
    "replicas",
    "resources",
    "probes",
    "env",
    "env-from",
    "command",
    "args",
    "labels",
    "annotations",
    "pod-annotations",
    "volumes",
    "service-account",
    "security",
    "autoscale",
    "rolling-update",
    "shutdown",
    "disruption-budget",
    "node-selector",
    "tolerations",
    "metrics",
    "alerts",
    "slo",
    "blue-green",
    "canary",
    "patch",
    "use",
    "environment",
    "pipeline",
];

/// Nodes only a `service` or a preset holds directly (not an environment).
pub const TOP_ONLY: &[&str] = &["use", "environment", "pipeline"];

/// Nodes that may appear more than once in one body.
const REPEATABLE: &[&str] = &["port", "env-from", "slo", "environment", "patch", "use"];

pub fn decode_body(
    nodes: &[KdlNode],
    parent: &str,
    in_service: bool,
    diags: &mut Diagnostics,
    on_nested: &mut dyn FnMut(&KdlNode, &mut Diagnostics),
) -> Body {
    let mut b = Body::default();
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    let known: Vec<&'static str> = BODY_NODES.iter().copied().filter(|n| in_service || !TOP_ONLY.contains(n)).collect();
    for node in nodes {
        let name = node.name().value();
        if !BODY_NODES.contains(&name) {
            unknown_node(diags, node, parent, &known);
            continue;
        }
        if !REPEATABLE.contains(&name) && !reader::first_time(&mut seen, node, parent, diags) {
            continue;
        }
        match name {
            "image" => b.image = image(node, diags),
            "namespace" => {
                let mut r = NodeReader::new(node);
                b.namespace = match r.arg(0) {
                    Some(e) => reader::name(diags, e, "namespace", values::check_dns1123_label),
                    None => {
                        diags.push(missing(r.name_span(), "a namespace name", "write `namespace \"payments\"`"));
                        None
                    }
                };
                r.finish(diags);
                no_children(diags, node);
            }
            "port" => port(node, diags, &mut b.ports),
            "replicas" => {
                let mut r = NodeReader::new(node);
                b.replicas = match r.arg(0) {
                    Some(e) => reader::u32_in(diags, e, 0, 10_000),
                    None => {
                        diags.push(missing(r.name_span(), "a replica count", "write `replicas 3`"));
                        None
                    }
                };
                r.finish(diags);
                no_children(diags, node);
            }
            "resources" => resources(node, diags, &mut b.resources),
            "probes" => probes(node, diags, &mut b.probes),
            "env" => env(node, diags, &mut b.env),
            "env-from" => env_from(node, diags, &mut b.env_from),
            "command" => b.command = string_list(node, diags),
            "args" => b.args = string_list(node, diags),
            "labels" => b.labels = string_map(node, diags, "label", true),
            "annotations" => b.annotations = string_map(node, diags, "annotation", false),
            "pod-annotations" => b.pod_annotations = string_map(node, diags, "annotation", false),
            "node-selector" => b.node_selector = string_map(node, diags, "label", true),
            "volumes" => volumes(node, diags, &mut b.volumes),
            "service-account" => b.service_account = service_account(node, diags),
            "security" => super::security::security(node, diags, &mut b.security),
            "autoscale" => b.autoscale = autoscale(node, diags),
            "rolling-update" => {
                let mut r = NodeReader::new(node);
                b.rolling.max_surge = r.prop("max-surge").and_then(|e| reader::int_or_percent(diags, e));
                b.rolling.max_unavailable = r.prop("max-unavailable").and_then(|e| reader::int_or_percent(diags, e));
                r.finish(diags);
                no_children(diags, node);
            }
            "shutdown" => {
                let mut r = NodeReader::new(node);
                b.shutdown.pre_stop = r.prop("pre-stop").and_then(|e| reader::seconds(diags, e));
                b.shutdown.grace = r.prop("grace").and_then(|e| reader::seconds(diags, e));
                r.finish(diags);
                no_children(diags, node);
            }
            "disruption-budget" => {
                let mut r = NodeReader::new(node);
                let max_unavailable = r.prop("max-unavailable").and_then(|e| reader::int_or_percent(diags, e));
                let min_available = r.prop("min-available").and_then(|e| reader::int_or_percent(diags, e));
                if let (Some(a), Some(m)) = (&max_unavailable, &min_available) {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, "`max-unavailable` and `min-available` cannot both be set")
                            .at(m.span, "second bound")
                            .also(a.span, "first bound")
                            .help("a PodDisruptionBudget takes one of the two; keep `max-unavailable`, which works with autoscaling"),
                    );
                }
                r.finish(diags);
                no_children(diags, node);
                b.disruption = Some(Disruption { node: name_span(node), max_unavailable, min_available });
            }
            "tolerations" => tolerations(node, diags, &mut b.tolerations),
            "metrics" => b.metrics = Some(super::observability::metrics(node, diags)),
            "alerts" => super::observability::alerts(node, diags, &mut b.alerts),
            "slo" => super::observability::slo(node, diags, &mut b.slos),
            "blue-green" => b.blue_green = Some(super::rollout::blue_green(node, diags)),
            "canary" => b.canary = Some(super::rollout::canary(node, diags)),
            "patch" => b.patches.extend(patch(node, diags)),
            "environment" | "use" | "pipeline" => on_nested(node, diags),
            _ => unknown_node(diags, node, parent, &known),
        }
    }
    if let (Some(bg), Some(c)) = (&b.blue_green, &b.canary)
        && bg.enabled.as_ref().is_none_or(|e| e.value)
        && c.enabled.as_ref().is_none_or(|e| e.value)
    {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{parent}` declares both `blue-green` and `canary`"))
                .at(c.node, "second update strategy")
                .also(bg.node, "first update strategy")
                .help("a Rollout has one strategy: keep one of them (an environment can switch with `canary #false`)"),
        );
    }
    b
}

fn image(node: &KdlNode, diags: &mut Diagnostics) -> Option<Image> {
    let mut r = NodeReader::new(node);
    let mut img = Image { node: name_span(node), repository: None, tag: None, digest: None, pull_policy: None };
    if let Some(e) = r.arg(0)
        && let Some(s) = reader::string(diags, e)
    {
        let span = s.span;
        let (rest, digest) = match s.value.split_once('@') {
            Some((a, d)) => (a.to_string(), Some(d.to_string())),
            None => (s.value.clone(), None),
        };
        // A `:` after the last `/` separates the tag (a `:` before it is a registry port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (rest[..last_slash + i].to_string(), Some(rest[last_slash + i + 1..].to_string())),
            None => (rest.clone(), None),
        };
        match values::check_repository(&repo) {
            Ok(()) => img.repository = Some(Spanned::new(repo, span)),
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image reference", s.value))
                    .at(span, why)
                    .help("write an image such as \"ghcr.io/acme/api\" (the tag comes from `tag=` or `--image-tag`)"),
            ),
        }
        if let Some(t) = tag {
            match values::check_image_tag(&t) {
                Ok(()) => img.tag = Some(Spanned::new(t, span)),
                Err(why) => diags.push(
                    Diagnostic::error(Code::InvalidImage, format!("`{t}` is not a valid image tag")).at(span, why),
                ),
            }
        }
        if let Some(d) = digest {
            match values::check_digest(&d) {
                Ok(()) => img.digest = Some(Spanned::new(d, span)),
                Err(why) => diags.push(
                    Diagnostic::error(Code::InvalidImage, format!("`{d}` is not a valid image digest")).at(span, why),
                ),
            }
        }
    }
    if let Some(e) = r.prop("tag")
        && let Some(t) = reader::text(diags, e)
    {
        match values::check_image_tag(&t.value) {
            Ok(()) => {
                if let Some(prev) = &img.tag {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, "the image tag is given twice")
                            .at(t.span, "tag given here")
                            .also(prev.span, "and in the image reference")
                            .help("keep one of them"),
                    );
                }
                img.tag = Some(t);
            }
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image tag", t.value))
                    .at(t.span, why),
            ),
        }
    }
    if let Some(e) = r.prop("digest")
        && let Some(d) = reader::string(diags, e)
    {
        match values::check_digest(&d.value) {
            Ok(()) => {
                if let Some(prev) = &img.digest {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, "the image digest is given twice")
                            .at(d.span, "digest given here")
                            .also(prev.span, "and in the image reference")
                            .help("keep one of them"),
                    );
                }
                img.digest = Some(d);
            }
            Err(why) => diags.push(
                Diagnostic::error(Code::InvalidImage, format!("`{}` is not a valid image digest", d.value))
                    .at(d.span, why),
            ),
        }
    }
    img.pull_policy =
        r.prop("pull-policy").and_then(|e| reader::choice(diags, e, &["Always", "IfNotPresent", "Never"]));
    r.finish(diags);
    no_children(diags, node);
    if img.repository.is_none() && img.tag.is_none() && img.digest.is_none() && img.pull_policy.is_none() {
        if node.entries().is_empty() {
            diags.push(missing(name_span(node), "an image", "write `image \"ghcr.io/acme/api\"`"));
        }
        return None;
    }
    Some(img)
}

fn port(node: &KdlNode, diags: &mut Diagnostics, ports: &mut Map<Port>) {
    let mut r = NodeReader::new(node);
    let name = match r.arg(0) {
        Some(e) => reader::name(diags, e, "port name", values::check_port_name),
        None => {
            diags.push(missing(r.name_span(), "a port name", "write `port http 8080`"));
            None
        }
    };
    let number =
        r.arg(1).and_then(|e| reader::int(diags, e, 1, 65535)).map(|s| s.map(|v| u16::try_from(v).unwrap_or(0)));
    let service_port = r
        .prop("service-port")
        .and_then(|e| reader::int(diags, e, 1, 65535))
        .map(|s| s.map(|v| u16::try_from(v).unwrap_or(0)));
    let protocol = r.prop("protocol").and_then(|e| reader::choice(diags, e, &["TCP", "UDP", "SCTP"]));
    r.finish(diags);
    no_children(diags, node);
    let Some(name) = name else { return };
    if let Some(prev) = ports.get(&name.value) {
        diags.push(
            Diagnostic::error(Code::DuplicatePort, format!("port `{}` is declared twice", name.value))
                .at(name.span, "declared again here")
                .also(prev.name.span, "first declared here")
                .help("give each port its own name"),
        );
        return;
    }
    ports.insert(name.value.clone(), Port { name, number, service_port, protocol });
}

fn resources(node: &KdlNode, diags: &mut Diagnostics, res: &mut Resources) {
    let r = NodeReader::new(node);
    r.finish(diags);
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    for child in children(node) {
        let which = child.name().value();
        let target = match which {
            "requests" => &mut res.requests,
            "limits" => &mut res.limits,
            _ => {
                unknown_node(diags, child, "resources", &["requests", "limits"]);
                continue;
            }
        };
        if let Some(first) = seen.get(which) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{which}` is set twice"))
                    .at(name_span(child), "set again here")
                    .also(*first, "first set here"),
            );
            continue;
        }
        seen.insert(which, name_span(child));
        let mut cr = NodeReader::new(child);
        for (key, kind) in ResourceKind::ALL {
            if let Some(q) = cr.prop(key).and_then(|e| reader::quantity(diags, e)) {
                target.insert(kind, q);
            }
        }
        cr.finish(diags);
        no_children(diags, child);
    }
}

const PROBE_KINDS: [(&str, ProbeKind); 3] =
    [("liveness", ProbeKind::Liveness), ("readiness", ProbeKind::Readiness), ("startup", ProbeKind::Startup)];

fn probes(node: &KdlNode, diags: &mut Diagnostics, probes: &mut Probes) {
    NodeReader::new(node).finish(diags);
    for child in children(node) {
        let name = child.name().value();
        let Some((_, kind)) = PROBE_KINDS.iter().find(|(n, _)| *n == name) else {
            unknown_node(diags, child, "probes", &["liveness", "readiness", "startup"]);
            continue;
        };
        if let Some(prev) = probes.get(*kind) {
            let prev_span = match prev {
                ProbeSetting::Off(s) => *s,
                ProbeSetting::On(p) => p.node,
            };
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{name}` probe is set twice"))
                    .at(name_span(child), "set again here")
                    .also(prev_span, "first set here"),
            );
            continue;
        }
        if let Some(p) = probe(child, diags) {
            *probes.slot(*kind) = Some(p);
        }
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
    p.port = r.prop("port").and_then(|e| reader::string(diags, e));
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
    no_children(diags, node);
    Some(ProbeSetting::On(p))
}

fn env(node: &KdlNode, diags: &mut Diagnostics, vars: &mut Map<EnvVar>) {
    NodeReader::new(node).finish(diags);
    for child in children(node) {
        let name_str = child.name().value();
        let name = Spanned::new(name_str.to_string(), name_span(child));
        if let Err(why) = values::check_env_name(name_str) {
            diags.push(reader::invalid_name(name.span, "environment variable name", name_str, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let secret =
            r.prop("secret").and_then(|e| reader::name(diags, e, "secret name", values::check_dns1123_subdomain));
        let config_map = r
            .prop("config-map")
            .and_then(|e| reader::name(diags, e, "config map name", values::check_dns1123_subdomain));
        let key = r.prop("key").and_then(|e| reader::string(diags, e));
        let optional_flag = r.prop("optional").and_then(|e| reader::boolean(diags, e));
        let optional = optional_flag.as_ref().is_some_and(|b| b.value);
        let stray = key.as_ref().map(|k| k.span).or(optional_flag.as_ref().map(|o| o.span));
        let field = r.prop("field").and_then(|e| reader::string(diags, e));
        let literal = match r.arg(0) {
            Some(e) => reader::text(diags, e),
            None => {
                if secret.is_none() && config_map.is_none() && field.is_none() && !r.has_unknown_props() {
                    diags.push(missing(
                        name.span,
                        "a value",
                        format!("write `{name_str} \"value\"`, or take it from a secret: `{name_str} secret=\"name\" key=\"key\"`"),
                    ));
                }
                None
            }
        };
        r.finish(diags);
        no_children(diags, child);
        if let Some(at) = stray
            && secret.is_none()
            && config_map.is_none()
        {
            diags.push(
                Diagnostic::error(
                    Code::UnknownProperty,
                    "`key` and `optional` apply to `secret=` and `config-map=` values only",
                )
                .at(at, "not a secret or config-map value")
                .help(format!("take the value from an object: `{name_str} secret=\"name\" key=\"key\"`")),
            );
        }
        let value = match (literal, secret, config_map, field) {
            (Some(l), None, None, None) => EnvValue::Literal(l),
            (None, Some(s), None, None) => match key {
                Some(k) => EnvValue::Secret { name: s, key: k, optional },
                None => {
                    diags.push(missing(s.span, "a `key`", "say which key of the secret: `key=\"password\"`"));
                    continue;
                }
            },
            (None, None, Some(c), None) => match key {
                Some(k) => EnvValue::ConfigMap { name: c, key: k, optional },
                None => {
                    diags.push(missing(c.span, "a `key`", "say which key of the config map: `key=\"level\"`"));
                    continue;
                }
            },
            (None, None, None, Some(f)) => EnvValue::Field(f),
            (None, None, None, None) => continue,
            _ => {
                diags.push(
                    Diagnostic::error(Code::Duplicate, format!("`{name_str}` has more than one source"))
                        .at(name.span, "several sources")
                        .help("use exactly one of: a value, `secret=`, `config-map=` or `field=`"),
                );
                continue;
            }
        };
        if let Some(prev) = vars.get(name_str) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("environment variable `{name_str}` is set twice"))
                    .at(name.span, "set again here")
                    .also(prev.name.span, "first set here"),
            );
            continue;
        }
        vars.insert(name_str.to_string(), EnvVar { name, value });
    }
}

fn env_from(node: &KdlNode, diags: &mut Diagnostics, from: &mut Map<EnvFrom>) {
    let mut r = NodeReader::new(node);
    let prefix = r.prop("prefix").and_then(|e| reader::name(diags, e, "variable prefix", values::check_env_name));
    let optional = r.prop("optional").and_then(|e| reader::boolean(diags, e)).is_some_and(|b| b.value);
    r.prop("secret");
    r.prop("config-map");
    let mut any = false;
    for e in node.entries() {
        let kind = match e.name().map(|n| n.value()) {
            Some("secret") => EnvFromKind::Secret,
            Some("config-map") => EnvFromKind::ConfigMap,
            _ => continue,
        };
        any = true;
        let Some(name) = reader::name(diags, e, "object name", values::check_dns1123_subdomain) else {
            continue;
        };
        let key = format!("{}/{}", if kind == EnvFromKind::Secret { "secret" } else { "config-map" }, name.value);
        if let Some(prev) = from.get(&key) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{}` is imported twice", name.value))
                    .at(name.span, "imported again here")
                    .also(prev.name.span, "first imported here"),
            );
            continue;
        }
        from.insert(key, EnvFrom { kind, name, prefix: prefix.clone(), optional });
    }
    if !any && !r.has_unknown_props() {
        diags.push(missing(
            name_span(node),
            "a `secret=` or `config-map=`",
            "write `env-from secret=\"app-secrets\" config-map=\"app-config\"`",
        ));
    }
    r.finish(diags);
    no_children(diags, node);
}

fn string_list(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Vec<String>>> {
    let mut r = NodeReader::new(node);
    let items: Vec<&KdlEntry> = r.rest_args(0);
    let span = items.iter().fold(None::<Span>, |acc, e| {
        let s = value_span(e);
        Some(acc.map_or(s, |a| Span::new(a.start.min(s.start) as usize, a.end.max(s.end) as usize)))
    });
    let values: Vec<String> = items.iter().filter_map(|e| reader::text(diags, e)).map(|s| s.value).collect();
    r.finish(diags);
    no_children(diags, node);
    match span {
        Some(s) => Some(Spanned::new(values, s)),
        None => {
            diags.push(missing(
                name_span(node),
                "at least one argument",
                format!("write `{} \"…\"`", node.name().value()),
            ));
            None
        }
    }
}

/// `labels { key "value" }`-style maps.
fn string_map(node: &KdlNode, diags: &mut Diagnostics, what: &str, label_values: bool) -> Map<Spanned<String>> {
    NodeReader::new(node).finish(diags);
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
        out.insert(key.to_string(), value);
    }
    out
}

fn volumes(node: &KdlNode, diags: &mut Diagnostics, vols: &mut Map<Volume>) {
    NodeReader::new(node).finish(diags);
    for child in children(node) {
        let name_str = child.name().value();
        let name = Spanned::new(name_str.to_string(), name_span(child));
        if let Err(why) = values::check_dns1123_label(name_str) {
            diags.push(reader::invalid_name(name.span, "volume name", name_str, &why));
            continue;
        }
        let mut r = NodeReader::new(child);
        let path = r.arg(0).and_then(|e| reader::string(diags, e));
        if let Some(p) = &path
            && !p.value.starts_with('/')
        {
            diags.push(
                Diagnostic::error(Code::InvalidName, format!("`{}` is not an absolute path", p.value))
                    .at(p.span, "a mount path starts with `/`")
                    .help(format!("write \"/{}\"", p.value)),
            );
        }
        let size_limit = r.prop("size-limit").and_then(|e| reader::quantity(diags, e));
        let memory = r.prop("memory").and_then(|e| reader::boolean(diags, e));
        let secret =
            r.prop("secret").and_then(|e| reader::name(diags, e, "secret name", values::check_dns1123_subdomain));
        let config_map = r
            .prop("config-map")
            .and_then(|e| reader::name(diags, e, "config map name", values::check_dns1123_subdomain));
        r.finish(diags);
        no_children(diags, child);
        if let (Some(src), true) = (secret.as_ref().or(config_map.as_ref()), size_limit.is_some() || memory.is_some()) {
            let at = size_limit.as_ref().map(|s| s.span).or(memory.as_ref().map(|m| m.span)).unwrap_or(src.span);
            diags.push(
                Diagnostic::error(
                    Code::UnknownProperty,
                    "`size-limit` and `memory` apply to writable scratch volumes only",
                )
                .at(at, "not a scratch volume")
                .also(src.span, "this volume is read-only")
                .help("remove it; secret and config-map volumes are sized by their object"),
            );
        }
        let source = match (secret, config_map) {
            (None, None) => None,
            (Some(s), None) => Some(VolumeSource::Secret(s.value)),
            (None, Some(c)) => Some(VolumeSource::ConfigMap(c.value)),
            (Some(_), Some(c)) => {
                diags.push(
                    Diagnostic::error(Code::Duplicate, format!("volume `{name_str}` has two sources"))
                        .at(c.span, "second source")
                        .help("a volume is a secret, a config map, or (with neither) a writable scratch folder"),
                );
                continue;
            }
        };
        if let Some(prev) = vols.get(name_str) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("volume `{name_str}` is declared twice"))
                    .at(name.span, "declared again here")
                    .also(prev.name.span, "first declared here"),
            );
            continue;
        }
        vols.insert(name_str.to_string(), Volume { name, path, source, size_limit, memory });
    }
}

fn service_account(node: &KdlNode, diags: &mut Diagnostics) -> Option<ServiceAccount> {
    let mut r = NodeReader::new(node);
    let name = r.arg(0).and_then(|e| reader::name(diags, e, "service account name", values::check_dns1123_subdomain));
    let create = r.prop("create").and_then(|e| reader::boolean(diags, e));
    let automount = r.prop("automount-token").and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    let mut annotations = IndexMap::new();
    for child in children(node) {
        if child.name().value() == "annotations" {
            annotations = string_map(child, diags, "annotation", false);
        } else {
            unknown_node(diags, child, "service-account", &["annotations"]);
        }
    }
    Some(ServiceAccount { node: name_span(node), name, create, automount, annotations })
}

fn autoscale(node: &KdlNode, diags: &mut Diagnostics) -> Option<Autoscale> {
    let mut r = NodeReader::new(node);
    let mut a = Autoscale {
        node: name_span(node),
        enabled: None,
        min: None,
        max: None,
        cpu: None,
        memory: None,
        pods: IndexMap::new(),
        scale_up: None,
        scale_down: None,
    };
    if let Some(e) = r.arg(0) {
        a.enabled = reader::boolean(diags, e);
    }
    a.min = r.prop("min").and_then(|e| reader::u32_in(diags, e, 0, 10_000));
    a.max = r.prop("max").and_then(|e| reader::u32_in(diags, e, 1, 10_000));
    r.finish(diags);
    const KNOWN: &[&str] = &["cpu", "memory", "requests-per-second", "pods", "scale-up", "scale-down"];
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    for child in children(node) {
        let name = child.name().value();
        let span = name_span(child);
        if !KNOWN.contains(&name) {
            unknown_node(diags, child, "autoscale", KNOWN);
            continue;
        }
        if name != "pods" && !reader::first_time(&mut seen, child, "autoscale", diags) {
            continue;
        }
        let mut cr = NodeReader::new(child);
        match name {
            "cpu" | "memory" => {
                let v = match cr.arg(0) {
                    Some(e) => reader::u32_in(diags, e, 1, 1000),
                    None => {
                        diags.push(missing(span, "a target utilisation in percent", format!("write `{name} 70`")));
                        None
                    }
                };
                if name == "cpu" {
                    a.cpu = v;
                } else {
                    a.memory = v;
                }
                cr.finish(diags);
                no_children(diags, child);
            }
            "requests-per-second" | "pods" => {
                let (metric, target) = if name == "pods" {
                    let metric = match cr.arg(0) {
                        Some(e) => reader::string(diags, e),
                        None => {
                            diags.push(missing(span, "a metric name", "write `pods \"queue_depth\" 30`"));
                            None
                        }
                    };
                    let target = match cr.arg(1) {
                        Some(e) => reader::quantity(diags, e),
                        None => {
                            diags.push(missing(span, "a target value", "write `pods \"queue_depth\" 30`"));
                            None
                        }
                    };
                    (metric, target)
                } else {
                    let target = match cr.arg(0) {
                        Some(e) => reader::quantity(diags, e),
                        None => {
                            diags.push(missing(span, "a target rate", "write `requests-per-second 100`"));
                            None
                        }
                    };
                    let metric = cr
                        .prop("metric")
                        .and_then(|e| reader::string(diags, e))
                        .or_else(|| Some(Spanned::new("http_requests_per_second".to_string(), span)));
                    (metric, target)
                };
                cr.finish(diags);
                no_children(diags, child);
                if let Some(m) = &metric
                    && let Err(why) = values::check_metric_name(&m.value)
                {
                    diags.push(reader::invalid_name(m.span, "metric name", &m.value, &why));
                    continue;
                }
                if let (Some(metric), Some(target)) = (metric, target) {
                    if let Some(prev) = a.pods.get(&metric.value) {
                        diags.push(
                            Diagnostic::error(Code::Duplicate, format!("metric `{}` is targeted twice", metric.value))
                                .at(metric.span, "again here")
                                .also(prev.metric.span, "first here"),
                        );
                        continue;
                    }
                    a.pods.insert(metric.value.clone(), PodsMetric { metric, target });
                }
            }
            _ => {
                let mut b = Behavior { node: span, stabilization: None, select: None, policies: Vec::new() };
                b.stabilization = cr.prop("stabilization").and_then(|e| reader::seconds(diags, e));
                b.select = cr.prop("select").and_then(|e| reader::choice(diags, e, &["max", "min", "disabled"]));
                cr.finish(diags);
                for pol in children(child) {
                    let pname = pol.name().value();
                    if pname != "percent" && pname != "pods" {
                        unknown_node(diags, pol, name, &["percent", "pods"]);
                        continue;
                    }
                    let mut pr = NodeReader::new(pol);
                    let value = match pr.arg(0) {
                        Some(e) => reader::u32_in(diags, e, 1, 10_000),
                        None => {
                            diags.push(missing(name_span(pol), "a value", format!("write `{pname} 10 per=\"60s\"`")));
                            None
                        }
                    };
                    let period = match pr.prop("per") {
                        Some(e) => reader::seconds(diags, e),
                        None => {
                            diags.push(missing(name_span(pol), "a period", format!("write `{pname} 10 per=\"60s\"`")));
                            None
                        }
                    };
                    if let Some(p) = &period
                        && (p.value.millis == 0 || p.value.millis > 1_800_000)
                    {
                        diags.push(
                            Diagnostic::error(Code::OutOfRange, "a scaling policy period is 1s to 30m")
                                .at(p.span, "out of range"),
                        );
                    }
                    pr.finish(diags);
                    no_children(diags, pol);
                    if let (Some(value), Some(period)) = (value, period) {
                        b.policies.push(ScalingPolicy { percent: pname == "percent", value, period });
                    }
                }
                if let Some(s) = &b.stabilization
                    && s.value.millis > 3_600_000
                {
                    diags.push(
                        Diagnostic::error(Code::OutOfRange, "a stabilization window is at most one hour")
                            .at(s.span, "longer than 1h"),
                    );
                }
                if name == "scale-up" {
                    a.scale_up = Some(b);
                } else {
                    a.scale_down = Some(b);
                }
            }
        }
    }
    Some(a)
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

/// `patch KIND [NAME] { set|merge|remove POINTER [VALUE|{ … }] }`.
fn patch(node: &KdlNode, diags: &mut Diagnostics) -> Option<Patch> {
    let mut r = NodeReader::new(node);
    let kinds: Vec<&'static str> = crate::lower::Kind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = match r.arg(0) {
        Some(e) => reader::string(diags, e).and_then(|k| {
            if kinds.contains(&k.value.as_str()) {
                return Some(k);
            }
            let mut d = Diagnostic::error(Code::PatchTarget, format!("svcc generates no kind `{}`", k.value))
                .at(k.span, format!("kinds: {}", kinds.join(", ")));
            if let Some(m) = crate::diagnostic::suggest::did_you_mean(&k.value, &kinds) {
                d = d.help(format!("did you mean `{m}`?"));
            }
            diags.push(d);
            None
        }),
        None => {
            diags.push(missing(r.name_span(), "the kind to patch", "write `patch Deployment { … }`"));
            None
        }
    };
    let name = r.arg(1).and_then(|e| reader::name(diags, e, "object name", values::check_dns1123_subdomain));
    r.finish(diags);
    let mut ops = Vec::new();
    for op in children(node) {
        let kind_of = match op.name().value() {
            "set" => PatchOpKind::Set,
            "merge" => PatchOpKind::Merge,
            "remove" => PatchOpKind::Remove,
            _ => {
                unknown_node(diags, op, "patch", &["set", "merge", "remove"]);
                continue;
            }
        };
        let mut r = NodeReader::new(op);
        let pointer = match r.arg(0) {
            Some(e) => reader::string(diags, e).and_then(|p| match crate::patch::check_pointer(&p.value) {
                Ok(()) => Some(p),
                Err(why) => {
                    diags.push(
                        Diagnostic::error(Code::InvalidPatch, format!("`{}` is not a JSON pointer svcc can patch", p.value))
                            .at(p.span, why)
                            .help("write a pointer such as \"/spec/template/spec/dnsPolicy\" (RFC 6901: `~1` for `/`, `~0` for `~`)"),
                    );
                    None
                }
            }),
            None => {
                diags.push(missing(r.name_span(), "a JSON pointer", "write `set \"/spec/minReadySeconds\" 10`"));
                None
            }
        };
        let value = match kind_of {
            PatchOpKind::Remove => {
                no_children(diags, op);
                None
            }
            PatchOpKind::Set => match (r.arg(1), op.children()) {
                (Some(e), None) => scalar_value(e, diags),
                (None, Some(_)) => block_value(op, diags),
                (Some(_), Some(ch)) => {
                    diags.push(
                        Diagnostic::error(Code::InvalidPatch, "`set` takes a value or a block, not both")
                            .at(ch.span().into(), "second value")
                            .help("write `set \"/x\" 3` for a plain value, `set \"/x\" { key 1 }` for an object"),
                    );
                    None
                }
                (None, None) => {
                    diags.push(missing(
                        r.name_span(),
                        "a value",
                        "write `set \"/spec/minReadySeconds\" 10`; to delete a field use `remove`",
                    ));
                    None
                }
            },
            PatchOpKind::Merge => match op.children() {
                Some(_) => block_value(op, diags).filter(|v| {
                    let ok = matches!(v, PatchValue::Object(..));
                    if !ok {
                        diags.push(
                            Diagnostic::error(Code::InvalidPatch, "`merge` takes an object, not a list")
                                .at(v.span(), "a list")
                                .help("use `set` to replace a list"),
                        );
                    }
                    ok
                }),
                None => {
                    diags.push(missing(
                        r.name_span(),
                        "an object to merge",
                        "write `merge \"/metadata/labels\" { team \"payments\" }`",
                    ));
                    None
                }
            },
        };
        r.finish(diags);
        if let Some(pointer) = pointer
            && (value.is_some() || kind_of == PatchOpKind::Remove)
        {
            ops.push(PatchOp { op: kind_of, node: name_span(op), pointer, value });
        }
    }
    if node.children().is_none() {
        diags.push(
            Diagnostic::error(Code::MissingValue, "the patch changes nothing")
                .at(name_span(node), "needs a `{ … }` block")
                .help("add operations: `patch Deployment { set \"/spec/minReadySeconds\" 10 }`"),
        );
    }
    Some(Patch { node: name_span(node), kind: kind?, name, ops })
}

fn scalar_value(e: &KdlEntry, diags: &mut Diagnostics) -> Option<PatchValue> {
    let v = match e.value() {
        KdlValue::String(s) => serde_json::Value::String(s.clone()),
        KdlValue::Integer(i) => match i64::try_from(*i) {
            Ok(i) => serde_json::Value::from(i),
            Err(_) => {
                diags.push(
                    Diagnostic::error(Code::OutOfRange, format!("{i} is out of range"))
                        .at(value_span(e), "does not fit in 64 bits"),
                );
                return None;
            }
        },
        KdlValue::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        KdlValue::Bool(b) => serde_json::Value::Bool(*b),
        KdlValue::Null => serde_json::Value::Null,
    };
    Some(PatchValue::Scalar(Spanned::new(v, value_span(e))))
}

/// A block as a JSON value: `key value` / `key { … }` children make an
/// object, `- value` / `- { … }` children make an array.
fn block_value(node: &KdlNode, diags: &mut Diagnostics) -> Option<PatchValue> {
    let span: Span = node.children().map_or(name_span(node), |c| c.span().into());
    let kids = children(node);
    let dashes = kids.iter().filter(|k| k.name().value() == "-").count();
    if dashes > 0 && dashes < kids.len() {
        diags.push(
            Diagnostic::error(Code::InvalidPatch, "a block is either an object (`key value`) or a list (`- value`)")
                .at(span, "mixes keys and `-` items")
                .help("put list items under their own key"),
        );
        return None;
    }
    let mut ok = true;
    let value_of = |k: &KdlNode, diags: &mut Diagnostics| -> Option<PatchValue> {
        let mut r = NodeReader::new(k);
        let v = match (r.arg(0), k.children()) {
            (Some(e), None) => scalar_value(e, diags),
            (None, Some(_)) => block_value(k, diags),
            _ => {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidPatch,
                        format!("`{}` needs exactly one value or a block", k.name().value()),
                    )
                    .at(name_span(k), "no single value")
                    .help("write `key value`, `key { … }`, `- value` or `- { … }`"),
                );
                None
            }
        };
        r.finish(diags);
        v
    };
    if dashes > 0 {
        let mut items = Vec::new();
        for k in kids {
            match value_of(k, diags) {
                Some(v) => items.push(v),
                None => ok = false,
            }
        }
        return ok.then_some(PatchValue::Array(span, items));
    }
    let mut entries: Vec<(Spanned<String>, PatchValue)> = Vec::new();
    for k in kids {
        let key = Spanned::new(k.name().value().to_string(), name_span(k));
        if let Some((prev, _)) = entries.iter().find(|(p, _)| p.value == key.value) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("`{}` is set twice", key.value))
                    .at(key.span, "set again here")
                    .also(prev.span, "first set here"),
            );
            ok = false;
            continue;
        }
        match value_of(k, diags) {
            Some(v) => entries.push((key, v)),
            None => ok = false,
        }
    }
    ok.then_some(PatchValue::Object(span, entries))
}
