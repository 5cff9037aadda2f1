//! The fast path of reading one YAML document: a line-based reader of the
//! block YAML that `kubectl`, `helm template`, kustomize and svcc write
//! (block mappings and sequences, single-line scalars, `{}` and `[]`),
//! which builds exactly the value `serde_saphyr::from_multiple` builds, or
//! gives up.
//!
//! serde-saphyr takes some 600 instructions a byte, most of what `svcc
//! import` spends reading manifests. This reader gives up (`None`, and
//! serde-saphyr reads the document, errors included) on anything it does
//! not know to read the same: anchors, aliases, tags, block and multi-line
//! scalars, flow collections with content, comments after content on its
//! line, 32 comment lines in a row after content, control characters
//! (tabs and `\r` among them), bytes outside ASCII, escapes in double
//! quotes, duplicate keys, keys that are not plain names, and every plain
//! scalar whose type it cannot prove (serde-saphyr reads YAML 1.1
//! booleans, hexadecimal and octal integers, floats, `.inf`; here a plain
//! scalar is a string only when it cannot be any of them, a number only
//! as a plain decimal integer). Giving up is always safe; a value must
//! equal serde-saphyr's, which the tests below check on tricky scalars
//! and random documents.
//! It recurses once per nesting level, at most [`MAX_DEPTH`], and reads at
//! most [`MAX_NODES`] nodes (below serde-saphyr's budgets: past them it
//! decides).

use serde_json::{Map, Value};

/// Nesting deeper than this is left to serde-saphyr (its limit is 64).
pub const MAX_DEPTH: usize = 32;
/// More nodes than this are left to serde-saphyr (its limit is 250,000).
pub const MAX_NODES: usize = 100_000;
/// This many comment lines in a row after content are left to serde-saphyr
/// (after an empty value, it refuses 33).
const MAX_COMMENTS: usize = 32;

/// One line with content: its indentation and its text (no trailing spaces).
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    nodes: usize,
}

/// The values of one document's text as `serde_saphyr::from_multiple`
/// gives them (an empty document: none), or `None` to let it decide.
pub fn document(text: &str) -> Option<Vec<Value>> {
    // Control characters (tabs and `\r` too, but not line ends) are
    // serde-saphyr's: inside quotes, YAML refuses most of them.
    if text.bytes().any(|b| (b.is_ascii_control() && b != b'\n') || !b.is_ascii()) {
        return None;
    }
    let mut lines = Vec::new();
    // Comment lines since the last content line: serde-saphyr refuses an
    // empty value followed by more than 32 (blank lines between them
    // count for nothing), so a long run after content is left to it.
    let mut comments = 0;
    for (n, raw) in text.split('\n').enumerate() {
        let text = raw.trim_end_matches(' ');
        let body = text.trim_start_matches(' ');
        if body.starts_with('#') && !lines.is_empty() {
            comments += 1;
            if comments >= MAX_COMMENTS {
                return None;
            }
        }
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        comments = 0;
        if n == 0 && text == "---" {
            continue;
        }
        // A second document, a directive or comments after content are
        // serde-saphyr's to read.
        if text.starts_with("---")
            || text.starts_with("...")
            || text.starts_with('%')
            || pair(body, b' ', b'#').is_some()
        {
            return None;
        }
        lines.push(Line { indent: text.len() - body.len(), text: body });
    }
    if lines.is_empty() {
        return Some(Vec::new());
    }
    if lines[0].indent != 0 || item(lines[0].text).is_some() {
        return None;
    }
    let mut r = Reader { lines, at: 0, nodes: 0 };
    let v = r.mapping(0, 0)?;
    (r.at == r.lines.len()).then(|| vec![v])
}

/// The rest of a sequence item's line (`- X` gives `X`, `-` gives ``).
fn item(text: &str) -> Option<&str> {
    if text == "-" {
        return Some("");
    }
    text.strip_prefix("- ")
}

