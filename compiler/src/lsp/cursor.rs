//! Where the cursor is in a spec, read from the text by a tolerant scanner:
//! while a user types, the document is mostly not valid KDL, yet completion
//! still needs the blocks around the cursor and the node it is in.

/// One lexical token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// A bare word: an identifier, a number or a `#keyword`.
    Word(String),
    /// A quoted string, unquoted (escapes left as written).
    Str(String),
    Eq,
    Open,
    Close,
    /// A line break or `;`: the end of a node.
    End,
}

#[derive(Clone, Debug)]
struct Lexeme {
    tok: Tok,
    start: usize,
    end: usize,
}

/// What a token is to its node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// The node's name.
    Name,
    /// The `n`th positional argument (from 0).
    Arg(usize),
    /// A property's key.
    Key,
    /// A property's value; the key.
    Value(String),
}

/// The token under (or just before) the cursor.
#[derive(Clone, Debug)]
pub struct Token {
    pub role: Role,
    /// Its text, unquoted.
    pub text: String,
    /// Byte range of the whole token (quotes included).
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

/// An enclosing block: the node's name and first argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub name: String,
    pub arg: Option<String>,
}

/// The cursor's context.
#[derive(Clone, Debug, Default)]
pub struct At {
    /// The enclosing blocks, outermost first.
    pub path: Vec<Frame>,
    /// The name of the node the cursor is in, when the cursor is past it.
    pub node: Option<String>,
    /// The positional arguments of that node before the cursor.
    pub args: Vec<String>,
    /// The token at the cursor, if it is on one (or at its end).
    pub token: Option<Token>,
    /// When the cursor is right after `key=` (no value typed yet): the key.
    pub key: Option<String>,
}

/// The context of byte `offset` in `text`.
pub fn at(text: &str, offset: usize) -> At {
    let lexemes = lex(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut stmt: Vec<&Lexeme> = Vec::new();
    for (i, l) in lexemes.iter().enumerate() {
        if l.start >= offset && !(l.start == offset && is_value(&l.tok) && touches_before(&lexemes, i, offset)) {
            break;
        }
        let on_it = l.start <= offset && offset <= l.end && is_value(&l.tok);
        if on_it {
            let key = lexemes.get(i + 1).is_some_and(|n| n.tok == Tok::Eq);
            return context(stack, &stmt, Some((l, key)));
        }
        match &l.tok {
            Tok::Open => {
                stack.push(frame(&stmt));
                stmt.clear();
            }
            Tok::Close => {
                stack.pop();
                stmt.clear();
            }
            Tok::End => stmt.clear(),
            _ => stmt.push(l),
        }
    }
    context(stack, &stmt, None)
}

/// Whether the token just before `i` ends at `offset` (then the cursor is on
/// that one, not on token `i`).
fn touches_before(lexemes: &[Lexeme], i: usize, offset: usize) -> bool {
    i == 0 || lexemes[i - 1].end != offset
}

fn is_value(t: &Tok) -> bool {
    matches!(t, Tok::Word(_) | Tok::Str(_))
}

fn text_of(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(s) | Tok::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn frame(stmt: &[&Lexeme]) -> Frame {
    let name = stmt.first().and_then(|l| text_of(&l.tok)).unwrap_or_default();
    let arg = stmt.get(1).filter(|_| stmt.get(2).is_none_or(|n| n.tok != Tok::Eq)).and_then(|l| text_of(&l.tok));
    Frame { name, arg }
}

fn context(path: Vec<Frame>, stmt: &[&Lexeme], on: Option<(&Lexeme, bool)>) -> At {
    let mut at = At { path, ..At::default() };
    let mut args = Vec::new();
    let mut i = 1;
    while i < stmt.len() {
        let next_is_eq = stmt.get(i + 1).is_some_and(|n| n.tok == Tok::Eq);
        if next_is_eq {
            i += 3;
            continue;
        }
        if let Some(t) = text_of(&stmt[i].tok) {
            args.push(t);
        }
        i += 1;
    }
    if let Some((l, key)) = on {
        let role = match stmt.last() {
            None => Role::Name,
            Some(prev) if prev.tok == Tok::Eq => {
                Role::Value(stmt.len().checked_sub(2).and_then(|k| text_of(&stmt[k].tok)).unwrap_or_default())
            }
            Some(_) if key => Role::Key,
            Some(_) => Role::Arg(args.len()),
        };
        let quoted = matches!(l.tok, Tok::Str(_));
        let text = text_of(&l.tok).unwrap_or_default();
        at.token = Some(Token { role, text, start: l.start, end: l.end, quoted });
    }
    at.node = stmt.first().and_then(|first| text_of(&first.tok));
    if on.is_none() && stmt.len() >= 3 && stmt.last().is_some_and(|l| l.tok == Tok::Eq) {
        at.key = text_of(&stmt[stmt.len() - 2].tok);
    }
    at.args = args;
    at
}

/// Split `text` into tokens; never fails (an unterminated string runs to
/// the end).
fn lex(text: &str) -> Vec<Lexeme> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<Lexeme>, tok, start, end| out.push(Lexeme { tok, start, end });
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' | b';' => {
                push(&mut out, Tok::End, i, i + 1);
                i += 1;
            }
            b'\\' => i = text[i..].find('\n').map_or(b.len(), |n| i + n + 1),
            b'/' if b.get(i + 1) == Some(&b'/') => i = text[i..].find('\n').map_or(b.len(), |n| i + n),
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment(b, i),
            b'/' if b.get(i + 1) == Some(&b'-') => i += 2,
            b'{' => {
                push(&mut out, Tok::Open, i, i + 1);
                i += 1;
            }
            b'}' => {
                push(&mut out, Tok::Close, i, i + 1);
                i += 1;
            }
            b'=' => {
                push(&mut out, Tok::Eq, i, i + 1);
                i += 1;
            }
            b'(' => i = text[i..].find(')').map_or(b.len(), |n| i + n + 1),
            b'"' => {
                let (end, value) = string(text, i, 0);
                push(&mut out, Tok::Str(value), i, end);
                i = end;
            }
            b'#' if raw_string_at(b, i).is_some() => {
                let hashes = raw_string_at(b, i).unwrap_or(0);
                let (end, value) = string(text, i + hashes, hashes);
                push(&mut out, Tok::Str(value), i, end);
                i = end;
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\r\n;{}()=\"\\".contains(&b[i]) {
                    i += 1;
                }
                // A stray byte of a multi-byte character: step over the character.
                while i < b.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                if i == start {
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
                push(&mut out, Tok::Word(text[start..i].to_string()), start, i);
            }
        }
    }
    out
}

