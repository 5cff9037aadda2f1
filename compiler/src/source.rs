//! Source files, byte spans and line/column lookup.
//!
//! Every diagnostic and every value decoded from a spec carries a [`Span`]:
//! a half-open byte range into one [`SourceFile`].
//!
//! A compilation reads more than one file when a spec uses presets or org
//! defaults, so a span also names its file: [`FileId`] 0 is the spec being
//! compiled, 1.. the imported files in the order they were loaded
//! ([`crate::Compiled::imports`]). Spans are created while a file is parsed
//! and decoded, inside [`in_file`], which sets the file every new span
//! belongs to; spans are then copied, never re-created, so values merged
//! from a preset keep pointing into the preset.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

/// Which file of a compilation a span points into (0: the spec itself).
pub type FileId = u16;

thread_local! {
    static CURRENT_FILE: Cell<FileId> = const { Cell::new(0) };
}

/// Run `f` with every span created on this thread pointing into `file`.
///
/// This is a dynamic scope, not state: it holds nothing between runs, and
/// the file before is restored when `f` returns or unwinds (a language
/// server that survives a panic in one run must not give the next run's
/// spans a stale file).
pub fn in_file<R>(file: FileId, f: impl FnOnce() -> R) -> R {
    struct Restore(FileId);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT_FILE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT_FILE.with(|c| c.replace(file)));
    f()
}

/// A half-open byte range `[start, end)` into a source file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file; first, so that spans sort by file, then position.
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span in the file currently being read (see [`in_file`]).
    pub fn new(start: usize, end: usize) -> Self {
        Span::in_file(CURRENT_FILE.with(Cell::get), start, end)
    }

    pub fn in_file(file: FileId, start: usize, end: usize) -> Self {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { file, start, end }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Clamp this span into `text` and onto char boundaries.
    pub fn clamp_to(self, text: &str) -> Span {
        let mut s = (self.start as usize).min(text.len());
        let mut e = (self.end as usize).min(text.len()).max(s);
        while s > 0 && !text.is_char_boundary(s) {
            s -= 1;
        }
        while e < text.len() && !text.is_char_boundary(e) {
            e += 1;
        }
        Span::in_file(self.file, s, e)
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file != 0 {
            write!(f, "#{}:", self.file)?;
        }
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<miette::SourceSpan> for Span {
    fn from(s: miette::SourceSpan) -> Self {
        Span::new(s.offset(), s.offset() + s.len())
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new((s.start as usize).into(), s.len())
    }
}

/// A value together with the span of the spec text it came from.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }

    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned { value: &self.value, span: self.span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    /// Spanned values compare by value: where a setting was written does not
    /// change what it means.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// One input file: its display name and full text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Arc<[u32]>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        SourceFile { name: name.into(), text, line_starts: starts.into() }
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self.text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    pub fn slice(&self, span: Span) -> &str {
        let s = span.clamp_to(&self.text);
        self.text.get(s.start as usize..s.end as usize).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_from_one() {
        let f = SourceFile::new("x.kdl", "ab\nc\u{e9}d\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // `d` sits after the two-byte `é`: byte 6, column 3.
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_col(99), (3, 1));
    }

    #[test]
    fn a_panic_inside_a_file_scope_restores_the_file_before() {
        let caught = std::panic::catch_unwind(|| in_file(3, || panic!("decoder bug")));
        assert!(caught.is_err());
        assert_eq!(Span::new(1, 2).file, 0);
    }

    #[test]
    fn clamp_moves_onto_char_boundaries() {
        let t = "a\u{e9}b";
        assert_eq!(Span::new(2, 2).clamp_to(t), Span::new(1, 3));
        assert_eq!(Span::new(10, 20).clamp_to(t), Span::new(4, 4));
    }
}
