//! Helpers for reading one KDL node: typed arguments and properties with
//! value spans, and reports for everything the decoder did not ask for.

use kdl::{KdlEntry, KdlNode, KdlValue};

use crate::diagnostic::suggest::did_you_mean;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Fix, kdl_string};
use crate::model::{Duration, IntOrPercent, Quantity};
use crate::secrets::ALLOW_SECRET;
use crate::source::{Span, Spanned};
use crate::values;

/// Span of a node's name token.
pub fn name_span(node: &KdlNode) -> Span {
    node.name().span().into()
}

/// Span of just the value token of an argument or property.
pub fn value_span(e: &KdlEntry) -> Span {
    let s = e.span();
    match e.format() {
        Some(f) => {
            let end = s.offset() + s.len() - f.trailing.len().min(s.len());
            let len = f.value_repr.len().min(end - s.offset());
            Span::new(end - len, end)
        }
        None => s.into(),
    }
}

/// Span of a whole entry (for a property, `key=value`).
pub fn entry_span(e: &KdlEntry) -> Span {
    let v = value_span(e);
    match e.name() {
        Some(k) => Span::new(Span::from(k.span()).start as usize, v.end as usize),
        None => v,
    }
}

pub fn type_name(v: &KdlValue) -> &'static str {
    match v {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(f) if f.is_nan() => "`#nan` (not a number)",
        KdlValue::Float(f) if f.is_infinite() => "an infinite number",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

/// Reads the entries of one node, remembering which ones were used so that
/// [`NodeReader::finish`] can report the rest.
pub struct NodeReader<'n> {
    pub node: &'n KdlNode,
    used: Vec<bool>,
    known_props: Vec<&'static str>,
    args_expected: usize,
}

impl<'n> NodeReader<'n> {
    pub fn new(node: &'n KdlNode) -> Self {
        // `allow-secret="reason"` may follow any value: `crate::secrets` reads it.
        let used = node.entries().iter().map(|e| e.name().is_some_and(|k| k.value() == ALLOW_SECRET)).collect();
        NodeReader { node, used, known_props: Vec::new(), args_expected: 0 }
    }

