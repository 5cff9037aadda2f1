//! The fidelity ledger: every leaf field of every input object, and what
//! became of it. A leaf is settled exactly once — native, patched, changed
//! by design, or not carried over (with the reason) — and [`Ledger::close`]
//! refuses a ledger with a leaf left unsettled or settled twice, so nothing
//! is dropped silently.

use std::collections::BTreeMap;

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
    /// Every leaf's pointer, one after the other, in the order
    /// [`each_leaf`] walks the value (one allocation, not one a leaf).
    pointers: String,
    /// Per leaf, in that order: where its pointer ends in `pointers` (it
    /// starts where the one before ends), and its fate.
    leaves: Vec<(usize, Option<Fate>)>,
    claims: Vec<(String, &'static str)>,
    twice: Vec<String>,
}

impl Entry {
    /// Each leaf's pointer and fate, in walk order.
    fn each(&mut self) -> impl Iterator<Item = (&str, &mut Option<Fate>)> {
        let text = self.pointers.as_str();
        let mut start = 0;
        self.leaves.iter_mut().map(move |(end, slot)| {
            let p = &text[start..*end];
            start = *end;
            (p, slot)
        })
    }
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
pub(crate) fn push_segment(at: &mut String, seg: &str) {
    at.push('/');
    let mut rest = seg;
    while let Some(i) = rest.bytes().position(|b| b == b'~' || b == b'/') {
        at.push_str(&rest[..i]);
        at.push_str(if rest.as_bytes()[i] == b'~' { "~0" } else { "~1" });
        rest = &rest[i + 1..];
    }
    at.push_str(rest);
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
                push_index(at, i);
                each_leaf(x, at, f);
                at.truncate(len);
            }
        }
        _ => f(at, v),
    }
}

/// Append `/INDEX` to a pointer.
pub(crate) fn push_index(at: &mut String, i: usize) {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at.push('/');
    at.extend(digits[k..].iter().map(|&d| char::from(d)));
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
            Some(k) => super::diff::field(m, k),
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
/// `generated` has the same leaf at the same pointer — or, in a list whose
/// order means nothing, in the item of the same name (as `svcc diff` and
/// [`super::diff::sets`] match them). `key` names `input` in its parent.
fn compare(input: &Value, generated: Option<&Value>, key: &str, f: &mut impl FnMut(bool)) {
    match input {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                compare(x, child(generated, Some(k), None), k, f);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let pairs = match generated {
                Some(Value::Array(g)) => super::diff::pairing(key, g, a),
                _ => None,
            };
            for (i, x) in a.iter().enumerate() {
                let at = pairs.as_ref().map_or(Some(i), |p| p[i]);
                compare(x, at.and_then(|i| child(generated, None, Some(i))), "", f);
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
        let n = super::diff::count(value);
        let mut pointers = String::with_capacity(n * 48);
        let mut leaves = Vec::with_capacity(n);
        each_leaf(value, &mut String::with_capacity(256), &mut |p, _| {
            pointers.push_str(p);
            leaves.push((pointers.len(), None));
        });
        let head = ObjectReport {
            environment: environment.into(),
            kind: kind.into(),
            name: name.into(),
            source,
            fields: leaves.len(),
            native: 0,
            patched: 0,
            changed: 0,
            not_carried_over: 0,
            native_by_block: BTreeMap::new(),
            changes: Vec::new(),
            dropped: Vec::new(),
        };
        self.entries.push(Entry { head, pointers, leaves, claims: Vec::new(), twice: Vec::new() });
        self.entries.len() - 1
    }

    /// A mapper says the spec block `block` carries the fields under `prefix`.
    pub fn claim(&mut self, object: usize, prefix: &str, block: &'static str) {
        self.entries[object].claims.push((prefix.to_string(), block));
    }

    /// The leaves of an object not settled yet, sorted.
    pub fn open_leaves(&self, object: usize) -> Vec<String> {
        let e = &self.entries[object];
        let mut start = 0;
        let mut out = Vec::new();
        for (end, fate) in &e.leaves {
            if fate.is_none() {
                out.push(e.pointers[start..*end].to_string());
            }
            start = *end;
        }
        out.sort_unstable();
        out
    }

    /// Settle one leaf. Settling a leaf twice is recorded and fails [`close`](Self::close).
    pub fn settle(&mut self, object: usize, pointer: &str, fate: Fate) {
        let e = &mut self.entries[object];
        let settled = match e.each().find(|(p, _)| *p == pointer).map(|(_, slot)| slot) {
            Some(slot @ None) => {
                *slot = Some(fate);
                true
            }
            Some(Some(_)) | None => false,
        };
        if !settled {
            e.twice.push(pointer.to_string());
        }
    }

    /// Settle every open leaf under `prefix` (all of them for `""`).
    pub fn settle_under(&mut self, object: usize, prefix: &str, fate: &Fate) {
        self.settle_open(object, |p| under(p, prefix).then(|| fate.clone()));
    }

    /// Settle the open leaves `decide` gives a fate (one pass, no copies).
    pub fn settle_open(&mut self, object: usize, mut decide: impl FnMut(&str) -> Option<Fate>) {
        for (p, slot) in self.entries[object].each() {
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
        let mut leaves = self.entries[object].each();
        compare(input, generated, "", &mut |same| {
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
            let Entry { mut head, pointers, leaves, claims, twice } = e;
            let id = format!("{}/{} ({})", head.kind, head.name, head.environment);
            for p in &twice {
                problems.push(format!("{id}: {p} settled twice"));
            }
            // The report lists fields by pointer.
            let mut start = 0;
            let mut leaves: Vec<(&str, Option<Fate>)> = leaves
                .into_iter()
                .map(|(end, f)| {
                    let p = &pointers[start..end];
                    start = end;
                    (p, f)
                })
                .collect();
            leaves.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let blocks = claimed(&leaves, &claims);
            for ((p, fate), block) in leaves.into_iter().zip(blocks) {
                match fate {
                    None => problems.push(format!("{id}: {p} not accounted for")),
                    Some(Fate::Native) => {
                        head.native += 1;
                        let block = block.unwrap_or("default");
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
                        head.changes.push(Item { pointer: p.to_string(), reason });
                    }
                    Some(Fate::Dropped(reason)) => {
                        head.not_carried_over += 1;
                        head.dropped.push(Item { pointer: p.to_string(), reason });
                    }
                }
            }
            out.push(head);
        }
        if problems.is_empty() { Ok(out) } else { Err(problems) }
    }
}

/// The block of the last claim each leaf lies under (`leaves` sorted by
/// pointer: the leaves under a prefix are among those that start with it,
/// which sit together).
fn claimed<T>(leaves: &[(&str, T)], claims: &[(String, &'static str)]) -> Vec<Option<&'static str>> {
    let mut out = vec![None; leaves.len()];
    for (prefix, block) in claims {
        let from = leaves.partition_point(|(p, _)| *p < prefix.as_str());
        for (k, (p, _)) in leaves.iter().enumerate().skip(from) {
            if !p.starts_with(prefix.as_str()) {
                break;
            }
            if under(p, prefix) {
                out[k] = Some(*block);
            }
        }
    }
    out
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
    fn pointers_escape_as_rfc_6901_says() {
        let v = serde_json::json!({"a/b": {"~c": 1, "d~/e": [2]}});
        let mut ls = Vec::new();
        leaves(&v, "", &mut ls);
        assert_eq!(ls, ["/a~1b/~0c", "/a~1b/d~0~1e/0"]);
        assert_eq!(escape("d~/e"), "d~0~1e");
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
