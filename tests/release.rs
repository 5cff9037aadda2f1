//! svcc's own delivery: the composite action (`action.yml`) and the CI and
//! release workflows (`.github/workflows/`). None of them runs here; what
//! can be checked without GitHub is:
//!
//! - the action's script, run with stub `rustup` and `cargo`, builds the
//!   action's own checkout with `cargo install --locked` and the workspace's
//!   `rust-version`, from the action's folder, and puts exactly that binary
//!   on PATH with its SHA-256 as an output; it refuses other runners;
//! - the workflows' supply chain: every action pinned to a full commit
//!   with its release as a comment (the same commit as the generated
//!   workflows' table where both use an action), no cache anywhere, no
//!   checkout that keeps its token, no expression inside a script,
//!   permissions per job and none at the top;
//! - the release builds both musl targets natively, writes SHA256SUMS,
//!   attests the binaries and publishes them from a job that checks out
//!   nothing.
//!
//! `tests/oracle.rs` runs actionlint, the schemas, zizmor and shellcheck
//! on the same files.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn read(rel: &str) -> String {
    std::fs::read_to_string(common::root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    svcc::emit::parse_documents(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")).remove(0)
}

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("svcc-release-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The script of the action's one `run:` step.
fn action_script() -> String {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let runs: Vec<&str> =
        action["runs"]["steps"].as_array().unwrap().iter().filter_map(|s| s["run"].as_str()).collect();
    assert_eq!(runs.len(), 1, "the action has one script");
    runs[0].to_string()
}

/// Run the action's script as GitHub runs a composite `shell: bash` step,
/// with stub `rustup` and `cargo` that log their arguments and working
/// folder; the stub cargo "builds" a script that prints a version.
fn run_action(runner_os: &str) -> (std::process::Output, PathBuf) {
    let work = temp(&format!("action-{runner_os}"));
    let stubs = work.join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    write_exe(&stubs.join("rustup"), "#!/bin/sh\necho \"rustup $*\" >> \"$LOG\"\n");
    write_exe(
        &stubs.join("cargo"),
        "#!/bin/sh\necho \"cargo $* (in $(pwd), target $CARGO_TARGET_DIR)\" >> \"$LOG\"\n\
         mkdir -p \"$CARGO_TARGET_DIR\"\n\
         while [ \"$#\" -gt 0 ]; do if [ \"$1\" = --root ]; then root=$2; fi; shift; done\n\
         mkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho svcc 9.9.9\\n' > \"$root/bin/svcc\"\nchmod +x \"$root/bin/svcc\"\n",
    );
    let script = work.join("step.sh");
    std::fs::write(&script, action_script()).unwrap();
    let temp_dir = work.join("runner-temp");
    std::fs::create_dir_all(&temp_dir).unwrap();
    for f in ["path", "output", "summary", "log"] {
        std::fs::write(work.join(f), "").unwrap();
    }
    let o = Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
        .arg(&script)
        .current_dir(&work)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", stubs.display()))
        .env("HOME", &work)
        .env("RUNNER_OS", runner_os)
        .env("RUNNER_TEMP", &temp_dir)
        .env("GITHUB_ACTION_PATH", common::root())
        .env("GITHUB_PATH", work.join("path"))
        .env("GITHUB_OUTPUT", work.join("output"))
        .env("GITHUB_STEP_SUMMARY", work.join("summary"))
        .env("LOG", work.join("log"))
        .output()
        .unwrap();
    (o, work)
}

fn workspace_rust_version() -> String {
    let toml = read("Cargo.toml");
    let line = toml.lines().find(|l| l.starts_with("rust-version = ")).expect("rust-version in Cargo.toml");
    line.trim_start_matches("rust-version = ").trim_matches('"').to_string()
}

#[test]
fn action_builds_its_own_commit_and_puts_exactly_that_on_path() {
    let (o, work) = run_action("Linux");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}\n{}", String::from_utf8_lossy(&o.stdout));
    let root = common::root();
    let temp = work.join("runner-temp");
    let toolchain = workspace_rust_version();
    let log = std::fs::read_to_string(work.join("log")).unwrap();
    let expected = format!(
        "rustup toolchain install {toolchain} --profile minimal --no-self-update\n\
         cargo +{toolchain} install --locked --path {root}/compiler --root {temp}/svcc --bin svcc (in {root}, target {temp}/svcc-target)\n",
        root = root.display(),
        temp = temp.display(),
    );
    assert_eq!(log, expected);
    assert!(!temp.join("svcc-target").exists(), "the build folder is left behind");
    let bin = temp.join("svcc/bin/svcc");
    assert_eq!(std::fs::read_to_string(work.join("path")).unwrap(), format!("{}\n", temp.join("svcc/bin").display()));
    let outputs: BTreeMap<String, String> = std::fs::read_to_string(work.join("output"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    assert_eq!(outputs["path"], bin.display().to_string());
    let sum = Command::new("sha256sum").arg(&bin).output().unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap().to_string();
    assert_eq!(outputs["sha256"], sum);
    let summary = std::fs::read_to_string(work.join("summary")).unwrap();
    assert!(summary.contains("svcc 9.9.9") && summary.contains(&sum), "{summary}");
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn action_refuses_runners_it_cannot_build_on() {
    let (o, work) = run_action("Windows");
    assert!(!o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("::error title=svcc action::"), "{stdout}");
    assert_eq!(std::fs::read_to_string(work.join("log")).unwrap(), "", "it built anyway");
    assert_eq!(std::fs::read_to_string(work.join("path")).unwrap(), "");
    let _ = std::fs::remove_dir_all(&work);
}

/// Every file of svcc's own delivery: (path, parsed).
fn delivery_files() -> Vec<(String, Value)> {
    let mut out = vec![("action.yml".to_string(), yaml("action.yml"))];
    for p in common::files(".github/workflows", "yml") {
        let rel = common::rel(&p);
        out.push((rel.clone(), yaml(&rel)));
    }
    assert!(out.len() >= 3, "{out:?}");
    out
}

/// The steps of a workflow's jobs, or of the action.
fn steps(doc: &Value) -> Vec<(String, &Value)> {
    match doc["jobs"].as_object() {
        Some(jobs) => jobs
            .iter()
            .flat_map(|(id, j)| j["steps"].as_array().into_iter().flatten().map(move |s| (id.clone(), s)))
            .collect(),
        None => doc["runs"]["steps"].as_array().unwrap().iter().map(|s| ("action".to_string(), s)).collect(),
    }
}

#[test]
fn delivery_files_pin_every_action_and_cache_nothing() {
    use svcc::ci::workflow::actions;
    for (file, doc) in delivery_files() {
        let text = read(&file);
        for line in text.lines().map(str::trim_start).filter(|l| l.trim_start_matches("- ").starts_with("uses: ")) {
            let uses = line.trim_start_matches("- ").trim_start_matches("uses: ");
            let target = uses.split_whitespace().next().unwrap();
            if target.starts_with("./") || target.starts_with("$/") {
                continue; // this repository, at this commit
            }
            let (action, rest) = target.split_once('@').unwrap_or_else(|| panic!("{file}: `{line}` names no commit"));
            assert!(rest.len() == 40 && rest.bytes().all(|b| b.is_ascii_hexdigit()), "{file}: `{line}`");
            let comment = uses.split_once(" # ").map(|(_, v)| v).unwrap_or_default();
            assert!(comment.starts_with('v'), "{file}: `{line}` does not say which release the commit is");
            if let Some(pin) = actions::ALL.iter().find(|p| p.action == action) {
                assert_eq!((rest, comment), (pin.sha, pin.version), "{file}: `{action}` differs from the table");
            }
            assert!(!action.starts_with("actions/cache"), "{file}: caches (a cache entry is writable by other runs)");
        }
        for (job, step) in steps(&doc) {
            let uses = step["uses"].as_str().unwrap_or_default();
            if uses.starts_with("actions/checkout@") {
                let keep = &step["with"]["persist-credentials"];
                assert!(*keep == Value::Bool(false) || keep == "false", "{file}: `{job}` keeps the token");
            }
            assert!(step["with"]["cache"].is_null(), "{file}: `{job}` caches");
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "{file}: `{job}` has an expression inside a script: {run}");
            }
        }
    }
}

#[test]
fn workflows_grant_permissions_per_job_only() {
    let ci = yaml(".github/workflows/ci.yml");
    assert_eq!(ci["permissions"], serde_json::json!({ "contents": "read" }));
    for (id, job) in ci["jobs"].as_object().unwrap() {
        assert!(job["permissions"].is_null(), "ci `{id}` asks for more than the workflow's read access");
    }
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(release["on"], serde_json::json!({ "push": { "tags": ["v*"] } }));
    assert_eq!(release["permissions"], serde_json::json!({}), "the release grants nothing by default");
    let want = serde_json::json!({
        "test": { "contents": "read" },
        "build": { "contents": "read" },
        "publish": { "contents": "write", "id-token": "write", "attestations": "write" },
    });
    let jobs = release["jobs"].as_object().unwrap();
    let got: serde_json::Map<String, Value> = jobs.iter().map(|(k, j)| (k.clone(), j["permissions"].clone())).collect();
    assert_eq!(Value::Object(got), want);
    assert_eq!(release["concurrency"]["cancel-in-progress"], false);
}

#[test]
fn release_builds_both_targets_and_publishes_checked_files() {
    let release = yaml(".github/workflows/release.yml");
    let jobs = &release["jobs"];
    assert_eq!(jobs["test"]["uses"], "$/.github/workflows/ci.yml", "the release runs CI first");
    assert_eq!(jobs["build"]["needs"], "test");
    let matrix: Vec<(String, String)> = jobs["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["target"].as_str().unwrap().to_string(), m["runner"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        matrix,
        [
            ("x86_64-unknown-linux-musl".to_string(), "ubuntu-24.04".to_string()),
            ("aarch64-unknown-linux-musl".to_string(), "ubuntu-24.04-arm".to_string())
        ]
    );
    let build: Vec<&str> =
        jobs["build"]["steps"].as_array().unwrap().iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(build.iter().any(|r| r.contains("cargo build --release --locked --target \"$TARGET\"")), "{build:?}");
    let publish = jobs["publish"]["steps"].as_array().unwrap();
    let names: Vec<&str> = publish.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Fetch the binaries", "SHA256SUMS", "Attest the build provenance", "Publish the release"]);
    assert!(publish.iter().all(|s| !s["uses"].as_str().unwrap_or_default().starts_with("actions/checkout")));
    assert!(publish[1]["run"].as_str().unwrap().contains("sha256sum svcc-* > SHA256SUMS"));
    assert_eq!(publish[2]["with"]["subject-path"], "dist/svcc-*");
    let gh = publish[3]["run"].as_str().unwrap();
    for f in ["dist/svcc-x86_64-unknown-linux-musl", "dist/svcc-aarch64-unknown-linux-musl", "dist/SHA256SUMS"] {
        assert!(gh.contains(f), "the release leaves out {f}");
    }
    assert!(gh.contains("--verify-tag"), "{gh}");
}
