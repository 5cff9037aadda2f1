//! Go to definition, document symbols, formatting, quick fixes, and the
//! `svcc:` virtual documents: standard-library presets, code pages and the
//! YAML a service generates per environment.

use std::path::Path;

use lsp_server::ErrorCode;
use lsp_types as lsp;
use serde_json::{Value, json};

use super::cursor::{self, Role};
use super::text::LineIndex;
use super::workspace::{Workspace, stdlib_uri};
use super::{Answer, file_path};
use crate::compose::{FileKind, Loader, Request, STDLIB};
use crate::repo::Repo;

pub fn definition(ws: &Workspace, p: lsp::GotoDefinitionParams) -> Option<lsp::GotoDefinitionResponse> {
    let pos = &p.text_document_position_params;
    let path = file_path(&pos.text_document.uri)?;
    let text = &ws.docs.get(&path)?.text;
    let index = LineIndex::new(text);
    let at = cursor::at(text, index.offset(pos.position));
    let token = at.token.as_ref()?;
    let parent = at.path.last().map(|f| f.name.as_str());
    let location = match (&token.role, at.node.as_deref(), parent) {
        (Role::Arg(0), Some("use"), _) => preset_location(ws, &path, &token.text),
        (Role::Arg(0), Some("deploy"), Some("pipeline")) => environment_location(ws, &path, &token.text),
        (Role::Arg(0), Some("set" | "merge" | "remove"), Some("patch")) => {
            let env = at.path.iter().find(|f| f.name == "environment").and_then(|f| f.arg.clone());
            let kind = at.path.last().and_then(|f| f.arg.clone())?;
            pointer_location(ws, &path, env.as_deref(), &kind, &token.text)
        }
        _ => None,
    }?;
    Some(lsp::GotoDefinitionResponse::Scalar(location))
}

fn start_of(uri: lsp::Uri) -> lsp::Location {
    lsp::Location { uri, range: lsp::Range::default() }
}

/// The file `use "target"` names: a standard-library preset's virtual
/// document, or the preset file the confined reader finds.
fn preset_location(ws: &Workspace, path: &Path, target: &str) -> Option<lsp::Location> {
    if !crate::compose::is_file(target) {
        return STDLIB.iter().any(|(n, _)| *n == target).then(|| stdlib_uri(target)).flatten().map(start_of);
    }
    let mut repo = Repo::new(&ws.root).ok()?;
    let name = path.strip_prefix(&ws.root).unwrap_or(path).display().to_string();
    let _ = repo.read_spec(Path::new(&name), Path::new("."));
    let req = Request { spec: &name, from: &name, path: target, kind: FileKind::Preset };
    let found = repo.locate(&req).ok()?;
    super::uri_of(&ws.path_of_name(&found)).map(start_of)
}

/// `environment NAME` of the spec at `path`.
fn environment_location(ws: &Workspace, path: &Path, name: &str) -> Option<lsp::Location> {
    let run = &ws.analyses.get(path)?.run;
    let env = run.spec.as_ref()?.environments.iter().find(|e| e.name.value == name)?;
    ws.location(run, path, env.name.span)
}

/// The field a patch pointer names, in the generated YAML of its
/// environment (the first one for a patch in the service block).
fn pointer_location(
    ws: &Workspace,
    path: &Path,
    env: Option<&str>,
    kind: &str,
    pointer: &str,
) -> Option<lsp::Location> {
    let run = &ws.analyses.get(path)?.run;
    let service = &run.spec.as_ref()?.name.value;
    let i = match env {
        Some(e) => run.plans.iter().position(|p| p.environment == e)?,
        None => 0,
    };
    let env = &run.plans.get(i)?.environment;
    let objects = run.objects.get(i)?;
    let k = objects.iter().position(|o| o.kind.as_str() == kind)?;
    let text = generated_yaml(ws, service, env)?;
    let line = object_line(&text, k, pointer)?;
    let uri = generated_uri(service, env)?;
    let p = lsp::Position { line: u32::try_from(line).ok()?, character: 0 };
    Some(lsp::Location { uri, range: lsp::Range { start: p, end: p } })
}

fn generated_uri(service: &str, env: &str) -> Option<lsp::Uri> {
    format!("svcc:/generated/{service}/{env}.yaml").parse().ok()
}

/// The YAML `svcc build` prints for `service` in `env`, from the last run
/// of the open file that defines the service.
fn generated_yaml(ws: &Workspace, service: &str, env: &str) -> Option<String> {
    let run =
        ws.analyses.values().map(|a| &a.run).find(|r| r.spec.as_ref().is_some_and(|s| s.name.value == service))?;
    let i = run.plans.iter().position(|p| p.environment == env)?;
    let objects = run.objects.get(i)?;
    Some(crate::emit::stream(&crate::emit::artifacts(service, env, objects)))
}

/// The line (0-based, in the whole stream) of `pointer` in the `k`th
/// object of a stream, or of its nearest ancestor that is there.
fn object_line(stream: &str, k: usize, pointer: &str) -> Option<usize> {
    let header = stream.lines().enumerate().filter(|(_, l)| l.starts_with("# Source: ")).nth(k)?.0;
    let body: Vec<&str> = stream.lines().skip(header + 1).take_while(|l| *l != "---").collect();
    let want: Vec<String> = pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    Some(header + 1 + yaml_line(&body, &want))
}

