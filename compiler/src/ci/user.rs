//! User templates: `pipeline { template "./ci/RUNBOOK.md.hbs" to="RUNBOOK.md" }`.
//!
//! A template is written by anyone who can edit the repository and runs in
//! every build, so its cost is bounded before it runs:
//!
//! - partials and decorators (`{{> p}}`, `{{#> p}}`, `{{#*inline}}`) are
//!   refused (SVC0344): svcc registers no partials, and an inline partial
//!   that calls itself recurses without end;
//! - a template is at most [`MAX_TEMPLATE_BYTES`], with at most
//!   [`MAX_TAGS`] `{{…}}` tags nested at most [`MAX_NESTING`] deep, and
//!   its `{{#each}}` blocks may not multiply into more than [`MAX_STEPS`]
//!   rendered elements (handlebars compiles in time quadratic in the
//!   template, and nested `each` blocks multiply): SVC0345;
//! - the output stops at [`MAX_OUTPUT_BYTES`] (SVC0345);
//! - handlebars runs on a thread with its own large stack, so even a
//!   template these checks misjudge cannot overflow svcc's stack.

use handlebars::template::{Template, TemplateElement};

use crate::compose::{FileKind, LoadError, Loader, Request};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::{self, SourceFile, Span};

/// The largest user template svcc renders.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// The most `{{` tags in one user template.
pub const MAX_TAGS: usize = 256;
/// The deepest nesting of blocks (`{{#…}}`, `{{else if …}}` chains) and of
/// brackets inside one tag.
pub const MAX_NESTING: usize = 32;
/// The most elements one render may evaluate, counting each iteration of
/// an `{{#each}}` over the longest list in the context.
pub const MAX_STEPS: u64 = 100_000;
/// The largest rendered file.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

const RENDER_STACK: usize = 256 * 1024 * 1024;

/// Why a user template does not render.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not handlebars, or strict mode failed: SVC0343. Position: 1-based
    /// (line, column) when known.
    Template(Option<(usize, usize)>, String),
    /// A partial or decorator at (line, column): SVC0344.
    Partial((usize, usize)),
    /// Over a limit, at a byte offset when it has one: SVC0345.
    Limit(Option<usize>, String),
}

/// Render a user template in strict mode, within the limits above.
pub fn render_user(name: &str, text: &str, context: &serde_json::Value) -> Result<String, Failure> {
    scan(text)?;
    let run = || -> Result<String, Failure> {
        let template =
            Template::compile(text).map_err(|e| Failure::Template(e.pos(), readable(&e.reason().to_string())))?;
        let mut steps = 0;
        check(&template, 1, widest(context), &mut steps)?;
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        super::encode::register(&mut hb);
        hb.register_template(name, template);
        let mut out = Capped(Vec::new());
        match hb.render_to_write(name, context, &mut out) {
            Ok(()) => Ok(String::from_utf8_lossy(&out.0).into_owned()),
            Err(_) if out.0.len() >= MAX_OUTPUT_BYTES => Err(Failure::Limit(
                None,
                format!("the output is larger than {} MiB, and rendering stopped there", MAX_OUTPUT_BYTES >> 20),
            )),
            Err(e) => Err(Failure::Template(e.line_no.zip(e.column_no), readable(&e.reason().to_string()))),
        }
    };
    let done = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("svcc-template".into())
            .stack_size(RENDER_STACK)
            .spawn_scoped(s, run)
            .map(|h| h.join())
    });
    match done {
        Ok(Ok(r)) => r,
        _ => Err(Failure::Limit(None, "the template is too deeply structured to render".into())),
    }
}

/// A writer that refuses to grow past [`MAX_OUTPUT_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.0.extend_from_slice(&buf[..MAX_OUTPUT_BYTES - self.0.len()]);
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The longest array or object anywhere in `v` (at least 1): what one
/// `{{#each}}` can multiply the work by.
fn widest(v: &serde_json::Value) -> u64 {
    match v {
        serde_json::Value::Array(a) => a.iter().map(widest).fold(a.len() as u64, u64::max),
        serde_json::Value::Object(o) => o.values().map(widest).fold(o.len() as u64, u64::max),
        _ => 1,
    }
    .max(1)
}

