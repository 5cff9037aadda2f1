//! Completion: node names valid at the cursor (from the node tables),
//! property names, enum values, preset names, environment names and the
//! service's metric names, each with its one-line summary.

use std::path::Path;

use lsp_types as lsp;

use super::cursor::{self, At, Frame, Role};
use super::text::LineIndex;
use super::workspace::Workspace;
use crate::decode::node::{Info, Place};
use crate::decode::{FILES, PRESET, SERVICE};
use crate::diagnostic::kdl_string;

/// The values a property takes, where the decoder reads one of a fixed
/// set: (node, property, values). `tests` below hold it to the decoder.
pub(super) const PROPERTY_VALUES: &[(&str, &str, &[&str])] = &[
    ("port", "protocol", &["TCP", "UDP", "SCTP"]),
    ("image", "pull-policy", &["Always", "IfNotPresent", "Never"]),
    ("liveness", "scheme", &["HTTP", "HTTPS"]),
    ("readiness", "scheme", &["HTTP", "HTTPS"]),
    ("startup", "scheme", &["HTTP", "HTTPS"]),
    ("metrics", "scheme", &["http", "https"]),
    ("alerts", "severity", &["critical", "warning", "info"]),
    ("scale-up", "select", &["max", "min", "disabled"]),
    ("scale-down", "select", &["max", "min", "disabled"]),
];

/// Where the cursor's block sits in the language.
pub(super) enum Block {
    /// Outside any node: the file's top-level node.
    Top,
    /// A service, preset or environment body: the body nodes allowed there.
    Body(Place),
    /// A nested block with its own table.
    Nodes(Vec<Info>),
    /// A map of user-named entries (`env`, `labels`, …): each takes these.
    Items(&'static [&'static str]),
    Unknown,
}

/// The block the frames `path` lead into.
pub(super) fn block_of(path: &[Frame]) -> Block {
    let mut block = Block::Top;
    for f in path {
        block = match block {
            Block::Top => match FILES.iter().find(|i| i.name == f.name) {
                Some(i) if i.name == SERVICE.name => Block::Body(Place::SERVICE),
                Some(_) => Block::Body(Place::PRESET),
                None => Block::Unknown,
            },
            Block::Body(_) if f.name == "environment" => Block::Body(Place::ENVIRONMENT),
            b => match node_in(&b, &f.name) {
                Some(i) if i.children.is_some() => Block::Nodes(i.children()),
                Some(i) if !i.item_props.is_empty() => Block::Items(i.item_props),
                _ => Block::Unknown,
            },
        };
    }
    block
}

/// The nodes a block may hold.
pub(super) fn nodes_of(block: &Block) -> Vec<Info> {
    match block {
        Block::Top => FILES.to_vec(),
        Block::Body(place) => SERVICE.children().into_iter().filter(|i| i.place.has(*place)).collect(),
        Block::Nodes(list) => list.clone(),
        Block::Items(_) | Block::Unknown => Vec::new(),
    }
}

/// The node called `name` in `block`.
pub(super) fn node_in(block: &Block, name: &str) -> Option<Info> {
    match block {
        Block::Body(_) => SERVICE.children().into_iter().find(|i| i.name == name),
        Block::Items(props) => Some(Info { name: "", summary: "", doc: "", args: "", props, ..PRESET }),
        b => nodes_of(b).into_iter().find(|i| i.name == name),
    }
}

pub fn completion(ws: &Workspace, p: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
    let path = super::file_path(&p.text_document_position.text_document.uri)?;
    let text = &ws.docs.get(&path)?.text;
    let index = LineIndex::new(text);
    let offset = index.offset(p.text_document_position.position);
    let at = cursor::at(text, offset);
    let block = block_of(&at.path);
    let range = |start: usize, end: usize| index.range(start, end);
    let replace = at.token.as_ref().map_or(range(offset, offset), |t| range(t.start, t.end.max(offset)));
    let role = at.token.as_ref().map(|t| t.role.clone());
    let items = match (&role, &at.node, &at.key) {
        (Some(Role::Name), _, _) | (None, None, _) => names(&block),
        (Some(Role::Value(key)), Some(node), _) | (None, Some(node), Some(key)) => property_values(node, key),
        (Some(Role::Key), Some(node), _) => properties(&block, node),
        (Some(Role::Arg(_)) | None, Some(node), None) => {
            let mut v = arguments(ws, &path, &at, &block, node);
            if role.is_none() || at.token.as_ref().is_some_and(|t| !t.quoted) {
                v.extend(properties(&block, node));
            }
            v
        }
        _ => Vec::new(),
    };
    let items = items
        .into_iter()
        .map(|c| lsp::CompletionItem {
            label: c.label,
            kind: Some(c.kind),
            detail: c.detail,
            documentation: Some(lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: c.doc,
            })),
            text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range: replace, new_text: c.insert })),
            ..Default::default()
        })
        .collect();
    Some(lsp::CompletionResponse::Array(items))
}

