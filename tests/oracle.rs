//! The independent oracle (`../shared/oracle/validate`: kubernetes-validate
//! strict, upstream CRD schemas, promtool, actionlint, yamllint and a YAML
//! 1.1 typing check) judges every file svcc generates for the examples.
//!
//! `kustomization.yaml` files are not Kubernetes objects, so the oracle
//! (strict: unknown kinds fail) never sees them; they are checked by
//! `kubectl kustomize` on each environment folder instead, which also
//! proves each folder is a kustomize root that Argo CD and Flux accept.
//!
//! The oracle must be installed (`../shared/oracle/install`, which `.ci/run`
//! does). Set SVCC_SKIP_ORACLE=1 to skip these tests on a machine without it.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn oracle_dir() -> PathBuf {
    common::root().parent().unwrap().join("shared/oracle")
}

fn skip() -> bool {
    std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1")
}

/// Write the Kubernetes objects among `artifacts` (not the kustomization files).
fn write_tree(dir: &std::path::Path, artifacts: &[svcc::emit::Artifact]) {
    for a in artifacts.iter().filter(|a| !svcc::emit::is_kustomization(a)) {
        let p = dir.join(&a.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &a.contents).unwrap();
    }
}

fn validate(dir: &std::path::Path) -> (bool, String) {
    let o = Command::new(oracle_dir().join("validate"))
        .arg(dir)
        .output()
        .expect("run the oracle: install it with ../shared/oracle/install");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("svcc-oracle-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn every_example_passes_the_oracle() {
    if skip() {
        return;
    }
    let dir = temp("examples");
    let mut count = 0;
    for path in common::services("examples") {
        let c = common::compile_file(&path, &common::example_options(&path));
        assert!(!c.has_errors(), "{}", path.display());
        // The oracle judges the manifests and workflows (*.yaml, *.yml;
        // kustomization roots through `kubectl kustomize`, not counted),
        // the Dockerfile (hadolint) and deploy.sh (shellcheck).
        count += c
            .artifacts
            .iter()
            .filter(|a| {
                let yaml = a.path.ends_with(".yaml") || a.path.ends_with(".yml");
                (yaml && !svcc::emit::is_kustomization(a)) || a.path.ends_with("/Dockerfile") || a.path.ends_with(".sh")
            })
            .count();
        write_tree(&dir, &c.artifacts);
    }
    // The files a `gitops` block adds beside the services (Namespaces,
    // Argo CD and Flux objects), written where `-o deploy` puts them.
    for example in example_dirs() {
        let shared = common::shared_files(&example);
        count += shared.iter().filter(|a| !svcc::emit::is_kustomization(a)).count();
        write_tree(&dir.join(&example).join("deploy"), &shared);
    }
    let (ok, report) = validate(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "oracle rejected generated files:\n{report}");
    assert!(report.contains(&format!("{count} passed, 0 failed")), "{report}");
}

/// The example folders (`examples/NAME`), sorted.
fn example_dirs() -> Vec<String> {
    let mut dirs: Vec<String> =
        std::fs::read_dir(common::root().join("examples")).unwrap().map(|d| common::rel(&d.unwrap().path())).collect();
    dirs.sort();
    dirs
}

/// The accepted fixtures (`tests/fixtures/ok/`: the good spec beside each
/// bad one) pass the oracle too, each in its own folder.
#[test]
fn every_accepted_fixture_passes_the_oracle() {
    if skip() {
        return;
    }
    let dir = temp("accepted");
    for path in common::files("tests/fixtures/ok", "kdl") {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut opts = svcc::Options::default();
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("// options:") {
                common::apply_options(rest, &mut opts);
            }
        }
        let c = common::compile_file(&path, &opts);
        assert!(!c.has_errors(), "{}", path.display());
        write_tree(&dir.join(path.file_stem().unwrap()), &c.artifacts);
        if let Some(d) = &c.deployed {
            let shared = svcc::gitops::artifacts(std::slice::from_ref(d), Some("deploy")).unwrap();
            write_tree(&dir.join(path.file_stem().unwrap()), &shared);
        }
    }
    let (ok, report) = validate(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "oracle rejected generated files:\n{report}");
}

