//! Analysis conditions: the one place svcc reads and writes the
//! [expr-lang](https://expr-lang.org) expressions Argo Rollouts evaluates
//! as an AnalysisTemplate metric's `successCondition`/`failureCondition`.
//!
//! A user condition is parsed into [`Expr`], a small, closed subset of the
//! language: `result`, `result[N]`, `len(result)`, `isNaN(…)`, `isInf(…)`,
//! numbers, unary minus, the comparisons, `!`, `&&`, `||` and parentheses.
//! Anything else (arithmetic, other functions, strings, `and`/`or`
//! keywords, member access) is refused with the reason, so what reaches
//! the cluster is known to evaluate to a boolean without calling anything.
//!
//! [`guarded`] writes the condition back, after a guard that makes an
//! empty result or a NaN reading inconclusive (neither condition matches),
//! exactly as the built-in gates do.

use std::collections::BTreeSet;

/// The longest condition accepted, and the deepest nesting.
const MAX_LEN: usize = 1000;
const MAX_DEPTH: usize = 32;
/// The highest `result[N]` index accepted.
const MAX_INDEX: u32 = 999;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number literal, as written (checked: digits, optional fraction and exponent).
    Num(String),
    /// `result`: the value of a scalar query.
    Result,
    /// `result[N]`: one value of an instant-vector query.
    Index(u32),
    /// `len(result)`.
    Len,
    IsNaN(Box<Expr>),
    IsInf(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Cmp(Box<Expr>, &'static str, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// What a parsed condition reads of `result`, for the guard and for the
/// check against the query's result type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Indices read as `result[N]`.
    pub indices: BTreeSet<u32>,
    /// `len(result)` is used.
    pub len: bool,
    /// `result` is used as a number (a scalar query's value).
    pub bare: bool,
}

impl Reads {
    /// Whether the condition reads `result` as a vector (`result[N]`, `len`).
    pub fn vector(&self) -> bool {
        self.len || !self.indices.is_empty()
    }
}

/// Why a condition was refused: a message and the byte offset it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(String),
    Ident(String),
    Op(&'static str),
}

const OPS: &[&str] = &["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", "-"];

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, Error> {
    Err(Error { offset, message: message.into() })
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, Error> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let n = &text[start..i];
            if n.parse::<f64>().map_or(true, |v| !v.is_finite())
                || n.matches('.').count() > 1
                || n.ends_with(['e', 'E', '+', '-'])
            {
                return err(start, format!("`{n}` is not a number"));
            }
            out.push((start, Tok::Num(n.to_string())));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let id = &text[start..i];
            let instead = match id {
                "and" => Some("&&"),
                "or" => Some("||"),
                "not" => Some("!"),
                _ => None,
            };
            if let Some(op) = instead {
                return err(start, format!("write `{op}` instead of `{id}`"));
            }
            if matches!(id, "true" | "false") {
                return err(start, "a condition compares `result`; a constant would decide every measurement");
            }
            if !matches!(id, "result" | "len" | "isNaN" | "isInf") {
                return err(
                    start,
                    format!(
                        "`{id}` is not supported: a condition reads `result`, `result[N]`, `len(result)`, `isNaN(…)` and `isInf(…)`"
                    ),
                );
            }
            out.push((start, Tok::Ident(id.to_string())));
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push((i, Tok::Op(op)));
            i += op.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            let why = match ch {
                '+' | '*' | '/' | '%' | '^' => {
                    "arithmetic is not supported: compare `result` with a number".to_string()
                }
                '"' | '\'' | '`' => "strings are not supported: `result` is a number or a list of numbers".to_string(),
                '&' | '|' => "write `&&` or `||`".to_string(),
                '=' => "compare with `==`".to_string(),
                _ => format!("`{ch}` is not part of a condition"),
            };
            return err(i, why);
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [(usize, Tok)],
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), Error> {
        if self.eat(op) { Ok(()) } else { err(self.offset(), format!("expected `{op}`")) }
    }

    fn or(&mut self) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.offset(), format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let mut e = self.and()?;
        while self.eat("||") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut e = self.cmp()?;
        while self.eat("&&") {
            e = Expr::And(Box::new(e), Box::new(self.cmp()?));
        }
        Ok(e)
    }

    fn cmp(&mut self) -> Result<Expr, Error> {
        let lhs = self.unary()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat(op) {
                let rhs = self.unary()?;
                return Ok(Expr::Cmp(Box::new(lhs), op, Box::new(rhs)));
            }
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.nested(Self::unary)?)));
        }
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.nested(Self::unary)?)));
        }
        self.primary()
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Expr, Error>) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.offset(), format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let at = self.offset();
        let Some((_, tok)) = self.toks.get(self.pos).cloned() else {
            return err(at, "the condition ends too early");
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op(op) => err(at, format!("unexpected `{op}`")),
            Tok::Ident(id) => self.ident(&id, at),
        }
    }

    fn ident(&mut self, id: &str, at: usize) -> Result<Expr, Error> {
        match id {
            "result" => {
                if !self.eat("[") {
                    return Ok(Expr::Result);
                }
                let i = match self.toks.get(self.pos) {
                    Some((_, Tok::Num(n))) => n.parse::<u32>().ok().filter(|i| *i <= MAX_INDEX),
                    _ => None,
                };
                let Some(i) = i else {
                    return err(self.offset(), format!("an index is a whole number from 0 to {MAX_INDEX}"));
                };
                self.pos += 1;
                self.expect("]")?;
                Ok(Expr::Index(i))
            }
            "len" => {
                self.expect("(")?;
                if !matches!(self.toks.get(self.pos), Some((_, Tok::Ident(r))) if r == "result") {
                    return err(self.offset(), "`len` takes `result`: `len(result) > 0`");
                }
                self.pos += 1;
                self.expect(")")?;
                Ok(Expr::Len)
            }
            "isNaN" | "isInf" => {
                self.expect("(")?;
                let e = self.nested(Self::or)?;
                self.expect(")")?;
                Ok(if id == "isNaN" { Expr::IsNaN(Box::new(e)) } else { Expr::IsInf(Box::new(e)) })
            }
            _ => err(at, format!("`{id}` is not supported")),
        }
    }
}