/// One completion, before it becomes a protocol item.
struct Item {
    label: String,
    kind: lsp::CompletionItemKind,
    detail: Option<String>,
    doc: String,
    insert: String,
}

fn item(label: &str, kind: lsp::CompletionItemKind, doc: &str, insert: String) -> Item {
    Item { label: label.to_string(), kind, detail: None, doc: doc.to_string(), insert }
}

/// A node's one-line summary and the page that documents it.
pub(super) fn summary(i: &Info) -> String {
    let mut s = i.summary.to_string();
    if !i.doc.is_empty() {
        // svcc's documentation, not a file of the workspace: a relative
        // link would resolve against the spec and lead nowhere.
        s.push_str(&format!("\n\nsvcc docs: `docs/{}`", i.doc));
    }
    s
}

fn names(block: &Block) -> Vec<Item> {
    nodes_of(block)
        .iter()
        .map(|i| {
            let kind = if matches!(block, Block::Top) {
                lsp::CompletionItemKind::MODULE
            } else {
                lsp::CompletionItemKind::PROPERTY
            };
            let mut it = item(i.name, kind, &summary(i), i.name.to_string());
            it.detail = Some(format!("{} {}", i.name, i.args).trim_end().to_string());
            it
        })
        .collect()
}

fn properties(block: &Block, node: &str) -> Vec<Item> {
    let Some(info) = node_in(block, node) else { return Vec::new() };
    info.props
        .iter()
        .map(|p| {
            let doc = format!("A property of `{node}`. {}", info.summary);
            item(p, lsp::CompletionItemKind::FIELD, &doc, format!("{p}="))
        })
        .collect()
}

fn property_values(node: &str, key: &str) -> Vec<Item> {
    PROPERTY_VALUES
        .iter()
        .filter(|(n, k, _)| *n == node && *k == key)
        .flat_map(|(_, _, values)| values.iter())
        .map(|v| item(v, lsp::CompletionItemKind::ENUM_MEMBER, &format!("`{node} {key}=`"), kdl_string(v)))
        .collect()
}

