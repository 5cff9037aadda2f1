//! The `gitops` block with the real binary: the folders that span services
//! (`_env.ENV/`, `_argocd/`, `_flux/`) are written by full builds only,
//! stay out of a `deploy/*/*` glob, are compared and pruned like the
//! environment folders, and services that disagree on them write nothing.

use super::{Repo, code, stderr, stdout};

const DEFAULTS: &str = "\
defaults {
    gitops argocd {
        repo \"https://github.com/acme/deploy.git\" revision=\"main\"
        cluster production \"prod-eu\"
    }
}
";

fn service(name: &str, extra: &str) -> String {
    format!(
        "service {name} {{\n    image \"ghcr.io/acme/{name}\" tag=\"1.0.0\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n{extra}    environment staging\n    environment production\n}}\n"
    )
}

/// A repository with two services under the Argo CD defaults above.
fn two_services(tag: &str) -> Repo {
    let r = Repo::new(tag);
    r.write("_defaults.kdl", DEFAULTS);
    r.write("services/api/service.kdl", &service("api", PIPELINE));
    r.write("services/web/service.kdl", &service("web", ""));
    r
}

/// A pipeline, so that `deploy/api/pipeline` sits beside the environments.
const PIPELINE: &str = "    pipeline node=20 {\n        install-svcc git=\"https://git.example.com/svcc\" rev=\"0123456789abcdef0123456789abcdef01234567\"\n        deploy staging\n        deploy production\n    }\n";