/// Whether `e` is a number (`true`) or a boolean (`false`).
fn numeric(e: &Expr) -> bool {
    matches!(e, Expr::Num(_) | Expr::Result | Expr::Index(_) | Expr::Len | Expr::Neg(_))
}

/// Type-check: booleans where a boolean is needed, numbers elsewhere.
fn typed(e: &Expr, want_bool: bool) -> Result<(), String> {
    let is_num = numeric(e);
    if want_bool && is_num {
        return Err("a condition must compare: `result[0] >= 0.95`, not a bare number".into());
    }
    if !want_bool && !is_num {
        return Err("a comparison or a test cannot be used as a number".into());
    }
    match e {
        Expr::Num(_) | Expr::Result | Expr::Index(_) | Expr::Len => Ok(()),
        Expr::IsNaN(x) | Expr::IsInf(x) | Expr::Neg(x) => typed(x, false),
        Expr::Not(x) => typed(x, true),
        Expr::Cmp(a, _, b) => typed(a, false).and_then(|()| typed(b, false)),
        Expr::And(a, b) | Expr::Or(a, b) => typed(a, true).and_then(|()| typed(b, true)),
    }
}

/// Parse a condition.
pub fn parse(text: &str) -> Result<Expr, Error> {
    if text.len() > MAX_LEN {
        return err(MAX_LEN, format!("a condition has at most {MAX_LEN} characters"));
    }
    let toks = lex(text)?;
    if toks.is_empty() {
        return err(0, "the condition is empty");
    }
    let mut p = Parser { toks: &toks, pos: 0, end: text.len(), depth: 0 };
    let e = p.or()?;
    if p.pos < toks.len() {
        return err(p.offset(), "unexpected text after the condition");
    }
    typed(&e, true).map_err(|message| Error { offset: 0, message })?;
    Ok(e)
}

/// What `e` reads of `result`.
pub fn reads(e: &Expr) -> Reads {
    fn walk(e: &Expr, r: &mut Reads) {
        match e {
            Expr::Num(_) => {}
            Expr::Result => r.bare = true,
            Expr::Index(i) => {
                r.indices.insert(*i);
            }
            Expr::Len => r.len = true,
            Expr::IsNaN(x) | Expr::IsInf(x) | Expr::Not(x) | Expr::Neg(x) => walk(x, r),
            Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                walk(a, r);
                walk(b, r);
            }
        }
    }
    let mut r = Reads::default();
    walk(e, &mut r);
    r
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Cmp(..) => 3,
        Expr::Not(_) | Expr::Neg(_) => 4,
        _ => 5,
    }
}

