//! Golden tests: every example × environment is snapshotted as the exact
//! multi-document stream `svcc build` prints.

mod common;

use std::collections::BTreeMap;

#[test]
fn examples_build_and_match_snapshots() {
    let examples = common::services("examples");
    assert!(examples.len() >= 3, "expected at least three examples");
    for path in &examples {
        let compiled = common::compile_file(path, &common::example_options(path));
        assert!(
            !compiled.has_errors(),
            "{}:\n{}",
            path.display(),
            common::render(&compiled, svcc::diagnostic::render::Format::Human)
        );
        let example = common::rel(path.parent().unwrap()).trim_start_matches("examples/").replace('/', "-");
        let mut by_env: BTreeMap<String, Vec<svcc::emit::Artifact>> = BTreeMap::new();
        for a in &compiled.artifacts {
            let env = a.path.split('/').nth(1).unwrap().to_string();
            by_env.entry(env).or_default().push(a.clone());
        }
        assert!(!by_env.is_empty());
        for (env, artifacts) in by_env {
            let stream = svcc::emit::stream(&artifacts);
            common::settings().bind(|| insta::assert_snapshot!(format!("example__{example}__{env}"), stream));
        }
    }
}

#[test]
fn builds_are_byte_identical() {
    for path in common::services("examples") {
        let a = common::compile_file(&path, &common::example_options(&path));
        let b = common::compile_file(&path, &common::example_options(&path));
        assert_eq!(a.artifacts, b.artifacts, "{}", path.display());
    }
}

#[test]
fn examples_are_warning_free() {
    for path in common::services("examples") {
        let c = common::compile_file(&path, &common::example_options(&path));
        assert!(c.diagnostics.is_empty(), "{}: {:?}", path.display(), c.diagnostics);
    }
}
