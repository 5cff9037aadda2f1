//! The GitOps workflow end to end, with the real binary in temporary git
//! repositories: drift check (`build --check`), semantic diff against a
//! folder or a git revision, `fmt`, the pre-commit hooks, provenance
//! (`explain KIND/NAME POINTER FILE`), completions and the man page; in
//! `gitops/lifecycle.rs`, the real pre-commit hooks and a repository's
//! life (services added, changed, deleted; tags bumped) end to end; in
//! `gitops/engines.rs`, the folders a `gitops` block adds; in
//! `gitops/cmp.rs`, svcc as an Argo CD config management plugin.

mod common;
#[path = "gitops/cmp.rs"]
mod cmp;
#[path = "gitops/engines.rs"]
mod engines;
#[path = "gitops/lifecycle.rs"]
mod lifecycle;
#[path = "gitops/options.rs"]
mod options;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn svcc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run svcc")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary git repository, removed on drop.
struct Repo(PathBuf);

impl Repo {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("svcc-gitops-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        let r = Repo(p);
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn git(&self, args: &[&str]) -> Output {
        let o = Command::new("git")
            .args(["-c", "user.name=svcc test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("run git");
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
        o
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.0.join(rel)).unwrap()
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn svcc(&self, args: &[&str]) -> Output {
        svcc_in(&self.0, args)
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn example(name: &str) -> String {
    std::fs::read_to_string(common::root().join("examples").join(name).join("service.kdl")).unwrap()
}

/// A repository with the minimal example as `service.kdl` and its output
/// committed under `deploy/`.
fn repo_with_output(tag: &str) -> Repo {
    let r = Repo::new(tag);
    r.write("service.kdl", &example("minimal"));
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    r.commit("initial output");
    r
}

// ---------------------------------------------------------------------------
// build --check

#[test]
fn check_passes_on_current_output_and_writes_nothing() {
    let r = repo_with_output("check-ok");
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(r.read("deploy/hello/default/kustomization.yaml").contains("kind: Kustomization"));
}

#[test]
fn stale_output_is_detected_and_every_file_listed() {
    let r = repo_with_output("check-stale");
    // A new tag changes the workload only (the version label is on it
    // alone); a stray file would be removed; a deleted file re-added.
    r.write("service.kdl", &example("minimal").replace("tag=\"1.0.0\"", "tag=\"1.0.1\""));
    r.write("deploy/hello/default/stray.yaml", "kind: ConfigMap\n");
    std::fs::remove_file(r.path().join("deploy/hello/default/service-hello.yaml")).unwrap();
    let before = r.git(&["status", "--porcelain"]).stdout;
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "deploy is out of date: 3 file(s) would change",
        "  changed  deploy/hello/default/deployment-hello.yaml",
        "  added    deploy/hello/default/service-hello.yaml",
        "  removed  deploy/hello/default/stray.yaml",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert!(!out.contains("serviceaccount-hello.yaml"), "a tag bump changed the ServiceAccount:\n{out}");
    assert!(!out.contains("kustomization.yaml"), "the kustomization did not change:\n{out}");
    // Nothing was written.
    assert_eq!(r.git(&["status", "--porcelain"]).stdout, before);
    // -v adds a unified diff per file.
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy", "--check", "-v"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains("--- a/hello/default/deployment-hello.yaml\n+++ b/hello/default/deployment-hello.yaml\n"),
        "{out}"
    );
    assert!(
        out.contains("-      - image: ghcr.io/acme/hello:1.0.0\n+      - image: ghcr.io/acme/hello:1.0.1\n"),
        "{out}"
    );
    // Building fixes it.
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy"])), 0);
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"])), 0);
}

#[test]
fn check_needs_an_output_folder_and_a_valid_spec() {
    let r = repo_with_output("check-usage");
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "--check"])), 2);
    r.write("service.kdl", "service hello {\n    imag \"x\"\n}\n");
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0202"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------
// diff

/// The Deployment of a chart the team used before svcc: same name, but the
/// selector is the chart's `app: hello`.
const HELM_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: 2
  selector:
    matchLabels:
      app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      containers:
      - name: hello
        image: ghcr.io/acme/hello:0.9.0
";

#[test]
fn no_changes_exit_zero() {
    let r = repo_with_output("diff-none");
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "no changes\n");
}

