//! A repository's life, end to end, on a copy of `examples/monorepo` (org
//! defaults, a local preset, standard-library presets) in a temporary git
//! repository: the shipped `.pre-commit-hooks.yaml` run by the real
//! pre-commit, and after each change (a service added, changed, a port
//! renamed, a service and an environment deleted, a tag bumped) `check`,
//! `build --check`, `build --prune`, `diff --ref HEAD --prune` and the hooks
//! report exactly what the build then changes in `deploy/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{Repo, code, common, stderr, stdout};

/// The pre-commit `.ci/run` installs (pinned), or one on PATH. Without CI
/// the tests that need it are skipped when it is missing; in CI it must be there.
fn pre_commit() -> Option<PathBuf> {
    let venv = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/svcc-tools/pre-commit-4.7.0/bin/pre-commit"))
        .filter(|p| p.exists());
    let found = match Command::new("pre-commit").arg("--version").output() {
        Ok(o) if o.status.success() => Some(PathBuf::from("pre-commit")),
        _ => venv,
    };
    if found.is_none() && std::env::var_os("CI").is_some() {
        panic!("pre-commit is not installed: `.ci/run` installs it (pre-commit==4.7.0)");
    }
    found
}

/// The arguments the output hook gets in the recommended layout.
const BUILD_ARGS: &[&str] = &["services/", "-o", "deploy/", "--prune", "--image-tags", "image-tags.txt"];

/// A copy of the monorepo example with its output and a tags file
/// committed, and the shipped hooks configured.
struct Mono {
    repo: Repo,
    hooks: Repo,
    /// `None` for the tests that do not run the hooks.
    pre_commit: Option<PathBuf>,
}

impl Mono {
    fn new(tag: &str, pre_commit: Option<PathBuf>) -> Mono {
        let hooks = Repo::new(&format!("{tag}-hooks"));
        let shipped = std::fs::read_to_string(common::root().join(".pre-commit-hooks.yaml")).unwrap();
        hooks.write(".pre-commit-hooks.yaml", &shipped);
        hooks.commit("hooks");
        let sha = stdout(&hooks.git(&["rev-parse", "HEAD"])).trim().to_string();
        let repo = Repo::new(tag);
        let example = common::root().join("examples/monorepo");
        for f in common::files("examples/monorepo", "kdl") {
            let rel = f.strip_prefix(&example).unwrap().to_string_lossy().into_owned();
            repo.write(&rel, &std::fs::read_to_string(&f).unwrap());
        }
        repo.write(
            "image-tags.txt",
            "# service tag (CI updates this file)\ncheckout 3.2.1\nledger 0.14.2\nmailer 1.8.0\n",
        );
        repo.write(
            ".pre-commit-config.yaml",
            &format!(
                "repos:\n  - repo: {}\n    rev: {sha}\n    hooks:\n      - id: svcc-check\n      - id: svcc-fmt\n      - id: svcc-output-current\n        args: [{}]\n",
                hooks.path().display(),
                BUILD_ARGS.join(", ")
            ),
        );
        let m = Mono { repo, hooks, pre_commit };
        m.build(&[]);
        m.repo.commit("initial output");
        if m.pre_commit.is_some() {
            let o = m.hooks_run(&["--all-files"]);
            assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        }
        m
    }

    fn svcc(&self, args: &[&str]) -> Output {
        self.repo.svcc(args)
    }

    /// `svcc build` with the recommended arguments and `extra`.
    fn build(&self, extra: &[&str]) -> Output {
        let args: Vec<&str> = ["build"].iter().chain(BUILD_ARGS).chain(extra).copied().collect();
        let o = self.svcc(&args);
        if !extra.contains(&"--check") {
            assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        }
        o
    }

