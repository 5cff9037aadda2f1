//! Stage 1: text → `kdl::KdlDocument`.
//!
//! Two parsers build the same document. [`fast`] is a hand-written parser
//! for valid KDL, about twenty times cheaper than the kdl crate's (0.65 M
//! instead of 12.6 M instructions for a 2.9 KB spec) and without a thread;
//! whenever it is not certain (any error, a few rare constructs) it gives
//! up and the kdl crate parses the text, on a thread with a large stack. Errors therefore always come from the kdl crate: this module turns
//! them into our diagnostics (with a KDL v1 hint), and guards against input
//! that would make a recursive parser overflow its stack.

pub mod fast;

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
    if let Some(d) = disallowed_char(text) {
        diags.push(d);
        return None;
    }
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
    if let Some(doc) = fast::parse(text) {
        return Some(doc);
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
            report_kdl_errors(text, &err.diagnostics, diags);
            None
        }
    }
}

/// Turn the kdl crate's errors into diagnostics. Its parser recovers by
/// skipping ahead, so one mistake often yields several errors, some of
/// them far from the cause; the known follow-on errors are dropped and the
/// common mistakes get a message that names them.
fn report_kdl_errors(text: &str, errors: &[kdl::KdlDiagnostic], diags: &mut Diagnostics) {
    let balanced = open_blocks_at_end(text) == 0;
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut fallback: Vec<Diagnostic> = Vec::new();
    let mut seen_v1 = false;
    // Where the parser stopped inside a block whose `}` is in fact there.
    let mut stuck_at: Vec<usize> = Vec::new();
    let mut unclosed_ends: Vec<usize> = Vec::new();
    let mut after_nodes: Vec<Span> = Vec::new();
    // A raw string that runs over a line break throws the parser off for
    // the rest of it: one error for the string, none for the debris.
    let raws = raw_strings_across_lines(text);
    for &(start, _) in &raws {
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        out.push(
            Diagnostic::error(Code::KdlSyntax, "this raw string is never closed on its line")
                .at(Span::new(start, line_end), "a `#\"…\"#` string ends on the line it starts on")
                .help("text over several lines goes between `#\"\"\"` and `\"\"\"#`, each on a line of its own"),
        );
    }
    for kd in errors {
        let span = Span::from(kd.span).clamp_to(text);
        let (s, e) = (span.start as usize, span.end as usize);
        let in_raw = raws.iter().any(|&(rs, re)| (rs..=re).contains(&s) || (rs.saturating_sub(2)..=re).contains(&e));
        let unclosed =
            kd.message.as_deref().is_some_and(|m| m.starts_with("No closing '}'") || m.starts_with("Closing '}'"));
        if in_raw || (unclosed && !raws.is_empty()) {
            continue;
        }
        if let Some(d) = v1_hint(text, span) {
            seen_v1 = true;
            out.push(d);
            continue;
        }
        let message = kd.message.as_deref().unwrap_or("invalid KDL");
        match message {
            "Closing '}' was not found after nodes" => {
                after_nodes.push(span);
                continue;
            }
            "No closing '}' for child block" => {
                if balanced {
                    unclosed_ends.push(span.end as usize);
                } else {
                    out.push(unclosed_block(text, span));
                }
                continue;
            }
            "Unexpected newline in single-line quoted string" => {
                out.push(
                    Diagnostic::error(Code::KdlSyntax, "this string is never closed")
                        .at(span, "the line ends before the closing `\"`")
                        .help("add the closing `\"`; text over several lines goes between `\"\"\"` lines"),
                );
                continue;
            }
            "Expected property value" => {
                if let Some(d) = missing_property_value(text, span) {
                    out.push(d);
                    continue;
                }
            }
            _ => {}
        }
        if kd.label.as_deref() == Some("not identifier string")
            && let Some(d) = bad_word(text, span)
        {
            out.push(d);
            continue;
        }
        let mut d = Diagnostic::error(Code::KdlSyntax, lowercase_first(message))
            .at(span, kd.label.clone().unwrap_or_else(|| "here".to_string()));
        if let Some(h) = &kd.help {
            d = d.help(h.clone());
        }
        if message == "Expected end of document" { fallback.push(d) } else { out.push(d) }
    }
    // The braces match, yet a block was reported unclosed: the parser
    // stopped at something it could not read before the `}`.
    for end in unclosed_ends {
        let at = after_nodes.iter().find(|s| s.start as usize == end).map_or(end, |s| s.end as usize);
        stuck_at.push(at);
    }
    stuck_at.sort_unstable();
    stuck_at.dedup();
    for at in stuck_at {
        out.push(unreadable_token(text, at));
    }
    if out.is_empty() {
        out = fallback;
    }
    if !seen_v1 && let Some(d) = v1_anywhere(text) {
        out.push(d);
    }
    if out.is_empty() {
        out.push(
            Diagnostic::error(Code::KdlSyntax, "the file is not a valid KDL document").at(Span::new(0, 0), "here"),
        );
    }
    diags.extend(out);
}

