//! Fixes: the edits that resolve a diagnostic, in the spans of its run.
//!
//! A stage that knows the right change attaches it where it raises the
//! problem ([`super::Diagnostic::fix`]), so every consumer (the language
//! server's quick fixes, and the CLI if it shows them) applies the same
//! edits rather than reading them out of messages.

use crate::source::Span;

/// One replacement: the text at `span` becomes `text` (an empty span
/// inserts, an empty text deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

/// A change that resolves one diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What it does, as an editor offers it: "Change to `replicas`".
    pub title: String,
    pub edits: Vec<Edit>,
}

impl Fix {
    /// Replace the text at `span` with `text`.
    pub fn replace(title: impl Into<String>, span: Span, text: impl Into<String>) -> Fix {
        Fix { title: title.into(), edits: vec![Edit { span, text: text.into() }] }
    }

    /// Delete the text at `span`, with its line when nothing else is on it.
    pub fn delete(title: impl Into<String>, span: Span) -> Fix {
        Fix::replace(title, span, "")
    }

    /// Put every edit inside `text` (the file of its span), and widen a
    /// deletion that would leave a blank line to the whole line.
    pub fn fit(&mut self, text_of: impl Fn(Span) -> Option<std::sync::Arc<str>>) {
        for e in &mut self.edits {
            let Some(text) = text_of(e.span) else { continue };
            e.span = e.span.clamp_to(&text);
            if e.text.is_empty() {
                e.span = whole_lines(&text, e.span);
            }
        }
    }
}

/// A string value as KDL writes it: a quoted KDL v2 string literal that
/// reads back as exactly `s`, with `"`, `\` and what KDL forbids literally
/// (controls, line separators, direction marks, the byte-order mark)
/// escaped, so hostile text stays one string value. The one quoting of
/// strings into KDL: fixes, completions and `svcc import` use it.
pub fn kdl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Code points KDL forbids in a document or that would make the text read
/// differently than it parses (a terminal obeys them rather than showing
/// them: `render::visible` escapes them too).
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{FEFF}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `span` widened to its whole lines (with the line break) when only
/// blanks (or a `;`) stand beside it on them.
fn whole_lines(text: &str, span: Span) -> Span {
    let (s, e) = (span.start as usize, span.end as usize);
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[e..];
    let line_end = rest.find('\n').map_or(text.len(), |i| e + i + 1);
    let blank = |t: &str| t.chars().all(|c| c == ' ' || c == '\t' || c == ';' || c == '\r' || c == '\n');
    if blank(&text[line_start..s]) && blank(&text[e..line_end]) {
        Span::in_file(span.file, line_start, line_end)
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_take_their_blank_line_with_them() {
        let text = "a {\n    set \"/x\" 1\n    b 2\n}\n";
        let at = text.find("set").unwrap_or(0);
        let mut f = Fix::delete("Remove", Span::in_file(0, at, at + 10));
        f.fit(|_| Some(std::sync::Arc::from(text)));
        let e = &f.edits[0];
        assert_eq!(&text[e.span.start as usize..e.span.end as usize], "    set \"/x\" 1\n");
        // Not alone on its line: only the span goes.
        let text = "a { b 1; c 2 }";
        let mut f = Fix::delete("Remove", Span::in_file(0, 4, 7));
        f.fit(|_| Some(std::sync::Arc::from(text)));
        assert_eq!(f.edits[0].span, Span::in_file(0, 4, 7));
    }

    #[test]
    fn strings_are_quoted_as_kdl_reads_them() {
        assert_eq!(kdl_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(kdl_string("a\tb\r\u{0}\u{202e}é"), "\"a\\tb\\r\\u{0}\\u{202e}é\"");
        // What it writes, KDL reads back as the same string.
        for s in ["plain", "q\"uote", "tab\there", "nul\u{0}", "rtl\u{202e}x", "bom\u{feff}", "line\u{2028}sep"] {
            let doc: kdl::KdlDocument = format!("n {}", kdl_string(s)).parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(doc.nodes()[0].entries()[0].value().as_string(), Some(s));
        }
    }
}
