//! The fidelity ledger: every leaf field of every input object, and what
//! became of it. A leaf is settled exactly once — native, patched, changed
//! by design, or not carried over (with the reason) — and [`Ledger::close`]
//! refuses a ledger with a leaf left unsettled or settled twice, so nothing
//! is dropped silently.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// What became of one input field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// A spec node generates it (or svcc's default equals it).
    Native,
    /// A `patch` in the spec writes it.
    Patched,
    /// svcc writes another value on purpose (hardening, naming, API version).
    Changed(String),
    /// Not in the spec: listed in the report with the reason.
    Dropped(String),
}

/// One field the report lists, with why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Item {
    pub pointer: String,
    pub reason: String,
}

/// The accounting of one input object.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectReport {
    pub environment: String,
    pub kind: String,
    pub name: String,
    /// `file:line` of the document.
    pub source: String,
    pub fields: usize,
    pub native: usize,
    pub patched: usize,
    pub changed: usize,
    pub not_carried_over: usize,
    /// Native fields by the spec block that carries them.
    pub native_by_block: BTreeMap<String, usize>,
    pub changes: Vec<Item>,
    pub dropped: Vec<Item>,
}

#[derive(Debug)]
struct Entry {
    head: ObjectReport,
    /// Every leaf in the order [`each_leaf`] walks the value, and its fate
    /// (sorted by pointer only when the ledger closes).
    leaves: Vec<(String, Option<Fate>)>,
    claims: Vec<(String, &'static str)>,
    twice: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
}

/// Escape one JSON pointer segment (RFC 6901).
pub fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// Append `/SEGMENT`, escaped, to a pointer (no copy when nothing needs escaping).
fn push_segment(at: &mut String, seg: &str) {
    at.push('/');
    if seg.contains(['~', '/']) {
        at.push_str(&escape(seg));
    } else {
        at.push_str(seg);
    }
}

/// Call `f` with every leaf of a value (scalars, empty objects, empty
/// lists) and its pointer, in the value's order; `at` is the pointer of
/// `v` (restored on return).
pub fn each_leaf<'a>(v: &'a Value, at: &mut String, f: &mut impl FnMut(&str, &'a Value)) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let len = at.len();
                push_segment(at, k);
                each_leaf(x, at, f);
                at.truncate(len);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                let len = at.len();
                let _ = write!(at, "/{i}");
                each_leaf(x, at, f);
                at.truncate(len);
            }
        }
        _ => f(at, v),
    }
}

/// Every leaf of a value with its pointer (scalars, empty objects, empty lists).
pub fn leaf_values<'a>(v: &'a Value, at: &mut String, out: &mut BTreeMap<String, &'a Value>) {
    each_leaf(v, at, &mut |p, x| {
        out.insert(p.to_string(), x);
    });
}

/// Every leaf of a value (scalars, empty objects, empty lists) by pointer.
pub fn leaves(v: &Value, at: &str, out: &mut Vec<String>) {
    each_leaf(v, &mut at.to_string(), &mut |p, _| out.push(p.to_string()));
}

/// The child of `g` that an input's child at the same pointer segment
/// meets: a key of an object, or an index of a list (a pointer does not
/// say which, so neither does this).
fn child<'a>(g: Option<&'a Value>, key: Option<&str>, index: Option<usize>) -> Option<&'a Value> {
    match g? {
        Value::Object(m) => match key {
            Some(k) => m.get(k),
            None => m.get(index?.to_string().as_str()),
        },
        Value::Array(a) => match index {
            Some(i) => a.get(i),
            // A key reads as an index only as `leaves` writes indices.
            None => key
                .filter(|k| k.bytes().all(|b| b.is_ascii_digit()) && (*k == "0" || !k.starts_with('0')))
                .and_then(|k| k.parse::<usize>().ok())
                .and_then(|i| a.get(i)),
        },
        _ => None,
    }
}

/// Walk `input` as [`each_leaf`] does, telling `f` per leaf whether
/// `generated` has the same leaf at the same pointer.
fn compare(input: &Value, generated: Option<&Value>, f: &mut impl FnMut(bool)) {
    match input {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                compare(x, child(generated, Some(k), None), f);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                compare(x, child(generated, None, Some(i)), f);
            }
        }
        _ => f(generated == Some(input)),
    }
}

/// `pointer` is `prefix` or lies below it.
pub fn under(pointer: &str, prefix: &str) -> bool {
    pointer == prefix
        || (pointer.starts_with(prefix) && pointer.as_bytes().get(prefix.len()) == Some(&b'/'))
        || prefix.is_empty()
}

impl Ledger {
    /// Open the account of one input object; returns its index.
    pub fn open(&mut self, environment: &str, kind: &str, name: &str, source: String, value: &Value) -> usize {
        let mut ls = Vec::new();
        each_leaf(value, &mut String::new(), &mut |p, _| ls.push((p.to_string(), None)));
        let head = ObjectReport {
            environment: environment.into(),
            kind: kind.into(),
            name: name.into(),
            source,
            fields: ls.len(),
            native: 0,
            patched: 0,
            changed: 0,
            not_carried_over: 0,
            native_by_block: BTreeMap::new(),
            changes: Vec::new(),
            dropped: Vec::new(),
        };
        self.entries.push(Entry { head, leaves: ls, claims: Vec::new(), twice: Vec::new() });
        self.entries.len() - 1
    }

