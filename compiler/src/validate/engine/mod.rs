//! A JSON Schema evaluator for exactly the keywords svcc's schemas use.
//!
//! `schemas/validation.json` is generated from svcc's types (k8s-openapi's
//! schemars support) and, for the custom kinds, from the complete upstream
//! CRD schemas (`schemas/upstream/`), and uses a subset of draft 2020-12
//! plus two Kubernetes extensions: the keywords are listed in `schema.rs`,
//! which reads a schema document into an array of nodes (and writes them
//! out as the static tables build.rs compiles). A general validator library
//! spends most of a one-spec `svcc check` compiling the schema (resolving
//! references, building regexes for the meta-schema); this one walks the
//! nodes, and its `pattern`s are DFAs compiled at build time too.
//!
//! Each keyword is evaluated in one place, `Schema::walk`, generic over a
//! `Sink` that receives the failures: `FirstFailure` stops at the first
//! one and builds nothing (the yes/no answer, and `anyOf` branches and
//! `if` conditions), `Collect` records each with its instance and schema
//! pointers and message. Only an invalid instance is walked twice.
//!
//! Reading is strict: a keyword it does not know is an error (see
//! `RawSchema`'s `deny_unknown_fields`), so a schema change that would need
//! a new keyword cannot be silently ignored. `tests/schemas.rs` checks the
//! verdicts against the `jsonschema` crate, keyword by keyword and on
//! valid and broken objects.

use std::ops::ControlFlow;
use std::sync::OnceLock;

use serde_json::Value;

mod schema;

use schema::{ARRAY, BOOLEAN, INTEGER, NULL, NUMBER, OBJECT, STRING};
pub use schema::{Format, List, Node, NodeId, Schema, Text, child_pointer, push_segment};

/// One way an instance breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance (`""` is the root).
    pub instance_path: String,
    /// JSON pointer of the failing keyword in the schema document.
    pub schema_path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the schema says about one field, while walking a JSON pointer
/// (`Schema::field`; patches use it to check the fields they name).
pub enum Field<'s> {
    /// The schema of the child.
    Known(NodeId),
    /// The parent lists its fields and this is not one of them.
    Unknown(Vec<&'s str>),
    /// Nothing more is known (a free-form value): stop checking.
    Open,
}

/// The `pattern`s of a schema, each made ready the first time a value is
/// checked against it: the DFA build.rs compiled it into, read from the
/// static tables, or else (a schema read at run time) a Pike VM compiled
/// now.
pub struct PatternCache(OnceLock<Box<[OnceLock<Option<Matcher>>]>>);

type Dfa = regex_automata::dfa::dense::DFA<&'static [u32]>;
type PikeVM = regex_automata::nfa::thompson::pikevm::PikeVM;

enum Matcher {
    Dfa(Box<Dfa>),
    Vm(Box<Vm>),
}

/// A Pike VM, and the scratch space of its searches, reused by whichever
/// thread finds it free.
struct Vm {
    vm: PikeVM,
    cache: std::sync::Mutex<regex_automata::nfa::thompson::pikevm::Cache>,
}

impl Matcher {
    /// The regex crate's syntax, Thompson NFA and Pike VM, without the
    /// strategies (reverse NFA, lazy DFA, captures) of its meta engine,
    /// which cost more to build than short strings take to match.
    fn compile(pattern: &str) -> Option<Matcher> {
        use regex_automata::nfa::thompson::{Config, WhichCaptures};
        let vm = PikeVM::builder().thompson(Config::new().which_captures(WhichCaptures::None)).build(pattern).ok()?;
        let cache = std::sync::Mutex::new(vm.create_cache());
        Some(Matcher::Vm(Box::new(Vm { vm, cache })))
    }

    /// A DFA serialised by build.rs (`from_bytes` checks it).
    fn read(bytes: &'static [u8]) -> Option<Matcher> {
        Dfa::from_bytes(bytes).ok().map(|(dfa, _)| Matcher::Dfa(Box::new(dfa)))
    }

    fn is_match(&self, s: &str) -> Option<bool> {
        use regex_automata::dfa::Automaton as _;
        match self {
            Matcher::Dfa(dfa) => dfa.try_search_fwd(&regex_automata::Input::new(s)).ok().map(|m| m.is_some()),
            Matcher::Vm(m) => Some(match m.cache.try_lock() {
                Ok(mut cache) => m.vm.is_match(&mut cache, s),
                Err(_) => m.vm.is_match(&mut m.vm.create_cache(), s),
            }),
        }
    }
}

