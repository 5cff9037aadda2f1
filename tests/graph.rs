//! The service graph: the graph check's fixtures (`tests/fixtures/graph/`,
//! one folder per case, compiled together as a folder build), and `svcc
//! graph` on examples/monorepo (DOT and Mermaid snapshots; SVG when
//! Graphviz is installed).
//!
//! A fixture's files state what they expect in header comments, with the
//! file the diagnostic points into: `// expect: SVC0701 storefront.kdl:7:15`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use svcc::diagnostic::render::{self, Format, HumanStyle};
use svcc::{Compiled, Options, Unit};

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/fixtures/graph"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn compile_folder(dir: &Path) -> Vec<Compiled> {
    let mut repo = common::loader();
    let units: Vec<Unit> = common::files(&common::rel(dir), "kdl")
        .iter()
        .map(|p| {
            let rel = PathBuf::from(common::rel(p));
            Unit { input: repo.read_spec(&rel, &rel).unwrap(), defaults: common::defaults_for(p) }
        })
        .collect();
    let opts = Options { whole_graph: true, ..Options::default() };
    svcc::compile_units(&units, &repo, &opts)
}

/// `FILE:LINE:COL` of a diagnostic's primary label.
fn position(c: &Compiled, d: &svcc::diagnostic::Diagnostic) -> Option<String> {
    let p = d.primary.as_ref()?;
    let file = match p.span.file {
        0 => &c.file,
        k => c.imports.get(usize::from(k) - 1)?,
    };
    let (l, col) = file.line_col(p.span.start);
    Some(format!("{}:{l}:{col}", Path::new(&file.name).file_name()?.to_string_lossy()))
}

#[test]
fn graph_fixtures() {
    let mut failures = Vec::new();
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let results = compile_folder(&dir);
        let mut expects = Vec::new();
        for r in &results {
            for line in r.file.text.lines() {
                if let Some(rest) = line.trim().strip_prefix("// expect:") {
                    let mut it = rest.split_whitespace();
                    expects.push((it.next().unwrap().to_string(), it.next().unwrap().to_string()));
                }
            }
        }
        match expects.first() {
            Some((code, _)) if name.starts_with(code.as_str()) => {}
            _ => failures.push(format!("{name}: the first `// expect:` must name the code the folder starts with")),
        }
        for (code, at) in &expects {
            let found = results.iter().any(|r| {
                r.diagnostics.iter().any(|d| d.code.as_str() == code && position(r, d).as_deref() == Some(at))
            });
            if !found {
                let got: Vec<String> = results
                    .iter()
                    .flat_map(|r| r.diagnostics.iter().map(move |d| format!("{} at {:?}", d.code, position(r, d))))
                    .collect();
                failures.push(format!("{name}: expected {code} at {at}, got {got:?}"));
            }
        }
        for r in results.iter().filter(|r| r.has_errors()) {
            if !r.artifacts.is_empty() {
                failures.push(format!("{name}: {} has errors, yet artifacts", r.file.name));
            }
        }
        let human =
            render::render(Format::Human, &svcc::file_diagnostics(&results), HumanStyle { color: false, width: 100 });
        common::settings().bind(|| insta::assert_snapshot!(format!("graph__{name}"), human));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A build of single files checks the calls among them only: a call to a
/// service it was not given is not an error there.
#[test]
fn single_files_check_only_the_calls_among_them() {
    let dir = common::root().join("tests/fixtures/graph/SVC0701-unknown-callee");
    let mut repo = common::loader();
    let rel = PathBuf::from(common::rel(&dir.join("storefront.kdl")));
    let unit = Unit { input: repo.read_spec(&rel, &rel).unwrap(), defaults: Vec::new() };
    let results = svcc::compile_units(&[unit], &repo, &Options::default());
    assert!(!results[0].has_errors(), "{:?}", results[0].diagnostics);
}

fn svcc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_svcc")).args(args).current_dir(common::root()).output().unwrap()
}

#[test]
fn svcc_graph_of_the_monorepo() {
    for (format, name) in [("dot", "graph__monorepo_dot"), ("mermaid", "graph__monorepo_mermaid")] {
        let o = svcc(&["graph", "examples/monorepo", "--format", format]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        common::settings().bind(|| insta::assert_snapshot!(name, text));
    }
    let one = svcc(&["graph", "examples/monorepo", "--env", "staging", "--format", "mermaid"]);
    let text = String::from_utf8(one.stdout).unwrap();
    assert!(text.contains("env_staging") && !text.contains("production"), "{text}");
}

/// The picture in docs/ is of the monorepo as it is: its DOT, rendered,
/// would name the same services (the SVG itself depends on the Graphviz
/// version, so only its text is compared).
#[test]
fn svg_renders_when_graphviz_is_installed() {
    let installed = Command::new("dot").arg("-V").output().is_ok_and(|o| o.status.success());
    let o = svcc(&["graph", "examples/monorepo", "--format", "svg"]);
    if !installed {
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("Graphviz") && err.contains("not installed"), "{err}");
        return;
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = String::from_utf8(o.stdout).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    let docs = std::fs::read_to_string(common::root().join("docs/graph-monorepo.svg")).unwrap();
    for name in [
        "shop",
        "checkout",
        "ledger",
        "mailer",
        "ingress controller",
        "Gateway",
        "shop.example.com",
        "staging",
        "production",
    ] {
        assert!(svg.contains(name) && docs.contains(name), "{name}");
    }
}
