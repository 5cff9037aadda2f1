//! Text as the protocol sees it: positions in UTF-16 code units (what LSP
//! requires), incremental edits, and `file:` URIs.

use std::path::{Path, PathBuf};

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// Line starts of a text, for byte offset ↔ UTF-16 position.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped into the text, onto a char).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|s| *s <= offset).saturating_sub(1);
        let start = self.starts[line];
        let character = self.text[start..offset].chars().map(char::len_utf16).sum::<usize>();
        Position { line: to_u32(line), character: to_u32(character) }
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range { start: self.position(start), end: self.position(end) }
    }

    /// The byte offset of `p`: a line past the end is the end of the text,
    /// a character past the end of its line is the line's end.
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self.starts.get(p.line as usize + 1).map_or(self.text.len(), |e| e - 1);
        let mut units = 0usize;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= p.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Apply one change of `textDocument/didChange`: a range replaced, or the
/// whole text.
pub fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    match change.range {
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(range.start);
            let end = index.offset(range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
        None => text.clone_from(&change.text),
    }
}

/// The path of a `file:` URI.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str().strip_prefix("file://")?;
    // `file:///p` has an empty authority; `file://localhost/p` names this host.
    let s = s.strip_prefix("localhost").unwrap_or(s);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = PathBuf::from(String::from_utf8(out).ok()?);
    path.is_absolute().then_some(path)
}

/// The `file:` URI of an absolute path.
pub fn uri_of(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for b in path.to_str()?.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        // `é` is one UTF-16 unit, `𝄞` two; both are several bytes.
        let text = "a\u{e9}\u{1d11e}b\nx";
        let ix = LineIndex::new(text);
        let b = text.find('b').unwrap();
        assert_eq!(ix.position(b), Position { line: 0, character: 4 });
        assert_eq!(ix.offset(Position { line: 0, character: 4 }), b);
        assert_eq!(ix.offset(Position { line: 1, character: 9 }), text.len());
        assert_eq!(ix.offset(Position { line: 7, character: 0 }), text.len());
    }

    #[test]
    fn incremental_changes_replace_their_range() {
        let mut t = String::from("service a {\n    replcas 2\n}\n");
        let range = Range { start: Position { line: 1, character: 4 }, end: Position { line: 1, character: 11 } };
        apply_change(
            &mut t,
            &TextDocumentContentChangeEvent { range: Some(range), range_length: None, text: "replicas".into() },
        );
        assert_eq!(t, "service a {\n    replicas 2\n}\n");
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/srv/my repo/ä.kdl");
        let uri = uri_of(p).unwrap();
        assert_eq!(uri.as_str(), "file:///srv/my%20repo/%C3%A4.kdl");
        assert_eq!(path_of(&uri).unwrap(), p);
    }
}
