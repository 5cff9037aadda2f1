//! Golden tests: every example × environment is snapshotted as the exact
//! multi-document stream `svcc build` prints, and the `kustomization.yaml`
//! files `svcc build -o` adds to each environment folder in one more
//! snapshot.

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
            if svcc::emit::is_pipeline_file(a) {
                // The workflow, Dockerfile and deploy.sh: one snapshot each.
                let file = a.path.rsplit('/').next().unwrap().replace('.', "_");
                common::settings()
                    .bind(|| insta::assert_snapshot!(format!("example__{example}__pipeline__{file}"), a.contents));
                continue;
            }
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

/// The files a `gitops` block adds beside the service folders (environment
/// roots, Namespaces, Argo CD or Flux objects), one snapshot per example
/// that has them; the examples without stay without.
#[test]
fn gitops_files_match_snapshots() {
    let mut with = Vec::new();
    let mut dirs: Vec<String> =
        std::fs::read_dir(common::root().join("examples")).unwrap().map(|d| common::rel(&d.unwrap().path())).collect();
    dirs.sort();
    for dir in dirs {
        let files = common::shared_files(&dir);
        if files.is_empty() {
            continue;
        }
        let example = dir.trim_start_matches("examples/").replace('/', "-");
        let text: String = files.iter().map(|a| format!("# File: deploy/{}\n{}", a.path, a.contents)).collect();
        common::settings().bind(|| insta::assert_snapshot!(format!("example__{example}__gitops"), text));
        with.push(example);
    }
    assert_eq!(with, ["monorepo"], "examples with a gitops block");
}

#[test]
fn every_environment_folder_is_a_kustomize_root() {
    let mut all = String::new();
    for path in common::files("examples", "kdl") {
        let compiled = common::compile_file(&path, &common::example_options(&path));
        let folders = svcc::diff::owned_folders(&compiled.artifacts);
        for folder in folders {
            if compiled
                .artifacts
                .iter()
                .any(|a| a.path.starts_with(&format!("{folder}/")) && svcc::emit::is_pipeline_file(a))
            {
                continue;
            }
            let in_folder: Vec<&svcc::emit::Artifact> =
                compiled.artifacts.iter().filter(|a| a.path.starts_with(&format!("{folder}/"))).collect();
            let (k, objects): (Vec<_>, Vec<_>) = in_folder.into_iter().partition(|a| svcc::emit::is_kustomization(a));
            assert_eq!(k.len(), 1, "{folder}: one kustomization.yaml");
            let doc = &svcc::emit::parse_documents(&k[0].contents).unwrap()[0];
            let listed: Vec<&str> = doc["resources"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            let files: Vec<&str> = objects.iter().map(|a| a.path.rsplit('/').next().unwrap()).collect();
            assert_eq!(listed, files, "{folder}: resources list every object file, in order");
            all.push_str(&format!("# File: {}\n{}", k[0].path, k[0].contents));
        }
    }
    common::settings().bind(|| insta::assert_snapshot!("kustomizations", all));
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
    let opts = svcc::Options { image_tag: None, require_tag: true, ..svcc::Options::default() };
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

/// A tag bump changes only the files of what runs the image: the workload
/// (and its pod template), the Jobs and CronJobs, and the AnalysisTemplates
/// of job gates (their Jobs' pods carry the version), so GitOps reviews
/// show the release and nothing else. A Job that is not a hook is named
/// with a hash of its template (its template is immutable): it is renamed,
/// and the kustomization lists the new name.
#[test]
fn a_tag_bump_changes_only_the_workload_files() {
    for path in common::services("examples") {
        let build = |tag: &str| {
            let opts = svcc::Options { image_tag: Some(tag.into()), require_tag: true, ..svcc::Options::default() };
            common::compile_file(&path, &opts).artifacts
        };
        let (old, new) = (build("1.4.2"), build("1.4.3"));
        assert_eq!(old.len(), new.len());
        let renamed: Vec<&str> =
            old.iter().zip(&new).filter(|(a, b)| a.path != b.path).map(|(a, _)| a.path.as_str()).collect();
        for p in &renamed {
            assert!(p.contains("/job-"), "{}: {p} was renamed", common::rel(&path));
        }
        for (a, b) in old.iter().zip(&new) {
            let runs_the_image = ["/deployment-", "/rollout-", "/job-", "/cronjob-"].iter().any(|k| a.path.contains(k))
                || (a.path.contains("/analysistemplate-") && a.contents.contains("\n      job:\n"));
            let lists_a_renamed_job = a.path.ends_with("/kustomization.yaml")
                && renamed
                    .iter()
                    .any(|r| r.rsplit_once('/').map(|(dir, _)| dir) == a.path.rsplit_once('/').map(|(d, _)| d));
            assert_eq!(
                a.contents != b.contents,
                runs_the_image || lists_a_renamed_job,
                "{}: {}",
                common::rel(&path),
                a.path
            );
        }
    }
}