/// Write `e` back, with the parentheses its structure needs at precedence `min`.
pub fn print(e: &Expr, min: u8) -> String {
    let s = match e {
        Expr::Num(n) => n.clone(),
        Expr::Result => "result".into(),
        Expr::Index(i) => format!("result[{i}]"),
        Expr::Len => "len(result)".into(),
        Expr::IsNaN(x) => format!("isNaN({})", print(x, 1)),
        Expr::IsInf(x) => format!("isInf({})", print(x, 1)),
        Expr::Not(x) => format!("!{}", print(x, 5)),
        Expr::Neg(x) => format!("-{}", print(x, 5)),
        Expr::Cmp(a, op, b) => format!("{} {op} {}", print(a, 4), print(b, 4)),
        Expr::And(a, b) => format!("{} && {}", print(a, 2), print(b, 3)),
        Expr::Or(a, b) => format!("{} || {}", print(a, 1), print(b, 2)),
    };
    if prec(e) < min { format!("({s})") } else { s }
}

/// The guard that makes a measurement inconclusive when there is nothing
/// to compare: for an instant vector, an empty result (or fewer values than
/// the highest index read) and NaN at each index read; for a scalar, NaN.
pub fn guard(r: &Reads, scalar: bool) -> String {
    if scalar {
        return "!isNaN(result)".into();
    }
    let min = r.indices.iter().next_back().copied().unwrap_or(0);
    let mut parts = vec![format!("len(result) > {min}")];
    parts.extend(r.indices.iter().map(|i| format!("!isNaN(result[{i}])")));
    parts.join(" && ")
}

/// `guard && condition`, or `guard && !(condition)` when `negate`: the
/// measurement matches only when there is a value to judge.
pub fn guarded(e: &Expr, negate: bool, scalar: bool) -> String {
    let g = guard(&reads(e), scalar);
    if negate { format!("{g} && !{}", print(e, 5)) } else { format!("{g} && {}", print(e, 3)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        print(&parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}")), 1)
    }

    fn bad(s: &str) -> String {
        parse(s).expect_err(s).message
    }

    #[test]
    fn accepts_the_subset_and_prints_it_back() {
        assert_eq!(ok("result[0] >= 0.95"), "result[0] >= 0.95");
        assert_eq!(ok("result[0]>=0.95&&result[1]<1"), "result[0] >= 0.95 && result[1] < 1");
        assert_eq!(
            ok("(result[0] < 1 || result[0] > 2) && len(result) == 1"),
            "(result[0] < 1 || result[0] > 2) && len(result) == 1"
        );
        assert_eq!(ok("!isNaN(result) && result < -1e3"), "!isNaN(result) && result < -1e3");
        assert_eq!(ok("!(result > 1)"), "!(result > 1)");
        assert_eq!(ok("isInf(result[2])"), "isInf(result[2])");
    }

    #[test]
    fn refuses_everything_else_with_the_reason() {
        assert!(bad("result[0] + 1 > 2").contains("arithmetic"));
        assert!(bad("result[0] >= 0.95 and result[0] < 2").contains("`&&`"));
        assert!(bad("all(result, {# > 1})").contains("`all` is not supported"));
        assert!(bad("result[0] == \"x\"").contains("strings"));
        assert!(bad("result[0]").contains("must compare"));
        assert!(bad("result[-1] > 0").contains("index"));
        assert!(bad("len(1) > 0").contains("`len` takes `result`"));
        assert!(bad("result > 1 > 2").contains("unexpected"));
        assert!(bad("").contains("empty"));
        assert!(bad("true").contains("constant"));
        assert!(bad("isNaN(result > 1)").contains("cannot be used as a number"));
        assert!(bad(&"(".repeat(100)).contains("nested"));
        assert!(bad("1.2.3 > result").contains("not a number"));
        assert!(bad("result.x > 1").contains("`.`"));
    }

    #[test]
    fn guards_every_value_read() {
        let e = parse("result[0] >= 0.95").unwrap();
        assert_eq!(guarded(&e, false, false), "len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.95");
        assert_eq!(guarded(&e, true, false), "len(result) > 0 && !isNaN(result[0]) && !(result[0] >= 0.95)");
        let e = parse("result[2] > result[0] || len(result) > 5").unwrap();
        assert_eq!(
            guarded(&e, false, false),
            "len(result) > 2 && !isNaN(result[0]) && !isNaN(result[2]) && (result[2] > result[0] || len(result) > 5)"
        );
        let e = parse("result < 3").unwrap();
        assert_eq!(guarded(&e, false, true), "!isNaN(result) && result < 3");
        assert!(reads(&e).bare && !reads(&e).vector());
    }
}
