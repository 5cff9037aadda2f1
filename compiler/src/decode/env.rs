//! The `env` block: the container's environment variables, literal or
//! taken from secrets, config maps and pod fields.

use kdl::KdlNode;

use super::body::Contents;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, children, missing, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{EnvFrom, EnvFromKind, EnvValue, EnvVar, Map};
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[
    Node {
        name: "env",
        place: Place::ANY_CONTAINER,
        order: 7,
        summary: "Environment variables, one per child: `NAME value` or `NAME secret=… key=…`",
        doc: "language.md#env",
        item_props: &["secret", "config-map", "key", "optional", "field"],
        ..Node::new(|n, d, c| env(n, d, &mut c.body.env))
    },
    Node {
        name: "env-from",
        place: Place::ANY_CONTAINER,
        order: 8,
        summary: "Import every key of secrets and config maps as variables",
        doc: "language.md#env-from",
        props: &["prefix", "optional", "secret", "config-map"],
        repeat: true,
        ..Node::new(|n, d, c| env_from(n, d, &mut c.body.env_from))
    },
];

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
