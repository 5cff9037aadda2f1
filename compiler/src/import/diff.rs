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
    /// The input's pointer of the value: the input fields this set writes
    /// (`pointer` is the generated object's, with `/-` for an append).
    pub covers: String,
}

/// The sets that turn `generated` into `input` (as far as `set` can:
/// fields only `generated` has stay). `whole(pointer)` says where a
/// difference replaces the whole value rather than going deeper
/// (selectors: a selector is its exact set of labels). Lists whose order
/// means nothing (`crate::diff::order_free`) are matched by name, as
/// `svcc diff` matches them.
pub fn sets(generated: &Value, input: &Value, whole: &dyn Fn(&str) -> bool) -> Vec<Set> {
    let mut out = Vec::new();
    let mut at = Path::default();
    walk(generated, input, &mut at, whole, &mut out);
    out
}

/// Where the walk is: the generated object's pointer and the input's
/// (they differ only below a list matched by name).
#[derive(Default)]
struct Path {
    generated: String,
    input: String,
}

impl Path {
    fn set(&self, value: &Value) -> Set {
        Set { pointer: self.generated.clone(), value: value.clone(), covers: self.input.clone() }
    }
}

fn walk(g: &Value, i: &Value, at: &mut Path, whole: &dyn Fn(&str) -> bool, out: &mut Vec<Set>) {
    if g == i {
        return;
    }
    if !at.generated.is_empty() && whole(&at.generated) {
        out.push(at.set(i));
        return;
    }
    let (glen, ilen) = (at.generated.len(), at.input.len());
    match (g, i) {
        (Value::Object(gm), Value::Object(im)) if !im.is_empty() => {
            for (k, iv) in im {
                push_segment(&mut at.generated, k);
                push_segment(&mut at.input, k);
                match field(gm, k) {
                    Some(gv) => walk(gv, iv, at, whole, out),
                    None => out.push(at.set(iv)),
                }
                at.generated.truncate(glen);
                at.input.truncate(ilen);
            }
        }
        (Value::Array(ga), Value::Array(ia)) if !ga.is_empty() => {
            let pairs = pairing(&at.input, ga, ia);
            if pairs.is_none() && ga.len() > ia.len() {
                // `set` cannot shorten a list: the whole list.
                out.push(at.set(i));
                return;
            }
            for (n, iv) in ia.iter().enumerate() {
                push_index(&mut at.input, n);
                match pairs.as_ref().map_or(ga.get(n).map(|_| n), |p| p[n]) {
                    Some(m) => {
                        push_index(&mut at.generated, m);
                        walk(&ga[m], iv, at, whole, out);
                    }
                    None => {
                        at.generated.push_str("/-");
                        out.push(at.set(iv));
                    }
                }
                at.generated.truncate(glen);
                at.input.truncate(ilen);
            }
        }
        _ if at.generated.is_empty() => {}
        _ => out.push(at.set(i)),
    }
}

/// For a list whose order means nothing (the last segment of `pointer`
/// names it) and whose items all have distinct names on both sides: per
/// input item, the index of the generated item of the same name. `None`
/// for any other list, which is compared index by index.
pub fn pairing(pointer: &str, generated: &[Value], input: &[Value]) -> Option<Vec<Option<usize>>> {
    let key = pointer.rsplit('/').next().unwrap_or_default();
    if !crate::diff::order_free(key) {
        return None;
    }
    let (ours, theirs) = (crate::diff::named(generated)?, crate::diff::named(input)?);
    Some(theirs.iter().map(|n| ours.iter().position(|o| o == n)).collect())
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
    added_below(generated, input, "")
}

fn added_below(generated: &Value, input: &Value, key: &str) -> usize {
    match (generated, input) {
        (Value::Object(g), Value::Object(i)) if !g.is_empty() => {
            g.iter().map(|(k, v)| field(i, k).map_or_else(|| count(v), |x| added_below(v, x, k))).sum()
        }
        (Value::Array(g), Value::Array(i)) if !g.is_empty() => {
            // Matched as `sets` matches them: by name where order means nothing.
            let mut theirs: Vec<Option<usize>> = (0..g.len()).map(|n| (n < i.len()).then_some(n)).collect();
            if let Some(pairs) = pairing(key, i, g) {
                theirs = pairs;
            }
            g.iter().zip(theirs).map(|(v, n)| n.map_or_else(|| count(v), |n| added_below(v, &i[n], ""))).sum()
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
    fn volumes_match_by_name_and_sets_point_at_the_generated_item() {
        let vol = |n: &str| json!({"name": n, "emptyDir": {}});
        let g =
            json!({"spec": {"volumes": [vol("tmp"), vol("cache")], "initContainers": [{"name": "a"}, {"name": "b"}]}});
        let mut i = json!({"spec": {"volumes": [vol("cache"), vol("tmp"), vol("extra")], "initContainers": [{"name": "b"}, {"name": "a"}]}});
        i["spec"]["volumes"][0]["emptyDir"] = json!({"medium": "Memory"});
        let s = sets(&g, &i, &|_| false);
        let got: Vec<(&str, &str)> = s.iter().map(|s| (s.pointer.as_str(), s.covers.as_str())).collect();
        assert_eq!(
            got,
            [
                // `cache` is the generated object's second volume, the input's first.
                ("/spec/volumes/1/emptyDir/medium", "/spec/volumes/0/emptyDir/medium"),
                ("/spec/volumes/-", "/spec/volumes/2"),
                // Init containers keep their order: compared index by index.
                ("/spec/initContainers/0/name", "/spec/initContainers/0/name"),
                ("/spec/initContainers/1/name", "/spec/initContainers/1/name"),
            ]
        );
        assert_eq!(added(&g, &i), 0);
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