/// `#"…"#` and friends: the number of `#` before the quote.
fn raw_string_at(b: &[u8], i: usize) -> Option<usize> {
    let n = b[i..].iter().take_while(|c| **c == b'#').count();
    (b.get(i + n) == Some(&b'"')).then_some(n)
}

/// A string starting at the quote at `i` (`hashes` for a raw string):
/// its end and its text.
fn string(text: &str, i: usize, hashes: usize) -> (usize, String) {
    let b = text.as_bytes();
    let triple = text[i..].starts_with("\"\"\"");
    let open = if triple { 3 } else { 1 };
    let close: String = format!("{}{}", if triple { "\"\"\"" } else { "\"" }, "#".repeat(hashes));
    let mut j = i + open;
    let step = |j: usize| j + text[j..].chars().next().map_or(1, char::len_utf8);
    while j < b.len() {
        if hashes == 0 && b[j] == b'\\' {
            j = step(j + 1).min(b.len());
            continue;
        }
        if text[j..].starts_with(&close) {
            let value = text[i + open..j].to_string();
            return (j + close.len(), value);
        }
        if !triple && b[j] == b'\n' {
            break;
        }
        j = step(j);
    }
    let j = j.min(b.len());
    let mut end = j;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (end, text[i + open.min(end - i)..end].to_string())
}

fn block_comment(b: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_mark(text: &str) -> At {
        let offset = text.find('|').unwrap();
        at(&text.replace('|', ""), offset)
    }

    #[test]
    fn blocks_around_the_cursor() {
        let a = at_mark("service api {\n  environment prod {\n    repl|\n  }\n}\n");
        let names: Vec<&str> = a.path.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["service", "environment"]);
        assert_eq!(a.path[1].arg.as_deref(), Some("prod"));
        let t = a.token.unwrap();
        assert_eq!((t.role, t.text.as_str()), (Role::Name, "repl"));
    }

    #[test]
    fn arguments_properties_and_values() {
        let a = at_mark("service api {\n  port http 80 protocol=|\n}");
        assert_eq!(a.node.as_deref(), Some("port"));
        assert_eq!(a.args, ["http", "80"]);
        assert!(a.token.is_none());
        assert_eq!(a.key.as_deref(), Some("protocol"));
        let a = at_mark("service api {\n  port http 80 protocol=\"TC|\"\n}");
        assert_eq!(a.token.unwrap().role, Role::Value("protocol".into()));
        let a = at_mark("service api { use \"./pre|sets/a.kdl\" }");
        let t = a.token.unwrap();
        assert_eq!((t.role, t.text.as_str(), t.quoted), (Role::Arg(0), "./presets/a.kdl", true));
        let a = at_mark("service api {\n  port http 80 proto|col=TCP\n}");
        assert_eq!(a.token.unwrap().role, Role::Key);
        let a = at_mark("service api {\n  replicas |\n}");
        assert_eq!((a.node.as_deref(), a.token.is_none()), (Some("replicas"), true));
    }

    #[test]
    fn a_node_that_starts_with_equals() {
        let a = at_mark("= |x");
        assert!(a.token.is_some());
    }

    #[test]
    fn escapes_before_multibyte_characters() {
        let a = at_mark("service api { env { A \"\\é\" } |");
        assert_eq!(a.path.len(), 1);
    }

    #[test]
    fn comments_and_strings_hide_braces() {
        let a = at_mark("service api { // {\n  env { A \"}\" /* } */ }\n  |\n}");
        let names: Vec<&str> = a.path.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["service"]);
        assert!(a.node.is_none());
    }
}