impl PatternCache {
    pub const fn new() -> PatternCache {
        PatternCache(OnceLock::new())
    }
}

impl Default for PatternCache {
    fn default() -> PatternCache {
        PatternCache::new()
    }
}

impl Schema {
    /// Follow references and optional (`anyOf [X, null]`) wrappers to the
    /// node that describes the value.
    fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..32 {
            let node = &self.nodes[id];
            if let Some(target) = node.reference {
                id = target;
            } else if let Some(&alt) = node.any_of.iter().find(|&&a| self.nodes[a].types != NULL) {
                id = alt;
            } else {
                break;
            }
        }
        id
    }

    /// The child `name` (an object key, or a list index) of node `id`.
    ///
    /// An object that lists `properties` knows its fields (Kubernetes'
    /// built-in schemas list them without closing the object: the API
    /// server drops unknown ones), unless it keeps unknown fields
    /// (`x-kubernetes-preserve-unknown-fields`); `additionalProperties:
    /// false` without `properties` allows no field at all.
    pub fn field(&self, id: NodeId, name: &str) -> Field<'_> {
        let node = &self.nodes[self.resolve(id)];
        if let Ok(i) = node.properties.binary_search_by(|p| p.0.as_ref().cmp(name)) {
            return Field::Known(node.properties[i].1);
        }
        if let Some(a) = node.additional {
            return Field::Known(a);
        }
        if node.preserve_unknown {
            return Field::Open;
        }
        if !node.properties.is_empty() || node.closed {
            return Field::Unknown(node.properties.iter().map(|p| p.0.as_ref()).collect());
        }
        match node.items {
            Some(i) => Field::Known(i),
            None => Field::Open,
        }
    }

    /// Every violation of the schema by `value`, in document order.
    pub fn violations(&self, value: &Value) -> Vec<Violation> {
        // Almost every object is valid: a pass that builds no pointers and
        // no messages answers that; only an invalid one is walked again to
        // say why.
        if self.valid(self.root, value) {
            return Vec::new();
        }
        let mut sink = Collect { schema: self, pointer: String::new(), out: Vec::new() };
        let _ = self.walk(self.root, value, &mut sink);
        sink.out
    }

    /// Does `value` satisfy node `id`?
    fn valid(&self, id: NodeId, value: &Value) -> bool {
        self.walk(id, value, &mut FirstFailure).is_continue()
    }

    /// Evaluate node `id` on `value`: every keyword, in one place, each
    /// failure told to `sink`, which says whether to go on.
    fn walk<S: Sink>(&self, id: NodeId, value: &Value, sink: &mut S) -> Flow {
        let node = &self.nodes[id];
        if node.nullable && value.is_null() {
            return Flow::Continue(());
        }
        if let Some(target) = node.reference {
            self.walk(target, value, sink)?;
        }
        if node.types != 0 && !has_type(value, node.types) {
            sink.fail(node, "type", || format!("{} is not of type {}", show(value), type_names(node.types)))?;
        }
        if node.int_or_string && !matches!(value, Value::Number(_) | Value::String(_)) {
            sink.fail(node, "x-kubernetes-int-or-string", || {
                format!("{} is neither a number nor a string", show(value))
            })?;
        }
        if let (Some(format), Value::Number(n)) = (node.format, value)
            && !fits(format, n)
        {
            let bits = if matches!(format, Format::Int32) { 32 } else { 64 };
            sink.fail(node, "format", || format!("{n} does not fit in a {bits}-bit integer"))?;
        }
        if let Some(c) = &node.constant
            && value.as_str() != Some(c.as_ref())
        {
            sink.fail(node, "const", || format!("{} was expected", show(&Value::String(c.to_string()))))?;
        }
        if let (Some(min), Value::Number(n)) = (node.minimum, value)
            && n.as_f64().is_some_and(|n| n < min as f64)
        {
            sink.fail(node, "minimum", || format!("{n} is less than the minimum of {min}"))?;
        }
        if let (Some(max), Value::Number(n)) = (node.maximum, value)
            && n.as_f64().is_some_and(|n| n > max as f64)
        {
            sink.fail(node, "maximum", || format!("{n} is greater than the maximum of {max}"))?;
        }
        if let (Some(min), Value::Array(items)) = (node.min_items, value)
            && items.len() < min as usize
        {
            sink.fail(node, "minItems", || format!("{} has fewer than {min} items", show(value)))?;
        }
        if let (Some(max), Value::Array(items)) = (node.max_items, value)
            && items.len() > max as usize
        {
            sink.fail(node, "maxItems", || format!("{} has more than {max} items", show(value)))?;
        }
        if !node.enumeration.is_empty() && value.as_str().is_none_or(|s| !node.enumeration.iter().any(|e| e == s)) {
            sink.fail(node, "enum", || format!("{} is not one of {}", show(value), quoted_list(&node.enumeration)))?;
        }
        if !node.int_enumeration.is_empty() && value.as_i64().is_none_or(|n| !node.int_enumeration.contains(&n)) {
            sink.fail(node, "enum", || format!("{} is not one of {:?}", show(value), node.int_enumeration))?;
        }
        match value {
            Value::Object(map) => self.walk_object(node, map, sink)?,
            Value::Array(items) => self.walk_array(node, items, sink)?,
            Value::String(s) => self.walk_string(node, s, sink)?,
            _ => {}
        }
        if !node.any_of.is_empty() {
            self.walk_any_of(node, value, sink)?;
        }
        for &s in node.all_of.iter() {
            self.walk(s, value, sink)?;
        }
        match node.if_then {
            Some((cond, then)) if self.valid(cond, value) => self.walk(then, value, sink),
            _ => Flow::Continue(()),
        }
    }

    /// `required`, `minProperties`, `maxProperties`, `properties` and
    /// `additionalProperties`.
    fn walk_object<S: Sink>(&self, node: &Node, map: &serde_json::Map<String, Value>, sink: &mut S) -> Flow {
        if let Some(min) = node.min_properties
            && map.len() < min as usize
        {
            let unit = if min == 1 { "field" } else { "fields" };
            sink.fail(node, "minProperties", || format!("the object has fewer than {min} {unit}"))?;
        }
        if let Some(max) = node.max_properties
            && map.len() > max as usize
        {
            let unit = if max == 1 { "field" } else { "fields" };
            sink.fail(node, "maxProperties", || format!("the object has more than {max} {unit}"))?;
        }
        for name in node.required.iter() {
            if !map.contains_key(name.as_ref()) {
                sink.fail(node, "required", || format!("\"{name}\" is a required property"))?;
            }
        }
        if node.properties.is_empty() && node.additional.is_none() && !node.closed {
            return Flow::Continue(());
        }
        // The fields `additionalProperties: false` refuses, reported
        // together at the object, as the JSON Schema keyword reads.
        let mut unexpected: Vec<&str> = Vec::new();
        for (key, sub) in map {
            let schema = match node.properties.binary_search_by(|p| p.0.as_ref().cmp(key.as_str())) {
                Ok(i) => Some(node.properties[i].1),
                Err(_) => node.additional,
            };
            if let Some(s) = schema {
                let mark = sink.enter(Segment::Key(key));
                let flow = self.walk(s, sub, sink);
                sink.leave(mark);
                flow?;
            } else if node.closed {
                if !S::EXPLAINS {
                    return sink.fail(node, "additionalProperties", String::new);
                }
                unexpected.push(key);
            }
        }
        if unexpected.is_empty() {
            return Flow::Continue(());
        }
        sink.fail(node, "additionalProperties", || {
            let plural = if unexpected.len() == 1 { "" } else { "s" };
            let quoted: Vec<String> = unexpected.iter().map(|k| show_str(k)).collect();
            format!("unknown field{plural} {} ({})", quoted.join(", "), known_fields(node))
        })
    }

    /// The keywords that apply to strings only: `minLength`, `maxLength`,
    /// `pattern` and `format: date-time`.
    fn walk_string<S: Sink>(&self, node: &Node, s: &str, sink: &mut S) -> Flow {
        if let Some(min) = node.min_length
            && s.chars().count() < min as usize
        {
            let unit = if min == 1 { "character" } else { "characters" };
            sink.fail(node, "minLength", || format!("{} is shorter than {min} {unit}", show_str(s)))?;
        }
        if let Some(max) = node.max_length
            && s.chars().count() > max as usize
        {
            let unit = if max == 1 { "character" } else { "characters" };
            sink.fail(node, "maxLength", || format!("{} is longer than {max} {unit}", show_str(s)))?;
        }
        if let Some(p) = node.pattern
            && !self.matches(p, s)
        {
            // The pattern in full: it is what the value must look like.
            let pattern = || Value::String(self.patterns[p as usize].to_string());
            sink.fail(node, "pattern", || format!("{} does not match {}", show_str(s), pattern()))?;
        }
        if node.format == Some(Format::DateTime) && !is_date_time(s) {
            sink.fail(node, "format", || format!("{} is not a \"date-time\" (RFC 3339)", show_str(s)))?;
        }
        Flow::Continue(())
    }

    /// Does `s` match pattern `p`? Like JSON Schema's `pattern`, the
    /// expression is searched for, not anchored. A pattern that does not
    /// compile matches nothing (`validate::tests` compiles them all).
    fn matches(&self, p: u32, s: &str) -> bool {
        let i = p as usize;
        let cells = self.regexes.0.get_or_init(|| (0..self.patterns.len()).map(|_| OnceLock::new()).collect());
        let Some(cell) = cells.get(i) else { return false };
        let from_build = || self.dfas.get(i).copied().flatten().and_then(Matcher::read);
        let matcher = cell.get_or_init(|| from_build().or_else(|| Matcher::compile(&self.patterns[i])));
        // A DFA search fails only on a byte it was built to give up at
        // (none); the Pike VM then answers.
        match matcher.as_ref().map(|m| m.is_match(s)) {
            Some(Some(found)) => found,
            Some(None) => Matcher::compile(&self.patterns[i]).and_then(|m| m.is_match(s)).unwrap_or(false),
            None => false,
        }
    }

    /// The patterns that do not compile at run time, or whose DFA from the
    /// build does not read back or disagrees with the Pike VM on `probes`.
    pub fn broken_patterns(&self, probes: &[&str]) -> Vec<String> {
        let mut broken = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            let Some(vm) = Matcher::compile(p) else {
                broken.push(format!("{p}: does not compile"));
                continue;
            };
            let Some(bytes) = self.dfas.get(i).copied().flatten() else { continue };
            let Some(dfa) = Matcher::read(bytes) else {
                broken.push(format!("{p}: its DFA does not read back"));
                continue;
            };
            for s in probes {
                if dfa.is_match(s) != vm.is_match(s) {
                    broken.push(format!("{p}: the DFA and the Pike VM disagree on {s:?}"));
                }
            }
        }
        broken
    }

    /// How many patterns build.rs compiled into DFAs.
    pub fn compiled_patterns(&self) -> usize {
        self.dfas.iter().flatten().count()
    }

    /// `items`.
    fn walk_array<S: Sink>(&self, node: &Node, items: &[Value], sink: &mut S) -> Flow {
        let Some(s) = node.items else { return Flow::Continue(()) };
        for (i, item) in items.iter().enumerate() {
            let mark = sink.enter(Segment::Index(i));
            let flow = self.walk(s, item, sink);
            sink.leave(mark);
            flow?;
        }
        Flow::Continue(())
    }

    /// `anyOf`: one branch must hold.
    fn walk_any_of<S: Sink>(&self, node: &Node, value: &Value, sink: &mut S) -> Flow {
        if node.any_of.iter().any(|&s| self.valid(s, value)) {
            return Flow::Continue(());
        }
        // `anyOf: [X, {type: null}]` is how an optional field reads: when
        // the value is not null, X's own errors say what is wrong.
        if S::EXPLAINS && !value.is_null() {
            let mut not_null = node.any_of.iter().filter(|&&s| self.nodes[s].types != NULL);
            if let (Some(&only), None) = (not_null.next(), not_null.next()) {
                return self.walk(only, value, sink);
            }
        }
        sink.fail(node, "anyOf", || {
            format!("{} is not valid under any of the schemas listed in the 'anyOf' keyword", show(value))
        })
    }
}

