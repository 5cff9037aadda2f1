//! Stage 1: text → `kdl::KdlDocument`.
//!
//! The kdl crate is used as-is; this module only turns its errors into our
//! diagnostics (with a KDL v1 hint), and guards against input that would
//! make a recursive parser overflow its stack.

use kdl::KdlDocument;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

/// Deeper `{` nesting than this is rejected before parsing. Real specs nest
/// three or four levels; the limit keeps hostile input from exhausting the
/// parser's stack.
pub const MAX_NESTING: usize = 64;

const PARSER_STACK: usize = 256 * 1024 * 1024;

/// Parse KDL v2 text. Returns `None` when the text is not a KDL document;
/// the reasons are in `diags`.
pub fn parse(text: &str, diags: &mut Diagnostics) -> Option<KdlDocument> {
    if let Some(span) = too_deep(text) {
        diags.push(
            Diagnostic::error(Code::KdlSyntax, format!("blocks are nested more than {MAX_NESTING} levels deep"))
                .at(span, "this block is too deep")
                .help("a service spec needs only a few levels of `{ … }`; check for unbalanced braces"),
        );
        return None;
    }
    if let Some(span) = stray_close(text) {
        diags.push(
            Diagnostic::error(Code::KdlSyntax, "unexpected `}` with no block to close")
                .at(span, "nothing to close here")
                .help("remove it, or add the `{` that should open this block"),
        );
        return None;
    }
    // The kdl parser recurses; give it a generous stack of its own so that
    // no input can overflow the caller's.
    let parsed = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("svcc-kdl-parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(s, || text.parse::<KdlDocument>())
            .map(|h| h.join())
    });
    let parsed = match parsed {
        Ok(Ok(r)) => r,
        _ => {
            diags.push(
                Diagnostic::error(Code::KdlSyntax, "the KDL parser could not read this file")
                    .at(Span::new(0, 0), "here")
                    .help("the file is too large or too deeply structured to parse"),
            );
            return None;
        }
    };
    match parsed {
        Ok(doc) => Some(doc),
        Err(err) => {
            let mut seen_v1 = false;
            for kd in &err.diagnostics {
                let span = Span::from(kd.span).clamp_to(text);
                if let Some(d) = v1_hint(text, span) {
                    seen_v1 = true;
                    diags.push(d);
                    continue;
                }
                let message = kd.message.clone().unwrap_or_else(|| "invalid KDL".to_string());
                let mut d = Diagnostic::error(Code::KdlSyntax, lowercase_first(&message))
                    .at(span, kd.label.clone().unwrap_or_else(|| "here".to_string()));
                if let Some(h) = &kd.help {
                    d = d.help(h.clone());
                }
                diags.push(d);
            }
            if !seen_v1 && let Some(d) = v1_anywhere(text) {
                diags.push(d);
            }
            if err.diagnostics.is_empty() {
                diags.push(
                    Diagnostic::error(Code::KdlSyntax, "the file is not a valid KDL document")
                        .at(Span::new(0, 0), "here"),
                );
            }
            None
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if !c.clone().next().is_some_and(char::is_uppercase) => f.to_lowercase().chain(c).collect(),
        _ => s.to_string(),
    }
}

const V1_KEYWORDS: [(&str, &str); 3] = [("true", "#true"), ("false", "#false"), ("null", "#null")];

