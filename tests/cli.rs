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

/// The same file named twice, by another spelling or through its folder,
/// is checked once: it used to be reported as "also defined in" itself.
#[test]
fn a_file_named_twice_is_one_input() {
    for args in [
        &["check", "examples/minimal/service.kdl", "examples/minimal/service.kdl"][..],
        &["check", "examples/minimal/service.kdl", "./examples/minimal/service.kdl"][..],
        &["check", "examples/minimal", "examples/minimal/service.kdl"][..],
    ] {
        let o = svcc(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("SVC0311"), "{args:?}: {}", stderr(&o));
    }
    let o = svcc(&["build", "examples/minimal/service.kdl", "examples/minimal/service.kdl", "--image-tag", "1.0.0"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).matches("kind: Deployment").count(), 1);
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

/// One name in two namespaces: `folder=` gives the second its own output
/// folder, and everything keyed by the folder follows (the environment
/// root, the Argo CD Application, the deploy job, the ownership markers);
/// the first keeps the layout it had. The same name in the same namespace
/// stays SVC0311.
#[test]
fn one_name_in_two_namespaces_gets_two_folders() {
    let dir = TempDir::new("two-namespaces");
    let spec = |ns: &str, folder: &str| {
        format!(
            "service frontend{folder} {{\n    image \"ghcr.io/acme/frontend\" tag=\"1.0.0\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n    namespace \"{ns}\"\n    environment production\n    gitops argocd {{ repo \"https://github.com/acme/deploy.git\"; path \"deploy\" }}\n    pipeline {{\n        install-svcc git=\"https://git.example.com/svcc\" rev=\"0123456789abcdef0123456789abcdef01234567\"\n    }}\n}}\n"
        )
    };
    let specs = dir.path().join("services");
    for (sub, text) in [("a", spec("shop-a", "")), ("b", spec("shop-b", " folder=\"frontend-shop-b\""))] {
        std::fs::create_dir_all(specs.join(sub)).unwrap();
        std::fs::write(specs.join(sub).join("service.kdl"), text).unwrap();
    }
    let out = dir.path().join("deploy");
    let o = svcc(&["build", &specs.display().to_string(), "-o", &out.display().to_string(), "--prune"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert!(read("frontend/production/deployment-frontend.yaml").contains("namespace: shop-a"));
    assert!(read("frontend-shop-b/production/deployment-frontend.yaml").contains("namespace: shop-b"));
    for owned in ["frontend/production", "frontend-shop-b/production", "frontend-shop-b/pipeline"] {
        assert!(out.join(owned).join(".svcc-owned").is_file(), "{owned}");
    }
    let root = read("_env.production/kustomization.yaml");
    assert!(root.contains("- ../frontend/production") && root.contains("- ../frontend-shop-b/production"), "{root}");
    let set = read("_argocd/applicationset-svcc.yaml");
    assert!(
        set.contains("path: deploy/frontend-shop-b/production") && set.contains("service: frontend-shop-b"),
        "{set}"
    );
    let wf = read("frontend-shop-b/pipeline/.github/workflows/frontend-shop-b.yml");
    assert!(wf.contains("MANIFESTS: deploy/frontend-shop-b/production"), "{wf}");
    let o = svcc(&["build", &specs.display().to_string(), "-o", &out.display().to_string(), "--prune", "--check"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Without `folder=`, both would write `frontend/`; in one namespace,
    // both would be one set of objects.
    std::fs::write(specs.join("b").join("service.kdl"), spec("shop-b", "")).unwrap();
    let o = svcc(&["check", &specs.display().to_string()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0311") && stderr(&o).contains("folder="), "{}", stderr(&o));
    std::fs::write(specs.join("b").join("service.kdl"), spec("shop-a", " folder=\"frontend-shop-b\"")).unwrap();
    let o = svcc(&["check", &specs.display().to_string()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("SVC0311") && stderr(&o).contains("another namespace"), "{}", stderr(&o));
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

// ---------------------------------------------------------------------------
// Hostile input and hostile file systems: a clean diagnostic, a bounded
// cost, and never a half-written output folder.

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// A 50 MB spec is refused after reading 1 MiB of it, in bounded time,
/// by `check`, `build` and `fmt` alike.
#[test]
fn huge_spec_is_refused_with_a_diagnostic() {
    let dir = TempDir::new("huge");
    let mut text = String::from("service big {\n    image \"ghcr.io/acme/big\" tag=\"1\"\n");
    let line = "    // padding padding padding padding padding padding padding padding\n";
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    text.push_str("}\n");
    let spec = write(&dir, "big.kdl", text.as_bytes());
    for args in [vec!["check", spec.as_str()], vec!["build", spec.as_str()], vec!["fmt", "--check", spec.as_str()]] {
        let start = std::time::Instant::now();
        let o = svcc(&args);
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "{args:?} took {:?}", start.elapsed());
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("SVC0908") && stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
        assert!(stdout(&o).is_empty() || args[0] == "fmt", "{}", stdout(&o));
    }
}

#[test]
fn invalid_utf8_nul_and_long_names_are_spec_errors() {
    let dir = TempDir::new("bytes");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("latin1.kdl", b"service caf\xe9 {\n}\n".to_vec(), "SVC0103"),
        ("nul.kdl", b"service a {\n    image \"x\0y\"\n}\n".to_vec(), "SVC0101"),
        ("long-name.kdl", format!("service {} {{\n}}\n", "a".repeat(100_000)).into_bytes(), "SVC0208"),
        (
            "long-string.kdl",
            format!("service a {{\n    image \"{}\"\n}}\n", "A".repeat(200_000)).into_bytes(),
            "SVC0212",
        ),
    ];
    for (name, bytes, want) in cases {
        let spec = write(&dir, name, &bytes);
        let o = svcc(&["check", "--format", "json", &spec]);
        assert_eq!(code(&o), 1, "{name}: {}{}", stdout(&o), stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
        let codes: Vec<&str> = v["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
        assert!(codes.contains(&want), "{name}: {codes:?}");
        // The human report grows at most linearly with the input. (It
        // quotes the offending line and value whole, so a 200 KB value gives
        // about 1.3 MB of report: bounded by the 1 MiB input limit.)
        let o = svcc(&["check", &spec]);
        assert!(stderr(&o).len() < 10 * bytes.len() + 10_000, "{name}: {} bytes of diagnostics", stderr(&o).len());
    }
}

/// Symlink loops in a services folder end the search (links to folders are
/// not followed) and a looping `*.kdl` link is an unreadable file.
#[cfg(unix)]
#[test]
fn symlink_loops_in_a_services_folder_end_cleanly() {
    let dir = TempDir::new("loops");
    write(
        &dir,
        "specs/hello.kdl",
        std::fs::read_to_string(common::root().join("examples/minimal/service.kdl")).unwrap().as_bytes(),
    );
    let specs = dir.path().join("specs");
    std::os::unix::fs::symlink("..", specs.join("up")).unwrap();
    std::os::unix::fs::symlink(&specs, specs.join("self")).unwrap();
    let o = svcc(&["check", &specs.display().to_string()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    std::os::unix::fs::symlink("loop.kdl", specs.join("loop.kdl")).unwrap();
    let o = svcc(&["check", &specs.display().to_string()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0901") && stderr(&o).contains("loop.kdl"), "{}", stderr(&o));
}

/// An unreadable spec or folder is an I/O error naming it. Tests often run
/// as root, where `chmod 000` does not stop reads: then there is nothing to
/// test and the case is skipped.
#[cfg(unix)]
#[test]
fn unreadable_files_in_a_services_folder_are_io_errors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("unreadable");
    let spec = write(&dir, "specs/secret.kdl", b"service s {\n}\n");
    std::fs::set_permissions(&spec, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&spec).is_ok() {
        // Running as root: chmod 000 does not stop reads, nothing to test.
        return;
    }
    let o = svcc(&["check", &dir.path().join("specs").display().to_string()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0901") && stderr(&o).contains("secret.kdl"), "{}", stderr(&o));
    std::fs::set_permissions(&spec, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Writing fails part-way through the swap (a file sits where the second
/// service's folder must go): the folders already swapped are put back, so
/// the old output is exactly as it was, and no staging folder remains.
#[test]
fn output_write_failing_part_way_restores_the_old_output() {
    let dir = TempDir::new("partway");
    let o = svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    std::fs::write(dir.path().join("hello"), "a file where the `hello` folder must go").unwrap();
    let before = tree(dir.path());
    let o = svcc(&["build", BACKEND, "examples/minimal/service.kdl", "--image-tag", "1.4.3", "-o", &dir.s()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("SVC0902"), "{}", stderr(&o));
    assert_eq!(before, tree(dir.path()), "the old output changed");
    assert!(before.iter().any(|(p, c)| p.ends_with("deployment-backend-api.yaml") && c.contains(":1.4.2")));
}

/// Four builds of the same specs into one folder at once: all succeed, and
/// the folder holds exactly one complete build, no staging folders. In odd
/// rounds the folder does not exist yet, so the builds race to create it
/// (each writes a staging folder beside it and renames it into place).
#[test]
fn concurrent_builds_into_one_folder_leave_one_complete_build() {
    let reference = TempDir::new("concurrent-ref");
    let args = |out: &str| -> Vec<String> {
        [
            "build",
            BACKEND,
            "examples/environments/service.kdl",
            "examples/minimal/service.kdl",
            "--image-tag",
            "1.4.2",
            "-o",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let o = svcc(&args(&reference.s()).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let want = tree(reference.path());
    for round in 0..4 {
        let parent = TempDir::new("concurrent");
        let out = if round % 2 == 0 { parent.path().to_path_buf() } else { parent.path().join("new") };
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_svcc"))
                    .args(args(&out.display().to_string()))
                    .current_dir(common::root())
                    .env("NO_COLOR", "1")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert_eq!(code(&o), 0, "round {round}: {}", stderr(&o));
        }
        assert_eq!(tree(&out), want, "round {round}");
        for folder in [parent.path(), out.as_path()] {
            let top: Vec<String> = std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(!top.iter().any(|n| n.starts_with('.')), "round {round}: {top:?}");
        }
    }
}

/// A staging folder left by a build that was killed is removed by the next
/// build into the same folder.
#[test]
fn abandoned_staging_folders_are_removed() {
    let dir = TempDir::new("abandoned");
    write(&dir, ".svcc-staging-1-1/hello/default/deployment-hello.yaml", b"half: written\n");
    let o = svcc(&["build", "examples/minimal/service.kdl", "-o", &dir.s()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!dir.path().join(".svcc-staging-1-1").exists());
    assert!(dir.path().join("hello/default/deployment-hello.yaml").exists());
}

/// A rebuild leaves folders that would not change alone (same files, same
/// modification times) and replaces the others whole: here one service's
/// spec changes and a stray file sits in another service's folder.
#[test]
fn rebuilds_rewrite_only_the_folders_that_change() {
    let dir = TempDir::new("rebuild");
    let specs = TempDir::new("rebuild-specs");
    let minimal = std::fs::read_to_string(common::root().join("examples/minimal/service.kdl")).unwrap();
    write(&specs, "hello.kdl", minimal.as_bytes());
    write(&specs, "other.kdl", minimal.replace("service hello", "service other").as_bytes());
    let build = || svcc(&["build", &specs.s(), "-o", &dir.s()]);
    let o = build();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mtimes = |folder: &str| -> Vec<std::time::SystemTime> {
        let mut v: Vec<_> = std::fs::read_dir(dir.path().join(folder))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().modified().unwrap())
            .collect();
        v.sort();
        v
    };
    let (hello, other) = (mtimes("hello/default"), mtimes("other/default"));
    let before = tree(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = build();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(tree(dir.path()), before);
    assert_eq!(mtimes("hello/default"), hello, "an unchanged folder was rewritten");
    assert_eq!(mtimes("other/default"), other, "an unchanged folder was rewritten");

    write(&specs, "hello.kdl", minimal.replace("port http 8080", "port http 8081").as_bytes());
    write(&dir, "other/default/stray.yaml", b"not: built\n");
    let o = build();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!dir.path().join("other/default/stray.yaml").exists(), "a stray file survived");
    let after = tree(dir.path());
    assert_ne!(after, before);
    assert_eq!(
        after.iter().filter(|(p, _)| p.starts_with("other/")).collect::<Vec<_>>(),
        before.iter().filter(|(p, _)| p.starts_with("other/")).collect::<Vec<_>>()
    );
}

/// A rebuild restores a generated script's executable bit: a folder whose
/// `deploy.sh` lost it does not count as unchanged.
#[cfg(unix)]
#[test]
fn rebuilds_restore_the_executable_bit_of_scripts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("rebuild-mode");
    let build = || svcc(&["build", BACKEND, "--image-tag", "1.4.2", "-o", &dir.s()]);
    assert_eq!(code(&build()), 0);
    let script = dir.path().join("backend-api/pipeline/deploy.sh");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&script) & 0o111, 0o111, "deploy.sh is not executable");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code(&build()), 0);
    assert_eq!(mode(&script) & 0o111, 0o111, "the rebuild left deploy.sh without its executable bit");
}

/// `svcc check` fails exactly when `svcc build -o` would, with the same
/// flags, on every diagnostics fixture and every example (also with
/// `--deny-warnings`): a pre-commit gate that passes never hides a build
/// that fails. Both get a tag (`check` needs none, a build does).
#[test]
fn check_fails_exactly_when_build_would() {
    let mut specs: Vec<(String, Vec<String>)> = Vec::new();
    for e in std::fs::read_dir(common::root().join("tests/fixtures/err")).unwrap() {
        let p = e.unwrap().path();
        let spec = if p.is_dir() { p.join("service.kdl") } else { p };
        if spec.extension().is_none_or(|x| x != "kdl") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&spec).unwrap()).into_owned();
        let mut flags = Vec::new();
        for word in text.lines().filter_map(|l| l.trim().strip_prefix("// options:")).flat_map(str::split_whitespace) {
            match word.split_once('=') {
                Some(("env", e)) => flags.extend(["--env".to_string(), e.to_string()]),
                Some(("image-tag", t)) => flags.extend(["--image-tag".to_string(), t.to_string()]),
                _ => {}
            }
        }
        if !flags.iter().any(|f| f == "--image-tag") {
            flags.extend(["--image-tag".to_string(), "1.0.0".to_string()]);
        }
        specs.push((common::rel(&spec), flags));
    }
    for path in common::services("examples") {
        specs.push((common::rel(&path), vec!["--image-tag".into(), "1.4.2".into()]));
    }
    specs.sort();
    let mut mismatches = Vec::new();
    for (spec, flags) in &specs {
        for deny in [false, true] {
            let out = TempDir::new("predict");
            let mut common: Vec<&str> = vec![spec.as_str()];
            common.extend(flags.iter().map(String::as_str));
            if deny {
                common.push("--deny-warnings");
            }
            let check = code(&svcc(&[&["check"], common.as_slice()].concat()));
            let build = code(&svcc(&[&["build"], common.as_slice(), &["-o", &out.s()]].concat()));
            if (check == 0) != (build == 0) {
                mismatches.push(format!("{spec} {flags:?} deny={deny}: check {check}, build {build}"));
            }
        }
    }
    assert!(specs.len() > 150, "{}", specs.len());
    assert!(mismatches.is_empty(), "check and build disagree:\n{}", mismatches.join("\n"));
}

/// docs/cli.md covers every command and every flag the command line has
/// (read from each command's `--help`, so a new flag fails here until it
/// is documented).
#[test]
fn cli_docs_cover_every_command_and_flag() {
    let doc = std::fs::read_to_string(common::root().join("docs/cli.md")).unwrap();
    for command in ["build", "check", "fmt", "diff", "explain", "schema", "completions", "man", "cmp"] {
        assert!(doc.contains(&format!("svcc {command}")), "docs/cli.md does not show `svcc {command}`");
        let help = stdout(&svcc(&[command, "--help"]));
        let flags: std::collections::BTreeSet<&str> = help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2 && *w != "--help")
            .collect();
        for flag in flags {
            assert!(doc.contains(&format!("`{flag}")), "docs/cli.md does not document `svcc {command} {flag}`");
        }
    }
}