/// A `{` without its `}`. The parser can only name the outermost open
/// block; when the braces inside it pair up across different indentation,
/// the inner block whose `}` went missing is the likelier culprit.
fn unclosed_block(text: &str, open: Span) -> Diagnostic {
    let d =
        Diagnostic::error(Code::KdlSyntax, "a block is never closed").help("add the missing `}` where the block ends");
    match misindented_block(text, open.start as usize) {
        Some(inner) => {
            d.at(inner, "this block is probably missing its `}`").also(open, "so this block is never closed either")
        }
        None => d.at(open, "this `{` has no matching `}`"),
    }
}

/// Single-line raw strings (`#"…"#`) that a line break interrupts: the
/// byte range from the first `#` to the end of the closing `"#` (or of the
/// text). Comments and other strings are skipped as the lexer would.
fn raw_strings_across_lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let find = |from: usize, pat: &[u8]| b[from..].windows(pat.len()).position(|w| w == pat).map(|p| from + p);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => i = find(i, b"\n").unwrap_or(b.len()),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut nest = 0usize;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        nest += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        nest -= 1;
                        i += 2;
                        if nest == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                let close: &[u8] = if b[i..].starts_with(b"\"\"\"") { b"\"\"\"" } else { b"\"" };
                i += close.len();
                while i < b.len() && !b[i..].starts_with(close) && (close.len() == 3 || b[i] != b'\n') {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += close.len();
            }
            b'#' => {
                let hashes = b[i..].iter().take_while(|c| **c == b'#').count();
                let open = i + hashes;
                if b.get(open) != Some(&b'"') {
                    i = open;
                    continue;
                }
                let multi = b[open..].starts_with(b"\"\"\"");
                let mut close = if multi { b"\"\"\"".to_vec() } else { b"\"".to_vec() };
                close.extend(std::iter::repeat_n(b'#', hashes));
                let body = open + if multi { 3 } else { 1 };
                let end = find(body, &close).map_or(b.len(), |p| p + close.len());
                if !multi && b[body..end].contains(&b'\n') {
                    out.push((i, end));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The first `{` after `from` whose matching `}` sits on another line with
/// a different indentation.
fn misindented_block(text: &str, from: usize) -> Option<Span> {
    let indent = |at: usize| {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..];
        (line_start, line.len() - line.trim_start_matches([' ', '\t']).len())
    };
    let mut stack = Vec::new();
    let mut found = None;
    scan_braces(text, |i, open| {
        if open {
            stack.push(i);
        } else if let Some(o) = stack.pop() {
            let (lo, io) = indent(o);
            let (lc, ic) = indent(i);
            if o > from && lo != lc && io != ic {
                found = Some(Span::new(o, o + 1));
                return false;
            }
        }
        true
    });
    found
}

/// Characters that cannot appear in a bare (unquoted) KDL word.
const NOT_IN_BARE_WORD: &[char] = &['\\', '/', '(', ')', '{', '}', '[', ']', ';', '=', '"', '#'];

/// A quoting mistake in a value: `'single quotes'` or a bare word such as
/// `ghcr.io/acme/api`.
fn bad_word(text: &str, span: Span) -> Option<Diagnostic> {
    let word = text.get(span.start as usize..span.end as usize)?;
    if let Some(inner) = word.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'').unwrap_or(inner);
        return Some(
            Diagnostic::error(Code::KdlSyntax, "a string takes double quotes, not single quotes")
                .at(span, "single quotes are not KDL")
                .help(format!("write \"{inner}\"")),
        );
    }
    let c = word.chars().find(|c| NOT_IN_BARE_WORD.contains(c))?;
    Some(
        Diagnostic::error(Code::KdlSyntax, format!("`{word}` must be quoted"))
            .at(span, format!("`{c}` cannot appear in an unquoted value"))
            .help(format!("write \"{word}\"")),
    )
}

