//! Writing KDL: every string that came from the input is written as a
//! quoted KDL string literal with everything special escaped, so hostile
//! text stays one string value (it cannot end the string, start a node,
//! or hide as a bidirectional control character).

use std::fmt::Write as _;

use serde_json::Value;

/// A quoted KDL v2 string literal that reads back as exactly `s`
/// (the diagnostics' quoting, which fixes and completions use too).
pub fn string(s: &str) -> String {
    crate::diagnostic::kdl_string(s)
}

/// A node name: bare when it is a plain identifier, else a string.
pub fn name(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !matches!(s, "true" | "false" | "null" | "inf" | "nan");
    if plain { s.to_string() } else { string(s) }
}

/// A JSON scalar as a KDL value; `None` for objects and arrays.
pub fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "#null".into(),
        Value::Bool(b) => if *b { "#true" } else { "#false" }.into(),
        Value::Number(n) => number(n)?,
        Value::String(s) => string(s),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

fn number(n: &serde_json::Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.to_string());
    }
    let f = n.as_f64().filter(|f| f.is_finite())?;
    // `{:?}` always keeps a `.` or an exponent, so 1.0 stays a float.
    Some(format!("{f:?}"))
}

/// Why a value cannot be written as a patch value, if it cannot: an empty
/// list has no block form, and an object key `-` reads as a list item.
pub fn unwritable(v: &Value) -> Option<&'static str> {
    match v {
        Value::Array(a) if a.is_empty() => Some("an empty list has no form in a patch block"),
        Value::Array(a) => a.iter().find_map(unwritable),
        Value::Object(m) => {
            if m.contains_key("-") {
                return Some("an object key `-` reads as a list item in a patch block");
            }
            m.values().find_map(unwritable)
        }
        _ => None,
    }
}

/// `head VALUE` or `head { … }` lines at `indent` spaces.
pub fn value_node(out: &mut String, indent: usize, head: &str, v: &Value) {
    let pad = " ".repeat(indent);
    if let Some(s) = scalar(v) {
        let _ = writeln!(out, "{pad}{head} {s}");
        return;
    }
    let _ = writeln!(out, "{pad}{head} {{");
    match v {
        Value::Array(items) => {
            for item in items {
                value_node(out, indent + 4, "-", item);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                value_node(out, indent + 4, &name(k), item);
            }
        }
        _ => {}
    }
    let _ = writeln!(out, "{pad}}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_read_back_exactly() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "new\nline\r\n\ttab",
            "\u{0}\u{7f}\u{85}\u{2028}\u{202e}\u{2066}\u{feff}",
            "\" }\nservice x { image \"evil\" }\n//",
            "${{ github.token }}",
            "/* not a comment */ // nor this",
            "#true",
            "r#\"raw\"#",
        ] {
            let text = format!("n {}\n", string(s));
            let doc: kdl::KdlDocument = text.parse().unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
            assert_eq!(doc.nodes().len(), 1);
            assert_eq!(doc.nodes()[0].entries()[0].value().as_string(), Some(s), "{text}");
        }
    }

    #[test]
    fn names_are_bare_only_when_plain() {
        assert_eq!(name("NODE_ENV"), "NODE_ENV");
        assert_eq!(name("app.kubernetes.io/name"), "\"app.kubernetes.io/name\"");
        assert_eq!(name("true"), "\"true\"");
        assert_eq!(name("1x"), "\"1x\"");
        assert_eq!(name("-"), "\"-\"");
    }

    #[test]
    fn values_round_trip_through_a_block() {
        let v = serde_json::json!({"a": [1, 2.5, "x", true, null], "b": {"c": {"d": -3}}, "e/f": 1.0});
        let mut out = String::new();
        value_node(&mut out, 0, "set", &v);
        let doc: kdl::KdlDocument = out.parse().unwrap();
        assert_eq!(doc.nodes()[0].children().unwrap().nodes().len(), 3);
    }
}