/// `kubectl kustomize FOLDER`, as objects.
fn kustomize(folder: &std::path::Path) -> Vec<serde_json::Value> {
    let o = Command::new("kubectl").arg("kustomize").arg(folder).output().unwrap();
    assert!(o.status.success(), "{}: {}", folder.display(), String::from_utf8_lossy(&o.stderr));
    svcc::emit::parse_documents(&String::from_utf8_lossy(&o.stdout)).unwrap()
}

/// The objects of the files under `folder/` (kustomization files left out).
fn objects_in(artifacts: &[svcc::emit::Artifact], folder: &str) -> Vec<serde_json::Value> {
    artifacts
        .iter()
        .filter(|a| a.path.starts_with(&format!("{folder}/")) && !svcc::emit::is_kustomization(a))
        .flat_map(|a| svcc::emit::parse_documents(&a.contents).unwrap())
        .collect()
}

/// `rendered` holds exactly `expected` (kustomize orders by kind: the sets
/// are compared, then each object's contents).
fn same_objects(folder: &str, rendered: &[serde_json::Value], expected: &[serde_json::Value]) {
    let key = |v: &serde_json::Value| format!("{}/{}/{}", v["kind"], v["metadata"]["namespace"], v["metadata"]["name"]);
    let mut got: Vec<String> = rendered.iter().map(key).collect();
    let mut want: Vec<String> = expected.iter().map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{folder}");
    for e in expected {
        assert!(rendered.contains(e), "{folder}: kustomize changed {}", key(e));
    }
}

