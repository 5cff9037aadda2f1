//! Rendering diagnostics: human (miette), JSON, GitHub annotations, and
//! SARIF for code scanning (`sarif.rs`).

mod sarif;

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::source::SourceFile;

/// The diagnostics of one input, with the file they point into (`None` for
/// problems outside any spec, such as a bad command-line flag).
#[derive(Clone, Debug)]
pub struct FileDiagnostics {
    pub file: Option<SourceFile>,
    /// Display name when there is no source text (e.g. an unreadable file).
    pub name: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files the spec imported (presets, org defaults): a span with
    /// [`crate::source::FileId`] `k > 0` points into `imports[k - 1]`.
    pub imports: Vec<SourceFile>,
}

impl FileDiagnostics {
    /// Diagnostics about an input that has no source text.
    pub fn without_source(name: Option<String>, diagnostics: Vec<Diagnostic>) -> Self {
        FileDiagnostics { file: None, name, diagnostics, imports: Vec::new() }
    }

    /// The file a span points into.
    pub fn source(&self, file: crate::source::FileId) -> Option<&SourceFile> {
        match file {
            0 => self.file.as_ref(),
            k => self.imports.get(usize::from(k) - 1),
        }
    }

    /// The file a diagnostic is reported in: its primary label's file.
    fn primary_source(&self, d: &Diagnostic) -> Option<&SourceFile> {
        self.source(d.primary.as_ref().map_or(0, |l| l.span.file))
    }

    fn display_name(&self, d: &Diagnostic) -> Option<String> {
        self.primary_source(d).map(|f| f.name.clone()).or_else(|| self.name.clone())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// How human output looks.
#[derive(Clone, Copy, Debug)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        HumanStyle { color: false, width: 100 }
    }
}

pub fn render(format: Format, files: &[FileDiagnostics], style: HumanStyle) -> String {
    match format {
        Format::Human => human(files, style),
        Format::Json => json(files),
        Format::Github => github(files),
        Format::Sarif => sarif::sarif(files),
    }
}

struct MietteDiag<'a> {
    d: &'a Diagnostic,
    src: Option<NamedSource<std::sync::Arc<str>>>,
    /// Secondary labels that point into another file than the primary one,
    /// each rendered as a related snippet of its own file.
    related: Vec<Related>,
}

struct Related {
    message: String,
    span: miette::SourceSpan,
    src: NamedSource<std::sync::Arc<str>>,
}

impl std::fmt::Debug for Related {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for Related {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Related {}

impl miette::Diagnostic for Related {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(self.message.clone()), self.span))))
    }
}

impl std::fmt::Debug for MietteDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::fmt::Display for MietteDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for MietteDiag<'_> {}

impl miette::Diagnostic for MietteDiag<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(format!("{}[{}]", self.d.severity.as_str(), self.d.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        let mut text = String::new();
        if let Some(h) = &self.d.help {
            text.push_str(h);
        }
        for n in &self.d.notes {
            if !text.is_empty() {
                text.push('\n');
            }
            let _ = write!(text, "note: {n}");
        }
        if text.is_empty() { None } else { Some(Box::new(text)) }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.d.primary.is_some() { self.src.as_ref().map(|s| s as &dyn miette::SourceCode) } else { None }
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let p = self.d.primary.as_ref()?;
        let text_len = self.src.as_ref().map_or(0, |s| s.inner().len());
        let fix = |span: crate::source::Span| {
            let s = (span.start as usize).min(text_len);
            let e = (span.end as usize).min(text_len).max(s);
            miette::SourceSpan::new(s.into(), e - s)
        };
        let mut v = vec![LabeledSpan::new_primary_with_span(Some(p.message.clone()), fix(p.span))];
        v.extend(
            self.d
                .secondary
                .iter()
                .filter(|l| l.span.file == p.span.file)
                .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), fix(l.span))),
        );
        Some(Box::new(v.into_iter()))
    }
}

/// Human output shows this many problems per file; the JSON report has all.
pub const MAX_HUMAN_PER_FILE: usize = 50;