/// Whether a walk goes on after a failure (`Continue`) or stops (`Break`).
type Flow = ControlFlow<()>;

/// A step from a value to one of its children.
enum Segment<'v> {
    Key(&'v str),
    Index(usize),
}

/// What a walk does with the failures it finds.
trait Sink {
    /// Whether the sink explains failures: a walk spends work on a better
    /// explanation only for such a sink.
    const EXPLAINS: bool;
    /// The walk goes down into a child; returns what to give `leave`.
    fn enter(&mut self, segment: Segment<'_>) -> usize;
    /// The walk is back from the child `enter` returned `mark` for.
    fn leave(&mut self, mark: usize);
    /// A keyword of `node` fails here, as `message` (called only if the
    /// sink keeps messages) says.
    fn fail(&mut self, node: &Node, keyword: &'static str, message: impl FnOnce() -> String) -> Flow;
}

/// The yes/no answer: stops at the first failure, builds nothing.
struct FirstFailure;

impl Sink for FirstFailure {
    const EXPLAINS: bool = false;
    #[inline(always)]
    fn enter(&mut self, _: Segment<'_>) -> usize {
        0
    }
    #[inline(always)]
    fn leave(&mut self, _: usize) {}
    #[inline(always)]
    fn fail(&mut self, _: &Node, _: &'static str, _: impl FnOnce() -> String) -> Flow {
        Flow::Break(())
    }
}

/// Every violation, with where it is in the instance and in the schema.
struct Collect<'s> {
    schema: &'s Schema,
    /// Where the walk is in the instance.
    pointer: String,
    out: Vec<Violation>,
}

impl Sink for Collect<'_> {
    const EXPLAINS: bool = true;
    fn enter(&mut self, segment: Segment<'_>) -> usize {
        let mark = self.pointer.len();
        match segment {
            Segment::Key(key) => push_segment(&mut self.pointer, key),
            Segment::Index(i) => {
                self.pointer.push('/');
                self.pointer.push_str(&i.to_string());
            }
        }
        mark
    }
    fn leave(&mut self, mark: usize) {
        self.pointer.truncate(mark);
    }
    fn fail(&mut self, node: &Node, keyword: &'static str, message: impl FnOnce() -> String) -> Flow {
        let location = &self.schema.locations[node.location.0 as usize..node.location.1 as usize];
        self.out.push(Violation {
            instance_path: self.pointer.clone(),
            schema_path: format!("{location}/{keyword}"),
            message: message(),
        });
        Flow::Continue(())
    }
}