impl<'a> Reader<'a> {
    fn count(&mut self, depth: usize) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES && depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys are at `indent`, from the current line.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut m = Map::new();
        while let Some(&l) = self.lines.get(self.at) {
            if l.indent < indent || (l.indent == indent && item(l.text).is_some()) {
                break;
            }
            if l.indent > indent {
                return None;
            }
            let (key, rest) = key(l.text)?;
            self.at += 1;
            let v = if rest.is_empty() { self.below(indent, depth + 1)? } else { self.scalar(rest, depth + 1)? };
            if m.contains_key(key) {
                return None;
            }
            m.insert(key.to_string(), v);
        }
        Some(Value::Object(m))
    }

    /// The value of a key or item with nothing after it on its line: a
    /// block below it (a sequence may sit at the key's own indentation),
    /// or null.
    fn below(&mut self, indent: usize, depth: usize) -> Option<Value> {
        match self.lines.get(self.at) {
            Some(l) if l.indent > indent => {
                if item(l.text).is_some() {
                    self.sequence(l.indent, depth)
                } else {
                    self.mapping(l.indent, depth)
                }
            }
            Some(l) if l.indent == indent && item(l.text).is_some() => self.sequence(indent, depth),
            _ => {
                self.count(depth)?;
                Some(Value::Null)
            }
        }
    }

    /// A block sequence whose `-` are at `indent`, from the current line.
    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut a = Vec::new();
        while let Some(&l) = self.lines.get(self.at) {
            if l.indent < indent {
                break;
            }
            let rest = match item(l.text) {
                Some(rest) if l.indent == indent => rest,
                // Deeper, or a key at the sequence's indentation (the end
                // of a sequence under a key of the same indentation).
                _ if l.indent == indent => break,
                _ => return None,
            };
            let rest = rest.trim_start_matches(' ');
            if rest.is_empty() {
                self.at += 1;
                // An item's block is deeper than its `-`.
                match self.lines.get(self.at) {
                    Some(n) if n.indent > indent => a.push(self.below(indent, depth + 1)?),
                    _ => {
                        self.count(depth + 1)?;
                        a.push(Value::Null);
                    }
                }
            } else if item(rest).is_some() || rest.starts_with('-') && rest.len() == 1 {
                return None;
            } else if key(rest).is_some() {
                // `- key: value`: a mapping whose keys are at the column of `key`.
                let column = l.indent + (l.text.len() - rest.len());
                self.lines[self.at] = Line { indent: column, text: rest };
                a.push(self.mapping(column, depth + 1)?);
            } else {
                self.at += 1;
                a.push(self.scalar(rest, depth + 1)?);
            }
        }
        Some(Value::Array(a))
    }

    /// A scalar (or `{}`, `[]`) that is all of the rest of a line.
    fn scalar(&mut self, text: &str, depth: usize) -> Option<Value> {
        self.count(depth)?;
        match text {
            "{}" => return Some(Value::Object(Map::new())),
            "[]" => return Some(Value::Array(Vec::new())),
            _ => {}
        }
        if let Some(s) = quoted(text) {
            return Some(Value::String(s?));
        }
        plain(text)
    }
}

/// A mapping line's key and what follows `: ` (empty for `key:`).
/// Where the two bytes `a` `b` first follow each other in `s` (what
/// `s.find` does for a two-byte pattern, without its searcher's setup).
fn pair(s: &str, a: u8, b: u8) -> Option<usize> {
    s.as_bytes().windows(2).position(|w| w[0] == a && w[1] == b)
}

fn key(text: &str) -> Option<(&str, &str)> {
    let (key, rest) = match pair(text, b':', b' ') {
        Some(i) => (&text[..i], text[i + 2..].trim_start_matches(' ')),
        None => (text.strip_suffix(':')?, ""),
    };
    name(key).then_some((key, rest))
}

/// A key read as the same string by every YAML reader: a name starting
/// with a letter, of letters, digits and `-._/`, and no YAML 1.1 word.
fn name(key: &str) -> bool {
    key.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
        && !word(key)
}

/// YAML 1.1 booleans and nulls in any case, and what Rust reads as a float.
fn word(s: &str) -> bool {
    s.len() <= 8
        && ["y", "yes", "n", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w))
}

/// A whole single- or double-quoted scalar: `Some(None)` when it is one
/// this reader leaves to serde-saphyr, `None` when it is not quoted.
fn quoted(text: &str) -> Option<Option<String>> {
    let q = *text.as_bytes().first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let Some(inner) = text.strip_prefix(char::from(q)).and_then(|t| t.strip_suffix(char::from(q))) else {
        return Some(None);
    };
    if q == b'"' {
        // No escapes, and the quote only at the ends.
        return Some((!inner.contains(['"', '\\'])).then(|| inner.to_string()));
    }
    // Inside single quotes a quote is written twice.
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\'') {
        if rest.as_bytes().get(i + 1) != Some(&b'\'') {
            return Some(None);
        }
        out.push_str(&rest[..=i]);
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    Some(Some(out))
}