/// A v1 keyword exactly at the error span.
fn v1_hint(text: &str, span: Span) -> Option<Diagnostic> {
    let rest = text.get(span.start as usize..)?;
    for (v1, v2) in V1_KEYWORDS {
        if rest.starts_with(v1) && !rest[v1.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_')
        {
            let s = Span::new(span.start as usize, span.start as usize + v1.len());
            return Some(v1_diag(s, v1, v2));
        }
    }
    None
}

fn v1_diag(span: Span, v1: &str, v2: &str) -> Diagnostic {
    Diagnostic::error(Code::KdlV1, format!("`{v1}` is KDL v1 syntax; svcc reads KDL v2"))
        .at(span, "a bare keyword is KDL v1")
        .help(format!("write `{v2}`; in KDL v2, keywords start with `#`"))
}

/// When the parser's error is elsewhere, still point out the first bare v1
/// keyword used as a value (`x=true`, `x true`), since that is the usual
/// cause of confusing follow-on errors.
fn v1_anywhere(text: &str) -> Option<Diagnostic> {
    for (line_start, line) in line_offsets(text) {
        let code = strip_comment(line);
        for (v1, v2) in V1_KEYWORDS {
            let mut from = 0;
            while let Some(i) = code[from..].find(v1) {
                let at = from + i;
                let before = code[..at].chars().last();
                let after = code[at + v1.len()..].chars().next();
                let before_ok = matches!(before, Some(' ' | '\t' | '='));
                let after_ok = after.is_none_or(|c| matches!(c, ' ' | '\t' | ';' | '}' | '\r'));
                if before_ok && after_ok && !in_string(&code[..at]) {
                    return Some(v1_diag(Span::new(line_start + at, line_start + at + v1.len()), v1, v2));
                }
                from = at + v1.len();
            }
        }
    }
    None
}

fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut pos = 0;
    text.split('\n').map(move |l| {
        let start = pos;
        pos += l.len() + 1;
        (start, l)
    })
}

fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '/' if !in_str && prev == '/' => return &line[..i - 1],
            _ => {}
        }
        prev = c;
    }
    line
}

fn in_string(prefix: &str) -> bool {
    prefix.chars().filter(|&c| c == '"').count() % 2 == 1
}

/// Span of the first `}` that closes nothing (outside strings and comments).
fn stray_close(text: &str) -> Option<Span> {
    let mut depth = 0usize;
    let mut found = None;
    scan_braces(text, |i, open| {
        if open {
            depth += 1;
        } else if depth == 0 {
            found = Some(Span::new(i, i + 1));
            return false;
        } else {
            depth -= 1;
        }
        true
    });
    found
}

/// Call `f(offset, is_open)` for every brace outside quoted strings and
/// line comments, until it returns false.
fn scan_braces(text: &str, mut f: impl FnMut(usize, bool) -> bool) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in KDL.
                let mut nest = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        nest += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        nest -= 1;
                        i += 2;
                        if nest == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'{' | b'}' if !f(i, bytes[i] == b'{') => return,
            _ => {}
        }
        i += 1;
    }
}

/// Span of the first `{` that opens a block deeper than [`MAX_NESTING`],
/// skipping quoted strings and comments.
fn too_deep(text: &str) -> Option<Span> {
    let mut depth = 0usize;
    let mut found = None;
    scan_braces(text, |i, open| {
        if open {
            depth += 1;
            if depth > MAX_NESTING {
                found = Some(Span::new(i, i + 1));
                return false;
            }
        } else {
            depth = depth.saturating_sub(1);
        }
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<Code> {
        let mut d = Diagnostics::new();
        assert!(parse(text, &mut d).is_none());
        d.into_sorted().iter().map(|d| d.code).collect()
    }

    #[test]
    fn v1_keyword_is_named() {
        assert!(codes("service a {\n  flag enabled=true\n}\n").contains(&Code::KdlV1));
    }

    #[test]
    fn deep_nesting_is_rejected_without_recursion() {
        let text = format!("{}{}", "a {".repeat(100_000), "}".repeat(100_000));
        assert_eq!(codes(&text), vec![Code::KdlSyntax]);
    }

    #[test]
    fn stray_closing_braces_are_reported_without_parsing() {
        assert_eq!(codes(&"}".repeat(100_000)), vec![Code::KdlSyntax]);
    }

    #[test]
    fn braces_in_strings_and_comments_are_ignored() {
        let mut d = Diagnostics::new();
        let text = "service a { // }\n  /* } /* } */ } */\n  image \"}\"\n}\n";
        assert!(parse(text, &mut d).is_some(), "{:?}", d.into_sorted());
    }

    #[test]
    fn valid_document_parses() {
        let mut d = Diagnostics::new();
        assert!(parse("service a { port http 80 }\n", &mut d).is_some());
        assert!(d.is_empty());
    }
}
