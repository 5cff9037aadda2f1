//! `svcc fmt`: the canonical layout of a spec, keeping every comment.
//!
//! kdl's `autoformat()` drops trailing same-line comments, and its parser
//! loses a comment after a closing `}`, so svcc formats at the token level
//! instead: a small KDL lexer finds strings, comments, braces and
//! semicolons, and only whitespace between tokens is rewritten. Nothing
//! else can change, and [`format`] proves it for every file: the result
//! must parse to the same document (formatting cleared) with the same
//! comments in the same order, or the file is left alone.
//!
//! The layout:
//! - four spaces per nesting level; a continuation line (after `\`) one more;
//! - one space between tokens on a line, none around `=` of a property,
//!   one before `{`, inside `{ … }` on one line, after `;` and before a
//!   trailing comment; no trailing whitespace;
//! - at most one blank line in a row, none after `{` or before `}`, none at
//!   the start, and exactly one newline at the end; `\r\n` becomes `\n`;
//! - the insides of strings (multi-line and raw included) are kept byte for
//!   byte, and so are block comments, but for whitespace at line ends.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Newline,
    Space,
    /// `// …` up to the end of the line (not included).
    LineComment(String),
    /// `/* … */`, nested, possibly over several lines.
    BlockComment(String),
    /// A quoted, raw or multi-line string, verbatim.
    Str(String),
    Open,
    Close,
    Semi,
    Eq,
    /// `\` outside a string: the node continues on the next line.
    Continue,
    /// Anything else: identifiers, numbers, keywords, `(`, `)`, `/-`.
    Word(String),
}

