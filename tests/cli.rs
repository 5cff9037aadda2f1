//! End-to-end tests of the real binary: exit codes, output folders, stdout,
//! formats.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn svcc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run svcc")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("svcc-test-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn s(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir` with its contents, sorted by relative path.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((p.strip_prefix(base).unwrap().display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

const BACKEND: &str = "examples/backend-api/service.kdl";

#[test]
fn build_prints_every_environment_to_stdout() {
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("---\n# Source: backend-api/staging/serviceaccount-backend-api.yaml\n"), "{out}");
    assert!(out.contains("# Source: backend-api/production/horizontalpodautoscaler-backend-api.yaml\n"));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn env_flag_restricts_the_build() {
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "--env", "production"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains("/staging/"));
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "--env", "prod"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("SVC0903") && stderr(&o).contains("did you mean `--env production`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_or_latest_tag_fails_the_build_but_not_check() {
    let o = svcc(&["build", BACKEND]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0306"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let o = svcc(&["build", BACKEND, "--image-tag", "latest"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("`latest`"), "{}", stderr(&o));
    let o = svcc(&["check", BACKEND]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn exit_codes() {
    assert_eq!(code(&svcc(&["check", "examples/minimal/service.kdl"])), 0);
    assert_eq!(code(&svcc(&["check", "tests/fixtures/err/SVC0202-unknown-node.kdl"])), 1);
    assert_eq!(code(&svcc(&["check", "does/not/exist.kdl"])), 2);
    assert_eq!(code(&svcc(&["check"])), 2);
    assert_eq!(code(&svcc(&["build", "--no-such-flag", BACKEND])), 2);
    assert_eq!(code(&svcc(&["build", BACKEND, "--image-tag", "bad tag"])), 2);
    assert_eq!(code(&svcc(&["--help"])), 0);
    assert_eq!(code(&svcc(&["--version"])), 0);
}

#[test]
fn unreadable_input_names_the_file() {
    let o = svcc(&["check", "does/not/exist.kdl"]);
    assert!(stderr(&o).contains("SVC0901") && stderr(&o).contains("does/not/exist.kdl"), "{}", stderr(&o));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = TempDir::new("warn");
    let spec = dir.path().join("w.kdl");
    std::fs::write(&spec, "service w {\n    image \"ghcr.io/acme/w\" tag=\"1\"\n    port http 80\n}\n").unwrap();
    let o = svcc(&["check", &spec.display().to_string()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0401"), "{}", stderr(&o));
    let o = svcc(&["check", "--deny-warnings", &spec.display().to_string()]);
    assert_eq!(code(&o), 1);
}

#[test]
fn output_folder_is_written_per_environment_and_replaced_whole() {
    let dir = TempDir::new("out");
    let o = svcc(&["build", BACKEND, "examples/minimal/service.kdl", "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    // Production is blue-green: a Rollout instead of (never beside) the Deployment.
    assert!(files.contains(&"backend-api/production/rollout-backend-api.yaml".to_string()), "{files:?}");
    assert!(!files.contains(&"backend-api/production/deployment-backend-api.yaml".to_string()), "{files:?}");
    assert!(files.contains(&"backend-api/staging/deployment-backend-api.yaml".to_string()), "{files:?}");
    assert!(files.contains(&"hello/default/deployment-hello.yaml".to_string()), "{files:?}");
    assert!(!files.iter().any(|f| f.contains(".svcc-staging")), "{files:?}");
    // A stale file in an environment folder disappears on the next build.
    let stale = dir.path().join("backend-api/production/stale.yaml");
    std::fs::write(&stale, "x: 1\n").unwrap();
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stale.exists());
    // The same input gives byte-identical files.
    let before = tree(dir.path());
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&o), 0);
    assert_eq!(before, tree(dir.path()));
}

#[test]
fn failed_build_leaves_existing_output_untouched() {
    let dir = TempDir::new("atomic");
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = tree(dir.path());
    // One good and one bad input: nothing at all may be written.
    let o = svcc(&[
        "build",
        BACKEND,
        "tests/fixtures/err/SVC0202-unknown-node.kdl",
        "--image-tag",
        "1.4.3",
        "-o",
        &dir.s(),
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(before, tree(dir.path()));
}

#[test]
fn unwritable_output_is_an_io_error_and_changes_nothing() {
    let dir = TempDir::new("unwritable");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &blocker.display().to_string()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0902"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a folder");
}

#[test]
fn folders_are_searched_for_specs() {
    let o = svcc(&["check", "examples"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dir = TempDir::new("empty");
    let o = svcc(&["check", &dir.s()]);
    assert_eq!(code(&o), 2);
}

#[test]
fn two_files_defining_one_service_conflict() {
    let dir = TempDir::new("dup");
    for n in ["a.kdl", "b.kdl"] {
        std::fs::write(dir.path().join(n), "service same {\n    image \"ghcr.io/acme/same\" tag=\"1\"\n}\n").unwrap();
    }
    let o = svcc(&["check", &dir.s()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0311"), "{}", stderr(&o));
}

#[test]
fn json_format_is_a_versioned_report() {
    let o = svcc(&["check", "--format", "json", "tests/fixtures/err/SVC0202-unknown-node.kdl"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["errors"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "SVC0202");
    assert_eq!(d["file"], "tests/fixtures/err/SVC0202-unknown-node.kdl");
    assert_eq!(d["start"]["line"], 4);
    assert_eq!(d["start"]["column"], 5);
    assert_eq!(d["help"], "did you mean `port`?");
}

#[test]
fn github_format_prints_annotations() {
    let o = svcc(&["check", "--format", "github", "tests/fixtures/err/SVC0202-unknown-node.kdl"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.starts_with("::error title=svcc SVC0202,file=tests/fixtures/err/SVC0202-unknown-node.kdl,line=4,endLine=4,col=5,endColumn=9::"),
        "{out}"
    );
}

#[test]
fn explain_prints_the_page() {
    let o = svcc(&["explain", "SVC0202"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("# SVC0202: "), "{}", stdout(&o));
    let o = svcc(&["explain", "unknown-node"]);
    assert_eq!(code(&o), 0);
    let o = svcc(&["explain"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("SVC0101"));
    let o = svcc(&["explain", "SVC9999"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(["build", BACKEND, "--image-tag", "1.4.2"])
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn monorepo_folder_skips_presets_and_defaults_and_builds_every_service() {
    let dir = TempDir::new("monorepo");
    let o = svcc(&["build", "examples/monorepo", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files: Vec<String> = tree(dir.path()).into_iter().map(|(p, _)| p).collect();
    for svc in ["checkout", "ledger", "mailer"] {
        for env in ["staging", "production"] {
            assert!(files.iter().any(|p| p.starts_with(&format!("{svc}/{env}/"))), "{svc}/{env} in {files:?}");
        }
    }
    assert!(!files.iter().any(|p| p.starts_with("public-api") || p.contains("_defaults")), "{files:?}");
    // The org defaults apply even when one service is built on its own.
    let o = svcc(&["build", "examples/monorepo/services/mailer/service.kdl"]);
    assert!(stdout(&o).contains("example.com/org: acme"), "{}", stderr(&o));
}

#[test]
fn schema_prints_a_kind() {
    let o = svcc(&["schema", "Deployment"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["$defs"].is_object());
    let o = svcc(&["schema", "Deploymnet"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("did you mean `Deployment`"), "{}", stderr(&o));
}