fn human(files: &[FileDiagnostics], style: HumanStyle) -> String {
    let theme = if style.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).without_syntax_highlighting().with_width(style.width);
    let mut out = String::new();
    let named = |f: &SourceFile| NamedSource::new(visible(&f.name), shown_source(&f.text));
    for f in files {
        for (shown, d) in f.diagnostics.iter().enumerate() {
            if shown == MAX_HUMAN_PER_FILE {
                let rest = f.diagnostics.len() - shown;
                let name = f.file.as_ref().map(|f| f.name.as_str()).or(f.name.as_deref()).unwrap_or("this input");
                let _ =
                    writeln!(out, "… and {rest} more problems in {} (`--format json` lists them all)\n", visible(name));
                break;
            }
            // Clamp spans onto char boundaries so miette never slices mid-char.
            let d = clamp(d, f);
            let home = d.primary.as_ref().map_or(0, |l| l.span.file);
            let related = d
                .secondary
                .iter()
                .filter(|l| l.span.file != home)
                .filter_map(|l| {
                    let src = f.source(l.span.file)?;
                    Some(Related { message: l.message.clone(), span: l.span.into(), src: named(src) })
                })
                .collect();
            let md = MietteDiag { d: &d, src: f.source(home).map(named), related };
            let mut buf = String::new();
            if handler.render_report(&mut buf, &md).is_err() {
                let _ = writeln!(buf, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
            }
            if d.primary.is_none() {
                // No snippet to name the file: say which input it is about.
                if let Some(name) = f.file.as_ref().map(|f| f.name.as_str()).or(f.name.as_deref()) {
                    let _ = writeln!(buf, "  in {}", visible(name));
                }
            }
            out.push_str(&buf);
            out.push('\n');
        }
    }
    let (errors, warnings) = counts(files);
    if errors + warnings > 0 {
        let _ = writeln!(out, "{}", summary_line(errors, warnings));
    }
    out
}

/// The diagnostic as the terminal shows it: spans clamped onto char
/// boundaries (miette never slices mid-char), and every text made
/// [`visible`].
fn clamp(d: &Diagnostic, files: &FileDiagnostics) -> Diagnostic {
    let mut d = d.clone();
    for l in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
        if let Some(f) = files.source(l.span.file) {
            l.span = l.span.clamp_to(&f.text);
        }
        l.message = visible(&l.message);
    }
    d.message = visible(&d.message);
    d.help = d.help.as_deref().map(visible);
    d.notes = d.notes.iter().map(|n| visible(n)).collect();
    d
}

/// Characters a spec (or a file name) may hold that a terminal would
/// obey rather than show: what a KDL string escapes
/// ([`super::fix::needs_escape`]: control characters — an escape sequence
/// can retitle the window, move the cursor over earlier lines or write
/// the clipboard —, bidirectional controls, which reorder what is shown,
/// line separators and the byte-order mark). Line feeds and tabs are
/// layout.
fn hidden(c: char) -> bool {
    c != '\n' && c != '\t' && super::fix::needs_escape(c)
}

/// A message with every [`hidden`] character written as its escape
/// (`\u{1b}`), as a KDL string would spell it.
pub fn visible(text: &str) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    text.chars().fold(String::with_capacity(text.len() + 8), |mut out, c| {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
        out
    })
}

/// A source text as the snippets show it: each [`hidden`] character (a
/// carriage return too, unless a line feed follows) replaced by a visible
/// one of the same length in UTF-8, so every span still points where it
/// did.
fn shown_source(text: &std::sync::Arc<str>) -> std::sync::Arc<str> {
    let lone_cr = |i: usize| text.as_bytes()[i] == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n');
    if !text.char_indices().any(|(i, c)| if c == '\r' { lone_cr(i) } else { hidden(c) }) {
        return text.clone();
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let shown = if c == '\r' { lone_cr(i) } else { hidden(c) };
        out.push(match (shown, c.len_utf8()) {
            (false, _) => c,
            (true, 1) => '?',
            (true, 2) => '\u{bf}',
            (true, _) => '\u{fffd}',
        });
    }
    out.into()
}