/// Split KDL text into tokens. `None` if a string or comment never ends
/// (the parser reports that better).
fn lex(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let take = |from: usize, to: usize| -> String { chars[from..to].iter().collect() };
    while i < n {
        let c = chars[i];
        match c {
            '\n' => {
                toks.push(Tok::Newline);
                i += 1;
            }
            '\r' if chars.get(i + 1) == Some(&'\n') => {
                toks.push(Tok::Newline);
                i += 2;
            }
            ' ' | '\t' | '\u{FEFF}' => {
                while i < n && matches!(chars[i], ' ' | '\t' | '\u{FEFF}') {
                    i += 1;
                }
                toks.push(Tok::Space);
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                let start = i;
                while i < n && chars[i] != '\n' && !(chars[i] == '\r' && chars.get(i + 1) == Some(&'\n')) {
                    i += 1;
                }
                toks.push(Tok::LineComment(take(start, i).trim_end().to_string()));
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = i;
                let mut depth = 0usize;
                loop {
                    if i >= n {
                        return None;
                    }
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                // Kept as written, except for whitespace at the end of its lines.
                let body = take(start, i).replace("\r\n", "\n");
                toks.push(Tok::BlockComment(body.split('\n').map(str::trim_end).collect::<Vec<_>>().join("\n")));
            }
            '"' => {
                let start = i;
                i = end_of_quoted(&chars, i, 0)?;
                toks.push(Tok::Str(take(start, i).replace("\r\n", "\n")));
            }
            '#' if matches!(chars.get(i + 1), Some('#') | Some('"')) => {
                let start = i;
                let mut hashes = 0;
                while i < n && chars[i] == '#' {
                    hashes += 1;
                    i += 1;
                }
                if chars.get(i) != Some(&'"') {
                    return None;
                }
                i = end_of_quoted(&chars, i, hashes)?;
                toks.push(Tok::Str(take(start, i).replace("\r\n", "\n")));
            }
            '{' => {
                toks.push(Tok::Open);
                i += 1;
            }
            '}' => {
                toks.push(Tok::Close);
                i += 1;
            }
            ';' => {
                toks.push(Tok::Semi);
                i += 1;
            }
            '=' => {
                toks.push(Tok::Eq);
                i += 1;
            }
            '\\' => {
                toks.push(Tok::Continue);
                i += 1;
            }
            _ => {
                let start = i;
                while i < n {
                    let d = chars[i];
                    let comment = d == '/' && matches!(chars.get(i + 1), Some('/') | Some('*'));
                    if matches!(d, '\n' | '\r' | ' ' | '\t' | '{' | '}' | ';' | '=' | '"' | '\\' | '\u{FEFF}')
                        || (comment && i > start)
                    {
                        break;
                    }
                    i += 1;
                    if d == '/' && chars.get(i) == Some(&'-') {
                        // `/-` is a word of its own.
                        i += 1;
                        break;
                    }
                }
                toks.push(Tok::Word(take(start, i)));
            }
        }
    }
    Some(toks)
}

/// Index just past the string starting at `i` (the opening quote), for a
/// string with `hashes` leading `#` (raw when > 0).
fn end_of_quoted(chars: &[char], mut i: usize, hashes: usize) -> Option<usize> {
    let n = chars.len();
    let multi = chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"');
    let quotes = if multi { 3 } else { 1 };
    i += quotes;
    loop {
        if i >= n {
            return None;
        }
        if hashes == 0 && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if (0..quotes).all(|k| chars.get(i + k) == Some(&'"'))
            && (0..hashes).all(|k| chars.get(i + quotes + k) == Some(&'#'))
        {
            return Some(i + quotes + hashes);
        }
        i += 1;
    }
}

/// Lay tokens out (see the module documentation).
fn layout(toks: &[Tok]) -> String {
    let lines: Vec<&[Tok]> = toks.split(|t| *t == Tok::Newline).collect();
    let mut out = String::new();
    let mut depth: usize = 0;
    let mut pending_blank = false;
    let mut prev_opened = true; // start of file counts as "after `{`"
    let mut continuation = false;
    for line in lines {
        let trimmed: Vec<&Tok> = {
            let mut v: Vec<&Tok> = line.iter().collect();
            while v.first() == Some(&&Tok::Space) {
                v.remove(0);
            }
            while v.last() == Some(&&Tok::Space) {
                v.pop();
            }
            v
        };
        if trimmed.is_empty() {
            pending_blank = !continuation;
            continue;
        }
        let closes_first = trimmed[0] == &Tok::Close;
        if pending_blank && !prev_opened && !closes_first {
            out.push('\n');
        }
        pending_blank = false;
        let level = depth.saturating_sub(usize::from(closes_first)) + usize::from(continuation);
        out.push_str(&"    ".repeat(level));
        let mut prev: Option<&Tok> = None;
        for (k, t) in trimmed.iter().enumerate() {
            let next = trimmed.get(k + 1).copied();
            match t {
                Tok::Space => {
                    // One space, except around `=` and before `;`.
                    if !matches!(prev, Some(Tok::Eq)) && !matches!(next, Some(Tok::Eq) | Some(Tok::Semi)) {
                        out.push(' ');
                    }
                }
                Tok::Open => {
                    if prev.is_some() && !matches!(prev, Some(Tok::Space)) {
                        out.push(' ');
                    }
                    out.push('{');
                    if next.is_some() && !matches!(next, Some(Tok::Space)) {
                        out.push(' ');
                    }
                    depth += 1;
                }
                Tok::Close => {
                    if prev.is_some() && !matches!(prev, Some(Tok::Space) | Some(Tok::Open)) {
                        out.push(' ');
                    }
                    out.push('}');
                    if matches!(next, Some(t) if !matches!(t, Tok::Space | Tok::Semi | Tok::Close)) {
                        out.push(' ');
                    }
                    depth = depth.saturating_sub(1);
                }
                Tok::Semi => {
                    out.push(';');
                    if matches!(next, Some(t) if !matches!(t, Tok::Space | Tok::Close)) {
                        out.push(' ');
                    }
                }
                Tok::LineComment(c) | Tok::BlockComment(c) => {
                    if prev.is_some() && !matches!(prev, Some(Tok::Space) | Some(Tok::Open)) {
                        out.push(' ');
                    }
                    out.push_str(c);
                }
                Tok::Str(s) | Tok::Word(s) => out.push_str(s),
                Tok::Eq => out.push('='),
                Tok::Continue => out.push('\\'),
                Tok::Newline => {}
            }
            prev = Some(t);
        }
        // Trailing spaces from normalisation.
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
        let last_code =
            trimmed.iter().rev().find(|t| !matches!(t, Tok::LineComment(_) | Tok::BlockComment(_) | Tok::Space));
        continuation = matches!(last_code, Some(Tok::Continue));
        prev_opened = matches!(last_code, Some(Tok::Open));
    }
    out
}

fn comments(toks: &[Tok]) -> Vec<&str> {
    toks.iter()
        .filter_map(|t| match t {
            Tok::LineComment(c) | Tok::BlockComment(c) => Some(c.as_str()),
            _ => None,
        })
        .collect()
}

/// The document with all formatting cleared: what the spec means.
fn meaning(text: &str) -> Option<String> {
    // The fast path builds exactly the kdl crate's document (or gives up),
    // at a fraction of its cost: `svcc import` formats every spec it writes.
    let mut doc: kdl::KdlDocument = match crate::syntax::fast::parse(text) {
        Some(d) => d,
        None => text.parse().ok()?,
    };
    doc.clear_format_recursive();
    Some(doc.to_string())
}

/// Whether `text` is already laid out as [`format`] lays it out: then
/// formatting it would return it unchanged, if it parses (not checked
/// here: for text known to parse, such as a spec that was just built).
pub fn is_formatted(text: &str) -> bool {
    !text.starts_with('\u{FEFF}') && lex(text).is_some_and(|toks| layout(&toks) == text)
}

/// Format one spec. Syntax errors are reported (the file cannot be
/// formatted); `None` then. The result equals the input when it is already
/// formatted.
pub fn format(text: &str, diags: &mut Diagnostics) -> Option<String> {
    crate::syntax::parse(text, diags)?;
    if diags.has_errors() {
        return None;
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let refuse = |diags: &mut Diagnostics, why: &str| {
        diags.push(
            Diagnostic::error(Code::FormatFailed, format!("svcc fmt cannot format this file safely: {why}"))
                .at(Span::new(0, 0), "left unchanged")
                .help("please report this file; until then, format it by hand"),
        );
        None
    };
    let Some(toks) = lex(text) else {
        return refuse(diags, "a string or comment does not end");
    };
    let out = layout(&toks);
    if out == text {
        // Already formatted: nothing changes, so there is nothing to prove.
        return Some(out);
    }
    let Some(after) = lex(&out) else {
        return refuse(diags, "the result does not lex");
    };
    if comments(&toks) != comments(&after) {
        return refuse(diags, "a comment would change");
    }
    if meaning(text) != meaning(&out) {
        return refuse(diags, "the document would change");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        let mut d = Diagnostics::new();
        let out = format(s, &mut d).unwrap_or_else(|| panic!("{:?}", d.into_sorted()));
        let mut d2 = Diagnostics::new();
        assert_eq!(format(&out, &mut d2).as_deref(), Some(out.as_str()), "not idempotent");
        out
    }

    const MESSY: &str = "// header comment\r\n\r\n\r\n/* block\n   comment */\nservice   hello{ // after brace\n  image \"x\"   tag = \"1\" // pinned\n\t/- replicas 3\n        port http 8080 /* inline */ protocol=\"TCP\"\n  /-probes {\n readiness \"/r\"\n      }\n\n\n    env {\n\n        A \"1\" ;B \"2\"   \n\n    }\n    labels {a \"b\"}\n    resources /-\"x\" {\n      requests cpu=\"1\"\n    } // end resources\n    command \"a\" \\ // why\n      \"b\"\n    description \"\"\"\n        kept   as is\n          exactly\n        \"\"\"\n    raw #\"a \"quoted\"   { } \"#\n    // last comment in service\n\n}\n// trailing doc";

    #[test]
    fn canonical_layout_keeps_every_comment() {
        assert_eq!(
            fmt(MESSY),
            "// header comment\n\n/* block\n   comment */\nservice hello { // after brace\n    image \"x\" tag=\"1\" // pinned\n    /- replicas 3\n    port http 8080 /* inline */ protocol=\"TCP\"\n    /-probes {\n        readiness \"/r\"\n    }\n\n    env {\n        A \"1\"; B \"2\"\n    }\n    labels { a \"b\" }\n    resources /-\"x\" {\n        requests cpu=\"1\"\n    } // end resources\n    command \"a\" \\ // why\n        \"b\"\n    description \"\"\"\n        kept   as is\n          exactly\n        \"\"\"\n    raw #\"a \"quoted\"   { } \"#\n    // last comment in service\n}\n// trailing doc\n"
        );
    }

    #[test]
    fn formatted_text_is_unchanged() {
        let s = "service a {\n    image \"x\"\n\n    environment prod { replicas 3; autoscale min=1 max=2 }\n}\n";
        assert_eq!(fmt(s), s);
        assert!(is_formatted(s));
        assert!(!is_formatted(MESSY));
    }

    #[test]
    fn syntax_errors_are_reported_not_formatted() {
        let mut d = Diagnostics::new();
        assert!(format("service a {\n", &mut d).is_none());
        assert!(d.has_errors());
    }
}