    pub fn name(&self) -> &'n str {
        self.node.name().value()
    }

    pub fn name_span(&self) -> Span {
        name_span(self.node)
    }

    /// Positional argument `i` (0-based).
    pub fn arg(&mut self, i: usize) -> Option<&'n KdlEntry> {
        self.args_expected = self.args_expected.max(i + 1);
        let (idx, e) = self.node.entries().iter().enumerate().filter(|(_, e)| e.name().is_none()).nth(i)?;
        self.used[idx] = true;
        Some(e)
    }

    /// All positional arguments from `from` on.
    pub fn rest_args(&mut self, from: usize) -> Vec<&'n KdlEntry> {
        self.args_expected = usize::MAX;
        let mut out = Vec::new();
        for (n, (idx, e)) in self.node.entries().iter().enumerate().filter(|(_, e)| e.name().is_none()).enumerate() {
            if n >= from {
                self.used[idx] = true;
                out.push(e);
            }
        }
        out
    }

    /// Property `key`; the last one wins if repeated (the others are
    /// reported as duplicates by `finish`).
    pub fn prop(&mut self, key: &'static str) -> Option<&'n KdlEntry> {
        self.known_props.push(key);
        self.refused(key)
    }

    /// Property `key`, which this node refuses for a reason its caller
    /// reports: marked used, so `finish` does not also call it unknown, but
    /// not listed among the properties the node takes.
    pub fn refused(&mut self, key: &str) -> Option<&'n KdlEntry> {
        let mut found = None;
        for (idx, e) in self.node.entries().iter().enumerate() {
            if e.name().is_some_and(|n| n.value() == key) {
                self.used[idx] = true;
                found = Some(e);
            }
        }
        found
    }

    /// Whether the node has a property that no `prop` call asked for (a
    /// typo, reported by `finish`).
    pub fn has_unknown_props(&self) -> bool {
        self.node
            .entries()
            .iter()
            .any(|e| e.name().is_some_and(|k| k.value() != ALLOW_SECRET && !self.known_props.contains(&k.value())))
    }

    /// Report unused arguments, unknown properties, and repeated properties.
    pub fn finish(self, diags: &mut Diagnostics) {
        let node_name = self.name().to_string();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for (idx, e) in self.node.entries().iter().enumerate() {
            if let Some(k) = e.name() {
                let span: Span = k.span().into();
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == k.value()) {
                    diags.push(
                        Diagnostic::error(Code::Duplicate, format!("property `{}` is given twice", k.value()))
                            .at(span, "given again here")
                            .also(*first, "first given here")
                            .help("remove one of them"),
                    );
                } else {
                    seen.push((k.value(), span));
                }
            }
            if self.used[idx] {
                continue;
            }
            match e.name() {
                Some(k) => {
                    let mut d = Diagnostic::error(
                        Code::UnknownProperty,
                        format!("unknown property `{}` on `{node_name}`", k.value()),
                    )
                    .at(k.span().into(), format!("not a property of `{node_name}`"));
                    d = match did_you_mean(k.value(), &self.known_props) {
                        Some(s) => d.did_you_mean(s, k.span().into(), s.to_string()),
                        None if self.known_props.is_empty() => d.help(format!("`{node_name}` takes no properties")),
                        None => d.help(format!("`{node_name}` takes: {}", self.known_props.join(", "))),
                    };
                    diags.push(d);
                }
                None => {
                    let want = self.args_expected;
                    let msg = match want {
                        0 => format!("`{node_name}` takes no arguments"),
                        1 => format!("`{node_name}` takes one argument"),
                        n => format!("`{node_name}` takes {n} arguments"),
                    };
                    let mut d =
                        Diagnostic::error(Code::UnexpectedArgument, msg).at(entry_span(e), "unexpected argument");
                    if let KdlValue::String(s) = e.value()
                        && let Some((k, _)) = s.split_once('=')
                    {
                        d = d.help(format!("properties are written without quotes around the key: `{k}=…`"));
                    }
                    diags.push(d);
                }
            }
        }
    }
}

pub fn wrong_type(e: &KdlEntry, expected: &str, help: Option<String>) -> Diagnostic {
    let found = type_name(e.value());
    let mut d = Diagnostic::error(Code::WrongType, format!("expected {expected}, found {found}"))
        .at(value_span(e), format!("this is {found}"));
    if let Some(h) = help {
        d = d.help(h);
    } else if let KdlValue::Bool(b) = e.value() {
        d = d.help(format!("write `\"{b}\"` if you mean the text"));
    }
    d
}

