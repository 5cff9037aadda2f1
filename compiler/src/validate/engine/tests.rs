//! The engine on small schemas, keyword by keyword; `tests/schemas.rs`
//! compares it with the `jsonschema` crate.

use super::*;
use serde_json::json;

fn schema(v: Value) -> Schema {
    Schema::from_json(&v.to_string()).unwrap()
}

fn valid(s: &Schema, v: &Value) -> bool {
    s.violations(v).is_empty()
}

fn paths(s: &Schema, v: Value) -> Vec<(String, String)> {
    s.violations(&v).into_iter().map(|e| (e.instance_path, e.schema_path)).collect()
}

#[test]
fn types_required_and_nested_pointers() {
    let s = schema(json!({
        "$defs": { "Port": { "type": "object", "required": ["port"],
            "properties": { "port": { "type": "integer", "format": "int32" } } } },
        "type": "object",
        "properties": { "ports": { "type": "array", "items": { "$ref": "#/$defs/Port" } },
                        "a/b": { "type": ["string", "null"] } }
    }));
    assert!(valid(&s, &json!({ "ports": [{ "port": 80 }, { "port": 8080.0 }], "a/b": null })));
    assert_eq!(
        paths(&s, json!({ "ports": [{ "port": "80" }, {}, { "port": 4_294_967_296_i64 }], "a/b": 1 })),
        [
            ("/ports/0/port".into(), "/$defs/Port/properties/port/type".into()),
            ("/ports/1".into(), "/$defs/Port/required".into()),
            ("/ports/2/port".into(), "/$defs/Port/properties/port/format".into()),
            ("/a~1b".into(), "/properties/a~1b/type".into()),
        ]
    );
    let e = &s.violations(&json!({ "ports": [{ "port": "80" }] }))[0];
    assert_eq!(e.message, r#""80" is not of type "integer""#);
    let e = &s.violations(&json!({ "a/b": 1 }))[0];
    assert_eq!(e.message, r#"1 is not of type "string" or "null""#);
    assert_eq!(s.violations(&json!({ "ports": [{}] }))[0].message, r#""port" is a required property"#);
}

#[test]
fn if_then_dispatch_any_of_and_additional_properties() {
    let s = schema(json!({
        "$defs": { "D": { "properties": { "n": { "type": "integer" } } } },
        "allOf": [{ "if": { "properties": { "kind": { "const": "D" } }, "required": ["kind"] },
                    "then": { "$ref": "#/$defs/D" } }],
        "properties": {
            "opt": { "anyOf": [{ "$ref": "#/$defs/D" }, { "type": "null" }] },
            "either": { "anyOf": [{ "type": "string" }, { "type": "boolean" }] },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "q": { "x-kubernetes-int-or-string": true }
        }
    }));
    // Only a D is held to D's rules.
    assert!(valid(&s, &json!({ "kind": "E", "n": "x" })));
    assert_eq!(paths(&s, json!({ "kind": "D", "n": "x" })), [("/n".into(), "/$defs/D/properties/n/type".into())]);
    // An optional field's errors are its own, not "no anyOf branch matched".
    assert_eq!(paths(&s, json!({ "opt": { "n": "x" } })), [("/opt/n".into(), "/$defs/D/properties/n/type".into())]);
    assert!(valid(&s, &json!({ "opt": null, "either": true, "q": 3 })));
    assert_eq!(paths(&s, json!({ "either": 1 })), [("/either".into(), "/properties/either/anyOf".into())]);
    assert_eq!(
        paths(&s, json!({ "labels": { "a": "b", "c": 1 }, "q": [] })),
        [
            ("/labels/c".into(), "/properties/labels/additionalProperties/type".into()),
            ("/q".into(), "/properties/q/x-kubernetes-int-or-string".into()),
        ]
    );
}

#[test]
fn unknown_keywords_and_references_are_refused() {
    assert!(Schema::from_json(r#"{"uniqueItems": true}"#).is_err());
    assert!(Schema::from_json(r#"{"enum": [1, "a"]}"#).is_err(), "an enum of non-strings");
    assert!(Schema::from_json(r##"{"$ref": "#/$defs/Missing"}"##).is_err());
    assert!(Schema::from_json(r#"{"$ref": "https://example.com/s.json"}"#).is_err());
    assert!(Schema::from_json(r#"{"type": "decimal"}"#).is_err());
}

#[test]
fn keywords_of_the_crd_schemas_and_their_messages() {
    let s = schema(json!({
        "type": "object",
        "properties": {
            "scheme": { "type": "string", "enum": ["http", "https"] },
            "timeout": { "type": "string", "pattern": "^[0-9]+(ms|s|m|h)$" },
            "name": { "type": "string", "minLength": 1 },
            "short": { "type": "string", "maxLength": 2 },
            "count": { "type": "integer", "minimum": 0 },
            "at": { "type": "string", "format": "date-time" },
            "empty": { "type": "object", "additionalProperties": false },
            "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                      "properties": { "n": { "type": "integer" } } }
        },
        "additionalProperties": false
    }));
    assert!(valid(
        &s,
        &json!({ "scheme": "https", "timeout": "10s", "name": "a", "short": "ab", "count": 0, "at": "2026-01-01T00:00:00Z",
        "empty": {}, "free": { "n": 1, "other": [] } })
    ));
    let messages: Vec<(String, String)> = s
        .violations(&json!({ "scheme": "ftp", "timeout": "10 s", "name": "", "short": "abc", "count": -1, "at": "noon",
            "empty": { "x": 1 }, "bogus": 1, "bogus2": 2 }))
        .into_iter()
        .map(|v| (v.instance_path, v.message))
        .collect();
    assert_eq!(
        messages,
        [
            ("/scheme".into(), r#""ftp" is not one of "http" or "https""#.into()),
            ("/timeout".into(), r#""10 s" does not match "^[0-9]+(ms|s|m|h)$""#.into()),
            ("/name".into(), r#""" is shorter than 1 character"#.into()),
            ("/short".into(), r#""abc" is longer than 2 characters"#.into()),
            ("/count".into(), "-1 is less than the minimum of 0".into()),
            ("/at".into(), r#""noon" is not a "date-time" (RFC 3339)"#.into()),
            ("/empty".into(), r#"unknown field "x" (this object takes no fields)"#.into()),
            (
                "".into(),
                r#"unknown fields "bogus", "bogus2" (fields here: at, count, empty, free, name, scheme, short, timeout)"#.into()
            ),
        ]
    );
    // Field lookups: a closed object knows its fields, a preserving one
    // accepts any, an empty closed one none.
    let root = s.root;
    assert!(matches!(s.field(root, "scheme"), Field::Known(_)));
    assert!(matches!(s.field(root, "bogus"), Field::Unknown(k) if k.len() == 8));
    let Field::Known(free) = s.field(root, "free") else { panic!() };
    assert!(matches!(s.field(free, "n"), Field::Known(_)));
    assert!(matches!(s.field(free, "other"), Field::Open));
    let Field::Known(empty) = s.field(root, "empty") else { panic!() };
    assert!(matches!(s.field(empty, "x"), Field::Unknown(k) if k.is_empty()));
}

#[test]
fn patterns_are_searched_compiled_once_and_shared() {
    let s = schema(json!({ "properties": {
        "a": { "pattern": "b+" }, "b": { "pattern": "b+" }, "c": { "pattern": "^x$" } } }));
    assert_eq!(s.patterns.len(), 2, "the same pattern is stored once");
    assert!(valid(&s, &json!({ "a": "abbc", "b": "b", "c": "x", "d": 1 })));
    assert!(!valid(&s, &json!({ "a": "ac" })));
    assert!(valid(&s, &json!({ "a": 5 })), "pattern applies to strings only");
    assert!(s.broken_patterns(&["b"]).is_empty());
    let broken = schema(json!({ "pattern": "(" }));
    assert_eq!(broken.broken_patterns(&[]), ["(: does not compile"]);
    assert!(!valid(&broken, &json!("(")), "a pattern that does not compile matches nothing");
}

#[test]
fn date_times_follow_rfc_3339() {
    for good in
        ["2024-02-29T12:00:00Z", "1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00", "2024-01-01t00:00:00.123z"]
    {
        assert!(is_date_time(good), "{good}");
    }
    for bad in ["2023-02-29T12:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T12:00:60Z", "2024-01-01T12:00:00", "é"] {
        assert!(!is_date_time(bad), "{bad}");
    }
}

/// OpenAPI's `nullable` (the ExternalSecret CRD's `status.refreshTime`):
/// `null` passes, anything else meets the node's keywords. The `jsonschema`
/// crate does not know the keyword, so it is tested here alone.
#[test]
fn nullable_allows_null() {
    let s = schema(json!({ "type": "string", "format": "date-time", "nullable": true }));
    assert!(valid(&s, &Value::Null));
    assert!(valid(&s, &json!("2024-01-01T00:00:00Z")));
    assert!(!valid(&s, &json!(1)));
    assert!(!valid(&s, &json!("x")));
    let closed = schema(json!({ "type": "string" }));
    assert!(!valid(&closed, &Value::Null));
}

#[test]
fn min_and_max_properties() {
    let s = schema(json!({ "minProperties": 1, "maxProperties": 1 }));
    assert!(valid(&s, &json!({ "a": 1 })));
    assert_eq!(paths(&s, json!({})), [(String::new(), "/minProperties".into())]);
    assert_eq!(paths(&s, json!({ "a": 1, "b": 2 })), [(String::new(), "/maxProperties".into())]);
    assert!(valid(&s, &json!("not an object")));
}
