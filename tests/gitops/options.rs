//! The options a repository needs beyond one spec: per-service image tags
//! and the tags file, `--prune`, `extra/` objects, `diff` of a missing
//! folder, and `check` of presets and org defaults files.

use super::{Repo, code, example, stderr, stdout};

const WORKER: &str = "service jobs {\n    use \"worker\"\n    image \"ghcr.io/acme/jobs\" tag=\"2.0.0\"\n}\n";

/// Two services in `services/`, their output committed.
fn two_services(tag: &str) -> Repo {
    let r = Repo::new(tag);
    r.write("services/hello.kdl", &example("minimal"));
    r.write("services/jobs.kdl", WORKER);
    let o = r.svcc(&["build", "services", "-o", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    r.commit("output");
    r
}

#[test]
fn tags_come_from_the_file_and_from_name_equals_tag_flags() {
    let r = two_services("tags");
    r.write("tags.txt", "# service tag\nhello 1.1.0\n\njobs\t2.1.0\n");
    let o = r.svcc(&["build", "services", "--image-tags", "tags.txt"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("image: ghcr.io/acme/hello:1.1.0\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("image: ghcr.io/acme/jobs:2.1.0\n"));
    // NAME=TAG wins over the file; a plain tag applies to the rest.
    let o = r.svcc(&["build", "services", "--image-tags", "tags.txt", "--image-tag", "jobs=3.0.0"]);
    assert!(stdout(&o).contains("jobs:3.0.0\n") && stdout(&o).contains("hello:1.1.0\n"), "{}", stdout(&o));
    let o = r.svcc(&["build", "services", "--image-tag", "9.9.9", "--image-tag", "jobs=3.0.0"]);
    assert!(stdout(&o).contains("jobs:3.0.0\n") && stdout(&o).contains("hello:9.9.9\n"), "{}", stdout(&o));
    // Only the bumped service's workload changes.
    r.write("tags.txt", "hello 1.0.0\njobs 2.0.1\n");
    let o = r.svcc(&["build", "services", "-o", "deploy", "--image-tags", "tags.txt", "--check"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        "deploy is out of date: 1 file(s) would change\n  changed  deploy/jobs/default/deployment-jobs.yaml\nrun the same `svcc build` without `--check` to update it\n"
    );
    // A bad file: every bad line, at its line.
    r.write("tags.txt", "hello 1.0.0\njobs\nhello 1.0.1\nx bad/tag\n");
    let o = r.svcc(&["check", "services", "--image-tags", "tags.txt"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    for want in ["tags.txt:2:1", "tags.txt:3:1", "tags.txt:4:3", "listed twice", "SVC0904"] {
        assert!(stderr(&o).contains(want), "no {want} in:\n{}", stderr(&o));
    }
    // Confined like a spec: a link out of the repository is not read; the
    // output folder may not hold it.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", r.path().join("linked.txt")).unwrap();
        let o = r.svcc(&["build", "services", "--image-tags", "linked.txt"]);
        assert_eq!(code(&o), 2);
        assert!(stderr(&o).contains("SVC0232"), "{}", stderr(&o));
        std::fs::remove_file(r.path().join("linked.txt")).unwrap();
    }
    r.write("deploy/tags.txt", "hello 1.0.0\n");
    let o = r.svcc(&["build", "services", "-o", "deploy", "--image-tags", "deploy/tags.txt"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("SVC0912"), "{}", stderr(&o));
    for bad in [&["--image-tag", "1", "--image-tag", "2"][..], &["--image-tag", "Bad_Name=1"]] {
        let o = r.svcc(&[&["check", "services"][..], bad].concat());
        assert_eq!(code(&o), 2, "{bad:?}");
        assert!(stderr(&o).contains("SVC0904"), "{}", stderr(&o));
    }
}

#[test]
fn prune_removes_only_owned_folders_no_spec_builds() {
    let r = two_services("prune");
    std::fs::remove_file(r.path().join("services/jobs.kdl")).unwrap();
    r.write("deploy/notes/README.md", "not svcc's\n");
    std::fs::create_dir_all(r.path().join("deploy/legacy/default")).unwrap();
    r.write("deploy/legacy/default/x.yaml", "kind: ConfigMap\n");
    // --env cannot say which folders the build owns.
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune", "--env", "default"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune", "--check"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("  removed  deploy/jobs/default/deployment-jobs.yaml\n"), "{out}");
    assert!(!out.contains("legacy") && !out.contains("notes"), "{out}");
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune"])), 0);
    assert!(!r.path().join("deploy/jobs").exists());
    assert!(r.path().join("deploy/notes/README.md").exists() && r.path().join("deploy/legacy/default/x.yaml").exists());
    assert!(r.path().join("deploy/hello/default/.svcc-owned").exists());
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune", "--check"])), 0);
    // The diff against the last commit shows what a pruning controller deletes.
    let o = r.svcc(&["diff", "services", "-o", "deploy", "--prune", "--ref", "HEAD"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stdout(&o).contains("- Deployment/jobs (jobs/default/deployment-jobs.yaml)"), "{}", stdout(&o));
}

#[test]
fn diff_of_a_missing_folder_is_an_error_unless_allowed() {
    let r = two_services("diff-missing");
    for extra in [&[][..], &["--ref", "HEAD"]] {
        let o = r.svcc(&[&["diff", "services", "-o", "deploi"][..], extra].concat());
        assert_eq!(code(&o), 2, "{extra:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("`deploi` does not exist") && stderr(&o).contains("SVC0901"), "{}", stderr(&o));
        let o = r.svcc(&[&["diff", "services", "-o", "deploi", "--allow-missing"][..], extra].concat());
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains("+ Deployment/hello"), "{}", stdout(&o));
    }
    // At a revision, the folder need not exist in the working tree.
    std::fs::remove_dir_all(r.path().join("deploy")).unwrap();
    let o = r.svcc(&["diff", "services", "-o", "deploy", "--ref", "HEAD"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "no changes\n"), "{}", stderr(&o));
}

#[test]
fn extra_objects_are_kept_listed_and_checked() {
    let r = two_services("extra");
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello-extra\ndata:\n  a: \"1\"\n";
    r.write("deploy/hello/default/extra/cm.yaml", cm);
    r.write("deploy/hello/default/extra/README.md", "hand-written\n");
    let o = r.svcc(&["build", "services", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("  changed  deploy/hello/default/kustomization.yaml\n"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("extra/"), "{}", stdout(&o));
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy"])), 0);
    assert!(r.read("deploy/hello/default/kustomization.yaml").ends_with("- extra/cm.yaml\n"));
    assert_eq!(r.read("deploy/hello/default/extra/cm.yaml"), cm);
    assert_eq!(r.read("deploy/hello/default/extra/README.md"), "hand-written\n");
    // A rebuild after a spec change keeps them.
    r.write("services/hello.kdl", &example("minimal").replace("1.0.0", "1.0.1"));
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy"])), 0);
    assert_eq!(r.read("deploy/hello/default/extra/cm.yaml"), cm);
    // Not YAML, not an object, or an object svcc generates: nothing is written.
    for (text, why) in [
        ("a: [\n", "is not valid YAML"),
        ("just: data\n", "not a Kubernetes object"),
        ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: hello\n", "which svcc generates"),
    ] {
        r.write("deploy/hello/default/extra/bad.yaml", text);
        let o = r.svcc(&["build", "services", "-o", "deploy"]);
        assert_eq!(code(&o), 2, "{text}");
        assert!(stderr(&o).contains(why), "{why}: {}", stderr(&o));
    }
}

#[test]
fn check_takes_presets_and_org_defaults_files() {
    let r = Repo::new("roles");
    r.write("_defaults.kdl", "defaults {\n    labels { org \"acme\" }\n}\n");
    r.write("presets/api.kdl", "preset api {\n    use \"node-http-api\"\n    replicas 2\n}\n");
    r.write("services/a.kdl", "service a {\n    use \"../presets/api.kdl\"\n    image \"ghcr.io/acme/a\"\n    metrics { prometheus-labels { r \"x\" } }\n}\n");
    r.write("services/jobs.kdl", WORKER);
    for args in [&["check", "_defaults.kdl", "presets/api.kdl"][..], &["check", "."], &["fmt", "--check", "."]] {
        let o = r.svcc(args);
        assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
    }
    // `build` still takes only services.
    let o = r.svcc(&["build", "presets/api.kdl"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0201"), "{}", stderr(&o));
    // Errors in the file itself, and in what it uses.
    r.write("presets/api.kdl", "preset api {\n    use \"node-htp-api\"\n    replica 2\n}\n");
    let o = r.svcc(&["check", "presets/api.kdl"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0330") && stderr(&o).contains("did you mean `node-http-api`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0202") && stderr(&o).contains("presets/api.kdl:3:5"), "{}", stderr(&o));
    // A defaults change that breaks a service below it fails, naming the service.
    r.write("presets/api.kdl", "preset api {\n    use \"node-http-api\"\n}\n");
    r.write("_defaults.kdl", "defaults {\n    metrics port=admin\n}\n");
    let o = r.svcc(&["check", "_defaults.kdl"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("checked because it uses `_defaults.kdl`"), "{}", stderr(&o));
    // `metrics` in the defaults: the worker (no port) is not scraped, the API is.
    r.write("_defaults.kdl", "defaults {\n    metrics { prometheus-labels { release \"kps\" } }\n}\n");
    let o = r.svcc(&["check", "_defaults.kdl"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = r.svcc(&["build", "services", "--image-tag", "1.0.0"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("# Source: a/default/servicemonitor-a.yaml"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("servicemonitor-jobs"), "{}", stdout(&o));
    // Written in the service itself, it still needs a port.
    r.write("services/jobs.kdl", &WORKER.replace("    use", "    metrics\n    use"));
    let o = r.svcc(&["check", "services/jobs.kdl"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0302"), "{}", stderr(&o));
}

/// A warning about a setting of an embedded standard-library preset
/// points at the `use` line, in a file the user can edit.
#[test]
fn stdlib_diagnostics_point_at_the_use_line() {
    let r = Repo::new("stdlib-use");
    r.write("a.kdl", "service a {\n    use \"node-http-api\"\n    image \"ghcr.io/acme/a\" tag=\"1\"\n}\n");
    let o = r.svcc(&["check", "a.kdl"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("SVC0404") && err.contains("a.kdl:2:9"), "{err}");
    assert!(!err.contains("stdlib/presets/node-http-api.kdl:"), "{err}");
    assert!(err.contains("standard-library preset"), "{err}");
}