/// A plain scalar's value, when its type is certain.
fn plain(t: &str) -> Option<Value> {
    let b = t.as_bytes();
    // What could end the scalar, start a mapping, interpolate or read as
    // something else is left to serde-saphyr.
    if pair(t, b':', b' ').is_some() || t.ends_with(':') || b.iter().any(|&c| c == b'$' || !(0x20..0x7f).contains(&c)) {
        return None;
    }
    if t.len() <= 5 {
        match t {
            "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
            _ => {}
        }
        for (w, v) in [("true", true), ("yes", true), ("y", true), ("on", true)] {
            if t.eq_ignore_ascii_case(w) {
                return Some(Value::Bool(v));
            }
        }
        for w in ["false", "no", "n", "off"] {
            if t.eq_ignore_ascii_case(w) {
                return Some(Value::Bool(false));
            }
        }
    }
    if b[0].is_ascii_alphabetic() || b[0] == b'/' {
        // Letters first: a string unless a word of another type.
        return (!word(t)).then(|| Value::String(t.to_string()));
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        // A decimal integer (no leading zero, no sign but `-`, in range).
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) || digits.len() > 18 {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        return Some(if t.starts_with('-') { (-n).into() } else { n.into() });
    }
    // Digits first (`500m`, `256Mi`, `25%`): a string when it holds
    // something no integer or float has (not `e`, `x`, `o`, `b` nor a
    // hexadecimal digit, `.`, `_`, `+`, `-`, `:`).
    let proof =
        |c: u8| (c.is_ascii_alphabetic() && !c.is_ascii_hexdigit() && !b"xXoO".contains(&c)) || c == b'%' || c == b'/';
    (b[0].is_ascii_digit() && b.iter().copied().any(proof)).then(|| Value::String(t.to_string()))
}