/// The line of the value at path `want` in block-style YAML (as svcc
/// writes it), or of the deepest ancestor found.
fn yaml_line(lines: &[&str], want: &[String]) -> usize {
    // (column, segment, is a sequence item)
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    let mut best = (0usize, 0usize);
    for (n, line) in lines.iter().enumerate() {
        let mut col = line.len() - line.trim_start().len();
        let mut rest = line.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        while let Some(after) = rest.strip_prefix("- ").or_else(|| (rest == "-").then_some("")) {
            let mut index = 0;
            while let Some((c, seg, item)) = stack.last() {
                if *c > col || (*c == col && *item) {
                    if *c == col && *item {
                        index = seg.parse::<usize>().map_or(0, |i| i + 1);
                    }
                    stack.pop();
                } else {
                    break;
                }
            }
            stack.push((col, index.to_string(), true));
            col += 2;
            rest = after;
            check(&stack, want, n, &mut best);
        }
        if let Some(key) = key_of(rest) {
            while stack.last().is_some_and(|(c, _, _)| *c >= col) {
                stack.pop();
            }
            stack.push((col, key, false));
            check(&stack, want, n, &mut best);
        }
    }
    best.1
}

fn check(stack: &[(usize, String, bool)], want: &[String], line: usize, best: &mut (usize, usize)) {
    let depth = stack.iter().zip(want).take_while(|((_, s, _), w)| s == *w).count();
    if depth == stack.len() && depth > best.0 {
        *best = (depth, line);
    }
}

/// The key of a `key: value` or `key:` line.
fn key_of(rest: &str) -> Option<String> {
    if let Some(q) = rest.strip_prefix('"') {
        let end = q.find("\":")?;
        return Some(q[..end].to_string());
    }
    if let Some(q) = rest.strip_prefix('\'') {
        let end = q.find("':")?;
        return Some(q[..end].to_string());
    }
    let end = rest.find(": ").or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
    Some(rest[..end].to_string())
}

#[allow(deprecated)]
pub fn symbols(ws: &Workspace, p: lsp::DocumentSymbolParams) -> Option<lsp::DocumentSymbolResponse> {
    let path = file_path(&p.text_document.uri)?;
    let text = &ws.docs.get(&path)?.text;
    let doc = crate::syntax::parse(text, &mut crate::diagnostic::Diagnostics::new())?;
    let index = LineIndex::new(text);
    let symbol = |node: &kdl::KdlNode, kind: lsp::SymbolKind, children: Option<Vec<lsp::DocumentSymbol>>| {
        let span = node.span();
        let name_span = node.name().span();
        let arg = node.entries().first().filter(|e| e.name().is_none()).map(|e| e.value().to_string());
        lsp::DocumentSymbol {
            name: node.name().value().to_string(),
            detail: arg.map(|a| a.trim_matches('"').to_string()),
            kind,
            tags: None,
            deprecated: None,
            range: index.range(span.offset(), span.offset() + span.len()),
            selection_range: index.range(name_span.offset(), name_span.offset() + name_span.len()),
            children,
        }
    };
    let block = |n: &kdl::KdlNode| -> Vec<lsp::DocumentSymbol> {
        n.children().map_or(&[][..], |c| c.nodes()).iter().map(|c| symbol(c, lsp::SymbolKind::FIELD, None)).collect()
    };
    let out = doc
        .nodes()
        .iter()
        .map(|top| {
            let children = top
                .children()
                .map_or(&[][..], |c| c.nodes())
                .iter()
                .map(|n| match n.name().value() {
                    "environment" => symbol(n, lsp::SymbolKind::NAMESPACE, Some(block(n))),
                    _ if n.children().is_some() => symbol(n, lsp::SymbolKind::STRUCT, Some(block(n))),
                    _ => symbol(n, lsp::SymbolKind::FIELD, None),
                })
                .collect();
            symbol(top, lsp::SymbolKind::MODULE, Some(children))
        })
        .collect();
    Some(lsp::DocumentSymbolResponse::Nested(out))
}

/// The whole document in svcc's canonical layout (`svcc fmt`), or no edit
/// when it cannot be formatted (it has syntax errors).
pub fn formatting(ws: &Workspace, p: lsp::DocumentFormattingParams) -> Option<Vec<lsp::TextEdit>> {
    let path = file_path(&p.text_document.uri)?;
    let text = &ws.docs.get(&path)?.text;
    let formatted = crate::format::format(text, &mut crate::diagnostic::Diagnostics::new())?;
    if formatted == *text {
        return Some(Vec::new());
    }
    let range = LineIndex::new(text).range(0, text.len());
    Some(vec![lsp::TextEdit { range, new_text: formatted }])
}

