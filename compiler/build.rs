//! Compile `schemas/validation.json` into static tables at build time, so
//! that svcc starts with its validation schema ready instead of parsing and
//! compiling half a megabyte of JSON on every run (the schema of every kind,
//! the custom kinds' complete upstream CRD schemas included). The schema is
//! read by the very code svcc reads schemas with
//! (`src/validate/engine/schema.rs`, included here; evaluation, which needs
//! the regex crate, stays out), so a keyword it does not implement fails the
//! build; `validate::tests` checks that the tables equal reading the JSON at
//! run time.
#![allow(clippy::print_stdout)] // cargo reads its directives from stdout

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
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("validation_schema.rs");
    std::fs::write(&out, schema.to_rust()).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
