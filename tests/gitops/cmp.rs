//! svcc as an Argo CD config management plugin, run the way the repo
//! server runs a sidecar plugin's `generate` command: in the Application's
//! source path of a copy of the repository without `.git` (the repo server
//! may leave it out of what it sends the plugin), with the build
//! environment and the Application's `plugin.env` (as `ARGOCD_ENV_*`) set;
//! the objects on stdout, nothing written, and on an error nothing on
//! stdout, a message on stderr and a non-zero exit.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use super::{code, common, stderr, stdout};

/// A copy of `examples/monorepo`, as the repo server sends it: no `.git`.
struct Checkout(std::path::PathBuf);

impl Checkout {
    fn new(tag: &str) -> Checkout {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("svcc-cmp-{tag}-{}-{nanos}", std::process::id()));
        let example = common::root().join("examples/monorepo");
        for f in common::files("examples/monorepo", "kdl") {
            let to = dir.join(f.strip_prefix(&example).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
        }
        Checkout(dir)
    }

    /// Every file with its contents and modification time.
    fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        common::files_under(&self.0)
            .into_iter()
            .map(|p| {
                let meta = std::fs::metadata(&p).unwrap();
                (p.display().to_string(), (std::fs::read(&p).unwrap(), meta.modified().unwrap()))
            })
            .collect()
    }

    /// `svcc cmp generate` in `path` (the Application's `spec.source.path`),
    /// with the build environment of Application `app` and `plugin_env`.
    fn generate(&self, path: &str, app: &str, namespace: &str, plugin_env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_svcc"));
        cmd.args(["cmp", "generate"]).current_dir(self.0.join(path)).env("NO_COLOR", "1");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ARGOCD_")) {
            cmd.env_remove(k);
        }
        cmd.env("ARGOCD_APP_NAME", app)
            .env("ARGOCD_APP_NAMESPACE", namespace)
            .env("ARGOCD_APP_PROJECT_NAME", "acme")
            .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
            .env("ARGOCD_APP_SOURCE_PATH", path)
            .env("ARGOCD_APP_SOURCE_REPO_URL", "https://github.com/acme/deploy.git")
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("KUBE_VERSION", "1.33.0");
        for (k, v) in plugin_env {
            cmd.env(format!("ARGOCD_ENV_{k}"), v);
        }
        cmd.output().expect("run svcc cmp generate")
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `svcc build --env ENV` prints for one of the example's services.
fn built(service: &str, env: &str, tag: Option<&str>) -> String {
    let path = common::root().join(format!("examples/monorepo/services/{service}/service.kdl"));
    let opts = svcc::Options {
        environments: vec![env.to_string()],
        require_tag: true,
        service_tags: tag.map(|t| BTreeMap::from([(service.to_string(), t.to_string())])).unwrap_or_default(),
        ..svcc::Options::default()
    };
    let c = common::compile_file(&path, &opts);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    svcc::emit::stream(&c.artifacts)
}

#[test]
fn generate_prints_the_environment_as_the_repo_server_asks_and_writes_nothing() {
    let repo = Checkout::new("generate");
    let before = repo.snapshot();
    let env = [("SVCC_ENVIRONMENT", "production")];
    let o = repo.generate("services/checkout", "checkout-production", "production", &env);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), built("checkout", "production", None));
    assert!(stdout(&o).contains("kind: Deployment\n") && stdout(&o).contains("namespace: production\n"));
    // The org defaults above the Application's path applied without `.git`:
    // the root is the current folder without ARGOCD_APP_SOURCE_PATH.
    assert!(stdout(&o).contains("example.com/org: acme"), "{}", stdout(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // The image tags the Application names: one pair, or a tags file from
    // the repository root.
    let tagged = [("SVCC_ENVIRONMENT", "staging"), ("SVCC_IMAGE_TAG", "checkout=4.0.0 ledger=9.9.9")];
    let o = repo.generate("services/checkout", "checkout-staging", "staging", &tagged);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), built("checkout", "staging", Some("4.0.0")));
    std::fs::write(repo.0.join("image-tags.txt"), "checkout 4.1.0\n").unwrap();
    let from_file = [("SVCC_ENVIRONMENT", "staging"), ("SVCC_IMAGE_TAGS", "image-tags.txt")];
    let o = repo.generate("services/checkout", "checkout-staging", "staging", &from_file);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), built("checkout", "staging", Some("4.1.0")));
    std::fs::remove_file(repo.0.join("image-tags.txt")).unwrap();
    assert_eq!(repo.snapshot(), before, "generate wrote into the repository");
}

