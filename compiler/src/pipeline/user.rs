//! User templates: `pipeline { template "./ci/RUNBOOK.md.hbs" to="RUNBOOK.md" }`.
//!
//! The template is read through the caller's [`Loader`] and rendered in
//! strict mode, without HTML escaping.

use crate::compose::{FileKind, LoadError, Loader, Request};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::{self, SourceFile, Span};

/// Why a user template does not render.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not handlebars, or strict mode failed: SVC0343. Position: 1-based
    /// (line, column) when known.
    Template(Option<(usize, usize)>, String),
}

/// Render a user template in strict mode.
pub fn render_user(name: &str, text: &str, context: &serde_json::Value) -> Result<String, Failure> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    if let Err(e) = hb.register_template_string(name, text) {
        return Err(Failure::Template(e.pos(), readable(&e.reason().to_string())));
    }
    hb.render(name, context)
        .map_err(|e| Failure::Template(e.line_no.zip(e.column_no), readable(&e.reason().to_string())))
}

/// handlebars says `Failed to access variable in strict mode Some("x")`,
/// or lists every grammar rule after a syntax error.
fn readable(reason: &str) -> String {
    if reason.starts_with("invalid handlebars syntax") {
        // pest lists every rule it expected; say what usually went wrong.
        return "invalid handlebars syntax here: is a `{{#block}}` left without its `{{/block}}`, or a `{{` without `}}`?".to_string();
    }
    match reason.split_once("strict mode Some(\"") {
        Some((_, rest)) => format!("`{}` is not in the context", rest.trim_end_matches("\")")),
        None => reason.to_string(),
    }
}

/// Where a template is used: its path and `template` span in the spec.
pub(crate) struct Use<'a> {
    pub path: &'a str,
    pub span: Span,
    /// The spec's name.
    pub spec: &'a str,
}

/// Read and render one user template of a `pipeline`; problems are
/// reported against the template file (added to `imports`) or at the
/// `template` in the spec.
pub(crate) fn render_file(
    u: &Use<'_>,
    cx: &serde_json::Value,
    loader: &dyn Loader,
    diags: &mut Diagnostics,
    imports: &mut Vec<SourceFile>,
) -> Option<String> {
    let req = Request { spec: u.spec, from: u.spec, path: u.path, kind: FileKind::Template };
    let bytes = crate::repo::check_written(u.path, FileKind::Template)
        .map_err(|e| LoadError { code: e.code(Code::TemplateError), label: e.reason(), help: e.help().into() })
        .and_then(|()| loader.locate(&req))
        .and_then(|name| Ok((name.clone(), loader.read(&req, &name)?)));
    let (name, bytes) = match bytes {
        Ok(x) => x,
        Err(e) => {
            let help = match e.code {
                Code::TemplateError => {
                    "write the template's path relative to the spec, such as \"./ci/notify.sh.hbs\"".to_string()
                }
                _ => e.help,
            };
            diags.push(
                Diagnostic::error(e.code, format!("cannot read template `{}`", u.path)).at(u.span, e.label).help(help),
            );
            return None;
        }
    };
    let id = source::FileId::try_from(imports.len() + 1).unwrap_or(source::FileId::MAX);
    let tf = source::in_file(id, || crate::text_of(&crate::Input { name, bytes }, diags));
    imports.push(tf.clone());
    let failure = match render_user(&tf.name, &tf.text, cx) {
        Ok(text) => return Some(text),
        Err(f) => f,
    };
    let (code, at, label, help) = match failure {
        Failure::Template(pos, reason) => (
            Code::TemplateError,
            pos.map(|(l, c)| offset_of(&tf.text, l, c)),
            reason,
            "templates render in strict mode: every variable must exist (`svcc explain SVC0343` lists them)",
        ),
    };
    let span = token_span(&tf.text, at.unwrap_or(0));
    diags.push(
        Diagnostic::error(code, format!("template `{}` does not render", tf.name))
            .at(Span::in_file(id, span.0, span.1), label)
            .also(u.span, "used here")
            .help(help),
    );
    None
}

/// The token at byte `at`: up to the next space or `}`; at the end of the
/// text (an unclosed block), the last character.
fn token_span(text: &str, mut at: usize) -> (usize, usize) {
    let trimmed = text.trim_end().len();
    if at >= trimmed {
        at = text.trim_end().char_indices().last().map_or(0, |(i, _)| i);
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let end = text[at..].find(|c: char| c.is_whitespace() || c == '}').map_or(text.len(), |n| at + n);
    let end = if end == at { text[at..].chars().next().map_or(at, |c| at + c.len_utf8()) } else { end };
    (at, end)
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = &text[start.min(text.len())..];
    start + rest.char_indices().nth(col.saturating_sub(1)).map_or(0, |(i, _)| i).min(rest.len())
}