/// Values for a node's positional argument.
fn arguments(ws: &Workspace, path: &Path, at: &At, block: &Block, node: &str) -> Vec<Item> {
    let parent = at.path.last().map_or("", |f| f.name.as_str());
    match (parent, node) {
        (_, "use") => return presets(ws, path),
        ("pipeline", "deploy") => {
            let envs = environments(ws, path);
            let doc = "An environment of this service";
            return envs.iter().map(|e| item(e, lsp::CompletionItemKind::ENUM_MEMBER, doc, kdl_string(e))).collect();
        }
        ("autoscale", "pods") => return metrics(ws, path),
        ("security", "allow") => {
            let names = crate::harden::rules::allow_names();
            let doc = "A hardening rule to break on purpose (with `reason=`)";
            return names.iter().map(|n| item(n, lsp::CompletionItemKind::ENUM_MEMBER, doc, n.to_string())).collect();
        }
        _ => {}
    }
    let Some(info) = node_in(block, node) else { return Vec::new() };
    // `availability|latency`, `#true|#false`: alternatives written in lower case.
    let first = info.args.trim_start_matches('[').split([' ', ']']).next().unwrap_or("");
    if !first.contains('|') {
        return Vec::new();
    }
    first
        .split('|')
        .filter(|v| v.starts_with('#') || v.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(|v| {
            let insert = if v.starts_with('#') { v.to_string() } else { kdl_string(v) };
            item(v, lsp::CompletionItemKind::ENUM_MEMBER, &summary(&info), insert)
        })
        .collect()
}

/// The standard library's presets and the preset files under `presets/`
/// folders of the workspace, as paths relative to `from`.
fn presets(ws: &Workspace, from: &Path) -> Vec<Item> {
    let mut out: Vec<Item> = crate::compose::STDLIB
        .iter()
        .map(|(n, text)| {
            let first = text.lines().find(|l| l.starts_with("//")).unwrap_or("").trim_start_matches("//").trim();
            let doc = format!("Standard-library preset. {first}");
            item(n, lsp::CompletionItemKind::MODULE, &doc, kdl_string(n))
        })
        .collect();
    let dir = from.parent().unwrap_or(&ws.root);
    for file in crate::repo::preset_files(&ws.root) {
        let Some(rel) = relative(dir, &file) else { continue };
        let doc = format!("Preset file {}", file.strip_prefix(&ws.root).unwrap_or(&file).display());
        out.push(item(&rel, lsp::CompletionItemKind::FILE, &doc, kdl_string(&rel)));
    }
    out
}

/// `to` relative to the folder `dir`, as `use` writes it (`./…`, `../…`).
fn relative(dir: &Path, to: &Path) -> Option<String> {
    let mut up = 0;
    let mut base = dir;
    loop {
        if let Ok(rest) = to.strip_prefix(base) {
            let rest = rest.display().to_string();
            return Some(if up == 0 { format!("./{rest}") } else { format!("{}{rest}", "../".repeat(up)) });
        }
        base = base.parent()?;
        up += 1;
    }
}

/// The environments of the spec at `path`: from its last run, else from
/// `environment NAME` lines of its text.
pub(super) fn environments(ws: &Workspace, path: &Path) -> Vec<String> {
    if let Some(spec) = ws.analyses.get(path).and_then(|a| a.run.spec.as_ref()) {
        return crate::check::environment_names(spec);
    }
    let text = ws.docs.get(path).map_or("", |d| d.text.as_str());
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("environment "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|n| n.trim_matches('"').to_string())
        .collect()
}

/// The service's metric names: its request counter and latency histogram.
fn metrics(ws: &Workspace, path: &Path) -> Vec<Item> {
    let metrics = ws.analyses.get(path).and_then(|a| a.run.spec.as_ref()).and_then(|s| s.body.metrics.as_ref());
    let mut vocab = crate::promql::Vocabulary::default();
    if let Some(m) = metrics {
        if let Some(r) = &m.requests {
            vocab.requests.clone_from(&r.value);
        }
        if let Some(l) = &m.latency {
            vocab.latency.clone_from(&l.value);
        }
    }
    let doc = "A metric of this service's vocabulary (`metrics { requests …; latency … }`)";
    [vocab.requests.clone(), format!("{}_count", vocab.latency), format!("{}_bucket", vocab.latency)]
        .iter()
        .map(|m| item(m, lsp::CompletionItemKind::VALUE, doc, kdl_string(m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;

    /// Each entry of [`PROPERTY_VALUES`], used with a value the decoder
    /// refuses: its message must list exactly the table's values.
    #[test]
    fn property_values_match_the_decoder() {
        let snippets = [
            "port http 8080 protocol=X",
            "image \"ghcr.io/a/b\" pull-policy=X",
            "probes { liveness \"/h\" scheme=X }",
            "probes { readiness \"/h\" scheme=X }",
            "probes { startup \"/h\" scheme=X }",
            "metrics scheme=X",
            "alerts severity=X",
            "autoscale min=1 max=2 { cpu 50; scale-up select=X }",
            "autoscale min=1 max=2 { cpu 50; scale-down select=X }",
        ];
        for ((node, key, values), snippet) in PROPERTY_VALUES.iter().zip(snippets) {
            assert!(snippet.contains(node) && snippet.contains(key), "{snippet}");
            let text = format!("service a {{\n  port web 80\n  {}\n}}\n", snippet.replace('X', "\"bogus\""));
            let input = crate::Input { name: "a.kdl".into(), bytes: text.into_bytes() };
            let run = crate::run(&input, &[], &crate::NoFiles, &crate::Options::default());
            let d = run.diagnostics.iter().find(|d| d.code == Code::InvalidChoice);
            let label = d.and_then(|d| d.primary.as_ref()).map(|l| l.message.clone()).unwrap_or_default();
            assert_eq!(label, format!("expected one of: {}", values.join(", ")), "{node} {key}");
        }
        assert_eq!(PROPERTY_VALUES.len(), snippets.len());
    }

    #[test]
    fn blocks_resolve_through_the_tables() {
        let frames =
            |names: &[&str]| -> Vec<Frame> { names.iter().map(|n| Frame { name: n.to_string(), arg: None }).collect() };
        assert!(matches!(block_of(&frames(&["service"])), Block::Body(p) if p == Place::SERVICE));
        assert!(matches!(block_of(&frames(&["service", "environment"])), Block::Body(p) if p == Place::ENVIRONMENT));
        let probes = nodes_of(&block_of(&frames(&["service", "probes"])));
        assert!(probes.iter().any(|i| i.name == "readiness"));
        assert!(matches!(block_of(&frames(&["service", "env"])), Block::Items(_)));
        assert!(nodes_of(&block_of(&frames(&["defaults"]))).iter().all(|i| i.place.has(Place::PRESET)));
    }
}