/// `key=` with nothing after it. The kdl parser's span for this starts at
/// the beginning of the file; point at the property instead.
fn missing_property_value(text: &str, span: Span) -> Option<Diagnostic> {
    let eq = text.get(..span.end as usize)?.rfind('=')?;
    let key_start = text[..eq].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let key = &text[key_start..eq];
    if key.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(Code::KdlSyntax, format!("property `{key}` has no value"))
            .at(Span::new(key_start, eq + 1), "expected a value after `=`")
            .help(format!("write the value right after the `=` (`{key}=…`), or remove the property")),
    )
}

/// The parser stopped at `at`, inside a block, on something it cannot read.
fn unreadable_token(text: &str, at: usize) -> Diagnostic {
    let rest = text.get(at..).unwrap_or("");
    let skipped = rest.len() - rest.trim_start().len();
    let start = at + skipped;
    let token: &str = {
        let r = &text[start..];
        let end = r.find(|c: char| c.is_whitespace() || c == ';' || c == '}').unwrap_or(r.len());
        &r[..end]
    };
    if token.is_empty() {
        return Diagnostic::error(Code::KdlSyntax, "the KDL parser stopped here")
            .at(Span::new(start, start), "cannot read what follows");
    }
    let span = Span::new(start, start + token.len());
    if let Some(d) = bad_word(text, span) {
        return d;
    }
    Diagnostic::error(Code::KdlSyntax, format!("unexpected `{token}`"))
        .at(span, "KDL cannot read this here")
        .help("values that are not numbers or `#true`/`#false`/`#null` are written in double quotes")
}

/// Characters KDL v2 forbids anywhere in a document, strings and comments
/// included.
fn is_disallowed(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{e}'..='\u{1f}'
            | '\u{7f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// The first character that KDL does not allow, reported with its code
/// point: most are invisible in an editor.
fn disallowed_char(text: &str) -> Option<Diagnostic> {
    let mut found = text.char_indices().filter(|&(i, c)| is_disallowed(c) && !(i == 0 && c == '\u{feff}'));
    let (i, c) = found.next()?;
    let more = found.count();
    let (what, help) = match c {
        '\u{feff}' => {
            ("a byte-order mark".to_string(), "delete it: a byte-order mark may only start the file".to_string())
        }
        '\u{200e}'..='\u{206f}' => (
            "an invisible text-direction mark".to_string(),
            "delete it: such marks can make the text display differently from what it says".to_string(),
        ),
        _ => {
            let name = match c {
                '\0' => "a NUL byte",
                '\u{1b}' => "an escape character",
                '\u{7f}' => "a DEL character",
                _ => "a control character",
            };
            (
                name.to_string(),
                format!(
                    "delete it: KDL allows no control characters, not even in strings or comments (in a string, write `\\u{{{:x}}}`)",
                    u32::from(c)
                ),
            )
        }
    };
    let mut d = Diagnostic::error(Code::KdlSyntax, format!("the file contains {what} (U+{:04X})", u32::from(c)))
        .at(Span::new(i, i + c.len_utf8()), "not allowed in a KDL file")
        .help(help);
    if more > 0 {
        d = d.note(format!("the file holds {more} more such character(s)"));
    }
    Some(d)
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
        .fix(crate::diagnostic::Fix::replace(format!("Change to `{v2}`"), span, v2))
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
            b'{' | b'}' if !f(i, bytes[i] == b'{') => {
                return;
            }
            _ => {}
        }
        i += 1;
    }
}

/// How many blocks are still open at the end of the text.
fn open_blocks_at_end(text: &str) -> usize {
    let mut depth = 0usize;
    scan_braces(text, |_, open| {
        if open {
            depth += 1;
        } else {
            depth = depth.saturating_sub(1);
        }
        true
    });
    depth
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
