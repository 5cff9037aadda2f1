//! Compile `schemas/validation.json` into static tables at build time, so
//! that svcc starts with its validation schema ready instead of parsing and
//! compiling 150 KB of JSON on every run (the schema of every kind, the
//! custom kinds' complete upstream CRD schemas included). The schema is read
//! by the very code svcc reads schemas with (`src/validate/engine/schema.rs`,
//! included here; evaluation stays out), so a keyword it does not implement
//! fails the build; `validate::tests` checks that the tables equal reading
//! the JSON at run time.
//!
//! Each `pattern` is compiled here too, into a dense DFA serialised next to
//! the tables: building the regex at run time would cost a one-spec `svcc
//! check` more than its whole validation (0.25 M instructions for one
//! duration pattern); reading the DFA costs a few thousand.
#![allow(clippy::print_stdout)] // cargo reads its directives from stdout

use std::path::Path;

#[path = "src/validate/engine/schema.rs"]
#[allow(dead_code)]
mod schema;

/// `schema.rs` keeps the run-time cache of compiled patterns in its
/// `Schema`; compiling the tables needs none.
struct PatternCache;

impl PatternCache {
    const fn new() -> PatternCache {
        PatternCache
    }
}

fn main() {
    let path = "../schemas/validation.json";
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-changed=src/validate/engine/schema.rs");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let schema = schema::Schema::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out_dir = Path::new(&out_dir);
    let mut rust = schema.to_rust();
    rust.push_str(&pattern_dfas(schema.patterns(), out_dir));
    let out = out_dir.join("validation_schema.rs");
    std::fs::write(&out, rust).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// Each pattern as a dense DFA for unanchored search (what `pattern`
/// means), serialised in the target's byte order into `OUT_DIR`, and the
/// Rust source of `PATTERN_DFAS`, which includes them aligned for
/// `DFA::from_bytes`. A pattern the DFA builder refuses (none of svcc's, but
/// e.g. a Unicode word boundary) is `None`, and svcc compiles it at run time.
fn pattern_dfas(patterns: &[schema::Text], out_dir: &Path) -> String {
    use regex_automata::dfa::{StartKind, dense};
    let big_endian = std::env::var("CARGO_CFG_TARGET_ENDIAN").is_ok_and(|e| e == "big");
    let mut statics = String::new();
    let mut list = String::from("pub static PATTERN_DFAS: &[Option<&'static [u8]>] = &[\n");
    for (i, pattern) in patterns.iter().enumerate() {
        let config = dense::Config::new().start_kind(StartKind::Unanchored).minimize(true);
        let Ok(dfa) = dense::Builder::new().configure(config).build(pattern) else {
            list.push_str("None,\n");
            continue;
        };
        let (bytes, pad) = if big_endian { dfa.to_bytes_big_endian() } else { dfa.to_bytes_little_endian() };
        let name = format!("pattern-{i}.dfa");
        let file = out_dir.join(&name);
        std::fs::write(&file, &bytes[pad..]).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        statics.push_str(&format!(
            "static PATTERN_{i}: &AlignAs<[u8], u32> = \
             &AlignAs {{ _align: [], bytes: *include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\")) }};\n"
        ));
        list.push_str(&format!("Some(&PATTERN_{i}.bytes),\n"));
    }
    list.push_str("];\n");
    statics + &list
}