#[test]
fn generate_fails_loudly_with_nothing_on_stdout() {
    let repo = Checkout::new("errors");
    let failing = |path: &str, app: &str, ns: &str, env: &[(&str, &str)], message: &str| {
        let o = repo.generate(path, app, ns, env);
        assert_ne!(code(&o), 0, "{path} {env:?}: {}", stdout(&o));
        assert!(stdout(&o).is_empty(), "an error must print no objects:\n{}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("Argo CD application `{app}`")), "{err}");
        assert!(err.contains(message), "{err}");
        assert!(!err.contains('\u{1b}') && !err.contains("\nlevel=info"), "{err:?}");
    };
    // Two environments and none named.
    failing("services/ledger", "ledger", "production", &[], "has 2 environments (staging, production)");
    // The environment's namespace is not the Application's destination.
    failing("services/ledger", "ledger", "ledger", &[("SVCC_ENVIRONMENT", "production")], "destination is `ledger`");
    // An environment the spec does not have.
    failing("services/ledger", "ledger", "production", &[("SVCC_ENVIRONMENT", "prod")], "SVC0903");
    // Hostile values from the Application: refused, and shown without
    // their control characters (a terminal escape, a forged log line).
    let hostile = [("SVCC_ENVIRONMENT", "prod\u{1b}[2J\nlevel=info msg=synced")];
    failing("services/ledger", "ledger", "production", &hostile, "no environment `prod\\u{1b}[2J\\nlevel=info");
    let hostile = [("SVCC_ENVIRONMENT", "production"), ("SVCC_IMAGE_TAG", "ledger=$(id)")];
    failing("services/ledger", "ledger", "production", &hostile, "ledger=$(id)");
    let o = repo.generate(
        "services/ledger",
        "ledger\u{1b}]0;x\u{7}",
        "prod\u{1b}[2J",
        &[("SVCC_ENVIRONMENT", "production")],
    );
    assert_ne!(code(&o), 0);
    assert!(stdout(&o).is_empty() && !stderr(&o).contains('\u{1b}'), "{:?}", stderr(&o));
    // A tags file outside the repository.
    let outside = [("SVCC_ENVIRONMENT", "production"), ("SVCC_IMAGE_TAGS", "../tags.txt")];
    failing("services/ledger", "ledger", "production", &outside, "not a path from the repository root");
    // A path without specs: an empty stream would let Argo CD prune everything.
    std::fs::create_dir_all(repo.0.join("docs")).unwrap();
    failing("docs", "docs", "production", &[], "no `*.kdl` spec in the Application's path");
    // A preset is not a service.
    failing("presets", "presets", "production", &[], "SVC0201");
    // A spec error, reported at the spec.
    let spec = repo.0.join("services/ledger/service.kdl");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("port grpc 9090", "port grpc 909090")).unwrap();
    let o = repo.generate("services/ledger", "ledger", "production", &[("SVCC_ENVIRONMENT", "production")]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).is_empty() && stderr(&o).contains("service.kdl:6:15"), "{}", stderr(&o));
}

/// `svcc cmp plugin` prints the shipped plugin.yaml: a ConfigManagementPlugin
/// with only the fields Argo CD documents, whose `generate` runs svcc's.
#[test]
fn the_plugin_definition_runs_svccs_generate() {
    let o = Command::new(env!("CARGO_BIN_EXE_svcc")).args(["cmp", "plugin"]).output().unwrap();
    assert_eq!(code(&o), 0);
    let shipped = std::fs::read_to_string(common::root().join("stdlib/argocd/plugin.yaml")).unwrap();
    assert_eq!(stdout(&o), shipped);
    let docs = svcc::emit::parse_documents(&shipped).unwrap();
    let [plugin] = docs.as_slice() else { panic!("one document") };
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["metadata"], serde_json::json!({ "name": "svcc" }));
    // docs/operator-manual/config-management-plugins.md (Argo CD 3.x).
    let documented = ["version", "init", "generate", "discover", "parameters", "preserveFileMode", "provideGitCreds"];
    let spec = plugin["spec"].as_object().unwrap();
    for key in spec.keys() {
        assert!(documented.contains(&key.as_str()), "spec.{key} is not a field Argo CD documents");
    }
    assert!(spec.get("version").is_none(), "a version would rename the plugin to svcc-VERSION");
    assert_eq!(plugin["spec"]["generate"]["command"], serde_json::json!(["svcc", "cmp", "generate"]));
    assert_eq!(plugin["spec"]["discover"], serde_json::json!({ "fileName": "*.kdl" }));
}