#[test]
fn selector_change_is_flagged_as_breaking() {
    let r = repo_with_output("diff-selector");
    r.write("deploy/hello/default/deployment-hello.yaml", HELM_DEPLOYMENT);
    r.commit("what the chart rendered");
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy"]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("~ Deployment/hello (hello/default/deployment-hello.yaml)\n"), "{out}");
    assert!(
        out.contains("! breaking [immutable-field] /spec/selector: `spec.selector` of a Deployment is immutable"),
        "{out}"
    );
    assert!(out.contains("    /spec/selector/matchLabels/app: \"hello\" -> (none)\n"), "{out}");
    assert!(
        out.contains(
            "/spec/template/spec/containers/0/image: \"ghcr.io/acme/hello:0.9.0\" -> \"ghcr.io/acme/hello:1.0.0\""
        ),
        "{out}"
    );
    // JSON: the same, for machines.
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy", "--format", "json"]);
    assert_eq!(code(&o), 3);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["breaking"], 1);
    assert_eq!(v["objects"][0]["object"]["kind"], "Deployment");
    assert_eq!(v["objects"][0]["breaking"][0]["kind"], "immutable-field");
    assert_eq!(v["objects"][0]["breaking"][0]["pointer"], "/spec/selector");
}

#[test]
fn diff_against_a_git_revision() {
    let r = repo_with_output("diff-ref");
    // Rebuild with an autoscaler: the committed output at HEAD still has
    // fixed replicas, the working tree is rebuilt.
    let spec = example("minimal").replace("    port http 8080\n", "    port http 8080\n    autoscale min=2 max=6\n");
    r.write("service.kdl", &spec);
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy"])), 0);
    // Against the working tree: nothing left to apply.
    assert_eq!(stdout(&r.svcc(&["diff", "service.kdl", "-o", "deploy"])), "no changes\n");
    // Against what is committed: the HPA is new and replicas change hands.
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy", "--ref", "HEAD"]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("+ HorizontalPodAutoscaler/hello (hello/default/horizontalpodautoscaler-hello.yaml)"),
        "{out}"
    );
    assert!(out.contains("! breaking [replicas-ownership] /spec/replicas:"), "{out}");
    assert!(out.contains("    /spec/replicas: 2 -> (none)\n"), "{out}");
    // An unknown revision is an I/O problem.
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy", "--ref", "no-such-rev"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0901"), "{}", stderr(&o));
}

#[test]
fn renamed_service_is_delete_plus_create_with_prune() {
    let r = repo_with_output("diff-rename");
    r.write("service.kdl", &example("minimal").replace("service hello", "service greeter"));
    let o = r.svcc(&["diff", "service.kdl", "-o", "deploy", "--prune"]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("- Deployment/hello (hello/default/deployment-hello.yaml)"), "{out}");
    assert!(out.contains("! breaking [rename] renamed to Deployment/greeter"), "{out}");
    assert!(out.contains("+ Deployment/greeter (greeter/default/deployment-greeter.yaml)"), "{out}");
}

// ---------------------------------------------------------------------------
// fmt

const COMMENTS: &str = "tests/fixtures/fmt/comments.kdl";

/// Every `//` and `/* */` comment of a spec, in order (a small scanner
/// independent of the formatter's lexer).
fn comment_texts(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"\"\"\"") {
            i += 3;
            while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                i += 1;
            }
            i += 3;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if b[i..].starts_with(b"//") {
            let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
            out.push(text[i..end].trim_end().to_string());
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (start, mut depth) = (i, 0);
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(text[start..i].to_string());
        } else {
            i += 1;
        }
    }
    out
}

fn fmt_text(text: &str) -> String {
    let mut d = svcc::diagnostic::Diagnostics::new();
    let out = svcc::format::format(text, &mut d);
    out.unwrap_or_else(|| panic!("fmt failed: {:?}", d.into_sorted()))
}

