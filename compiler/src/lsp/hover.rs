//! Hover: a node's documentation from its table, and the value it has in
//! each environment with where that value comes from (the provenance the
//! run recorded: "replicas 2 — default; production: 3 from environment").

use lsp_types as lsp;

use super::complete::{Block, block_of, node_in, summary};
use super::cursor::{self, Frame, Role};
use super::text::LineIndex;
use super::workspace::Workspace;
use crate::Run;
use crate::lower::Origin;
use crate::provenance::{self, Answer};

pub fn hover(ws: &Workspace, p: lsp::HoverParams) -> Option<lsp::Hover> {
    let path = super::file_path(&p.text_document_position_params.text_document.uri)?;
    let text = &ws.docs.get(&path)?.text;
    let index = LineIndex::new(text);
    let at = cursor::at(text, index.offset(p.text_document_position_params.position));
    let token = at.token.as_ref()?;
    let block = block_of(&at.path);
    let (name, info, key) = match (&token.role, &at.node) {
        (Role::Name, _) => (token.text.clone(), node_in(&block, &token.text), None),
        (Role::Key, Some(node)) => (node.clone(), node_in(&block, node), Some(token.text.clone())),
        _ => return None,
    };
    let mut md = String::new();
    match &info {
        Some(i) if !i.summary.is_empty() => {
            md.push_str(&format!("```kdl\n{} {}\n```\n", i.name, i.args));
            if let Some(k) = &key {
                md.push_str(&format!("Property `{k}` of `{}`.\n\n", i.name));
            }
            md.push_str(&summary(i));
            if !i.props.is_empty() && key.is_none() {
                md.push_str(&format!(
                    "\n\nProperties: {}",
                    i.props.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        _ if matches!(block, Block::Items(_)) => md.push_str(&format!("`{name}`: an entry of `{}`", parent(&at.path))),
        _ => return None,
    }
    if let Some(a) = ws.analyses.get(&path) {
        let arg = at.args.first().map(String::as_str);
        md.push_str(&effective(&a.run, &setting_path(&at.path, &name, arg, key.as_deref())));
    }
    Some(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent { kind: lsp::MarkupKind::Markdown, value: md }),
        range: Some(index.range(token.start, token.end)),
    })
}

fn parent(path: &[Frame]) -> &str {
    path.last().map_or("", |f| f.name.as_str())
}

/// The setting paths the node (or its property) may be documented under,
/// most specific first: `security.run-as-user`, `labels.team`,
/// `port.http.protocol`.
fn setting_path(path: &[Frame], name: &str, arg: Option<&str>, key: Option<&str>) -> Vec<String> {
    let mut parts: Vec<&str> =
        path.iter().skip(1).filter(|f| f.name != "environment").map(|f| f.name.as_str()).collect();
    parts.push(name);
    let base = parts.join(".");
    match key {
        Some(k) => {
            let mut v = vec![format!("{base}.{k}")];
            if let Some(a) = arg {
                v.insert(0, format!("{base}.{a}.{k}"));
            }
            v
        }
        None => vec![base],
    }
}

/// "Effective value" lines for the first of `paths` that names a setting.
fn effective(run: &Run, paths: &[String]) -> String {
    let Some((path, setting)) = paths.iter().find_map(|p| crate::settings::by_path(p).map(|s| (p, s))) else {
        return String::new();
    };
    if run.plans.is_empty() {
        return format!("\n\n`{}`: effective values show once the spec has no errors.", setting.path);
    }
    let Some(answers) = answers(run, path) else {
        return format!("\n\n`{}`: not generated in any environment.", setting.path);
    };
    let mut s = format!("\n\n**Effective value** (`{}`)", setting.path);
    for a in &answers {
        match &a.value {
            Some(v) => s.push_str(&format!("\n- {}: {} — {}", a.environment, shown(v), origin(run, &a.origin))),
            // Nothing to trace: an origin here would be the object's, not the value's.
            None => s.push_str(&format!("\n- {}: not in the generated YAML", a.environment)),
        }
    }
    s
}

/// The answers for `path` from the first generated object that has it.
fn answers(run: &Run, path: &str) -> Option<Vec<Answer>> {
    let objects = run.objects.first()?;
    objects.iter().find_map(|o| {
        let id = format!("{}/{}", o.kind.as_str(), o.name);
        let answers = provenance::trace(run, &id, path).ok()?;
        answers.iter().any(|a| a.value.is_some()).then_some(answers)
    })
}

fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// Where a value came from, in a few words.
fn origin(run: &Run, o: &Origin) -> String {
    let file = |span: crate::source::Span| {
        let f = run.source(span)?;
        let line = f.line_col(span.start).0;
        Some(match Workspace::stdlib_name(f) {
            Some(n) => format!("standard-library preset `{n}`"),
            None if span.file == 0 => format!("line {line}"),
            None if f.name.ends_with(crate::repo::DEFAULTS_FILE) => format!("org defaults {}:{line}", f.name),
            None => format!("preset {}:{line}", f.name),
        })
    };
    match o {
        Origin::Default { .. } => "default".into(),
        Origin::Environment { name, span } => {
            format!("from environment `{name}` ({})", file(*span).unwrap_or_default())
        }
        Origin::Spec(span) if span.file == 0 => format!("from the service ({})", file(*span).unwrap_or_default()),
        Origin::Spec(span) => format!("from {}", file(*span).unwrap_or_default()),
        Origin::Derived { what, .. } => format!("derived from {what}"),
        Origin::Patch(span) => format!("from a patch ({})", file(*span).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_paths_follow_the_blocks() {
        let f = |n: &str, a: Option<&str>| Frame { name: n.into(), arg: a.map(str::to_string) };
        let path = [f("service", Some("api")), f("environment", Some("prod")), f("security", None)];
        assert_eq!(setting_path(&path, "run-as-user", None, None), ["security.run-as-user"]);
        let path = [f("service", Some("api"))];
        assert_eq!(
            setting_path(&path, "port", Some("http"), Some("protocol")),
            ["port.http.protocol", "port.protocol"]
        );
    }
}
