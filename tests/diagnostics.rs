//! The bad-spec corpus: every fixture in `tests/fixtures/err/` is compiled
//! and its diagnostics are snapshotted (source, human and JSON output in
//! one snapshot). Each fixture pins the code it is about and where it is
//! reported with a header line:
//!
//! ```text
//! // expect: SVC0202 3:5              (line:column in the fixture)
//! // expect: SVC0231 bad.kdl:4:9      (in another file the spec reads)
//! ```
//!
//! A fixture is a `.kdl` file, or a folder whose `service.kdl` is the spec:
//! its other files are the presets it uses and the `_defaults.kdl` that
//! applies to it (multi-file cases).

mod common;

use std::path::{Path, PathBuf};

use svcc::diagnostic::render::Format;
use svcc::{Compiled, Options};

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

fn expectation(text: &str) -> (String, String) {
    let line = text.lines().find_map(|l| l.strip_prefix("// expect: ")).expect("a `// expect: CODE LINE:COL` header");
    let (code, at) = line.trim().split_once(' ').expect("`CODE LINE:COL`");
    (code.to_string(), at.to_string())
}

fn position(c: &Compiled, d: &svcc::diagnostic::Diagnostic) -> String {
    let Some(p) = &d.primary else { return "-".into() };
    let file = match p.span.file {
        0 => &c.file,
        k => &c.imports[usize::from(k) - 1],
    };
    let (l, col) = file.line_col(p.span.start);
    if p.span.file == 0 {
        format!("{l}:{col}")
    } else {
        format!("{}:{l}:{col}", Path::new(&file.name).file_name().unwrap().to_string_lossy())
    }
}

#[test]
fn fixtures_report_their_code_at_their_position() {
    let all = fixtures();
    assert!(!all.is_empty());
    for (name, path) in all {
        let text = std::fs::read_to_string(&path).unwrap();
        let (code, at) = expectation(&text);
        let c = common::compile_file(&path, &Options { require_tag: false, ..Options::default() });
        let found: Vec<(String, String)> =
            c.diagnostics.iter().map(|d| (d.code.as_str().to_string(), position(&c, d))).collect();
        assert!(
            found.iter().any(|(k, p)| *k == code && *p == at),
            "{name}: expected {code} at {at}, found {found:?}\n{}",
            common::render(&c, Format::Human)
        );
        let mut snap = String::new();
        for f in std::iter::once(&c.file).chain(&c.imports) {
            if f.name.starts_with("stdlib/") {
                continue;
            }
            snap.push_str(&format!("── {} ──\n{}\n", f.name, f.text));
        }
        snap.push_str("── human ──\n");
        snap.push_str(&common::render(&c, Format::Human));
        snap.push_str("── json ──\n");
        snap.push_str(&common::render(&c, Format::Json));
        common::settings().bind(|| insta::assert_snapshot!(format!("diagnostics__{name}"), snap));
    }
}