    /// `pre-commit run` with svcc on PATH, after staging everything.
    fn hooks_run(&self, args: &[&str]) -> Output {
        self.repo.git(&["add", "-A"]);
        let bin = Path::new(env!("CARGO_BIN_EXE_svcc")).parent().unwrap().to_path_buf();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        Command::new(self.pre_commit.as_ref().expect("pre-commit"))
            .args(["run", "--color", "never"])
            .args(args)
            .current_dir(self.repo.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", self.hooks.path().join(".pre-commit-home"))
            .output()
            .expect("run pre-commit")
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.repo.read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        self.repo.write(rel, &text.replacen(from, to, 1));
    }
}

/// `status path` lines of a `build --check` report.
fn listed(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// What changed under `deploy/` since HEAD, as `status path` lines
/// (hand-written `extra/` files included).
fn git_changes(r: &Repo) -> Vec<String> {
    r.git(&["add", "-A"]);
    let o = r.git(&["diff", "--cached", "--name-status", "--no-renames", "HEAD", "--", "deploy"]);
    let mut out: Vec<String> = stdout(&o)
        .lines()
        .filter(|l| !l.ends_with("/.svcc-owned"))
        .map(|l| {
            let (status, path) = l.split_once('\t').unwrap();
            let status = match status {
                "A" => "added",
                "D" => "removed",
                _ => "changed",
            };
            format!("{status} {path}")
        })
        .collect();
    out.sort();
    out
}

/// The objects of a YAML file's text, as `Kind/namespace/name`.
fn objects(path: &str, text: &str) -> Vec<String> {
    let docs = svcc::emit::parse_documents(text).unwrap();
    docs.into_iter()
        .filter_map(|value| svcc::diff::Manifest { path: path.to_string(), value }.key())
        .map(|k| k.to_string())
        .collect()
}

/// The object lines `svcc diff` should print for the file changes
/// `changes`: `+` for objects of added files, `-` of removed ones, `~` of
/// changed ones.
fn expected_objects(r: &Repo, changes: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in changes {
        let (status, path) = c.split_once(' ').unwrap();
        let (sign, text) = match status {
            "added" => ('+', r.read(path)),
            "removed" => ('-', stdout(&r.git(&["show", &format!("HEAD:{path}")]))),
            _ => ('~', r.read(path)),
        };
        out.extend(objects(path, &text).into_iter().map(|o| format!("{sign} {o}")));
    }
    out
}

/// One change to the repository, verified with every tool; returns the
/// `svcc diff --ref HEAD --prune` output for the step's own assertions.
fn step(m: &Mono, what: &str, expect: &[&str]) -> String {
    let r = &m.repo;
    let o = m.svcc(&["check", "."]);
    assert_eq!(code(&o), 0, "{what}: check: {}", stderr(&o));
    // The drift check lists what the build will change…
    let o = m.build(&["--check"]);
    assert_eq!(code(&o), 1, "{what}: {}{}", stdout(&o), stderr(&o));
    let mut predicted = listed(&o);
    predicted.sort();
    for e in expect {
        assert!(predicted.iter().any(|p| p.starts_with(e)), "{what}: nothing listed as {e:?}: {predicted:?}");
    }
    let shown: Vec<String> = predicted.iter().map(|p| p.replacen("deploy/", "", 1)).collect();
    // …and so does the output hook.
    let o = m.hooks_run(&[]);
    assert_eq!(code(&o), 1, "{what}: {}", stdout(&o));
    assert!(stdout(&o).contains("svcc build --check") && stdout(&o).contains("Failed"), "{what}: {}", stdout(&o));
    for p in &predicted {
        let (status, path) = p.split_once(' ').unwrap();
        assert!(stdout(&o).contains(&format!("{status:<8} {path}")), "{what}: hook lacks {p}: {}", stdout(&o));
    }
    // The build changes exactly that (the hand-written files are the user's).
    m.build(&[]);
    let all = git_changes(r);
    let actual: Vec<String> = all.iter().filter(|c| !c.contains("/extra/")).cloned().collect();
    assert_eq!(predicted, actual, "{what}: --check listed {shown:?}");
    assert_eq!(code(&m.build(&["--check"])), 0, "{what}: still stale after the build");
    // The semantic diff against the last commit names exactly the objects
    // of those files.
    let diff_args: Vec<&str> = ["diff"].iter().chain(BUILD_ARGS).chain(&["--ref", "HEAD"]).copied().collect();
    let o = m.svcc(&diff_args);
    assert!(matches!(code(&o), 0 | 3), "{what}: {}", stderr(&o));
    let out = stdout(&o);
    let reported: BTreeSet<String> = out
        .lines()
        .filter(|l| l.starts_with(['+', '-', '~']))
        .map(|l| l.split(" (").next().unwrap().to_string())
        .collect();
    assert_eq!(reported, expected_objects(r, &all), "{what}:\n{out}");
    let o = m.hooks_run(&[]);
    assert_eq!(code(&o), 0, "{what}: {}{}", stdout(&o), stderr(&o));
    r.commit(what);
    out
}

const NOTIFIER: &str = "\
// A small HTTP service of its own.
service notifier {
    image \"ghcr.io/acme/notifier\" tag=\"0.1.0\"
    port http 8080
    probes { readiness \"/ready\" }
    labels { team \"growth\" }
    environment staging { replicas 1 }
    environment production { replicas 2 }
}
";

#[test]
fn a_repository_lifecycle_reports_exactly_what_changes() {
    let Some(pc) = pre_commit() else { return };
    let m = Mono::new("lifecycle", Some(pc));
    let r = &m.repo;

    r.write("services/notifier/service.kdl", NOTIFIER);
    r.write("image-tags.txt", &format!("{}notifier 0.1.0\n", r.read("image-tags.txt")));
    let out = step(
        &m,
        "add a service",
        &[
            "added deploy/notifier/production/deployment-notifier.yaml",
            "changed deploy/_argocd/applicationset-svcc.yaml",
        ],
    );
    // The org defaults' `gitops` block: the new service joins the
    // ApplicationSet and its environments' roots; their `network` block
    // gives it a NetworkPolicy per environment.
    assert!(out.contains("9 added, 0 removed, 1 changed; 0 breaking"), "{out}");
    assert!(out.contains("+ NetworkPolicy/staging/notifier"), "{out}");
    assert!(out.contains("~ ApplicationSet/argocd/svcc"), "{out}");
    assert!(r.read("deploy/_env.production/kustomization.yaml").contains("- ../notifier/production\n"));

    // A hand-written object beside the generated ones: listed in the
    // kustomization, kept by every later build, never reported as removed.
    r.write(
        "deploy/checkout/production/extra/ingress.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: checkout\n  namespace: production\nspec:\n  defaultBackend:\n    service:\n      name: checkout\n      port:\n        name: http\n",
    );
    let out = step(&m, "add an extra object", &["changed deploy/checkout/production/kustomization.yaml"]);
    assert!(out.contains("+ Ingress/production/checkout"), "{out}");
    assert!(r.read("deploy/checkout/production/kustomization.yaml").contains("- extra/ingress.yaml\n"));

    m.edit("services/checkout/service.kdl", "PAYMENT_PROVIDER \"stripe\"", "PAYMENT_PROVIDER \"adyen\"");
    step(&m, "change a service", &["changed deploy/checkout/staging/deployment-checkout.yaml"]);
    assert!(r.read("deploy/checkout/production/extra/ingress.yaml").contains("kind: Ingress"));

    m.edit("services/notifier/service.kdl", "port http 8080", "port web 8080");
    let out = step(&m, "rename a port", &["changed deploy/notifier/staging/service-notifier.yaml"]);
    let port = out.lines().find(|l| l.contains("[removed-port]")).unwrap_or_else(|| panic!("{out}"));
    assert!(port.contains("Deployment/staging/notifier") || port.contains("Deployment/production/notifier"), "{out}");
    assert!(!out.lines().filter(|l| l.contains("[removed-port]")).any(|l| l.contains("checkout")), "{out}");

    std::fs::remove_dir_all(r.path().join("services/mailer")).unwrap();
    // Without --prune, --check says the folders are no longer built, and passes.
    let o = m.svcc(&["build", "services/", "-o", "deploy/", "--image-tags", "image-tags.txt", "--check"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("deploy/mailer/production") && stderr(&o).contains("--prune"), "{}", stderr(&o));
    let out = step(
        &m,
        "delete a service",
        &[
            "removed deploy/mailer/staging/deployment-mailer.yaml",
            "removed deploy/_argocd/application-mailer-staging.yaml",
        ],
    );
    assert!(out.contains("- Deployment/production/mailer"), "{out}");
    assert!(out.contains("- Application/argocd/mailer-production"), "{out}");
    assert!(!r.path().join("deploy/mailer").exists(), "the service folder is gone");

    // Calls stay within their environment (SVC0705): checkout calls the
    // ledger in production only before the ledger's staging goes.
    m.edit("services/checkout/service.kdl", "        calls ledger port=grpc\n", "");
    m.edit(
        "services/checkout/service.kdl",
        "    environment production {\n",
        "    environment production {\n        network { calls ledger port=grpc }\n",
    );
    m.edit("services/ledger/service.kdl", "    environment staging { autoscale min=1 max=2 }\n", "");
    step(
        &m,
        "delete an environment",
        &[
            "removed deploy/ledger/staging/deployment-ledger.yaml",
            "changed deploy/checkout/staging/networkpolicy-checkout.yaml",
        ],
    );
    assert!(!r.path().join("deploy/ledger/staging").exists());

    m.edit("image-tags.txt", "ledger 0.14.2", "ledger 0.15.0");
    let out = step(&m, "bump a tag", &["changed deploy/ledger/production/deployment-ledger.yaml"]);
    assert!(out.contains("ghcr.io/acme/ledger:0.14.2\" -> \"ghcr.io/acme/ledger:0.15.0\""), "{out}");
    assert!(out.starts_with("~ Deployment/production/ledger"), "only the one Deployment changes:\n{out}");
}

/// The shipped hooks on the recommended layout: `svcc-check` takes the
/// changed preset and defaults files (and checks the services they
/// change), `svcc-fmt` formats them, and good and bad changes to a
/// service, a preset and the defaults file pass or fail for the right
/// reason.
#[test]
fn pre_commit_hooks_check_services_presets_and_org_defaults() {
    let Some(pc) = pre_commit() else { return };
    let m = Mono::new("hooks-roles", Some(pc));
    let r = &m.repo;
    let failed = |o: &Output, hook: &str, text: &str| {
        assert_eq!(code(o), 1, "{}", stdout(o));
        let out = stdout(o);
        let section = out.split(hook).nth(1).unwrap_or_else(|| panic!("no {hook}:\n{out}"));
        assert!(section.trim_start_matches('.').starts_with("Failed"), "{hook} did not fail:\n{out}");
        assert!(out.contains(text), "{hook}: no {text:?} in:\n{out}");
    };
    let restore = |rel: &str| {
        r.git(&["checkout", "-q", "HEAD", "--", rel]);
    };
    // Bad: a preset naming a port no service using it has.
    m.edit("presets/public-api.kdl", "metrics {", "metrics port=admin {");
    let o = m.hooks_run(&[]);
    failed(&o, "svcc check", "SVC0302");
    assert!(stdout(&o).contains("service `checkout`"), "{}", stdout(&o));
    restore("presets/public-api.kdl");
    // Bad: the defaults file holds an unknown setting.
    m.edit("_defaults.kdl", "shutdown grace=\"40s\"", "shutdwn grace=\"40s\"");
    failed(&m.hooks_run(&[]), "svcc check", "SVC0202");
    restore("_defaults.kdl");
    // Bad: a service refers to a preset file that is not there.
    m.edit("services/checkout/service.kdl", "public-api.kdl", "public-apis.kdl");
    failed(&m.hooks_run(&[]), "svcc check", "cannot read preset");
    restore("services/checkout/service.kdl");
    // A badly laid out preset: only fmt fails.
    m.edit("presets/public-api.kdl", "    disruption-budget", "        disruption-budget");
    let o = m.hooks_run(&[]);
    failed(&o, "svcc fmt --check", "presets/public-api.kdl\nrun `svcc fmt` on them to fix");
    assert!(stdout(&o).contains("svcc check") && !stdout(&o).contains("SVC0"), "{}", stdout(&o));
    assert_eq!(code(&m.svcc(&["fmt", "presets/"])), 0);
    assert_eq!(code(&m.hooks_run(&[])), 0);
    // Good changes to the preset and the defaults file: the output is stale
    // until rebuilt, then everything passes.
    m.edit("presets/public-api.kdl", "\"example.com/exposure\" \"public\"", "\"example.com/exposure\" \"internet\"");
    m.edit("_defaults.kdl", "oncall.example.com/acme", "oncall.example.com/acme-platform");
    let o = m.hooks_run(&[]);
    failed(&o, "svcc build --check", "changed  deploy/checkout/production/deployment-checkout.yaml");
    assert!(stdout(&o).contains("changed  deploy/mailer/staging/deployment-mailer.yaml"), "{}", stdout(&o));
    m.build(&[]);
    let o = m.hooks_run(&[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// The `sh` block that follows `<!-- ci-recipe: NAME -->` in docs/gitops.md.
fn recipe(name: &str) -> String {
    let doc = std::fs::read_to_string(common::root().join("docs/gitops.md")).unwrap();
    let marker = format!("<!-- ci-recipe: {name} -->\n```sh\n");
    let start = doc.find(&marker).unwrap_or_else(|| panic!("no {name} recipe in docs/gitops.md")) + marker.len();
    doc[start..][..doc[start..].find("```").unwrap()].to_string()
}

/// The CI recipe of docs/gitops.md, as written there: the drift check
/// passes on committed output, the release step bumps one service's tag,
/// renders and commits, and the check passes again with nothing left over.
#[test]
fn the_documented_ci_recipe_passes() {
    let m = Mono::new("ci-recipe", None);
    let r = &m.repo;
    let bin = Path::new(env!("CARGO_BIN_EXE_svcc")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let run = |name: &str, vars: &[(&str, &str)]| {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &recipe(name)])
            .current_dir(r.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .envs(vars.iter().copied())
            .env("GIT_AUTHOR_NAME", "ci")
            .env("GIT_AUTHOR_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_NAME", "ci")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .output()
            .unwrap()
    };
    let o = run("check", &[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let sha = stdout(&r.git(&["rev-parse", "HEAD"])).trim().to_string();
    let o = run("release", &[("SERVICE", "ledger"), ("TAG", &sha)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&r.git(&["status", "--porcelain"])).is_empty(), "the release step left changes");
    let last = stdout(&r.git(&["show", "--stat", "--format=%s", "HEAD"]));
    assert!(last.starts_with(&format!("deploy ledger {sha}\n")), "{last}");
    assert!(
        last.contains("image-tags.txt") && last.contains("deploy/ledger/production/deployment-ledger.yaml"),
        "{last}"
    );
    assert!(!last.contains("checkout") && !last.contains("mailer"), "other services changed:\n{last}");
    assert!(r.read("deploy/ledger/staging/deployment-ledger.yaml").contains(&format!("ghcr.io/acme/ledger:{sha}")));
    let o = run("check", &[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // A new service, tagged for the first time, is added to the file.
    let o = run("release", &[("SERVICE", "notifier"), ("TAG", "0.1.0")]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(r.read("image-tags.txt").ends_with("notifier 0.1.0\n"));
    // A spec changed without rendering: the check fails.
    m.edit("services/mailer/service.kdl", "replicas 3", "replicas 4");
    let o = run("check", &[]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("changed  deploy/mailer/production/deployment-mailer.yaml"), "{}", stdout(&o));
}