fn counts(files: &[FileDiagnostics]) -> (usize, usize) {
    let all = files.iter().flat_map(|f| &f.diagnostics);
    let errors = all.clone().filter(|d| d.severity == Severity::Error).count();
    (errors, all.count() - errors)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

pub fn summary_line(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, w) => format!("svcc: {}", plural(w, "warning")),
        (e, 0) => format!("svcc: {}", plural(e, "error")),
        (e, w) => format!("svcc: {}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[derive(Serialize)]
struct JsonPos {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonLabel {
    message: String,
    /// Only when the label points into another file than the diagnostic.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    span: JsonSpan,
    start: JsonPos,
    end: JsonPos,
}

/// The primary label, flattened into the diagnostic: `label`, `span`, `start`, `end`.
#[derive(Serialize)]
struct JsonPrimary {
    label: String,
    span: JsonSpan,
    start: JsonPos,
    end: JsonPos,
}

#[derive(Serialize)]
struct JsonSpan {
    start: u32,
    end: u32,
}

#[derive(Serialize)]
struct JsonDiag {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: String,
    file: Option<String>,
    /// The primary label: where the problem is (absent for I/O and usage problems).
    #[serde(flatten)]
    primary: Option<JsonPrimary>,
    /// Secondary labels (e.g. "first defined here").
    labels: Vec<JsonLabel>,
    help: Option<String>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct JsonReport {
    version: u32,
    diagnostics: Vec<JsonDiag>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
}

fn json_label(files: &FileDiagnostics, home: crate::source::FileId, l: &super::Label) -> JsonLabel {
    let f = files.source(l.span.file);
    let (sl, sc, el, ec) = match f {
        Some(f) => {
            let span = l.span.clamp_to(&f.text);
            let (sl, sc) = f.line_col(span.start);
            let (el, ec) = f.line_col(span.end);
            (sl, sc, el, ec)
        }
        None => (1, 1, 1, 1),
    };
    JsonLabel {
        message: l.message.clone(),
        file: if l.span.file == home { None } else { f.map(|f| f.name.clone()) },
        span: JsonSpan { start: l.span.start, end: l.span.end },
        start: JsonPos { line: sl, column: sc },
        end: JsonPos { line: el, column: ec },
    }
}

/// The documented, versioned JSON report (see `docs/cli.md`).
fn json(files: &[FileDiagnostics]) -> String {
    let mut diagnostics = Vec::new();
    for f in files {
        for d in &f.diagnostics {
            let home = d.primary.as_ref().map_or(0, |l| l.span.file);
            diagnostics.push(JsonDiag {
                code: d.code.as_str(),
                name: d.code.slug(),
                severity: d.severity.as_str(),
                message: d.message.clone(),
                file: f.display_name(d),
                primary: d.primary.as_ref().map(|l| {
                    let j = json_label(f, home, l);
                    JsonPrimary { label: j.message, span: j.span, start: j.start, end: j.end }
                }),
                labels: d.secondary.iter().map(|l| json_label(f, home, l)).collect(),
                help: d.help.clone(),
                notes: d.notes.clone(),
            });
        }
    }
    let (errors, warnings) = counts(files);
    let report = JsonReport { version: 1, diagnostics, summary: JsonSummary { errors, warnings } };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…::message`.
/// The message is `CODE: message`, then the primary label (`here: …`),
/// each secondary label with its place (`FILE:LINE:COL: …`), notes and
/// help, one per line: an annotation shows only its own line, so the
/// other sites of a conflict are named in the text.
fn github(files: &[FileDiagnostics]) -> String {
    let mut out = String::new();
    for f in files {
        for d in &f.diagnostics {
            let name = f.display_name(d);
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut props = vec![format!("title={}", escape_prop(&format!("svcc {}", d.code)))];
            if let Some(n) = &name {
                props.push(format!("file={}", escape_prop(&visible(n))));
            }
            if let (Some(p), Some(file)) = (&d.primary, f.primary_source(d)) {
                let span = p.span.clamp_to(&file.text);
                let (sl, sc) = file.line_col(span.start);
                let (el, ec) = file.line_col(span.end);
                props.push(format!("line={sl}"));
                props.push(format!("endLine={el}"));
                if sl == el {
                    props.push(format!("col={sc}"));
                    props.push(format!("endColumn={ec}"));
                }
            }
            let _ = writeln!(out, "::{level} {}::{}", props.join(","), escape_data(&github_message(f, d)));
        }
    }
    out
}

fn github_message(f: &FileDiagnostics, d: &Diagnostic) -> String {
    let d = &clamp(d, f);
    let mut msg = format!("{}: {}", d.code, d.message);
    if let Some(p) = &d.primary {
        let _ = write!(msg, "\nhere: {}", p.message);
    }
    for l in &d.secondary {
        match f.source(l.span.file) {
            Some(src) => {
                let (line, col) = src.line_col(l.span.clamp_to(&src.text).start);
                let _ = write!(msg, "\n{}:{line}:{col}: {}", visible(&src.name), l.message);
            }
            None => {
                let _ = write!(msg, "\n{}", l.message);
            }
        }
    }
    for n in &d.notes {
        let _ = write!(msg, "\nnote: {n}");
    }
    if let Some(h) = &d.help {
        let _ = write!(msg, "\nhelp: {h}");
    }
    msg
}