/// The folders two levels below `deploy/`, as a `deploy/*/*` glob sees them.
fn depth_two(r: &Repo) -> Vec<String> {
    let mut out = Vec::new();
    for top in std::fs::read_dir(r.path().join("deploy")).unwrap() {
        let top = top.unwrap();
        if !top.file_type().unwrap().is_dir() {
            continue;
        }
        for sub in std::fs::read_dir(top.path()).unwrap() {
            let sub = sub.unwrap();
            if sub.file_type().unwrap().is_dir() {
                out.push(format!("{}/{}", top.file_name().to_string_lossy(), sub.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn full_builds_write_the_shared_folders_out_of_the_services_glob() {
    let r = two_services("engines-layout");
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A `deploy/*/*` glob would take `api/pipeline` for an environment; the
    // list generator names exactly the environment folders.
    assert_eq!(depth_two(&r), ["api/pipeline", "api/production", "api/staging", "web/production", "web/staging"]);
    let set = r.read("deploy/_argocd/applicationset-svcc.yaml");
    let paths: Vec<&str> = set.lines().filter_map(|l| l.trim().strip_prefix("path: ")).collect();
    assert_eq!(
        paths,
        ["deploy/api/staging", "deploy/api/production", "deploy/web/staging", "deploy/web/production", "\"{{.path}}\""],
        "{set}"
    );
    assert!(!set.contains("pipeline"), "{set}");
    let root = r.read("deploy/_env.production/kustomization.yaml");
    assert!(root.contains("- namespace-production.yaml\n- ../api/production\n- ../web/production\n"), "{root}");
    for folder in ["_argocd", "_env.production", "_env.staging"] {
        assert!(r.path().join("deploy").join(folder).join(".svcc-owned").is_file(), "{folder}");
    }
    r.commit("output");
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune", "--check"])), 0);

    // A build of one service cannot know the others: the shared folders
    // stay as they are, and it says why.
    r.write("services/web/service.kdl", &service("web", "    replicas 3\n"));
    let o = r.svcc(&["build", "services/web", "-o", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("only by builds that own all of `deploy`: add `--prune`"), "{}", stderr(&o));
    assert_eq!(r.read("deploy/_env.production/kustomization.yaml"), root);
    // Without --prune, --check neither compares them nor calls them stale.
    let o = r.svcc(&["build", "services", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(!stderr(&o).contains("not built by these specs"), "{}", stderr(&o));

    // A service gone: --check --prune lists its shared entries, the build
    // rewrites them, and svcc diff shows the Application going.
    std::fs::remove_dir_all(r.path().join("services/web")).unwrap();
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune", "--check"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("changed  deploy/_argocd/applicationset-svcc.yaml"), "{}", stdout(&o));
    assert!(stdout(&o).contains("changed  deploy/_env.production/kustomization.yaml"), "{}", stdout(&o));
    let o = r.svcc(&["diff", "services", "-o", "deploy", "--prune"]);
    assert!(stdout(&o).contains("~ ApplicationSet/argocd/svcc"), "{}", stdout(&o));
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune"])), 0);
    assert!(!r.read("deploy/_env.production/kustomization.yaml").contains("web"));

    // The block gone: --prune removes the shared folders.
    r.write("_defaults.kdl", "defaults { }\n");
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune"])), 0);
    for folder in ["_argocd", "_env.production", "_env.staging"] {
        assert!(!r.path().join("deploy").join(folder).exists(), "{folder} was not pruned");
    }
}

#[test]
fn services_that_disagree_on_a_shared_object_write_nothing() {
    let r = two_services("engines-conflict");
    r.write("services/web/service.kdl", &service("web", "    gitops { sync prune=#false }\n"));
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("SVC0353"), "{err}");
    assert!(err.contains("services `api` (services/api/service.kdl) and `web` (services/web/service.kdl)"), "{err}");
    assert!(err.contains("ApplicationSet `svcc` different `gitops.sync`"), "{err}");
    assert!(!r.path().join("deploy").exists(), "a failed build wrote something");
    // Sync options are the ApplicationSet's too.
    r.write("services/web/service.kdl", &service("web", "    gitops { sync-options \"ServerSideApply=true\" }\n"));
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("different `gitops.sync-options`: [] and [ServerSideApply=true]"), "{}", stderr(&o));
    // An ApplicationSet of its own settles it.
    r.write("services/web/service.kdl", &service("web", "    gitops { name \"web\"; sync prune=#false }\n"));
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(r.read("deploy/_argocd/applicationset-web.yaml").contains("preserveResourcesOnDeletion: true"));
    r.write(
        "services/web/service.kdl",
        &service("web", "    gitops { name \"web\"; sync-options \"ServerSideApply=true\" \"PruneLast=true\" }\n"),
    );
    assert_eq!(code(&r.svcc(&["build", "services", "-o", "deploy", "--prune"])), 0);
    let web = r.read("deploy/_argocd/applicationset-web.yaml");
    assert!(
        web.contains(
            "syncOptions:\n        - CreateNamespace=true\n        - ServerSideApply=true\n        - PruneLast=true\n"
        ),
        "{web}"
    );
    assert!(!r.read("deploy/_argocd/applicationset-svcc.yaml").contains("ServerSideApply"));
    // Two engines would both apply the roots.
    r.write("services/web/service.kdl", &service("web", "    gitops flux { source \"deploy\" }\n"));
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0353") && stderr(&o).contains("`gitops`: argocd and flux"), "{}", stderr(&o));
}

#[test]
fn outside_a_git_repository_the_path_is_written_out() {
    let r = two_services("engines-nogit");
    std::fs::remove_dir_all(r.path().join(".git")).unwrap();
    // Outside a repository, the folder named is the root the defaults are read up to.
    let o = r.svcc(&["build", ".", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0350") && stderr(&o).contains("add `path \"deploy\"`"), "{}", stderr(&o));
    r.write(
        "_defaults.kdl",
        &DEFAULTS.replace("revision=\"main\"", "revision=\"main\"\n        path \"gitops/deploy\""),
    );
    let o = r.svcc(&["build", ".", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(r.read("deploy/_argocd/applicationset-svcc.yaml").contains("path: gitops/deploy/api/staging\n"));
}

#[test]
fn flux_applies_each_environment_root() {
    let r = two_services("engines-flux");
    r.write(
        "_defaults.kdl",
        "defaults {\n    gitops flux {\n        source \"deploy\"\n        cluster production \"prod-eu-kubeconfig\"\n    }\n}\n",
    );
    let o = r.svcc(&["build", "services", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let k = r.read("deploy/_flux/kustomization-svcc-production.yaml");
    assert!(k.contains("path: ./deploy/_env.production\n"), "{k}");
    assert!(k.contains("secretRef:\n      name: prod-eu-kubeconfig\n"), "{k}");
    assert_eq!(
        r.read("deploy/_flux/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- kustomization-svcc-production.yaml\n- kustomization-svcc-staging.yaml\n"
    );
    // svcc diff sees Flux Kustomizations as objects.
    std::fs::remove_dir_all(r.path().join("deploy/_flux")).unwrap();
    let o = r.svcc(&["diff", "services", "-o", "deploy", "--prune"]);
    assert!(stdout(&o).contains("+ Kustomization/flux-system/svcc-production"), "{}{}", stdout(&o), stderr(&o));
}