/// Refuse partials and decorators, and bound the work: each element costs
/// the product of the `each` blocks around it.
fn check(t: &Template, weight: u64, widest: u64, steps: &mut u64) -> Result<(), Failure> {
    for (i, e) in t.elements.iter().enumerate() {
        let at = t.mapping.get(i).map_or((1, 1), |m| (m.0, m.1));
        *steps = steps.saturating_add(weight);
        if *steps > MAX_STEPS {
            return Err(Failure::Limit(
                None,
                format!("`{{{{#each}}}}` blocks multiply this template into more than {MAX_STEPS} steps"),
            ));
        }
        match e {
            TemplateElement::PartialExpression(_)
            | TemplateElement::PartialBlock(_)
            | TemplateElement::DecoratorExpression(_)
            | TemplateElement::DecoratorBlock(_) => return Err(Failure::Partial(at)),
            TemplateElement::HelperBlock(h) => {
                let inner = if h.name.as_name() == Some("each") { weight.saturating_mul(widest) } else { weight };
                if let Some(body) = &h.template {
                    check(body, inner, widest, steps)?;
                }
                if let Some(inverse) = &h.inverse {
                    check(inverse, weight, widest, steps)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The limits that must hold before handlebars sees the text: size, tag
/// count, nesting of blocks and of brackets inside a tag. Errs on the safe
/// side (a `{{` inside a comment counts as text, one in a raw block as a tag).
fn scan(text: &str) -> Result<(), Failure> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(Failure::Limit(
            None,
            format!(
                "the template is {} KiB; user templates are at most {} KiB",
                text.len() >> 10,
                MAX_TEMPLATE_BYTES >> 10
            ),
        ));
    }
    let b = text.as_bytes();
    let too_deep = |at: usize| Failure::Limit(Some(at), format!("nested more than {MAX_NESTING} deep"));
    let (mut tags, mut i) = (0usize, 0usize);
    let mut blocks: Vec<usize> = Vec::new();
    while let Some(k) = text[i..].find("{{") {
        let at = i + k;
        let backslashes = b[..at].iter().rev().take_while(|c| **c == b'\\').count();
        if backslashes == 1 {
            // `\{{` is literal text.
            i = at + 2;
            continue;
        }
        tags += 1;
        if tags > MAX_TAGS {
            return Err(Failure::Limit(Some(at), format!("more than {MAX_TAGS} `{{{{` tags")));
        }
        if text[at..].starts_with("{{{{") && !text[at..].starts_with("{{{{/") {
            // A raw block: its content is text up to `{{{{/`.
            i = text[at + 4..].find("{{{{/").map_or(text.len(), |e| at + 4 + e + 5);
            continue;
        }
        let mut j = at + 2;
        while j < b.len() && matches!(b[j], b'{' | b'~' | b' ' | b'\t' | b'\r' | b'\n') {
            j += 1;
        }
        if text[j..].starts_with("!--") {
            i = text[j..].find("--}}").map_or(text.len(), |e| j + e + 4);
            continue;
        }
        let end = text[j..].find("}}").map_or(text.len(), |e| j + e);
        let inner = text[j..end].trim_end_matches(|c: char| c == '~' || c.is_whitespace());
        match inner.as_bytes().first() {
            Some(b'#') => blocks.push(1),
            Some(b'^') if inner.len() > 1 => blocks.push(1),
            Some(b'/') => {
                blocks.pop();
            }
            _ if inner.strip_prefix("else").is_some_and(|r| !r.trim().is_empty()) => {
                if let Some(top) = blocks.last_mut() {
                    *top += 1;
                }
            }
            _ => {}
        }
        if blocks.iter().sum::<usize>() > MAX_NESTING {
            return Err(too_deep(at));
        }
        let mut depth = 0usize;
        for (n, c) in inner.bytes().enumerate() {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Err(too_deep(j + n));
            }
        }
        i = (end + 2).min(text.len());
    }
    Ok(())
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
        Failure::Partial((l, c)) => (
            Code::TemplatePartial,
            Some(offset_of(&tf.text, l, c)),
            "a partial or decorator".to_string(),
            "user templates cannot use partials (`{{> …}}`, `{{#> …}}`) or decorators (`{{#*inline}}`): write the text out, or loop with `{{#each}}`",
        ),
        Failure::Limit(at, reason) => (
            Code::TemplateLimit,
            at,
            reason,
            "keep user templates small and simple (docs/pipeline.md, \"User templates\", lists the limits)",
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str) -> Result<String, Failure> {
        render_user("t", t, &json!({ "a": "x", "xs": [1, 2, 3] }))
    }

    #[test]
    fn partials_and_decorators_are_refused_where_they_are() {
        assert_eq!(run("ok\n{{#*inline \"p\"}}{{> p}}{{/inline}}{{> p}}"), Err(Failure::Partial((2, 1))));
        assert_eq!(run("{{a}} {{> p}}"), Err(Failure::Partial((1, 7))));
        assert_eq!(run("{{#> layout}}x{{/layout}}"), Err(Failure::Partial((1, 1))));
        assert_eq!(run("{{#each xs}}{{~> p}}{{/each}}"), Err(Failure::Partial((1, 13))));
        // Escaped and commented tags are text.
        assert_eq!(run("\\{{> p}} {{!-- {{> p}} --}}{{a}}").as_deref(), Ok("{{> p}} x"));
    }

    #[test]
    fn limits_hold_before_handlebars_runs() {
        let deep = format!("{}x{}", "{{#if a}}".repeat(40), "{{/if}}".repeat(40));
        assert!(matches!(run(&deep), Err(Failure::Limit(Some(_), _))));
        let chain = format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if a}}".repeat(40));
        assert!(matches!(run(&chain), Err(Failure::Limit(Some(_), _))));
        let raw = format!("{}{{{{{{{{raw}}}}}}}}{{{{/if}}}}{{{{{{{{/raw}}}}}}}}", "{{#if a}}".repeat(20));
        assert!(matches!(run(&raw.repeat(2)), Err(Failure::Limit(Some(_), _))));
        let brackets = format!("{{{{lookup {}xs{} 0}}}}", "(lookup ".repeat(40), " 0)".repeat(40));
        assert!(matches!(run(&brackets), Err(Failure::Limit(Some(_), _))));
        assert!(matches!(run(&"{{a}}".repeat(MAX_TAGS + 1)), Err(Failure::Limit(Some(_), _))));
        assert!(matches!(run(&"x".repeat(MAX_TEMPLATE_BYTES + 1)), Err(Failure::Limit(None, _))));
    }

    #[test]
    fn work_and_output_are_bounded() {
        let each = format!("{}.{}", "{{#each xs}}".repeat(12), "{{/each}}".repeat(12));
        assert!(matches!(run(&each), Err(Failure::Limit(None, r)) if r.contains("steps")));
        let wide = json!({ "big": "y".repeat(1000), "xs": vec![0; 2000] });
        let r = render_user("t", "{{#each xs}}{{../big}}{{/each}}", &wide);
        assert!(matches!(r, Err(Failure::Limit(None, r)) if r.contains("MiB")));
        assert_eq!(run("{{#each xs}}{{this}}{{/each}}").as_deref(), Ok("123"));
    }
}