/// A quick fix for each diagnostic that carries one (in its `data`).
pub fn code_actions(p: lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
    let mut out = Vec::new();
    for d in &p.context.diagnostics {
        let Some(fix) = d.data.as_ref().and_then(|v| v.get("fix")) else { continue };
        let title = fix.get("title").and_then(Value::as_str).unwrap_or("Fix").to_string();
        let mut by_file: Vec<lsp::TextDocumentEdit> = Vec::new();
        for e in fix.get("edits").and_then(Value::as_array).into_iter().flatten() {
            let Ok(uri) = serde_json::from_value::<lsp::Uri>(e.get("uri").cloned().unwrap_or(Value::Null)) else {
                continue;
            };
            let Ok(range) = serde_json::from_value::<lsp::Range>(e.get("range").cloned().unwrap_or(Value::Null)) else {
                continue;
            };
            let new_text = e.get("newText").and_then(Value::as_str).unwrap_or("").to_string();
            let edit = lsp::OneOf::Left(lsp::TextEdit { range, new_text });
            match by_file.iter_mut().find(|t| t.text_document.uri == uri) {
                Some(t) => t.edits.push(edit),
                None => by_file.push(lsp::TextDocumentEdit {
                    text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri, version: None },
                    edits: vec![edit],
                }),
            }
        }
        if by_file.is_empty() {
            continue;
        }
        out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title,
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(lsp::WorkspaceEdit {
                document_changes: Some(lsp::DocumentChanges::Edits(by_file)),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Some(out)
}

/// `svcc.showGeneratedYaml [uri, position?]`: the URI and text of the YAML
/// of the service in `uri`, for the environment around `position` (else
/// the first).
pub fn execute(ws: &Workspace, p: lsp::ExecuteCommandParams) -> Answer {
    if p.command != super::SHOW_YAML {
        return Err((ErrorCode::InvalidParams, format!("unknown command `{}`", p.command)));
    }
    let bad = |why: &str| (ErrorCode::InvalidParams, why.to_string());
    let uri: lsp::Uri = serde_json::from_value(p.arguments.first().cloned().unwrap_or(Value::Null))
        .map_err(|_| bad("the first argument is the spec's URI"))?;
    let path = file_path(&uri).ok_or_else(|| bad("not a file URI"))?;
    let a = ws.analyses.get(&path).ok_or_else(|| bad("the spec is not open"))?;
    let spec = a.run.spec.as_ref().ok_or_else(|| bad("the file holds no service that decodes"))?;
    let position: Option<lsp::Position> = p.arguments.get(1).and_then(|v| serde_json::from_value(v.clone()).ok());
    let around = position.and_then(|pos| {
        let text = &ws.docs.get(&path)?.text;
        let at = cursor::at(text, LineIndex::new(text).offset(pos));
        at.path.iter().find(|f| f.name == "environment").and_then(|f| f.arg.clone())
    });
    let env = around
        .filter(|e| a.run.plans.iter().any(|p| p.environment == *e))
        .or_else(|| a.run.plans.first().map(|p| p.environment.clone()))
        .ok_or_else(|| bad("the spec has errors: fix them to see the YAML"))?;
    let text = generated_yaml(ws, &spec.name.value, &env).unwrap_or_default();
    let uri = generated_uri(&spec.name.value, &env).map(|u| u.as_str().to_string());
    Ok(json!({ "uri": uri, "environment": env, "text": text }))
}

/// `svcc/virtualDocument { uri }` → `{ text }`.
pub fn virtual_document(ws: &Workspace, params: &Value) -> Answer {
    let uri = params.get("uri").and_then(Value::as_str).unwrap_or("");
    let missing = || (ErrorCode::InvalidParams, format!("no svcc document `{uri}`"));
    let rest = uri.strip_prefix("svcc:/").ok_or_else(missing)?;
    let text = if let Some(name) = rest.strip_prefix("stdlib/presets/").and_then(|n| n.strip_suffix(".kdl")) {
        STDLIB.iter().find(|(n, _)| *n == name).map(|(_, t)| (*t).to_string())
    } else if let Some(code) = rest.strip_prefix("docs/codes/").and_then(|n| n.strip_suffix(".md")) {
        crate::diagnostic::Code::parse(code).map(|c| c.explanation().to_string())
    } else if let Some((service, env)) = rest.strip_prefix("generated/").and_then(|r| r.split_once('/')) {
        generated_yaml(ws, service, env.strip_suffix(".yaml").unwrap_or(env))
    } else {
        None
    };
    text.map(|t| json!({ "text": t })).ok_or_else(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_find_their_yaml_line() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: api\n        image: x\n      - name: side\n        ports:\n        - containerPort: 80\n";
        let lines: Vec<&str> = yaml.lines().collect();
        let at = |p: &str| {
            let want: Vec<String> = p.split('/').skip(1).map(str::to_string).collect();
            yaml_line(&lines, &want)
        };
        assert_eq!(at("/spec/replicas"), 3);
        assert_eq!(at("/spec/template/spec/containers/0/image"), 8);
        assert_eq!(at("/spec/template/spec/containers/1/name"), 9);
        assert_eq!(at("/spec/template/spec/containers/1/ports/0/containerPort"), 11);
        // A field that is not there: its nearest ancestor.
        assert_eq!(at("/spec/template/spec/hostAliases"), 5);
    }
}
