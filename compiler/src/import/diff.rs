//! From a native build to the input: the `set` operations that make the
//! generated object equal the input, field by field. Fields svcc adds are
//! kept (the report counts them); what the input has and the build does
//! not, or has otherwise, becomes a `set`.

use serde_json::{Map, Value};

use super::ledger::{push_index, push_segment};

/// One `set POINTER VALUE` of a patch.
#[derive(Clone, Debug, PartialEq)]
pub struct Set {
    pub pointer: String,
    pub value: Value,
    /// The pointer the value lands at (`/-` resolved to its index).
    pub covers: String,
}

/// The sets that turn `generated` into `input` (as far as `set` can:
/// fields only `generated` has stay). `whole(pointer)` says where a
/// difference replaces the whole value rather than going deeper
/// (selectors: a selector is its exact set of labels).
pub fn sets(generated: &Value, input: &Value, whole: &dyn Fn(&str) -> bool) -> Vec<Set> {
    let mut out = Vec::new();
    walk(generated, input, &mut String::new(), whole, &mut out);
    out
}

fn walk(g: &Value, i: &Value, at: &mut String, whole: &dyn Fn(&str) -> bool, out: &mut Vec<Set>) {
    if g == i {
        return;
    }
    if !at.is_empty() && whole(at) {
        out.push(Set { pointer: at.clone(), value: i.clone(), covers: at.clone() });
        return;
    }
    match (g, i) {
        (Value::Object(gm), Value::Object(im)) if !im.is_empty() => {
            for (k, iv) in im {
                let len = at.len();
                push_segment(at, k);
                match field(gm, k) {
                    Some(gv) => walk(gv, iv, at, whole, out),
                    None => out.push(Set { pointer: at.clone(), value: iv.clone(), covers: at.clone() }),
                }
                at.truncate(len);
            }
        }
        (Value::Array(ga), Value::Array(ia)) if ga.len() <= ia.len() && !ga.is_empty() => {
            for (n, iv) in ia.iter().enumerate() {
                let len = at.len();
                match ga.get(n) {
                    Some(gv) => {
                        push_index(at, n);
                        walk(gv, iv, at, whole, out);
                    }
                    None => {
                        let covers = format!("{at}/{n}");
                        at.push_str("/-");
                        out.push(Set { pointer: at.clone(), value: iv.clone(), covers });
                    }
                }
                at.truncate(len);
            }
        }
        _ if at.is_empty() => {}
        _ => out.push(Set { pointer: at.clone(), value: i.clone(), covers: at.clone() }),
    }
}

/// A field of an object: small objects (most of a manifest's) searched in
/// order, which costs less than hashing the key.
pub fn field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() <= 8 { m.iter().find(|(k, _)| *k == key).map(|(_, x)| x) } else { m.get(key) }
}

/// The value at a JSON pointer (`-` never resolves): `Value::pointer`
/// without its copy of every segment, and small objects searched in
/// order rather than hashed (import looks up hundreds of thousands).
pub fn get<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(v);
    }
    let mut at = v;
    for seg in pointer.strip_prefix('/')?.split('/') {
        let unescaped;
        let seg = if seg.as_bytes().contains(&b'~') {
            unescaped = seg.replace("~1", "/").replace("~0", "~");
            unescaped.as_str()
        } else {
            seg
        };
        at = match at {
            Value::Object(m) => field(m, seg)?,
            // As `Value::pointer` reads an index: no sign, no leading zero.
            Value::Array(a) if !seg.starts_with('+') && (seg == "0" || !seg.starts_with('0')) => {
                a.get(seg.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(at)
}

/// Leaves of the generated object that the input does not have: what svcc
/// adds by design (labels, hardening, defaults).
pub fn added(generated: &Value, input: &Value) -> usize {
    match (generated, input) {
        (Value::Object(g), Value::Object(i)) if !g.is_empty() => {
            g.iter().map(|(k, v)| field(i, k).map_or_else(|| count(v), |x| added(v, x))).sum()
        }
        (Value::Array(g), Value::Array(i)) if !g.is_empty() => {
            g.iter().enumerate().map(|(n, v)| i.get(n).map_or_else(|| count(v), |x| added(v, x))).sum()
        }
        (Value::Object(m), _) if !m.is_empty() => count(generated),
        (Value::Array(a), _) if !a.is_empty() => count(generated),
        _ => 0,
    }
}

/// The number of leaves of a value.
pub fn count(v: &Value) -> usize {
    match v {
        Value::Object(m) if !m.is_empty() => m.values().map(count).sum(),
        Value::Array(a) if !a.is_empty() => a.iter().map(count).sum(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_reach_the_differences_only() {
        let g = json!({"spec": {"a": 1, "b": [1, 2], "sel": {"x": "1", "y": "2"}, "extra": 1}});
        let i = json!({"spec": {"a": 2, "b": [1, 2, 3], "sel": {"app": "z"}, "new": {"k": "v"}}});
        let s = sets(&g, &i, &|p| p == "/spec/sel");
        let ptrs: Vec<&str> = s.iter().map(|s| s.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/spec/a", "/spec/b/-", "/spec/sel", "/spec/new"]);
        assert_eq!(added(&g, &i), 3);
    }

    #[test]
    fn get_reads_as_value_pointer_does() {
        let v = json!({"a": {"b/c": [1, {"d": 2}], "~": 3, "": 4}, "n": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]});
        for p in [
            "",
            "/",
            "/a",
            "/a/b~1c/1/d",
            "/a/~0",
            "/a/",
            "/n/10",
            "/n/01",
            "/n/+1",
            "/n/-",
            "/n/11",
            "/x",
            "a",
            "/a/b~1c/0/z",
            "/a/~01",
            "/a/~2",
            "/a/~",
        ] {
            assert_eq!(get(&v, p), v.pointer(p), "{p}");
        }
    }
}
