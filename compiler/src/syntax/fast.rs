//! Stage 1's fast path: a hand-written KDL v2 parser that builds exactly the
//! `KdlDocument` the kdl crate (6.7.1) builds, or gives up.
//!
//! The kdl crate parses with winnow combinators that try alternative after
//! alternative, at a few thousand instructions per byte; on a service spec
//! that is the largest cost of `svcc check`. This parser follows the kdl
//! crate's grammar function by function (each function names the kdl one
//! it mirrors, in `v2_parser.rs`), including its quirks, so that the nodes,
//! entries, values, type annotations, spans and format strings (the
//! whitespace and comments around each node and entry, each value's
//! source text) are identical; it decides with a byte or two of lookahead
//! where winnow backtracks.
//!
//! Every sub-parser either matches, misses ([`Miss::Back`]: winnow's
//! backtrack, the caller may try something else), or gives up
//! ([`Miss::Bail`]): wherever the kdl crate would report an error, and for
//! the few valid constructs left to it — a leading byte-order mark,
//! multi-line raw strings, whitespace escapes (`\` before a space or line
//! break) in multi-line strings, and nesting (blocks and slashdashes)
//! deeper than [`MAX_NESTING`]. [`parse`] then
//! returns `None` and `syntax::parse` runs the kdl crate, which produces the
//! diagnostics. Giving up is always safe; matching or missing must agree
//! with the kdl crate exactly. `tests/fast_kdl.rs` and the `kdl_frontend`
//! fuzz target compare the two parsers, spans and formats included.
//!
//! The parser recurses once per `{` block and once per slashdashed entry,
//! never more than [`MAX_NESTING`] levels, so it needs no large stack.

use kdl::{KdlDocument, KdlDocumentFormat, KdlEntry, KdlEntryFormat, KdlIdentifier, KdlNode, KdlNodeFormat, KdlValue};

use super::MAX_NESTING;

/// Parse `text` as the kdl crate would, or return `None` when the text is
/// not valid KDL or uses a construct this parser leaves to the kdl crate.
pub fn parse(text: &str) -> Option<KdlDocument> {
    if text.starts_with('\u{feff}') {
        return None;
    }
    let mut p = Parser { src: text, b: text.as_bytes(), depth: 0 };
    let (doc, end) = p.nodes(0).ok()?;
    // `document`: anything left over is an error.
    (end == text.len()).then_some(doc)
}

/// Why a sub-parser did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Miss {
    /// The construct is not here; the caller may try another one.
    Back,
    /// The kdl crate would report an error, or might: give up.
    Bail,
}
use Miss::{Back, Bail};

type Res<T> = Result<T, Miss>;

/// winnow's `opt`: a miss becomes `None`, giving up stays giving up.
trait Opt<T> {
    fn opt(self) -> Res<Option<T>>;
}

impl<T> Opt<T> for Res<T> {
    fn opt(self) -> Res<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Back) => Ok(None),
            Err(Bail) => Err(Bail),
        }
    }
}