pub fn string(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<String>> {
    match e.value() {
        KdlValue::String(s) => Some(Spanned::new(s.clone(), value_span(e))),
        _ => {
            let repr = e.format().map(|f| f.value_repr.clone()).unwrap_or_default();
            let quoted = kdl_string(repr.trim_start_matches('#'));
            let fix = Fix::replace(format!("Quote it: `{quoted}`"), value_span(e), quoted.clone());
            diags.push(wrong_type(e, "a string", Some(format!("quote it: `{quoted}`"))).fix(fix));
            None
        }
    }
}

/// `#inf`, `#-inf` or `#nan`: KDL keywords no setting takes (a number too
/// large for a float, like `1e400`, is infinite too).
pub fn non_finite(e: &KdlEntry) -> bool {
    matches!(e.value(), KdlValue::Float(f) if !f.is_finite())
}

/// The report for a non-finite number where `expected` is.
fn refuse_non_finite(e: &KdlEntry, expected: &str, help: &str) -> Diagnostic {
    wrong_type(e, expected, Some(help.to_string()))
}

/// A string, or a number or boolean taken as its text (`3000` → `"3000"`,
/// `1.10` → `"1.10"` exactly as written). `#inf`, `#-inf` and `#nan` are
/// refused: taken as text they would become `"#inf"`.
pub fn text(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<String>> {
    let span = value_span(e);
    match e.value() {
        KdlValue::String(s) => Some(Spanned::new(s.clone(), span)),
        KdlValue::Float(_) if non_finite(e) => {
            let repr = e.format().map(|f| f.value_repr.clone()).unwrap_or_default();
            let help = format!("quote it if you mean the text: `\"{}\"`", repr.trim_start_matches('#'));
            diags.push(refuse_non_finite(e, "a value", &help));
            None
        }
        KdlValue::Integer(_) | KdlValue::Float(_) => {
            let repr = e.format().map(|f| f.value_repr.clone()).unwrap_or_else(|| e.value().to_string());
            Some(Spanned::new(repr, span))
        }
        KdlValue::Bool(b) => Some(Spanned::new(b.to_string(), span)),
        KdlValue::Null => {
            diags.push(wrong_type(e, "a value", Some("write `\"\"` for an empty value".into())));
            None
        }
    }
}

pub fn boolean(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<bool>> {
    match e.value() {
        KdlValue::Bool(b) => Some(Spanned::new(*b, value_span(e))),
        KdlValue::String(s) if s == "true" || s == "false" => {
            diags.push(wrong_type(e, "a boolean", Some(format!("write `#{s}` without quotes"))));
            None
        }
        _ => {
            diags.push(wrong_type(e, "a boolean", Some("write `#true` or `#false`".into())));
            None
        }
    }
}

/// An integer in `min..=max`.
/// A port by name (`check` the name) or by number (1–65535, kept as its
/// digits: a port name always has a letter, so the two never meet).
pub fn port_ref(
    diags: &mut Diagnostics,
    e: &KdlEntry,
    check: fn(&str) -> Result<(), String>,
) -> Option<Spanned<String>> {
    match e.value() {
        KdlValue::Integer(_) => int(diags, e, 1, 65535).map(|n| n.map(|v| v.to_string())),
        _ => name(diags, e, "port name", check),
    }
}

pub fn int(diags: &mut Diagnostics, e: &KdlEntry, min: i128, max: i128) -> Option<Spanned<i128>> {
    let span = value_span(e);
    match e.value() {
        KdlValue::Integer(i) if (min..=max).contains(i) => Some(Spanned::new(*i, span)),
        KdlValue::Integer(i) => {
            diags.push(
                Diagnostic::error(Code::OutOfRange, format!("{i} is out of range"))
                    .at(span, format!("must be between {min} and {max}")),
            );
            None
        }
        KdlValue::String(s) if s.trim().parse::<i128>().is_ok() => {
            diags.push(wrong_type(e, "an integer", Some(format!("write `{}` without quotes", s.trim()))));
            None
        }
        KdlValue::Float(_) => {
            diags.push(wrong_type(e, "an integer", Some(format!("write a whole number from {min} to {max}"))));
            None
        }
        _ => {
            diags.push(wrong_type(e, "an integer", None));
            None
        }
    }
}

pub fn u32_in(diags: &mut Diagnostics, e: &KdlEntry, min: u32, max: u32) -> Option<Spanned<u32>> {
    int(diags, e, min.into(), max.into()).map(|s| s.map(|v| u32::try_from(v).unwrap_or(u32::MAX)))
}

pub fn duration(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<Duration>> {
    let span = value_span(e);
    match e.value() {
        KdlValue::String(s) => match values::parse_duration(s) {
            Ok(d) => Some(Spanned::new(d, span)),
            Err(why) => {
                diags.push(
                    Diagnostic::error(Code::InvalidDuration, format!("invalid duration `{s}`"))
                        .at(span, why)
                        .help("write a duration such as \"30s\", \"5m\" or \"1h30m\""),
                );
                None
            }
        },
        KdlValue::Integer(i) => {
            diags.push(wrong_type(e, "a duration", Some(format!("durations carry a unit: write `\"{i}s\"`"))));
            None
        }
        _ => {
            diags.push(wrong_type(e, "a duration", Some("write a duration such as \"30s\"".into())));
            None
        }
    }
}

/// A whole number of seconds (Kubernetes fields in seconds).
pub fn seconds(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<Duration>> {
    let d = duration(diags, e)?;
    if d.value.millis % 1000 != 0 {
        diags.push(
            Diagnostic::error(Code::InvalidDuration, "this setting takes whole seconds")
                .at(d.span, "not a whole number of seconds")
                .help(format!("round it to `\"{}s\"`", d.value.millis.div_ceil(1000))),
        );
        return None;
    }
    Some(d)
}

pub fn quantity(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<Quantity>> {
    let span = value_span(e);
    let text = match e.value() {
        KdlValue::String(s) => s.clone(),
        KdlValue::Float(_) if non_finite(e) => {
            diags.push(refuse_non_finite(e, "a quantity", "write a quantity such as \"250m\" or \"512Mi\""));
            return None;
        }
        KdlValue::Integer(_) | KdlValue::Float(_) => {
            e.format().map(|f| f.value_repr.clone()).unwrap_or_else(|| e.value().to_string())
        }
        _ => {
            diags.push(wrong_type(e, "a quantity", Some("write a quantity such as \"250m\" or \"512Mi\"".into())));
            return None;
        }
    };
    match values::parse_quantity(&text) {
        Ok(q) => Some(Spanned::new(q, span)),
        Err(why) => {
            diags.push(
                Diagnostic::error(Code::InvalidQuantity, format!("invalid quantity `{text}`"))
                    .at(span, why)
                    .help("write a quantity such as \"250m\" (CPU) or \"512Mi\" (memory)"),
            );
            None
        }
    }
}

/// `3` or `"25%"`.
pub fn int_or_percent(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<IntOrPercent>> {
    let span = value_span(e);
    match e.value() {
        KdlValue::Integer(i) if (0..=10_000).contains(i) => {
            Some(Spanned::new(IntOrPercent::Int(u32::try_from(*i).unwrap_or(0)), span))
        }
        KdlValue::String(s) => match values::parse_int_or_percent(s) {
            Ok(v) => Some(Spanned::new(v, span)),
            Err(why) => {
                diags.push(
                    Diagnostic::error(Code::WrongType, format!("invalid count or percentage `{s}`"))
                        .at(span, why)
                        .help("write a count such as `1` or a percentage such as \"25%\""),
                );
                None
            }
        },
        _ => {
            diags.push(wrong_type(e, "a count or a percentage", Some("write `1` or \"25%\"".into())));
            None
        }
    }
}

/// A string that must pass `check` (a name syntax); `what` names it.
pub fn name(
    diags: &mut Diagnostics,
    e: &KdlEntry,
    what: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<Spanned<String>> {
    let s = string(diags, e)?;
    match check(&s.value) {
        Ok(()) => Some(s),
        Err(why) => {
            diags.push(invalid_name(s.span, what, &s.value, &why));
            None
        }
    }
}

pub fn invalid_name(span: Span, what: &str, value: &str, why: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidName, format!("`{value}` is not a valid {what}")).at(span, why.to_string())
}

/// One of a fixed set of words. Another type gets the words as help, not
/// "quote it": `traffic #false` quoted is `"false"`, no better.
pub fn choice(diags: &mut Diagnostics, e: &KdlEntry, choices: &[&'static str]) -> Option<Spanned<String>> {
    if !matches!(e.value(), KdlValue::String(_)) {
        let help = match choices {
            [one] => format!("write `{one}`, the only choice"),
            _ => format!("write one of: {}", choices.join(", ")),
        };
        diags.push(wrong_type(e, &format!("one of: {}", choices.join(", ")), Some(help)));
        return None;
    }
    let s = string(diags, e)?;
    if choices.contains(&s.value.as_str()) {
        return Some(s);
    }
    let mut d = Diagnostic::error(Code::InvalidChoice, format!("`{}` is not one of the allowed values", s.value))
        .at(s.span, format!("expected one of: {}", choices.join(", ")));
    if let Some(m) = did_you_mean(&s.value, choices) {
        d = d.did_you_mean(m, s.span, kdl_string(m));
    }
    diags.push(d);
    None
}

/// Report children on a node that takes none.
pub fn no_children(diags: &mut Diagnostics, node: &KdlNode) {
    if let Some(ch) = node.children() {
        diags.push(
            Diagnostic::error(Code::UnexpectedChildren, format!("`{}` takes no block", node.name().value()))
                .at(block_open(ch), "unexpected block")
                .help("remove the `{ … }` block"),
        );
    }
}

/// Span of the `{` that opens a children block. The block's own span starts
/// at its first node; the whitespace and comments before that node are kept
/// as the leading format of the block (when empty) or of its first node.
fn block_open(ch: &kdl::KdlDocument) -> Span {
    let start = ch.span().offset();
    let leading = ch.format().map_or(0, |f| f.leading.len())
        + ch.nodes().first().and_then(KdlNode::format).map_or(0, |f| f.leading.len());
    let open = start.saturating_sub(leading + 1);
    Span::new(open, open + 1)
}

/// The children of a node (empty if it has no block).
pub fn children(node: &KdlNode) -> &[KdlNode] {
    node.children().map_or(&[], |d| d.nodes())
}

/// Report a node name not among `known`.
pub fn unknown_node(diags: &mut Diagnostics, node: &KdlNode, parent: &str, known: &[&'static str]) {
    let name = node.name().value();
    let mut d = Diagnostic::error(Code::UnknownNode, format!("unknown node `{name}` in `{parent}`"))
        .at(name_span(node), format!("not a known child of `{parent}`"));
    d = match did_you_mean(name, known) {
        Some(s) => d.did_you_mean(s, name_span(node), s.to_string()),
        None => d.help(format!("`{parent}` takes: {}", known.join(", "))),
    };
    diags.push(d);
}

/// A required value is missing.
pub fn missing(span: Span, what: &str, help: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::MissingValue, format!("missing {what}")).at(span, format!("needs {what}")).help(help)
}

/// A number (integer or decimal).
pub fn number(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<f64>> {
    let span = value_span(e);
    match e.value() {
        KdlValue::Integer(i) => Some(Spanned::new(*i as f64, span)),
        KdlValue::Float(f) if f.is_finite() => Some(Spanned::new(*f, span)),
        KdlValue::Float(_) => {
            diags.push(refuse_non_finite(e, "a number", "write a finite number, such as `0.05`"));
            None
        }
        KdlValue::String(s) if s.trim().parse::<f64>().is_ok() => {
            diags.push(wrong_type(e, "a number", Some(format!("write `{}` without quotes", s.trim()))));
            None
        }
        _ => {
            diags.push(wrong_type(e, "a number", None));
            None
        }
    }
}

/// A fraction between 0 and 1 (exclusive of 0 when `positive`).
pub fn ratio(diags: &mut Diagnostics, e: &KdlEntry) -> Option<Spanned<f64>> {
    let n = number(diags, e)?;
    if !(n.value > 0.0 && n.value <= 1.0) {
        let help = if n.value > 1.0 && n.value <= 100.0 {
            format!("ratios are fractions: write `{}` for {}%", n.value / 100.0, n.value)
        } else {
            "write a fraction such as 0.05 (5%)".to_string()
        };
        diags.push(
            Diagnostic::error(Code::OutOfRange, format!("{} is not a ratio", n.value))
                .at(n.span, "must be above 0 and at most 1")
                .help(help),
        );
        return None;
    }
    Some(n)
}

/// Report a child node seen twice in `parent`; `true` when it is new.
pub fn first_time<'a>(
    seen: &mut indexmap::IndexMap<&'a str, Span>,
    node: &'a KdlNode,
    parent: &str,
    diags: &mut Diagnostics,
) -> bool {
    let name = node.name().value();
    if let Some(first) = seen.get(name) {
        diags.push(
            Diagnostic::error(Code::Duplicate, format!("`{name}` is set twice in `{parent}`"))
                .at(name_span(node), "set again here")
                .also(*first, "first set here")
                .help("keep one of them"),
        );
        return false;
    }
    seen.insert(name, name_span(node));
    true
}