    /// A mapper says the spec block `block` carries the fields under `prefix`.
    pub fn claim(&mut self, object: usize, prefix: &str, block: &'static str) {
        self.entries[object].claims.push((prefix.to_string(), block));
    }

    /// The leaves of an object not settled yet, sorted.
    pub fn open_leaves(&self, object: usize) -> Vec<String> {
        let mut out: Vec<String> =
            self.entries[object].leaves.iter().filter(|(_, f)| f.is_none()).map(|(p, _)| p.clone()).collect();
        out.sort_unstable();
        out
    }

    /// Settle one leaf. Settling a leaf twice is recorded and fails [`close`](Self::close).
    pub fn settle(&mut self, object: usize, pointer: &str, fate: Fate) {
        let e = &mut self.entries[object];
        match e.leaves.iter_mut().find(|(p, _)| p == pointer).map(|(_, slot)| slot) {
            Some(slot @ None) => *slot = Some(fate),
            Some(Some(_)) | None => e.twice.push(pointer.to_string()),
        }
    }

    /// Settle every open leaf under `prefix` (all of them for `""`).
    pub fn settle_under(&mut self, object: usize, prefix: &str, fate: &Fate) {
        self.settle_open(object, |p| under(p, prefix).then(|| fate.clone()));
    }

    /// Settle the open leaves `decide` gives a fate (one pass, no copies).
    pub fn settle_open(&mut self, object: usize, mut decide: impl FnMut(&str) -> Option<Fate>) {
        for (p, slot) in &mut self.entries[object].leaves {
            if slot.is_none() {
                *slot = decide(p);
            }
        }
    }

    /// Settle the open leaves against a generated object: `decide` gets
    /// each pointer and whether `generated` has the same leaf there.
    /// `input` must be the value the object was opened with.
    pub fn settle_against(
        &mut self,
        object: usize,
        input: &Value,
        generated: Option<&Value>,
        mut decide: impl FnMut(&str, bool) -> Option<Fate>,
    ) {
        let mut leaves = self.entries[object].leaves.iter_mut();
        compare(input, generated, &mut |same| {
            if let Some((p, slot)) = leaves.next()
                && slot.is_none()
            {
                *slot = decide(p, same);
            }
        });
        debug_assert!(leaves.next().is_none(), "settle_against: not the value the object was opened with");
    }

    /// The reports, or the leaves that were left unsettled or settled twice
    /// (a defect: import must then write nothing).
    pub fn close(self) -> Result<Vec<ObjectReport>, Vec<String>> {
        let mut problems = Vec::new();
        let mut out = Vec::new();
        for e in self.entries {
            let id = format!("{}/{} ({})", e.head.kind, e.head.name, e.head.environment);
            let mut head = e.head;
            for p in &e.twice {
                problems.push(format!("{id}: {p} settled twice"));
            }
            let mut leaves = e.leaves;
            leaves.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (p, fate) in leaves {
                match fate {
                    None => problems.push(format!("{id}: {p} not accounted for")),
                    Some(Fate::Native) => {
                        head.native += 1;
                        let block = e.claims.iter().rev().find(|(c, _)| under(&p, c)).map_or("default", |(_, b)| b);
                        match head.native_by_block.get_mut(block) {
                            Some(n) => *n += 1,
                            None => {
                                head.native_by_block.insert(block.to_string(), 1);
                            }
                        }
                    }
                    Some(Fate::Patched) => head.patched += 1,
                    Some(Fate::Changed(reason)) => {
                        head.changed += 1;
                        head.changes.push(Item { pointer: p, reason });
                    }
                    Some(Fate::Dropped(reason)) => {
                        head.not_carried_over += 1;
                        head.dropped.push(Item { pointer: p, reason });
                    }
                }
            }
            out.push(head);
        }
        if problems.is_empty() { Ok(out) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_must_be_settled_once() {
        let v = serde_json::json!({"a": {"b": 1, "c/d": [1, {}]}, "e": []});
        let mut l = Ledger::default();
        let o = l.open("default", "Deployment", "x", "f:1".into(), &v);
        assert_eq!(l.open_leaves(o), ["/a/b", "/a/c~1d/0", "/a/c~1d/1", "/e"]);
        l.settle(o, "/a/b", Fate::Native);
        let mut short = Ledger::default();
        short.open("default", "Deployment", "x", "f:1".into(), &v);
        assert!(short.close().is_err());
        l.settle(o, "/a/b", Fate::Patched);
        l.settle_under(o, "", &Fate::Dropped("test".into()));
        let e = l.close().unwrap_err();
        assert_eq!(e, ["Deployment/x (default): /a/b settled twice"]);
    }

    #[test]
    fn counts_add_up() {
        let v = serde_json::json!({"a": 1, "b": 2, "c": 3, "d": 4});
        let mut l = Ledger::default();
        let o = l.open("default", "Service", "x", "f:1".into(), &v);
        l.claim(o, "/a", "ports");
        l.settle(o, "/a", Fate::Native);
        l.settle(o, "/b", Fate::Patched);
        l.settle(o, "/c", Fate::Changed("why".into()));
        l.settle(o, "/d", Fate::Dropped("why".into()));
        let r = &l.close().unwrap()[0];
        assert_eq!((r.native, r.patched, r.changed, r.not_carried_over, r.fields), (1, 1, 1, 1, 4));
        assert_eq!(r.native_by_block["ports"], 1);
    }
}