/// Each environment folder, written in full, renders with `kubectl
/// kustomize` to exactly the objects of the folder; and each root a
/// `gitops` block adds renders too: an environment's root to its
/// Namespaces and every service's objects of that environment, the
/// engine's folder to its objects. Skipped when kubectl is not installed.
#[test]
fn every_environment_folder_builds_with_kubectl_kustomize() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        return;
    }
    let dir = temp("kustomize");
    for example in example_dirs() {
        let root = dir.join(&example).join("deploy");
        let mut all = Vec::new();
        for path in common::services(&example) {
            let c = common::compile_file(&path, &common::example_options(&path));
            all.extend(c.artifacts);
        }
        let shared = common::shared_files(&example);
        for a in all.iter().chain(&shared) {
            let p = root.join(&a.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &a.contents).unwrap();
        }
        for folder in svcc::diff::owned_folders(&all) {
            if all.iter().any(|a| a.path.starts_with(&format!("{folder}/")) && svcc::emit::is_pipeline_file(a)) {
                continue;
            }
            same_objects(&folder, &kustomize(&root.join(&folder)), &objects_in(&all, &folder));
        }
        for folder in svcc::diff::owned_folders(&shared) {
            let mut expected = objects_in(&shared, &folder);
            if let Some(env) = folder.strip_prefix(svcc::gitops::ENV_ROOT_PREFIX) {
                for service in svcc::diff::owned_folders(&all).iter().filter(|f| f.ends_with(&format!("/{env}"))) {
                    expected.extend(objects_in(&all, service));
                }
            }
            same_objects(&folder, &kustomize(&root.join(&folder)), &expected);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `examples/monorepo` in a scratch git repository, with `edit` applied to
/// its files, built as a GitOps repository builds it: `svcc build services
/// -o deploy --prune`. Returns the repository's folder.
fn built_monorepo(tag: &str, edit: fn(&std::path::Path)) -> PathBuf {
    let dir = temp(tag);
    let example = common::root().join("examples/monorepo");
    for f in common::files("examples/monorepo", "kdl") {
        let to = dir.join(f.strip_prefix(&example).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
    assert!(Command::new("git").args(["init", "-q"]).current_dir(&dir).status().unwrap().success());
    edit(&dir);
    let o = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(["build", "services", "-o", "deploy", "--prune"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{tag}: {}", String::from_utf8_lossy(&o.stderr));
    dir
}

/// The monorepo deployed by Flux instead: the org defaults' block names
/// Flux and its source, and the mailer drops its Argo CD-only settings.
fn with_flux(dir: &std::path::Path) {
    let defaults = dir.join("_defaults.kdl");
    let text = std::fs::read_to_string(&defaults).unwrap();
    let start = text.find("    gitops argocd {").unwrap();
    let end = start + text[start..].find("\n    }\n").unwrap() + "\n    }\n".len();
    let flux = "    gitops flux {\n        source \"deploy\"\n        cluster production \"prod-eu-kubeconfig\"\n        sync interval=\"2m\" timeout=\"90s\"\n    }\n";
    std::fs::write(&defaults, format!("{}{flux}{}", &text[..start], &text[end..])).unwrap();
    let mailer = dir.join("services/mailer/service.kdl");
    let text = std::fs::read_to_string(&mailer).unwrap();
    let start = text.find("    gitops {").unwrap();
    let end = start + text[start..].find("\n    }\n").unwrap() + "\n    }\n".len();
    std::fs::write(&mailer, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

/// The folders (from the repository root) that the engine's objects in
/// `deploy/_argocd` or `deploy/_flux` deploy.
fn engine_paths(deploy: &std::path::Path) -> Vec<String> {
    let mut paths = Vec::new();
    for folder in ["_argocd", "_flux"] {
        let Ok(entries) = std::fs::read_dir(deploy.join(folder)) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.file_name().unwrap() == "kustomization.yaml" || p.extension().is_none_or(|x| x != "yaml") {
                continue;
            }
            for doc in svcc::emit::parse_documents(&std::fs::read_to_string(&p).unwrap()).unwrap() {
                match doc["kind"].as_str().unwrap() {
                    "Kustomization" => {
                        paths.push(doc["spec"]["path"].as_str().unwrap().trim_start_matches("./").to_string())
                    }
                    "Application" => paths.push(doc["spec"]["source"]["path"].as_str().unwrap().to_string()),
                    "ApplicationSet" => {
                        for el in doc["spec"]["generators"][0]["list"]["elements"].as_array().unwrap() {
                            paths.push(el["path"].as_str().unwrap().to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    paths.sort();
    paths
}

/// The monorepo as committed (Argo CD: an ApplicationSet, the mailer's
/// Applications, an AppProject) and its Flux variant, built by the real
/// binary: the whole output folder, kustomization files included, passes
/// the oracle (which runs `kubectl kustomize` on every one of them); each
/// root renders, and each folder the engine's objects name is a root of
/// the output: the service folders for Argo CD (never a `pipeline`
/// folder), the environment roots for Flux.
#[test]
fn the_monorepo_deploys_with_argo_cd_or_flux() {
    if skip() || Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        return;
    }
    let none: fn(&std::path::Path) = |_| {};
    for (tag, edit, engine) in
        [("monorepo-argocd", none, "_argocd"), ("monorepo-flux", with_flux as fn(&std::path::Path), "_flux")]
    {
        let dir = built_monorepo(tag, edit);
        let deploy = dir.join("deploy");
        let (ok, report) = validate(&deploy);
        assert!(ok && report.contains(" passed, 0 failed"), "{tag}: oracle:\n{report}");
        assert!(
            report.contains(&format!(
                "OK {}/{engine}/kustomization.yaml#0 Kustomization/?: kubectl kustomize",
                deploy.display()
            )),
            "{tag}:\n{report}"
        );
        let mut roots: Vec<String> = std::fs::read_dir(&deploy)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('_'))
            .collect();
        roots.sort();
        let mut want = vec![engine, "_env.production", "_env.staging"];
        want.sort_unstable();
        assert_eq!(roots, want, "{tag}");
        for root in &roots {
            assert!(!kustomize(&deploy.join(root)).is_empty(), "{tag}: {root} renders nothing");
        }
        let paths = engine_paths(&deploy);
        let expected: Vec<String> = if engine == "_flux" {
            vec!["deploy/_env.production".into(), "deploy/_env.staging".into()]
        } else {
            let mut v: Vec<String> = ["checkout", "ledger", "mailer", "shop"]
                .iter()
                .flat_map(|s| ["production", "staging"].map(|e| format!("deploy/{s}/{e}")))
                .collect();
            v.sort();
            v
        };
        assert_eq!(paths, expected, "{tag}");
        for p in &paths {
            assert!(dir.join(p).join("kustomization.yaml").is_file(), "{tag}: {p} is not a root");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Strings that YAML 1.1 readers would turn into booleans, numbers, nulls or
/// dates survive as strings: checked by the oracle's typing check (PyYAML
/// plus go-yaml v2's y/n rules) and by reading the values back here.
#[test]
fn yaml_1_1_lookalikes_round_trip_as_strings() {
    if skip() {
        return;
    }
    let tricky = [
        "on",
        "off",
        "yes",
        "no",
        "y",
        "n",
        "Y",
        "NO",
        "true",
        "~",
        "null",
        "0755",
        "0o755",
        "1e3",
        "1.10",
        "0x1F",
        "12:30",
        "2001-12-14",
        ".inf",
        "1_000",
        "+1",
        "-0",
        "",
    ];
    let mut env = String::new();
    for (i, t) in tricky.iter().enumerate() {
        env.push_str(&format!("        V{i} \"{t}\"\n"));
    }
    let spec = format!(
        "service tricky {{\n    image \"ghcr.io/acme/tricky\" tag=\"1.10\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n    env {{\n{env}    }}\n    labels {{ flag \"on\"; answer \"no\"; ver \"1.10\" }}\n    annotations {{ \"example.com/x\" \"yes\" }}\n}}\n"
    );
    let c = common::compile_str(
        "tricky.kdl",
        &spec,
        &common::example_options(&common::root().join("examples/minimal/service.kdl")),
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let dir = temp("tricky");
    write_tree(&dir, &c.artifacts);
    let (ok, report) = validate(&dir);
    assert!(ok, "{report}");
    // Read the Deployment back with PyYAML (YAML 1.1) and compare every value.
    let py = dirs_python();
    let deployment = dir.join("tricky/default/deployment-tricky.yaml");
    let script = "import sys, yaml, json\nd = yaml.safe_load(open(sys.argv[1]))\nc = d['spec']['template']['spec']['containers'][0]\nprint(json.dumps({'env': {e['name']: e['value'] for e in c['env']}, 'labels': d['metadata']['labels'], 'ann': d['metadata']['annotations']}))\n";
    let o = Command::new(py).arg("-c").arg(script).arg(&deployment).output().expect("python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (i, t) in tricky.iter().enumerate() {
        assert_eq!(v["env"][format!("V{i}")], serde_json::Value::String(t.to_string()), "{t}");
    }
    assert_eq!(v["labels"]["flag"], "on");
    assert_eq!(v["labels"]["answer"], "no");
    assert_eq!(v["labels"]["ver"], "1.10");
    assert_eq!(v["labels"]["app.kubernetes.io/version"], "1.10");
    assert_eq!(v["ann"]["example.com/x"], "yes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where `../shared/oracle/install` put the validators.
fn oracle_home() -> PathBuf {
    std::env::var_os("SVCC_ORACLE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
        cache.join("svcc-oracle")
    })
}

fn dirs_python() -> PathBuf {
    oracle_home().join("venv/bin/python")
}

/// Each form of `install-svcc` (a checked download, a build from one
/// commit, svcc's action at one commit) gives a workflow the oracle
/// accepts: actionlint, the workflow schema and zizmor.
#[test]
fn every_install_svcc_form_passes_the_oracle() {
    if skip() {
        return;
    }
    let rev = "0123456789abcdef0123456789abcdef01234567";
    let forms = [
        format!(
            "url=\"https://github.com/acme/svcc/releases/download/v0.1.0/svcc-x86_64-unknown-linux-musl\" sha256=\"{}\"",
            "ab".repeat(32)
        ),
        format!("git=\"https://github.com/acme/svcc\" rev=\"{rev}\""),
        format!("action=\"acme/svcc\" rev=\"{rev}\""),
    ];
    let dir = temp("install-forms");
    for (i, form) in forms.iter().enumerate() {
        let spec = format!(
            "service api{i} {{\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n    environment staging\n    environment production\n    pipeline node=20 {{\n        install-svcc {form}\n    }}\n}}\n"
        );
        let opts = svcc::Options { image_tag: Some("1.0.0".into()), require_tag: true, ..svcc::Options::default() };
        let c = common::compile_str(&format!("api{i}.kdl"), &spec, &opts);
        assert!(!c.has_errors(), "{form}: {:?}", c.diagnostics);
        let workflows: Vec<svcc::emit::Artifact> =
            c.artifacts.into_iter().filter(|a| a.path.contains("/.github/workflows/")).collect();
        assert_eq!(workflows.len(), 1, "{form}");
        write_tree(&dir, &workflows);
    }
    let (ok, report) = validate(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok && report.contains("3 passed, 0 failed"), "{report}");
}

/// svcc's own workflows (`.github/workflows/*.yml`: CI and the release)
/// pass the oracle like the generated ones. The oracle reads any other
/// YAML file as a Kubernetes object, so the composite action (`action.yml`)
/// is checked here with the tools that know actions: zizmor, the action
/// metadata schema, and shellcheck on each of its scripts. actionlint
/// reads `action.yml` too, through the CI workflow's `uses: ./` (an output
/// the action does not declare is an error there).
#[test]
fn repository_workflows_and_action_pass_the_oracle() {
    if skip() {
        return;
    }
    let root = common::root();
    let workflows = common::files(".github/workflows", "yml");
    assert!(workflows.len() >= 2, "{workflows:?}");
    let o = Command::new(oracle_dir().join("validate")).args(&workflows).output().expect("run the oracle");
    let report = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{report}");
    assert!(report.contains(&format!("{} passed, 0 failed", workflows.len())), "{report}");
    let ci = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).unwrap();
    assert!(ci.contains("uses: ./ "), "CI no longer runs the action: actionlint would not read action.yml");

    let action = root.join("action.yml");
    let bin = oracle_home().join("venv/bin");
    let run = |cmd: &mut Command| {
        let o = cmd.output().expect("run a validator: install the oracle with ../shared/oracle/install");
        assert!(
            o.status.success(),
            "{cmd:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(Command::new(bin.join("zizmor")).args(["--offline", "--no-progress"]).arg(&action));
    run(Command::new(bin.join("check-jsonschema")).args(["--builtin-schema", "vendor.github-actions"]).arg(&action));
    let text = std::fs::read_to_string(&action).unwrap();
    let doc = svcc::emit::parse_documents(&text).unwrap().remove(0);
    let dir = temp("action-scripts");
    let mut scripts = Vec::new();
    for (i, step) in doc["runs"]["steps"].as_array().unwrap().iter().enumerate() {
        if let Some(script) = step["run"].as_str() {
            assert_eq!(step["shell"], "bash", "step {i} of action.yml");
            let p = dir.join(format!("step-{i}.sh"));
            std::fs::write(&p, format!("#!/usr/bin/env bash\n{script}")).unwrap();
            scripts.push(p);
        }
    }
    assert!(!scripts.is_empty());
    run(Command::new(bin.join("shellcheck")).arg("--severity=style").args(&scripts));
    let _ = std::fs::remove_dir_all(&dir);
}
