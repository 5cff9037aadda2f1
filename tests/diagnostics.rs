//! The diagnostics corpus: every `tests/fixtures/err/*.kdl` is compiled, and
//! its rendered diagnostics (human and JSON) are snapshotted together with
//! the source.
//!
//! A fixture states what it expects in header comments:
//!
//! ```kdl
//! // expect: SVC0202 4:5
//! // options: build env=production image-tag=latest
//! ```
//!
//! `expect` lines name a code and the 1-based line:column where a
//! diagnostic with that code must start (several lines allowed); a
//! position in another file the spec reads is written `FILE:LINE:COL`
//! (`// expect: SVC0231 broken.kdl:4:9`). `options` (optional) selects
//! `build` (a tag is required), `--env` and `--image-tag`. The name starts
//! with the first expected code.
//!
//! A fixture is a `.kdl` file, or a folder whose `service.kdl` is the spec:
//! its other files are the presets it uses and the `_defaults.kdl` that
//! applies to it (multi-file cases).

mod common;

use std::path::{Path, PathBuf};

use svcc::diagnostic::render::Format;
use svcc::{Compiled, Options};

struct Expect {
    code: String,
    /// `LINE:COL`, or `FILE:LINE:COL` for another file.
    at: String,
}

/// `(name, spec path)` of every fixture, sorted.
fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = common::root().join("tests/fixtures/err");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            out.push((name, p.join("service.kdl")));
        } else if p.extension().is_some_and(|x| x == "kdl") {
            out.push((name, p));
        }
    }
    out.sort();
    out
}

/// Where a diagnostic starts: `LINE:COL` in the spec, `FILE:LINE:COL` elsewhere.
fn position(c: &Compiled, d: &svcc::diagnostic::Diagnostic) -> Option<String> {
    let p = d.primary.as_ref()?;
    let file = match p.span.file {
        0 => &c.file,
        k => c.imports.get(usize::from(k) - 1)?,
    };
    let (l, col) = file.line_col(p.span.start);
    Some(if p.span.file == 0 {
        format!("{l}:{col}")
    } else {
        format!("{}:{l}:{col}", Path::new(&file.name).file_name().unwrap().to_string_lossy())
    })
}

fn header(text: &str) -> (Vec<Expect>, Options) {
    let mut expects = Vec::new();
    let mut opts = Options::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("// expect:") {
            let mut it = rest.split_whitespace();
            let code = it.next().expect("expect: needs a code").to_string();
            let at = it.next().expect("expect: needs line:col").to_string();
            expects.push(Expect { code, at });
        } else if let Some(rest) = line.strip_prefix("// options:") {
            common::apply_options(rest, &mut opts);
        }
    }
    (expects, opts)
}

#[test]
fn diagnostics_corpus() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 30, "the corpus should hold at least 30 failure cases, found {}", fixtures.len());
    let mut failures = Vec::new();
    for (name, path) in &fixtures {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (expects, opts) = header(&text);
        assert!(!expects.is_empty(), "{name}: no `// expect:` line");
        assert!(name.starts_with(&expects[0].code), "{name}: name must start with {}", expects[0].code);
        let compiled = common::compile_file(path, &opts);
        assert!(compiled.has_errors() || compiled.diagnostics.iter().any(|d| !d.is_error()), "{name}: no diagnostics");
        assert!(compiled.artifacts.is_empty() || !compiled.has_errors(), "{name}: errors but artifacts");
        for e in &expects {
            let found = compiled
                .diagnostics
                .iter()
                .any(|d| d.code.as_str() == e.code && position(&compiled, d).as_deref() == Some(&e.at));
            if !found {
                let got: Vec<String> = compiled
                    .diagnostics
                    .iter()
                    .map(|d| format!("{} at {:?}", d.code, position(&compiled, d)))
                    .collect();
                failures.push(format!("{name}: expected {} at {}, got {got:?}", e.code, e.at));
            }
        }
        // Every span lies inside the file it points into, on char boundaries.
        for d in &compiled.diagnostics {
            for l in d.primary.iter().chain(&d.secondary) {
                let text = match l.span.file {
                    0 => &compiled.file.text,
                    k => &compiled.imports[usize::from(k) - 1].text,
                };
                assert!(l.span.end as usize <= text.len(), "{name}: span out of bounds");
                assert!(text.is_char_boundary(l.span.start as usize), "{name}: span not on a char boundary");
            }
        }
        let human = common::render(&compiled, Format::Human);
        let json = common::render(&compiled, Format::Json);
        let mut sources = format!("----- SOURCE\n{text}\n");
        for f in &compiled.imports {
            if !f.name.starts_with("stdlib/") {
                sources.push_str(&format!("----- SOURCE {}\n{}\n", f.name, f.text));
            }
        }
        let snap = format!("{sources}----- HUMAN\n{human}\n----- JSON\n{json}");
        common::settings().bind(|| insta::assert_snapshot!(format!("diagnostics__{name}"), snap));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn github_annotations() {
    let path = common::root().join("tests/fixtures/err/SVC0202-unknown-node.kdl");
    let compiled = common::compile_file(&path, &Options::default());
    let gh = common::render(&compiled, Format::Github);
    assert!(
        gh.starts_with("::error title=svcc SVC0202,file=tests/fixtures/err/SVC0202-unknown-node.kdl,line="),
        "{gh}"
    );
    common::settings().bind(|| insta::assert_snapshot!("diagnostics_github", gh));
}

#[test]
fn all_errors_of_a_file_are_reported_together() {
    let text = "service api {\n    imgae \"x\"\n    port http 99999\n    replicas \"3\"\n}\n";
    let c = common::compile_str("many.kdl", text, &Options::default());
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["SVC0202", "SVC0211", "SVC0204"], "{codes:?}");
}
