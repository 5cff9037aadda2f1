//! The `volumes` block: writable scratch folders and mounted secrets and
//! config maps.

use kdl::KdlNode;

use super::body::Contents;
use super::node::{Node, Place};
use super::reader::{self, NodeReader, children, name_span, no_children};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::model::{Map, Volume, VolumeSource};
use crate::source::Span;
use crate::source::Spanned;
use crate::values;

pub const NODES: &[Node<Contents>] = &[Node {
    name: "volumes",
    place: Place::ANY_CONTAINER,
    order: 14,
    summary: "Volumes, one per child: `NAME \"/mount/path\"`, a scratch folder unless `secret=` or `config-map=`",
    doc: "language.md#volumes",
    item_props: &["size-limit", "memory", "secret", "config-map", "optional", "read-only"],
    ..Node::new(|n, d, c| volumes(n, d, &mut c.body.volumes))
}];

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
        let optional = r.prop("optional").and_then(|e| reader::boolean(diags, e));
        let read_only = r.prop("read-only").and_then(|e| reader::boolean(diags, e));
        r.finish(diags);
        let items = items(child, diags);
        let object = secret.as_ref().or(config_map.as_ref());
        if object.is_none()
            && let Some(at) = optional.as_ref().map(|o| o.span).or(items.as_ref().map(|i| i.span))
        {
            diags.push(
                Diagnostic::error(
                    Code::UnknownProperty,
                    "`optional` and items apply to secret and config-map volumes only",
                )
                .at(at, "this volume is a scratch folder")
                .help("mount a secret or a config map (`secret=\"…\"`, `config-map=\"…\"`), or remove it"),
            );
        }
        if let (Some(src), true) = (object, size_limit.is_some() || memory.is_some()) {
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
        vols.insert(
            name_str.to_string(),
            Volume { name, path, source, size_limit, memory, optional, items, read_only },
        );
    }
}

/// The keys a secret or config-map volume mounts, one child each:
/// `"app.yaml" "config.yaml"` mounts the key `app.yaml` at `config.yaml`
/// under the mount path (the path defaults to the key).
fn items(volume: &KdlNode, diags: &mut Diagnostics) -> Option<Spanned<Vec<(String, String)>>> {
    let block = volume.children()?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut paths: Vec<(String, Span)> = Vec::new();
    for item in block.nodes() {
        let key = item.name().value();
        let key_span = name_span(item);
        if let Err(why) = values::check_config_key(key) {
            diags.push(reader::invalid_name(key_span, "key", key, &why));
            continue;
        }
        let mut r = NodeReader::new(item);
        let path = r.arg(0).and_then(|e| reader::string(diags, e));
        r.finish(diags);
        no_children(diags, item);
        let path = path.unwrap_or_else(|| Spanned::new(key.to_string(), key_span));
        if let Err(why) = values::check_relative_path(&path.value) {
            diags.push(reader::invalid_name(path.span, "item path", &path.value, &why).help(
                "an item's path is relative to the mount path, without `..`: `\"config.yaml\"`, `\"conf/app.yaml\"`",
            ));
            continue;
        }
        if let Some((_, first)) = paths.iter().find(|(p, _)| *p == path.value) {
            diags.push(
                Diagnostic::error(Code::Duplicate, format!("two items are mounted at `{}`", path.value))
                    .at(path.span, "mounted again here")
                    .also(*first, "first mounted here"),
            );
            continue;
        }
        paths.push((path.value.clone(), path.span));
        out.push((key.to_string(), path.value));
    }
    let span: Span = block.span().into();
    Some(Spanned::new(out, span))
}