/// Does an integer fit the format's range? Non-integers are the `type`
/// keyword's business.
fn fits(format: Format, n: &serde_json::Number) -> bool {
    if !(n.is_i64() || n.is_u64()) {
        return true;
    }
    match format {
        Format::Int32 => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        Format::Int64 => n.as_i64().is_some(),
        Format::DateTime => true,
    }
}

/// RFC 3339 `date-time`, as JSON Schema's format reads it:
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `T` and `Z` in either case, a
/// leap second only at 23:59:60 UTC.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let (Some(hour), Some(minute), Some(second)) = (num(11..13), num(14..16), num(17..19)) else { return false };
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    // The offset, and the time in UTC for a leap second.
    let utc_minutes = if at(i, b'Z') && b.len() == i + 1 {
        hour * 60 + minute
    } else {
        let sign = match b.get(i) {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return false,
        };
        let (Some(oh), Some(om)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else { return false };
        if !at(i + 3, b':') || b.len() != i + 6 || oh > 23 || om > 59 {
            return false;
        }
        let local = i64::from(hour * 60 + minute) - sign * i64::from(oh * 60 + om);
        local.rem_euclid(24 * 60) as u32
    };
    second < 60 || utc_minutes == 23 * 60 + 59
}

fn has_type(value: &Value, types: u8) -> bool {
    let bits = match value {
        Value::String(_) => STRING,
        Value::Object(_) => OBJECT,
        Value::Array(_) => ARRAY,
        Value::Bool(_) => BOOLEAN,
        Value::Null => NULL,
        Value::Number(n) => {
            // An integer is a number with no fractional part, as JSON Schema
            // defines it: 3.0 is an integer.
            let integral = n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
            if integral { NUMBER | INTEGER } else { NUMBER }
        }
    };
    bits & types != 0
}

/// Strings as a message lists them: `"a", "b" or "c"`.
fn quoted_list(items: &[Text]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| show_str(s)).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// What a closed object allows, for a message.
fn known_fields(node: &Node) -> String {
    if node.properties.is_empty() {
        return "this object takes no fields".to_string();
    }
    let names: Vec<&str> = node.properties.iter().map(|p| p.0.as_ref()).collect();
    format!("fields here: {}", names.join(", "))
}

/// A string as JSON, cut short when long.
fn show_str(s: &str) -> String {
    show(&Value::String(s.to_string()))
}

/// An instance as it reads in a message: JSON, cut short when long.
fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() <= 60 {
        return s;
    }
    let cut: String = s.chars().take(57).collect();
    format!("{cut}...")
}

fn type_names(bits: u8) -> String {
    let names = ["string", "object", "array", "integer", "number", "boolean", "null"];
    let listed: Vec<String> =
        names.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| format!("\"{n}\"")).collect();
    listed.join(" or ")
}

#[cfg(test)]
mod tests;