/// Every file a build writes (manifests and pipeline files; user templates
/// are read from disk next to `name`).
fn build_stream(name: &str, text: &str, opts: &svcc::Options) -> String {
    let input = svcc::Input { name: name.to_string(), bytes: text.as_bytes().to_vec() };
    let c = svcc::compile_with(&input, &[], &common::loader(), opts);
    assert!(!c.has_errors(), "{name}: {:?}", c.diagnostics);
    c.artifacts.iter().map(|a| format!("# {}\n{}", a.path, a.contents)).collect()
}

/// Lay a spec out badly without changing its meaning or its comments:
/// indentation stripped or replaced by tabs, spaces tripled between the
/// tokens of lines without strings or comments, trailing spaces, some
/// `\r\n` line ends. Lines inside multi-line strings and block comments
/// are left alone.
fn mangle(text: &str) -> String {
    let mut out = String::new();
    let (mut in_multiline, mut in_block) = (false, false);
    for (i, line) in text.lines().enumerate() {
        if in_multiline || in_block {
            out.push_str(line);
        } else {
            let body = line.trim_start();
            out.push_str(if i % 2 == 0 { "\t" } else { "" });
            if body.contains('"') || body.contains("//") || body.contains("/*") {
                out.push_str(body);
            } else {
                out.push_str(&body.replace(' ', "   "));
            }
            if !line.contains("\"\"\"") {
                out.push_str("   ");
            }
        }
        if line.matches("\"\"\"").count() % 2 == 1 {
            in_multiline = !in_multiline;
        }
        // Inside a block comment over several lines (the fixture's are not nested across lines).
        in_block = if in_block { !line.contains("*/") } else { line.contains("/*") && !line.contains("*/") };
        out.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
    }
    out
}

#[test]
fn fmt_is_idempotent_and_examples_are_formatted() {
    let mut files = common::files("examples", "kdl");
    files.push(common::root().join(COMMENTS));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let once = fmt_text(&text);
        assert_eq!(fmt_text(&once), once, "{}: fmt is not idempotent", path.display());
        assert_eq!(comment_texts(&once), comment_texts(&text), "{}: comments changed", path.display());
        if path.starts_with(common::root().join("examples")) {
            assert_eq!(once, text, "{}: the examples are kept formatted", path.display());
        }
    }
}

#[test]
fn fmt_keeps_the_meaning_of_every_example() {
    let mut files = common::files("examples", "kdl");
    files.push(common::root().join(COMMENTS));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let opts = common::example_options(&path);
        let mangled = mangle(&text);
        assert_ne!(mangled, text);
        let formatted = fmt_text(&mangled);
        let name = common::rel(&path);
        // Files of the monorepo example read presets and org defaults from
        // disk (or are such files): their layout is checked, their builds in
        // tests/compose.rs.
        if !name.starts_with("examples/monorepo/") {
            assert_eq!(build_stream(&name, &formatted, &opts), build_stream(&name, &text, &opts), "{name}");
            assert_eq!(build_stream(&name, &mangled, &opts), build_stream(&name, &text, &opts), "{name}");
        }
        assert_eq!(fmt_text(&text), formatted, "{name}: the layout does not depend on the input's");
    }
}

#[test]
fn fmt_comment_heavy_fixture_matches_snapshot() {
    let text = std::fs::read_to_string(common::root().join(COMMENTS)).unwrap();
    common::settings().bind(|| insta::assert_snapshot!("fmt__comments", fmt_text(&text)));
}