/// Whether the fast path reads `text`; when it does, asserts (panics
/// otherwise) that serde-saphyr reads the same values (empty documents
/// aside). The check of the tests below and of the `yaml_fast` fuzz
/// target (docs/fuzzing.md).
pub fn agrees(text: &str) -> bool {
    let saphyr =
        || serde_saphyr::from_multiple::<Value>(text).ok().map(|v| v.into_iter().filter(|v| !v.is_null()).collect());
    match document(text) {
        Some(v) => {
            let v: Vec<Value> = v.into_iter().filter(|v| !v.is_null()).collect();
            assert_eq!(Some(&v), saphyr().as_ref(), "{text:?}");
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_read_as_serde_saphyr_reads_them() {
        let text = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app.kubernetes.io/version: \"1.4.1\"\n  name: web\nspec:\n  replicas: 3\n  strategy:\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0\n  template:\n    spec:\n      containers:\n      - env:\n        - name: A\n          value: 'it''s'\n        -\n        - x\n        image: ghcr.io/a/b:1.2\n        resources: {limits: {}}\n      volumes:\n      - emptyDir: {}\n        name: tmp\n      - []\n      tolerations: []\n      empty:\n      neg: -5\n      cpu: 500m\n      on: x\n";
        // The flow mapping with content (and the `on` key) are left to serde-saphyr.
        assert!(!agrees(text));
        let text = text.replace("resources: {limits: {}}", "resources: {}").replace("      on: x\n", "");
        assert!(agrees(&text));
        assert!(agrees("# only a comment\n"));
    }

    #[test]
    fn scalars_are_typed_as_serde_saphyr_types_them() {
        let scalars = [
            "a",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "False",
            "TRUE",
            "null",
            "Null",
            "NULL",
            "~",
            "nUll",
            "",
            "0",
            "00",
            "01",
            "-0",
            "-1",
            "+1",
            "1_000",
            "0x1F",
            "0o17",
            "0b1",
            "1e5",
            "1E5",
            "1.5",
            ".5",
            "5.",
            ".inf",
            "-.inf",
            ".nan",
            "inf",
            "Infinity",
            "nan",
            "NaN",
            "500m",
            "256Mi",
            "1Ei",
            "1e",
            "25%",
            "1.4.1",
            "10.0.0.1",
            "1:30",
            "12:30:00",
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "/metrics",
            "a b",
            "a:b",
            "a#b",
            "a,b",
            "a[0]",
            "{x}",
            "9223372036854775807",
            "18446744073709551615",
            "99999999999999999999",
            "-9223372036854775808",
            "123456789012345678",
            "-123456789012345678",
            "0.0.0.0:80",
            "1a",
            "1f",
            "1g",
            "3000",
            "-",
            "--",
            "?",
            "?x",
            "!x",
            "&a",
            "*a",
            "|",
            ">",
            "@x",
            "`x",
            "%x",
            "\"a\"",
            "'a'",
            "\"a\\nb\"",
            "'a''b'",
            "''",
            "\"\"",
            "'''",
            "\"a\"b\"",
            "'a'b'",
            "a'b",
            "a\"b",
            "x: y",
            "x:",
            "$HOME",
            "{}",
            "[]",
            "[a]",
            "{a: 1}",
            "<<",
            "=",
            "a=b",
            // Control characters: YAML refuses most of them in quotes
            // (found by the `yaml_fast` fuzz target).
            "\"3.2\u{e}1\"",
            "'a\u{1}'",
            "\"x\u{7f}\"",
            "a\u{e}b",
            "\u{0}",
        ];
        let mut read = 0;
        for s in scalars {
            read += usize::from(agrees(&format!("k: {s}\n")));
            read += usize::from(agrees(&format!("k:\n- {s}\n")));
            if !s.is_empty() {
                read += usize::from(agrees(&format!("{s}: 1\n")));
            }
        }
        assert!(read > 60, "the fast path read only {read}");
    }

    /// serde-saphyr refuses an empty value followed by 33 comment lines
    /// (found by the `yaml_fast` fuzz target); fewer, it reads.
    #[test]
    fn long_comment_runs_after_content_are_left_to_serde_saphyr() {
        for n in [1, 31, 32, 33, 40] {
            let comments = "#\n".repeat(n);
            for text in [
                format!("a:\n{comments}"),
                format!("a:\n- x\n-\n{comments}"),
                format!("a:\n{comments}\n{comments}b: 1\n"),
                format!("x: 1\n{comments}"),
                format!("{comments}a:\n"),
            ] {
                agrees(&text);
            }
        }
        assert!(agrees(&format!("a:\n{}", "#\n".repeat(31))));
    }

    /// Every document of the YAML files under `SVCC_YAML_CORPUS` (say, the
    /// manifests docs/import.md imports): `cargo test --lib yaml_corpus --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "needs SVCC_YAML_CORPUS"]
    #[allow(clippy::print_stderr)] // says how much the fast path read
    fn yaml_corpus_agrees_with_serde_saphyr() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push(p);
                }
            }
        }
        let Some(root) = std::env::var_os("SVCC_YAML_CORPUS") else { return };
        let mut files = Vec::new();
        walk(std::path::Path::new(&root), &mut files);
        let (mut docs, mut read) = (0, 0);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for (a, b) in super::super::chunks(&text) {
                docs += 1;
                read += usize::from(agrees(&text[a..b]));
            }
        }
        eprintln!("the fast path read {read} of {docs} documents");
    }

    /// A small deterministic generator (no dependency for a test).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn random_block(r: &mut Rng, indent: usize, depth: usize, out: &mut String) {
        // Mostly what the fast path reads, some of what it leaves.
        const KEYS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "name", "x.y/z", "k-1", "on", "\"q\"", "1"];
        const VALUES: &[&str] = &[
            "v", "1", "-2", "yes", "500m", "\"s\"", "'t'", "'it''s'", "{}", "[]", "", "null", "~", "/p", "25%", "w x",
            "0x1", "1.5", "a: b", "1e3", "&a x",
        ];
        let pad = " ".repeat(indent);
        let first = r.below(KEYS.len());
        for k in 0..1 + r.below(4) {
            // A duplicate key now and then (when the keys wrap around).
            let key = KEYS[(first + k * (1 + r.below(3))) % KEYS.len()];
            match r.below(if depth > 3 { 1 } else { 4 }) {
                0 => out.push_str(&format!("{pad}{key}: {}\n", VALUES[r.below(VALUES.len())])),
                1 => {
                    out.push_str(&format!("{pad}{key}:\n"));
                    random_block(r, indent + 2, depth + 1, out);
                }
                _ => {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let at = indent + 2 * r.below(2);
                    for _ in 0..1 + r.below(3) {
                        let dash = format!("{}- ", " ".repeat(at));
                        if r.below(2) == 0 {
                            out.push_str(&format!("{dash}{}\n", VALUES[r.below(VALUES.len())]));
                        } else {
                            let mut inner = String::new();
                            random_block(r, at + 2, depth + 1, &mut inner);
                            out.push_str(&dash);
                            out.push_str(&inner[at + 2..]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_documents_agree_with_serde_saphyr() {
        let mut r = Rng(0x5eed_1234_abcd_0001);
        let mut read = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            random_block(&mut r, 0, 0, &mut text);
            read += usize::from(agrees(&text));
        }
        assert!(read > 200, "the fast path read only {read} of 3000");
    }
}