/// kdl's `UNICODE_SPACES`, beyond tab and space.
const WIDE_SPACES: [char; 16] = [
    '\u{a0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}',
    '\u{2007}', '\u{2008}', '\u{2009}', '\u{200a}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Bare words the kdl crate refuses as identifier strings (KDL v1 keywords).
const KEYWORD_WORDS: [&str; 5] = ["true", "false", "null", "inf", "nan"];

/// kdl's `is_disallowed_unicode`.
fn is_disallowed(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}' | '\u{200e}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// kdl's `identifier_char`, for an ASCII byte.
fn is_identifier_byte(c: u8) -> bool {
    c > b' '
        && c < 0x80
        && !matches!(c, b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b'[' | b']' | b';' | b'"' | b'#' | b'=')
}

/// kdl's `identifier_char`.
fn is_identifier_char(c: char) -> bool {
    match u8::try_from(c) {
        Ok(b) if b < 0x80 => is_identifier_byte(b),
        _ => !WIDE_SPACES.contains(&c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') && !is_disallowed(c),
    }
}

/// `text` without its `_` digit separators.
fn without_underscores(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('_') { text.replace('_', "").into() } else { text.into() }
}

/// Parse digits (underscores allowed) in `radix`; `None` when they do not
/// fit an `i128`, which the kdl crate reports as an error.
fn int_value(digits: &str, radix: u32) -> Option<i128> {
    i128::from_str_radix(&without_underscores(digits), radix).ok()
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    /// Open `{` blocks and slashdashed entries being parsed.
    depth: usize,
}

impl<'a> Parser<'a> {
    // ---- Characters -------------------------------------------------

    fn byte(&self, p: usize) -> Option<u8> {
        self.b.get(p).copied()
    }

    fn at(&self, p: usize, s: &str) -> bool {
        self.b.get(p..).is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn char_at(&self, p: usize) -> Option<char> {
        self.src.get(p..).and_then(|s| s.chars().next())
    }

    /// Length of the `unicode_space` at `p`, 0 if none.
    fn space(&self, p: usize) -> usize {
        match self.byte(p) {
            Some(b'\t' | b' ') => 1,
            Some(c) if c >= 0x80 => self.char_at(p).filter(|c| WIDE_SPACES.contains(c)).map_or(0, char::len_utf8),
            _ => 0,
        }
    }

    /// End of the run of `unicode_space` starting at `p`.
    fn spaces(&self, mut p: usize) -> usize {
        loop {
            match self.space(p) {
                0 => return p,
                n => p += n,
            }
        }
    }

    /// Length of the `newline` at `p` (`\r\n` counts as one), 0 if none.
    fn newline(&self, p: usize) -> usize {
        match self.byte(p) {
            Some(b'\r') => 1 + usize::from(self.byte(p + 1) == Some(b'\n')),
            Some(b'\n' | 0x0b | 0x0c) => 1,
            Some(c) if c >= 0x80 => {
                self.char_at(p).filter(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')).map_or(0, char::len_utf8)
            }
            _ => 0,
        }
    }

    /// End of the run of `identifier_char` starting at `p`.
    fn identifier_chars(&self, mut p: usize) -> usize {
        while let Some(c) = self.byte(p) {
            if c < 0x80 {
                if !is_identifier_byte(c) {
                    break;
                }
                p += 1;
            } else {
                match self.char_at(p) {
                    Some(ch) if is_identifier_char(ch) => p += ch.len_utf8(),
                    _ => break,
                }
            }
        }
        p
    }

    /// Run `f` one nesting level deeper; give up beyond [`MAX_NESTING`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        if self.depth >= MAX_NESTING {
            return Err(Bail);
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    // ---- Whitespace and comments -----------------------------------

    /// `ws`: a unicode space or a (nested) `/* */` comment.
    fn ws(&self, p: usize) -> Res<usize> {
        match self.space(p) {
            0 if self.at(p, "/*") => self.multi_line_comment(p),
            0 => Err(Back),
            n => Ok(p + n),
        }
    }

    /// `multi_line_comment`, `p` at its `/*`. Unclosed is an error.
    fn multi_line_comment(&self, p: usize) -> Res<usize> {
        let mut open = 0usize;
        let mut i = p;
        loop {
            if self.at(i, "/*") {
                open += 1;
                i += 2;
            } else if self.at(i, "*/") {
                open -= 1;
                i += 2;
                if open == 0 {
                    return Ok(i);
                }
            } else if i >= self.b.len() {
                return Err(Bail);
            } else {
                i += 1;
            }
        }
    }

    /// `wss`: any run of `ws`.
    fn wss(&self, mut p: usize) -> Res<usize> {
        while let Some(q) = self.ws(p).opt()? {
            p = q;
        }
        Ok(p)
    }

    /// `single_line_comment`: `//` up to and including the line break.
    fn single_line_comment(&self, p: usize) -> Res<usize> {
        if !self.at(p, "//") {
            return Err(Back);
        }
        let mut i = p + 2;
        loop {
            let Some(c) = self.byte(i) else { return Ok(i) };
            match self.newline(i) {
                0 if c < 0x80 => i += 1,
                0 => i += self.char_at(i).map_or(1, char::len_utf8),
                n => return Ok(i + n),
            }
        }
    }

    /// `escline`: `\` then a line break or line comment (a line continuation).
    fn escline(&self, p: usize) -> Res<usize> {
        if self.byte(p) != Some(b'\\') {
            return Err(Back);
        }
        let q = self.wss(p + 1)?;
        let r = if let Some(r) = self.single_line_comment(q).opt()? {
            r
        } else if self.newline(q) > 0 {
            q + self.newline(q)
        } else if q == self.b.len() {
            q
        } else {
            return Err(Back);
        };
        self.wss(r)
    }

    /// `node_space`: whitespace within a node (no line break unless escaped).
    fn node_space(&self, p: usize) -> Res<usize> {
        let q = self.wss(p)?;
        if let Some(r) = self.escline(q).opt()? {
            return self.wss(r);
        }
        if q > p { Ok(q) } else { Err(Back) }
    }

    /// `node_space0`: any run of `node_space`.
    fn node_space0(&self, mut p: usize) -> Res<usize> {
        while let Some(q) = self.node_space(p).opt()? {
            p = q;
        }
        Ok(p)
    }

    /// `node_space1`: at least one `node_space`.
    fn node_space1(&self, p: usize) -> Res<usize> {
        let q = self.node_space(p)?;
        self.node_space0(q)
    }

    /// `line_space`: node space, a line break or a line comment.
    fn line_space(&self, p: usize) -> Res<usize> {
        if let Some(q) = self.node_space(p).opt()? {
            return Ok(q);
        }
        match self.newline(p) {
            0 => self.single_line_comment(p),
            n => Ok(p + n),
        }
    }

    /// `node_terminator`: `;`, a line break or a line comment.
    fn node_terminator(&self, p: usize) -> Res<usize> {
        if self.byte(p) == Some(b';') {
            return Ok(p + 1);
        }
        match self.newline(p) {
            0 => self.single_line_comment(p),
            n => Ok(p + n),
        }
    }

    /// `slashdash`: `/-` and the line space after it.
    fn slashdash(&self, p: usize) -> Res<usize> {
        if !self.at(p, "/-") {
            return Err(Back);
        }
        let mut q = p + 2;
        while let Some(r) = self.line_space(q).opt()? {
            q = r;
        }
        Ok(q)
    }

    /// `value_terminator`, peeked: what may follow a value.
    fn value_terminator_check(&self, p: usize) -> Res<()> {
        let ends = match self.byte(p) {
            None | Some(b'=' | b')' | b'{' | b'}' | b';') => true,
            Some(_) => self.newline(p) > 0 || self.at(p, "//") || self.node_space(p).opt()?.is_some(),
        };
        if ends { Ok(()) } else { Err(Bail) }
    }

    // ---- Document structure ----------------------------------------

    /// `nodes`: the nodes of the document or of a block, and the line
    /// space and slashdashed nodes around them. Returns the document and
    /// where its trailing space ends.
    fn nodes(&mut self, p: usize) -> Res<(KdlDocument, usize)> {
        let start = self.padding(p)?;
        let mut nodes = Vec::new();
        let mut end = start;
        // `separated(0.., node, node_terminator)`
        if let Some((node, q)) = self.node(start).opt()? {
            nodes.push(node);
            end = q;
            while let Some(next) = self.node_terminator(end).opt()? {
                let Some((node, q)) = self.node(next).opt()? else { break };
                nodes.push(node);
                end = q;
            }
        }
        let after = self.node_terminator(end).opt()?.unwrap_or(end);
        let trailing_end = self.padding(after)?;
        let mut leading = &self.src[p..start];
        // The kdl crate gives the leading space to the first node.
        if let Some(f) = nodes.first_mut().and_then(KdlNode::format_mut) {
            f.leading = leading.into();
            leading = "";
        }
        let mut doc = KdlDocument::new();
        *doc.nodes_mut() = nodes;
        doc.set_format(KdlDocumentFormat { leading: leading.into(), trailing: self.src[after..trailing_end].into() });
        doc.set_span(start..end);
        Ok((doc, trailing_end))
    }

    /// The `repeat(0.., alt((line_space, (slashdash, base_node))))` before
    /// and after nodes.
    fn padding(&mut self, mut p: usize) -> Res<usize> {
        loop {
            if let Some(q) = self.line_space(p).opt()? {
                p = q;
                continue;
            }
            if let Some(q) = self.slashdash(p).opt()?
                && let Some((_, r)) = self.base_node(q).opt()?
            {
                p = r;
                continue;
            }
            return Ok(p);
        }
    }

    /// `node`: padding, then a node (whose `leading` the padding becomes).
    fn node(&mut self, p: usize) -> Res<(KdlNode, usize)> {
        let q = self.padding(p)?;
        let (mut node, end) = self.base_node(q)?;
        if let Some(f) = node.format_mut() {
            f.leading = self.src[p..q].into();
        }
        Ok((node, end))
    }

    /// `base_node`: type, name, entries, children and the space up to the
    /// terminator, which is looked at but left for the caller.
    fn base_node(&mut self, p: usize) -> Res<(KdlNode, usize)> {
        let src = self.src;
        match self.byte(p) {
            None | Some(b'}') => return Err(Back),
            Some(b'{') => return Err(Bail),
            _ => {}
        }
        let (ty, before_ty_name, after_ty_name, after_ty_start) = match self.ty(p).opt()? {
            Some((ty, before, after, q)) => (Some(ty), before, after, q),
            None => (None, "", "", p),
        };
        let name_start = self.node_space0(after_ty_start)?;
        let (name, mut pos) = self.identifier(name_start).map_err(|_| Bail)?;
        let mut node = KdlNode::new(name);
        if let Some(ty) = ty {
            node.set_ty(ty);
        }
        // `repeat(0.., (peek(node_space1), node_entry))`
        while self.node_space(pos).opt()?.is_some() {
            let Some((entry, q)) = self.node_entry(pos).opt()? else { break };
            node.entries_mut().push(entry);
            pos = q;
        }
        let children_at = self.before_node_children(pos)?;
        let (before_children, terminator_at) = match self.node_children(children_at).opt()? {
            Some((children, q)) => {
                node.set_children(children);
                let before_children = &src[pos..children_at];
                pos = q;
                (before_children, self.slashdashed_children(q).opt()?.unwrap_or(q))
            }
            None => ("", children_at),
        };
        let terminator = self.node_terminator(terminator_at).opt()?.map_or("", |q| &src[terminator_at..q]);
        let end = self.node_space0(terminator_at)?;
        node.set_format(KdlNodeFormat {
            before_ty_name: before_ty_name.into(),
            after_ty_name: after_ty_name.into(),
            after_ty: src[after_ty_start..name_start].into(),
            before_children: before_children.into(),
            before_terminator: src[pos..terminator_at].into(),
            terminator: terminator.into(),
            ..Default::default()
        });
        node.set_span(p..end);
        Ok((node, end))
    }

    /// `before_node_children`: space, slashdashed entries and slashdashed
    /// blocks between the last entry and the block (or terminator).
    fn before_node_children(&mut self, p: usize) -> Res<usize> {
        let q = match self.slashdashed_before_children(p)? {
            Some(q) => q,
            None => self.node_space0(p)?,
        };
        self.node_space0(q)
    }

    /// The first three alternatives of `before_node_children`, in order:
    /// slashdashed entries and then slashdashed blocks, only entries, only
    /// blocks.
    fn slashdashed_before_children(&mut self, p: usize) -> Res<Option<usize>> {
        let Some(q) = self.node_space1(p).opt()? else { return Ok(None) };
        if let Some(r) = self.slashdashed_entries(q).opt()? {
            if let Some(s) = self.node_space1(r).opt()?
                && let Some(t) = self.slashdashed_children(s).opt()?
            {
                return Ok(Some(t));
            }
            return Ok(Some(r));
        }
        self.slashdashed_children(q).opt()
    }

    /// `slashdashed_children`: space, then `/- { … }` blocks.
    fn slashdashed_children(&mut self, p: usize) -> Res<usize> {
        let q = self.node_space0(p)?;
        let mut end = self.slashdashed_block(q)?;
        loop {
            let Some(r) = self.node_space1(end).opt()? else { return Ok(end) };
            let Some(s) = self.slashdashed_block(r).opt()? else { return Ok(end) };
            end = s;
        }
    }

    /// `(slashdash, node_children)`.
    fn slashdashed_block(&mut self, p: usize) -> Res<usize> {
        let q = self.slashdash(p)?;
        Ok(self.node_children(q)?.1)
    }

    /// `node_children`: `{ nodes }`. An unclosed block is an error.
    fn node_children(&mut self, p: usize) -> Res<(KdlDocument, usize)> {
        if self.byte(p) != Some(b'{') {
            return Err(Back);
        }
        let (doc, q) = self.nested(|s| s.nodes(p + 1))?;
        if self.byte(q) != Some(b'}') {
            return Err(Bail);
        }
        Ok((doc, q + 1))
    }

    /// `node_entry`: an argument or a property, with the space and
    /// slashdashed entries before it as its `leading`.
    fn node_entry(&mut self, p: usize) -> Res<(KdlEntry, usize)> {
        let src = self.src;
        let mut start = self.node_space0(p)?;
        // `opt((slashdashed_entries, node_space1))`
        if let Some(q) = self.slashdashed_entries(start).opt()?
            && let Some(r) = self.node_space1(q).opt()?
        {
            start = r;
        }
        let (mut entry, end) = match self.identifier(start).opt()? {
            Some((key, q)) => {
                let r = self.node_space0(q)?;
                if self.byte(r) == Some(b'=') {
                    // A property: the value must follow.
                    let s = self.node_space0(r + 1)?;
                    let (mut entry, end) = self.value(s).map_err(|_| Bail)?;
                    entry.set_name(Some(key));
                    if let Some(f) = entry.format_mut() {
                        f.after_key = src[q..r].into();
                        f.after_eq = src[r + 1..s].into();
                    }
                    (entry, end)
                } else {
                    // An argument that is a string.
                    let mut entry = KdlEntry::new(KdlValue::String(key.value().to_string()));
                    entry.set_format(KdlEntryFormat { value_repr: src[start..q].into(), ..Default::default() });
                    (entry, q)
                }
            }
            None => self.value(start)?,
        };
        if let Some(f) = entry.format_mut() {
            f.leading = src[p..start].into();
        }
        entry.set_span(start..end);
        Ok((entry, end))
    }

    /// `slashdashed_entries`: `/-` entries separated by node space.
    fn slashdashed_entries(&mut self, p: usize) -> Res<usize> {
        let mut end = self.slashdashed_entry(p)?;
        loop {
            let Some(q) = self.node_space1(end).opt()? else { return Ok(end) };
            let Some(r) = self.slashdashed_entry(q).opt()? else { return Ok(end) };
            end = r;
        }
    }

    /// `(slashdash, node_entry)`.
    fn slashdashed_entry(&mut self, p: usize) -> Res<usize> {
        let q = self.slashdash(p)?;
        self.nested(|s| s.node_entry(q)).map(|(_, end)| end)
    }

    // ---- Values --------------------------------------------------------

    /// `ty`: a type annotation `(name)`; misses only without the `(`.
    /// Returns the name, the space inside the parentheses, and the end.
    fn ty(&mut self, p: usize) -> Res<(KdlIdentifier, &'a str, &'a str, usize)> {
        if self.byte(p) != Some(b'(') {
            return Err(Back);
        }
        let q = self.node_space0(p + 1)?;
        let (name, r) = self.identifier(q).map_err(|_| Bail)?;
        if self.byte(r) != Some(b')') && self.node_space(r).opt()?.is_none() {
            return Err(Bail);
        }
        let s = self.node_space0(r)?;
        if self.byte(s) != Some(b')') {
            return Err(Bail);
        }
        Ok((name, &self.src[p + 1..q], &self.src[r..s], s + 1))
    }

    /// `value`: an optional type annotation, then a keyword, number or string.
    fn value(&mut self, p: usize) -> Res<(KdlEntry, usize)> {
        let src = self.src;
        let (ty, before_ty_name, after_ty_name, after_ty, q) = match self.ty(p).opt()? {
            Some((ty, before, after, q)) => {
                let r = self.node_space0(q)?;
                (Some(ty), before, after, &src[q..r], r)
            }
            None => (None, "", "", "", p),
        };
        let (value, end) = if let Some(v) = self.keyword(q).opt()? {
            v
        } else if let Some(v) = self.number(q).opt()? {
            v
        } else {
            let (s, end) = self.string(q)?;
            (KdlValue::String(s), end)
        };
        let mut entry = KdlEntry::new(value);
        if let Some(ty) = ty {
            entry.set_ty(ty);
        }
        entry.set_format(KdlEntryFormat {
            value_repr: src[q..end].into(),
            after_ty: after_ty.into(),
            before_ty_name: before_ty_name.into(),
            after_ty_name: after_ty_name.into(),
            ..Default::default()
        });
        entry.set_span(p..end);
        Ok((entry, end))
    }

    /// `keyword`: `#true`, `#false`, `#null`, `#nan`, `#inf`, `#-inf`.
    /// (kdl checks no value terminator after a keyword.)
    fn keyword(&self, p: usize) -> Res<(KdlValue, usize)> {
        if self.byte(p) != Some(b'#') || matches!(self.byte(p + 1), Some(b'#' | b'"')) {
            return Err(Back);
        }
        let words = [
            ("true", KdlValue::Bool(true)),
            ("false", KdlValue::Bool(false)),
            ("null", KdlValue::Null),
            ("nan", KdlValue::Float(f64::NAN)),
            ("inf", KdlValue::Float(f64::INFINITY)),
            ("-inf", KdlValue::Float(f64::NEG_INFINITY)),
        ];
        let (word, value) = words.into_iter().find(|(w, _)| self.at(p + 1, w)).ok_or(Bail)?;
        Ok((value, p + 1 + word.len()))
    }

    /// End of a run of digits of `radix` and underscores that starts with a
    /// digit, or `None` without a digit at `p`.
    fn digits(&self, p: usize, radix: u32) -> Option<usize> {
        let is_digit = |c: u8| char::from(c).is_digit(radix);
        if !self.byte(p).is_some_and(is_digit) {
            return None;
        }
        let len = self.b[p..].iter().position(|&c| !is_digit(c) && c != b'_').unwrap_or(self.b.len() - p);
        Some(p + len)
    }

    /// `number`: a float or an integer (decimal, `0x`, `0o`, `0b`), with
    /// an optional sign. Misses unless a digit follows the sign.
    fn number(&self, p: usize) -> Res<(KdlValue, usize)> {
        let negative = self.byte(p) == Some(b'-');
        let q = p + usize::from(matches!(self.byte(p), Some(b'+' | b'-')));
        let Some(int_end) = self.digits(q, 10) else { return Err(Back) };
        let radix = match (self.byte(q), self.byte(q + 1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            let end = self.digits(q + 2, radix).ok_or(Bail)?;
            let v = int_value(&self.src[q + 2..end], radix).ok_or(Bail)?;
            self.value_terminator_check(end)?;
            return Ok((KdlValue::Integer(if negative { -v } else { v }), end));
        }
        // Each digit group of a float must fit an i128, as kdl parses it.
        let mut end = int_end;
        let mut float = false;
        if self.byte(end) == Some(b'.') {
            let frac_end = self.digits(end + 1, 10).ok_or(Bail)?;
            int_value(&self.src[end + 1..frac_end], 10).ok_or(Bail)?;
            end = frac_end;
            float = true;
        }
        if matches!(self.byte(end), Some(b'e' | b'E')) {
            let exp = end + 1 + usize::from(matches!(self.byte(end + 1), Some(b'+' | b'-')));
            let exp_end = self.digits(exp, 10).ok_or(Bail)?;
            int_value(&self.src[exp..exp_end], 10).ok_or(Bail)?;
            end = exp_end;
            float = true;
        }
        let int = int_value(&self.src[q..int_end], 10).ok_or(Bail)?;
        self.value_terminator_check(end)?;
        let value = if float {
            KdlValue::Float(without_underscores(&self.src[p..end]).parse().map_err(|_| Bail)?)
        } else {
            KdlValue::Integer(if negative { -int } else { int })
        };
        Ok((value, end))
    }

    /// `identifier`: a string used as a node name, property key or type.
    fn identifier(&mut self, p: usize) -> Res<(KdlIdentifier, usize)> {
        let (value, q) = self.string(p)?;
        let mut id = KdlIdentifier::from(value);
        id.set_repr(&self.src[p..q]);
        id.set_span(p..q);
        Ok((id, q))
    }

    /// `string`: a bare identifier string, raw string or quoted string,
    /// which a value terminator must follow.
    fn string(&self, p: usize) -> Res<(String, usize)> {
        let (value, end) = if let Some(q) = self.identifier_string(p).opt()? {
            (self.src[p..q].to_string(), q)
        } else {
            match self.byte(p) {
                Some(b'#') => self.raw_string(p)?,
                Some(b'"') => self.quoted_string(p)?,
                _ => return Err(Back),
            }
        };
        self.value_terminator_check(end)?;
        Ok((value, end))
    }

    /// `identifier_string`: a bare word that cannot be read as a number.
    fn identifier_string(&self, p: usize) -> Res<usize> {
        let is_digit = |q: usize| self.byte(q).is_some_and(|c| c.is_ascii_digit());
        match self.byte(p) {
            None => Err(Back),
            Some(b'0'..=b'9') => Err(Back),
            // `signed_ident`, or `dotted_ident` with a sign.
            Some(b'+' | b'-') => match self.byte(p + 1) {
                _ if is_digit(p + 1) => Err(Back),
                Some(b'.') if is_digit(p + 2) => Err(Back),
                _ => Ok(self.identifier_chars(p + 1)),
            },
            // `dotted_ident`
            Some(b'.') if is_digit(p + 1) => Err(Back),
            Some(b'.') => Ok(self.identifier_chars(p + 1)),
            // `unambiguous_ident`
            Some(_) => {
                let end = self.identifier_chars(p);
                if end == p {
                    Err(Back)
                } else if KEYWORD_WORDS.contains(&&self.src[p..end]) {
                    Err(Bail)
                } else {
                    Ok(end)
                }
            }
        }
    }

    /// `raw_string`: `#"…"#` with any number of `#`. Misses unless `#`s
    /// and a `"` start it; multi-line raw strings are left to kdl.
    fn raw_string(&self, p: usize) -> Res<(String, usize)> {
        let hashes = self.b[p..].iter().take_while(|&&c| c == b'#').count();
        let open = p + hashes;
        if self.byte(open) != Some(b'"') {
            return Err(Back);
        }
        if self.at(open, "\"\"\"") && self.newline(open + 3) > 0 {
            return Err(Bail);
        }
        let closing = |i: usize| {
            self.byte(i) == Some(b'"')
                && self.b.get(i + 1..i + 1 + hashes).is_some_and(|h| h.iter().all(|&c| c == b'#'))
        };
        let mut i = open + 1;
        while !closing(i) {
            let c = self.char_at(i).ok_or(Bail)?;
            if self.newline(i) > 0 || is_disallowed(c) {
                return Err(Bail);
            }
            i += c.len_utf8();
        }
        let body = &self.src[open + 1..i];
        if body == "\"" {
            return Err(Bail);
        }
        Ok((body.to_string(), i + 1 + hashes))
    }

    /// `quoted_string`: `"…"` with escapes, or a multi-line `"""` string.
    fn quoted_string(&self, p: usize) -> Res<(String, usize)> {
        if self.at(p, "\"\"\"") {
            let nl = self.newline(p + 3);
            if nl == 0 {
                return Err(Bail);
            }
            return self.multi_line_string(p + 3 + nl);
        }
        let mut out = String::new();
        let end = self.string_chars(p + 1, &mut out, false)?;
        Ok((out, end + 1))
    }

    /// Is `\` at `p` a whitespace escape (`\` then space or line breaks)?
    fn is_ws_escape(&self, p: usize) -> bool {
        self.byte(p) == Some(b'\\') && (self.space(p + 1) > 0 || self.newline(p + 1) > 0)
    }

    /// The body of a multi-line string, `p` just after the line break that
    /// follows the opening `"""`. The closing `"""` stands on the first
    /// line holding nothing else but whitespace; that whitespace is the
    /// prefix every other line starts with (or is blank), and is removed.
    fn multi_line_string(&self, p: usize) -> Res<(String, usize)> {
        let mut line = p;
        let (close, prefix_end) = loop {
            let ws = self.spaces(line);
            if self.is_ws_escape(ws) {
                return Err(Bail);
            }
            if self.at(ws, "\"\"\"") {
                break (line, ws);
            }
            // On to the next line; the string must be closed.
            let mut i = ws;
            loop {
                match self.newline(i) {
                    0 => i += self.char_at(i).ok_or(Bail)?.len_utf8(),
                    n => break i += n,
                }
            }
            line = i;
        };
        let prefix = &self.src[close..prefix_end];
        let mut out = String::new();
        let mut line = p;
        while line < close {
            let has_prefix = self.src[line..].starts_with(prefix);
            let rest = if has_prefix { line + prefix.len() } else { line };
            let blank_end = self.spaces(rest);
            match self.newline(blank_end) {
                0 if !has_prefix => return Err(Bail),
                0 => line = self.string_chars(rest, &mut out, true)?,
                n => line = blank_end + n,
            }
            out.push('\n');
        }
        if line != close {
            return Err(Bail);
        }
        out.pop();
        Ok((out, prefix_end + 3))
    }

    /// The characters of a quoted string from `p`, unescaped into `out`.
    /// A single-line string stops at (and returns) its closing `"`; a line
    /// of a multi-line string stops after its line break.
    fn string_chars(&self, mut i: usize, out: &mut String, multi_line: bool) -> Res<usize> {
        loop {
            let plain = self.b[i..].iter().position(|&c| !(b' '..0x80).contains(&c) || c == b'"' || c == b'\\');
            let run_end = plain.map_or(self.b.len(), |n| i + n);
            out.push_str(&self.src[i..run_end]);
            i = run_end;
            match self.byte(i) {
                None => return Err(Bail),
                Some(b'"') if !multi_line => return Ok(i),
                Some(b'"') if self.at(i + 1, "\"\"") => return Err(Bail),
                Some(b'"') => {
                    out.push('"');
                    i += 1;
                }
                Some(b'\\') if self.is_ws_escape(i) => {
                    if multi_line {
                        return Err(Bail);
                    }
                    i += 1;
                    loop {
                        match (self.space(i), self.newline(i)) {
                            (0, 0) => break,
                            (s, n) => i += s + n,
                        }
                    }
                }
                Some(b'\\') => {
                    let (c, next) = self.escape(i)?;
                    out.push(c);
                    i = next;
                }
                Some(_) => {
                    let nl = self.newline(i);
                    if nl > 0 {
                        return if multi_line { Ok(i + nl) } else { Err(Bail) };
                    }
                    let c = self.char_at(i).ok_or(Bail)?;
                    if is_disallowed(c) {
                        return Err(Bail);
                    }
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
    }

    /// `escaped_char`, `p` at the `\`: returns the character and its end.
    fn escape(&self, p: usize) -> Res<(char, usize)> {
        let c = match self.byte(p + 1) {
            Some(b'\\') => '\\',
            Some(b'"') => '"',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b's') => ' ',
            Some(b'u') if self.byte(p + 2) == Some(b'{') => {
                let hex = self.b[p + 3..].iter().take(6).take_while(|c| c.is_ascii_hexdigit()).count();
                if hex == 0 || self.byte(p + 3 + hex) != Some(b'}') {
                    return Err(Bail);
                }
                let code = u32::from_str_radix(&self.src[p + 3..p + 3 + hex], 16).map_err(|_| Bail)?;
                return Ok((char::from_u32(code).ok_or(Bail)?, p + 4 + hex));
            }
            _ => return Err(Bail),
        };
        Ok((c, p + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast parser agrees with the kdl crate, spans and formats
    /// included (kdl's `PartialEq` ignores spans; `Debug` shows them).
    fn same(text: &str) -> bool {
        let fast = parse(text);
        let kdl = text.parse::<KdlDocument>();
        match (&fast, &kdl) {
            (Some(f), Ok(k)) => {
                assert_eq!(format!("{f:#?}"), format!("{k:#?}"), "{text:?}");
                true
            }
            (Some(_), Err(e)) => panic!("{text:?}: fast parser accepted what kdl rejects: {e:?}"),
            (None, _) => false,
        }
    }

    #[test]
    fn common_constructs_take_the_fast_path() {
        for text in [
            "",
            "a",
            "a\n",
            "service a {\n  port http 80\n}\n",
            "a 1 -2 +3 1_000 0x1F -0o17 0b1_01 1.5 -2.5e3 1E-2 6.02e+23 0.0",
            "a #true #false #null #inf #-inf #nan",
            "a \"q\\n\\t\\\"\\\\\\u{1F600}\\s\" #\"raw \\n\"# ##\"x\"#y\"## -inf + - . -.x",
            "a k=1 \"quoted key\" = v (t)x (u8)2 k2=(t)#true\n",
            "(ty)node ( t )x { child; other }\n",
            "a /* c /* nested */ */ b // line\n/-c 1 { d }\ne /-1 2 /-k=v { } /-{ x }\n",
            "a \\\n  b \\ // comment\n  c\n",
            "a; b;c\r\nd\re",
            "a {\n}\n\n// trailing\n",
            "a \"\"\"\n  one\n    two\n\n  three\n  \"\"\"\n",
            "a \"\"\"\n\"\"\" b",
            "\u{e9}t\u{e9} \u{3b1}=\"\u{2014}\" // \u{2028}\n",
            "a\u{a0}b\u{3000}c",
        ] {
            assert!(same(text), "{text:?} fell back; kdl: {:?}", text.parse::<KdlDocument>().err());
        }
    }

    #[test]
    fn errors_and_rare_constructs_fall_back() {
        for text in [
            "a true",
            "a b=",
            "a 1x",
            "a \"unclosed",
            "a /* unclosed",
            "a { b",
            "a }",
            "{ a }",
            "a;;",
            "a 99999999999999999999999999999999999999999",
            "a 1.",
            "a #nope",
            "a \"\\q\"",
            "a \"\\u{d800}\"",
            "\u{feff}a",
            "a #\"\"\"\n  x\n  \"\"\"#",
            "a \"\"\"\n  x \\\n  y\n  \"\"\"",
            "a \"\"\"\n  x\n y\n  \"\"\"",
            "a \"\"\"x\"\"\"",
        ] {
            assert!(!same(text), "{text:?} took the fast path");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "a {".repeat(MAX_NESTING + 1), "}".repeat(MAX_NESTING + 1));
        assert!(parse(&deep).is_none());
        let ok = format!("{}{}", "a {".repeat(MAX_NESTING), "}".repeat(MAX_NESTING));
        assert!(same(&ok));
        let slashdashes = format!("a {}b", "/-".repeat(10_000));
        assert!(parse(&slashdashes).is_none());
    }
}
