//! Golden tests: every example × environment is snapshotted as the exact
//! multi-document stream `svcc build` prints.

mod common;

use std::collections::BTreeMap;

#[test]
fn examples_build_and_match_snapshots() {
    let examples = common::files("examples", "kdl");
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
    for path in common::files("examples", "kdl") {
        let a = common::compile_file(&path, &common::example_options(&path));
        let b = common::compile_file(&path, &common::example_options(&path));
        assert_eq!(a.artifacts, b.artifacts, "{}", path.display());
    }
}

#[test]
fn examples_are_warning_free() {
    for path in common::files("examples", "kdl") {
        let c = common::compile_file(&path, &common::example_options(&path));
        assert!(c.diagnostics.is_empty(), "{}: {:?}", path.display(), c.diagnostics);
    }
}

/// Environment overrides change only what they name (docs/language.md,
/// "Environments"): a volume keeps its source, a new repository drops the
/// service's tag, a default request never exceeds an explicit limit.
#[test]
fn environment_overrides_merge_per_part() {
    let spec = r#"service merge {
    image "ghcr.io/acme/merge" tag="1.0.0"
    port http 8080
    probes { readiness "/ready" }
    volumes { config "/etc/merge" config-map="merge-config" }
    tolerations { "*" }
    environment production {
        volumes { config "/etc/merge/v2" }
        image "ghcr.io/acme/other" tag="2.0.0"
        resources { limits memory="64Mi" }
    }
}
"#;
    let opts = svcc::Options { image_tag: None, require_tag: true, environments: vec![] };
    let c = common::compile_str("merge.kdl", spec, &opts);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let deployment = &c.artifacts.iter().find(|a| a.path.ends_with("deployment-merge.yaml")).unwrap().contents;
    assert!(deployment.contains("configMap:\n          name: merge-config"), "{deployment}");
    assert!(deployment.contains("mountPath: /etc/merge/v2"), "{deployment}");
    assert!(deployment.contains("image: ghcr.io/acme/other:2.0.0\n"), "{deployment}");
    assert!(deployment.contains("operator: Exists"), "{deployment}");
    // limits memory=64Mi alone: the request follows the limit down.
    assert!(deployment.contains("requests:\n            cpu: 100m\n            memory: 64Mi"), "{deployment}");
}