#[test]
fn fmt_cli_check_lists_and_fmt_rewrites() {
    let r = Repo::new("fmt");
    let messy = std::fs::read_to_string(common::root().join(COMMENTS)).unwrap();
    r.write("specs/a.kdl", &messy);
    r.write("specs/b.kdl", &example("minimal"));
    r.write("specs/bad.kdl", "service bad {\n");
    let o = r.svcc(&["fmt", "--check", "specs/a.kdl", "specs/b.kdl"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(stdout(&o), "1 file(s) not formatted:\n  specs/a.kdl\nrun `svcc fmt` on them to fix\n");
    assert_eq!(r.read("specs/a.kdl"), messy, "--check writes nothing");
    // A file that does not parse is reported and left alone.
    let o = r.svcc(&["fmt", "specs"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0101"), "{}", stderr(&o));
    assert_eq!(r.read("specs/bad.kdl"), "service bad {\n");
    assert_ne!(r.read("specs/a.kdl"), messy);
    let o = r.svcc(&["fmt", "--check", "specs/a.kdl", "specs/b.kdl"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(code(&r.svcc(&["fmt", "--check", "does-not-exist.kdl"])), 2);
}

/// Truncated and spliced specs (unterminated strings, comments, blocks)
/// never make `fmt` panic, and whatever it formats still means the same.
/// `fmt` never writes through a symlinked spec (the file it points to is
/// left as it was), and replaces a spec atomically, keeping its
/// permissions and leaving no temporary file.
#[cfg(unix)]
#[test]
fn fmt_does_not_write_through_links_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let r = Repo::new("fmt-link");
    let messy = "service   hello {\n  image \"ghcr.io/acme/hello\" tag=\"1.0.0\"\n}\n";
    let outside = Repo::new("fmt-link-outside");
    outside.write("target.kdl", messy);
    // A link out of the repository is not even read (docs/security.md, File access).
    std::os::unix::fs::symlink(outside.path().join("target.kdl"), r.path().join("link.kdl")).unwrap();
    for args in [&["fmt", "link.kdl"][..], &["fmt", "--check", "link.kdl"]] {
        let o = r.svcc(args);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains("SVC0232"), "{}", stderr(&o));
    }
    assert_eq!(outside.read("target.kdl"), messy, "fmt wrote through the link");
    // A link inside it is read, but fmt does not write through it.
    std::fs::remove_file(r.path().join("link.kdl")).unwrap();
    r.write("target.kdl", messy);
    std::os::unix::fs::symlink(r.path().join("target.kdl"), r.path().join("link.kdl")).unwrap();
    let o = r.svcc(&["fmt", "link.kdl"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0910") && stderr(&o).contains("`link.kdl` is a symbolic link"), "{}", stderr(&o));
    assert_eq!(r.read("target.kdl"), messy, "fmt wrote through the link");
    // `--check` only reads, so a link is fine there.
    assert_eq!(code(&r.svcc(&["fmt", "--check", "link.kdl"])), 1);
    std::fs::remove_file(r.path().join("target.kdl")).unwrap();
    std::fs::remove_file(r.path().join("link.kdl")).unwrap();

    r.write("own.kdl", messy);
    let own = r.path().join("own.kdl");
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = r.svcc(&["fmt", "own.kdl"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(r.read("own.kdl"), "service hello {\n    image \"ghcr.io/acme/hello\" tag=\"1.0.0\"\n}\n");
    assert_eq!(std::fs::metadata(&own).unwrap().permissions().mode() & 0o777, 0o640);
    let names: Vec<String> =
        std::fs::read_dir(r.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains(".svcc-")), "{names:?}");
}

#[test]
fn fmt_never_panics_on_broken_input() {
    let text = std::fs::read_to_string(common::root().join(COMMENTS)).unwrap();
    let cuts: Vec<usize> = (0..text.len()).step_by(13).filter(|i| text.is_char_boundary(*i)).collect();
    for &i in &cuts {
        for candidate in [&text[..i], &format!("{}{}", &text[..i], &text[i..].replacen('\n', " ", 1))] {
            let mut d = svcc::diagnostic::Diagnostics::new();
            if let Some(out) = svcc::format::format(candidate, &mut d) {
                let mut d2 = svcc::diagnostic::Diagnostics::new();
                assert_eq!(svcc::format::format(&out, &mut d2).as_deref(), Some(out.as_str()), "cut at {i}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// provenance, completions, man page

const ENVIRONMENTS: &str = "examples/environments/service.kdl";

fn explain(args: &[&str]) -> Output {
    svcc_in(&common::root(), &[&["explain"], args].concat())
}

#[test]
fn provenance_tells_spec_lines_overrides_and_defaults_apart() {
    // An environment override, with the line that sets it.
    let o = explain(&["Deployment/payments", "spec.replicas", ENVIRONMENTS, "--env", "dev"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Deployment/payments /spec/replicas = 1  [environment `dev`]\n  overridden by environment `dev` at examples/environments/service.kdl:59:18: replicas 1\n  setting: `replicas` (docs/language.md)\n"
    );
    // A documented default.
    let o = explain(&[
        "Deployment/payments",
        "/spec/template/spec/securityContext/runAsUser",
        ENVIRONMENTS,
        "--env",
        "dev",
    ]);
    assert!(stdout(&o).contains("  default: `security.run-as-user` is not set in the spec"), "{}", stdout(&o));
    // A service line, the same in every environment.
    let o = explain(&["Deployment/payments", "spec.template.spec.terminationGracePeriodSeconds", ENVIRONMENTS]);
    let out = stdout(&o);
    assert_eq!(
        out.matches(
            "  set in the service at examples/environments/service.kdl:49:35: shutdown pre-stop=\"10s\" grace=\"45s\"\n"
        )
        .count(),
        3,
        "{out}"
    );
    // An overridden image tag points at the override; replicas owned by an HPA say so.
    let o =
        explain(&["deployment/payments", "spec.template.spec.containers[0].image", ENVIRONMENTS, "--env", "staging"]);
    assert!(
        stdout(&o).contains(
            "overridden by environment `staging` at examples/environments/service.kdl:66:19: image tag=\"2.9.0-rc.1\""
        ),
        "{}",
        stdout(&o)
    );
    let o = explain(&["Deployment/payments", "spec.replicas", ENVIRONMENTS, "--env", "production"]);
    assert!(stdout(&o).contains("derived from the autoscaler, which owns the replica count"), "{}", stdout(&o));
    // JSON for machines.
    let o = explain(&[
        "HorizontalPodAutoscaler/payments",
        "spec.minReplicas",
        ENVIRONMENTS,
        "--env",
        "production",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["answers"][0]["value"], 6);
    assert_eq!(v["answers"][0]["origin"]["kind"], "environment");
    assert_eq!(v["answers"][0]["origin"]["at"]["line"], 77);
    // Unknown objects are usage errors that list what exists.
    let o = explain(&["Deployment/nope", "spec", ENVIRONMENTS]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("Deployment/payments"), "{}", stderr(&o));
    // Codes still work.
    assert_eq!(code(&explain(&["SVC0905"])), 0);
}

const CHECKOUT: &str = "examples/monorepo/services/checkout/service.kdl";

/// `explain` reads the same run as a build: values from `_defaults.kdl`, a
/// local preset, a standard-library preset, an environment override and a
/// patch each name the file and line that set them.
#[test]
fn provenance_follows_presets_org_defaults_and_patches() {
    let one = |object: &str, field: &str, env: &str| {
        let o = explain(&[object, field, CHECKOUT, "--env", env, "--image-tag", "1.4.2"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
    };
    let out = one("Deployment/checkout", "spec.template.spec.terminationGracePeriodSeconds", "production");
    assert!(
        out.contains("= 40  [environment `production`]\n  set in the org defaults at examples/monorepo/_defaults.kdl:13:20: shutdown grace=\"40s\""),
        "{out}"
    );
    let out = one("HorizontalPodAutoscaler/checkout", "spec.minReplicas", "production");
    assert!(
        out.contains("= 3  [environment `production`]\n  set in a preset at examples/monorepo/presets/public-api.kdl:7:19: autoscale min=3"),
        "{out}"
    );
    let out = one("Deployment/checkout", "spec.template.spec.containers[0].readinessProbe.httpGet.path", "staging");
    assert!(
        out.contains(
            "set in a preset (via /spec/template/spec/containers/0/readinessProbe) at stdlib/presets/node-http-api.kdl:"
        ),
        "{out}"
    );
    let out = one("Deployment/checkout", "spec.replicas", "staging");
    assert!(
        out.contains(
            "overridden by environment `staging` at examples/monorepo/services/checkout/service.kdl:20:18: replicas 1"
        ),
        "{out}"
    );
    let out =
        one("HorizontalPodAutoscaler/checkout", "spec.behavior.scaleDown.stabilizationWindowSeconds", "production");
    assert!(out.contains("= 600  [environment `production`]\n  set by a patch at examples/monorepo/services/checkout/service.kdl:25:71"), "{out}");
    let out = one("Deployment/checkout", "spec.template.spec.dnsConfig.options[0].name", "staging");
    assert!(out.contains("= \"ndots\"  [environment `staging`]\n  set by a patch at"), "{out}");
    // A setting's name stands for the field it decides, and every answer
    // names its setting.
    let out = one("Deployment/checkout", "replicas", "staging");
    assert!(out.starts_with("Deployment/checkout /spec/replicas = 1  [environment `staging`]"), "{out}");
    assert!(out.contains("  setting: `replicas` (docs/language.md)"), "{out}");
    // The JSON form names the layer.
    let o = explain(&[
        "HorizontalPodAutoscaler/checkout",
        "spec.minReplicas",
        CHECKOUT,
        "--env",
        "production",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["answers"][0]["origin"]["at"]["layer"], "a preset");
    assert_eq!(v["answers"][0]["origin"]["at"]["file"], "examples/monorepo/presets/public-api.kdl");
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let o = svcc_in(&common::root(), &["completions", shell]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        for sub in ["build", "diff", "fmt", "explain"] {
            assert!(stdout(&o).contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let o = svcc_in(&common::root(), &["man"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with(".ie"), "{}", &stdout(&o)[..80]);
    assert!(stdout(&o).contains("svcc\\-diff") || stdout(&o).contains("diff"), "man page lists subcommands");
}

/// The pipeline folder (`<service>/pipeline/`, with the workflow in
/// `.github/workflows/`) is written, swapped in and checked as a whole,
/// like an environment folder; `deploy.sh` is executable.
#[test]
fn pipeline_folder_is_written_and_checked_as_a_whole() {
    let r = Repo::new("pipeline");
    let spec = example("minimal").replacen(
        "    port http 8080",
        "    port http 8080\n    pipeline node=20 { deploy default; smoke \"https://hello.example.com/ready\"; install-svcc git=\"https://git.example.com/svcc\" rev=\"0123456789abcdef0123456789abcdef01234567\"; }",
        1,
    );
    assert!(spec.contains("pipeline node=20"), "{spec}");
    r.write("service.kdl", &spec);
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(r.read("deploy/hello/pipeline/.github/workflows/hello.yml").contains("\"on\":"));
    assert!(r.read("deploy/hello/pipeline/Dockerfile").contains("ENTRYPOINT [\"dumb-init\", \"--\"]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(r.path().join("deploy/hello/pipeline/deploy.sh")).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "deploy.sh is executable");
    }
    r.commit("with pipeline");
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"])), 0);
    // A stale workflow and a stray file in the pipeline folder are found.
    r.write("deploy/hello/pipeline/.github/workflows/hello.yml", "name: old\n");
    r.write("deploy/hello/pipeline/stray.txt", "x\n");
    let o = r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("  changed  deploy/hello/pipeline/.github/workflows/hello.yml"), "{out}");
    assert!(out.contains("  removed  deploy/hello/pipeline/stray.txt"), "{out}");
    // Building replaces the folder as a whole.
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy"])), 0);
    assert!(!r.path().join("deploy/hello/pipeline/stray.txt").exists());
    assert_eq!(code(&r.svcc(&["build", "service.kdl", "-o", "deploy", "--check"])), 0);
    // The stdout stream stays a stream of Kubernetes objects.
    let o = r.svcc(&["build", "service.kdl"]);
    assert!(!stdout(&o).contains("pipeline/"), "{}", stdout(&o));
}
