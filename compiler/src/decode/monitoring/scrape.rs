//! The ServiceMonitor endpoint's options, children of `metrics`: `tls`,
//! `authorization`, `bearer-token-file`, `relabel`, `metric-relabel`.

use kdl::KdlNode;

use super::super::reader::{self, NodeReader, missing, name_span, no_children};
use super::label_name;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Relabel, ScrapeAuthorization, ScrapeTls};
use crate::source::Spanned;
use crate::values;

pub const RELABEL_PROPS: &[&str] = &["action", "target-label", "regex", "replacement", "separator", "modulus"];

/// Prometheus's relabel actions, as prometheus-operator spells them.
const ACTIONS: &[&str] = &[
    "replace",
    "keep",
    "drop",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "keepequal",
    "dropequal",
];

/// A key of a Secret: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn check_secret_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("a key has 1 to 253 characters".into());
    }
    if s == "." || s == ".." || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
        return Err("a key holds letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

pub(super) fn tls(node: &KdlNode, diags: &mut Diagnostics) -> ScrapeTls {
    let mut r = NodeReader::new(node);
    let server_name =
        r.prop("server-name").and_then(|e| reader::name(diags, e, "server name", values::check_dns1123_subdomain));
    let ca_secret =
        r.prop("ca-secret").and_then(|e| reader::name(diags, e, "Secret name", values::check_dns1123_subdomain));
    let ca_key = r.prop("ca-key").and_then(|e| reader::name(diags, e, "Secret key", check_secret_key));
    let insecure_skip_verify = r.prop("insecure-skip-verify").and_then(|e| reader::boolean(diags, e));
    r.finish(diags);
    no_children(diags, node);
    ScrapeTls { node: name_span(node), server_name, ca_secret, ca_key, insecure_skip_verify }
}

pub(super) fn authorization(node: &KdlNode, diags: &mut Diagnostics) -> Option<ScrapeAuthorization> {
    let mut r = NodeReader::new(node);
    let help = "write `authorization secret=\"metrics-token\" key=\"token\"`";
    let secret = r.prop("secret").and_then(|e| reader::name(diags, e, "Secret name", values::check_dns1123_subdomain));
    let key = r.prop("key").and_then(|e| reader::name(diags, e, "Secret key", check_secret_key));
    let type_ = r.prop("type").and_then(|e| {
        reader::name(diags, e, "authorization type", |s| {
            if s.eq_ignore_ascii_case("basic") {
                Err("`Basic` is not supported: the Secret holds the credentials of another scheme".into())
            } else if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                Ok(())
            } else {
                Err("an HTTP authentication scheme, e.g. `Bearer`".into())
            }
        })
    });
    r.finish(diags);
    no_children(diags, node);
    for (v, what) in [(&secret, "a `secret=`"), (&key, "a `key=`")] {
        if v.is_none() {
            diags.push(missing(name_span(node), what, help));
        }
    }
    Some(ScrapeAuthorization { node: name_span(node), type_, secret: secret?, key: key? })
}

pub(super) fn token_file(node: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let path = match r.arg(0) {
        Some(e) => reader::string(diags, e),
        None => {
            diags.push(missing(
                r.name_span(),
                "a file path",
                "write `bearer-token-file \"/var/run/secrets/kubernetes.io/serviceaccount/token\"`",
            ));
            None
        }
    };
    r.finish(diags);
    no_children(diags, node);
    let path = path?;
    if !path.value.starts_with('/') {
        diags.push(reader::invalid_name(
            path.span,
            "token file",
            &path.value,
            "an absolute path in the Prometheus pod",
        ));
        return None;
    }
    Some(path)
}

/// One `relabel` or `metric-relabel`, appended to its list.
pub(super) fn relabel(node: &KdlNode, diags: &mut Diagnostics, list: &mut Option<Spanned<Vec<Relabel>>>) {
    let mut r = NodeReader::new(node);
    let source_labels = r.rest_args(0).into_iter().filter_map(|e| label_name(diags, e)).collect();
    let action = r.prop("action").and_then(|e| reader::choice(diags, e, ACTIONS));
    let target_label = r.prop("target-label").and_then(|e| label_name(diags, e));
    let regex = r.prop("regex").and_then(|e| reader::string(diags, e));
    if let Some(re) = &regex
        && let Err(e) = regex_automata::util::syntax::parse(&re.value)
    {
        let why = e.to_string().lines().last().unwrap_or_default().to_string();
        diags.push(
            Diagnostic::error(Code::InvalidPromql, format!("`{}` is not a valid regular expression", re.value))
                .at(re.span, why)
                .help("Prometheus relabel regexes are RE2, anchored at both ends"),
        );
    }
    let replacement = r.prop("replacement").and_then(|e| reader::text(diags, e));
    let separator = r.prop("separator").and_then(|e| reader::text(diags, e));
    let modulus =
        r.prop("modulus").and_then(|e| reader::int(diags, e, 1, i128::from(u32::MAX))).map(|m| m.map(|v| v as u64));
    r.finish(diags);
    no_children(diags, node);
    let item =
        Relabel { node: name_span(node), source_labels, action, target_label, regex, replacement, separator, modulus };
    list.get_or_insert_with(|| Spanned::new(Vec::new(), name_span(node))).value.push(item);
}
