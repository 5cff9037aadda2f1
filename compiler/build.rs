//! Compile `schemas/validation.json` into static tables at build time, so
//! that svcc starts with its validation schema ready instead of parsing and
//! compiling 57 KB of JSON on every run (5M instructions: the longest path
//! of a one-service build). The schema is read by the very engine svcc
//! validates with (`src/validate/engine.rs`, included here), so a keyword
//! it does not implement fails the build; `validate::tests` checks that the
//! tables equal reading the JSON at run time.
#![allow(clippy::print_stdout)] // cargo reads its directives from stdout

#[path = "src/validate/engine.rs"]
#[allow(dead_code)]
mod engine;

fn main() {
    let path = "../schemas/validation.json";
    println!("cargo::rerun-if-changed={path}");
    println!("cargo::rerun-if-changed=src/validate/engine.rs");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let schema = engine::Schema::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("validation_schema.rs");
    std::fs::write(&out, schema.to_rust()).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
