//! The output folder's safety, with the real binary in temporary folders:
//! no writing, deleting or reading through symbolic links below `-o`,
//! ownership markers and the adoption of older output, an output folder
//! holding the inputs, and recovery from a build killed mid-write (through
//! the test-only `SVCC_TEST_CRASH_AFTER_RENAMES` hook).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Run svcc in `dir`, killing it (and failing) after 5 seconds.
fn svcc_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_svcc"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1").stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("run svcc");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(o) => o.expect("wait for svcc"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("svcc {args:?} did not finish within 5 s");
        }
    }
}

fn svcc(dir: &Path, args: &[&str]) -> Output {
    svcc_env(dir, args, &[])
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("svcc-output-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every entry under `dir` (links as links, never followed) with the
/// contents of regular files, sorted by relative path.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.push((rel, format!("-> {}", std::fs::read_link(&p).unwrap().display())));
            } else if meta.is_dir() {
                out.push((format!("{rel}/"), String::new()));
                walk(base, &p, out);
            } else if meta.is_file() {
                out.push((rel, std::fs::read_to_string(&p).unwrap_or_else(|_| "<binary>".into())));
            } else {
                out.push((rel, "<special>".into()));
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// Two trees are equal; on failure, name the paths that differ.
fn assert_same_tree(got: &[(String, String)], want: &[(String, String)], what: &str) {
    if got != want {
        let a: std::collections::BTreeMap<_, _> = got.iter().cloned().collect();
        let b: std::collections::BTreeMap<_, _> = want.iter().cloned().collect();
        let differ: Vec<&String> = a
            .keys()
            .chain(b.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        panic!("{what}: these paths differ: {differ:?}");
    }
}

fn example(name: &str) -> String {
    std::fs::read_to_string(common::root().join("examples").join(name).join("service.kdl")).unwrap()
}

/// A scratch folder with the minimal example as `specs/hello.kdl`.
fn scratch(tag: &str) -> TempDir {
    let t = TempDir::new(tag);
    t.write("specs/hello.kdl", &example("minimal"));
    t
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    std::os::unix::fs::symlink(target, at).unwrap();
}

/// A link at a service folder, at an environment folder, or at a file
/// inside an owned folder: the build is refused naming it, and nothing
/// outside the output folder is written or deleted.
#[cfg(unix)]
#[test]
fn links_inside_the_output_are_never_written_through() {
    let t = scratch("links");
    let outside = TempDir::new("links-outside");
    outside.write("keep.txt", "not svcc's\n");
    outside.write("default/keep.yaml", "kind: NotYours\n");
    let before = tree(outside.path());
    let cases: [(&str, &Path); 3] = [
        ("deploy/hello", outside.path()),
        ("deploy/hello/default", &outside.join("default")),
        ("deploy/hello/default/service-hello.yaml", &outside.join("keep.txt")),
    ];
    for (at, target) in cases {
        let _ = std::fs::remove_dir_all(t.join("deploy"));
        if at.ends_with(".yaml") {
            assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
            std::fs::remove_file(t.join(at)).unwrap();
        }
        std::fs::create_dir_all(t.join(at).parent().unwrap()).unwrap();
        link(target, &t.join(at));
        let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
        assert_eq!(code(&o), Some(2), "{at}: {}", text(&o));
        assert!(
            text(&o).contains("SVC0910") && text(&o).contains(&format!("`{at}` is a symbolic link")),
            "{}",
            text(&o)
        );
        assert_eq!(tree(outside.path()), before, "{at}: something outside the output changed");
        assert!(std::fs::symlink_metadata(t.join(at)).unwrap().file_type().is_symlink(), "{at}: the link is gone");
    }
}

/// `-o DIR` that is itself a link (committed in place of the output
/// folder) is refused by build, `--check` and diff: nothing is written or
/// read where it points.
#[cfg(unix)]
#[test]
fn a_linked_output_folder_is_refused() {
    let t = scratch("linked-output");
    let outside = TempDir::new("linked-output-outside");
    outside.write("keep.txt", "not svcc's\n");
    let before = tree(outside.path());
    link(outside.path(), &t.join("deploy"));
    for args in [
        &["build", "specs", "-o", "deploy"][..],
        &["build", "specs", "-o", "deploy", "--check"],
        &["diff", "specs", "-o", "deploy"],
    ] {
        let o = svcc(t.path(), args);
        assert_eq!(code(&o), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("SVC0910") && text(&o).contains("`deploy` is a symbolic link"), "{}", text(&o));
        assert_eq!(tree(outside.path()), before, "{args:?}: something outside the output changed");
    }
}

/// `build --check` and `diff` report committed output files that are links
/// (to `/dev/zero`, to a secret) or FIFOs without reading them: no hang, the
/// secret never printed.
#[cfg(unix)]
#[test]
fn check_and_diff_never_read_through_links() {
    let t = scratch("read-links");
    let secret = "TOP-SECRET-7f3a9c";
    t.write("secret.txt", &format!("password: {secret}\n"));
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    let env = t.join("deploy/hello/default");
    std::fs::remove_file(env.join("service-hello.yaml")).unwrap();
    link(Path::new("/dev/zero"), &env.join("service-hello.yaml"));
    std::fs::remove_file(env.join("deployment-hello.yaml")).unwrap();
    link(&t.join("secret.txt"), &env.join("deployment-hello.yaml"));
    let fifo = Command::new("mkfifo").arg(env.join("pipe.yaml")).status().is_ok_and(|s| s.success());
    for args in [
        &["build", "specs", "-o", "deploy", "--check"][..],
        &["build", "specs", "-o", "deploy", "--check", "-v"],
        &["diff", "specs", "-o", "deploy"],
        &["diff", "specs", "-o", "deploy", "--format", "json"],
        &["diff", "specs", "-o", "deploy", "--prune"],
        &["build", "specs", "-o", "deploy"],
    ] {
        let o = svcc(t.path(), args);
        let out = text(&o);
        assert_eq!(code(&o), Some(2), "{args:?}: {out}");
        assert!(out.contains("SVC0910"), "{args:?}: {out}");
        assert!(out.contains("deploy/hello/default/service-hello.yaml"), "{args:?}: {out}");
        assert!(out.contains("deploy/hello/default/deployment-hello.yaml"), "{args:?}: {out}");
        let reads = args[0] == "diff" || args.contains(&"--check");
        if fifo && reads {
            assert!(out.contains("pipe.yaml` is not a regular file"), "{args:?}: {out}");
        }
        assert!(!out.contains(secret), "{args:?} printed the secret: {out}");
    }
    assert_eq!(std::fs::read_to_string(t.join("secret.txt")).unwrap(), format!("password: {secret}\n"));
}

/// A committed link is refused by `diff --ref`, and by `diff --prune
/// --ref` in a folder it would prune.
#[cfg(unix)]
#[test]
fn diff_at_a_revision_refuses_committed_links() {
    let t = scratch("ref-links");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(t.path())
            .output()
            .expect("run git");
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    let file = t.join("deploy/hello/default/service-hello.yaml");
    std::fs::remove_file(&file).unwrap();
    link(Path::new("/etc/hostname"), &file);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "a link"]);
    let o = svcc(t.path(), &["diff", "specs", "-o", "deploy", "--ref", "HEAD"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("SVC0910") && text(&o).contains("service-hello.yaml` is a symbolic link"),
        "{}",
        text(&o)
    );
    // `--prune --ref` lists the folders to prune at the revision, not in
    // the working tree: a link committed in an owned folder there is
    // refused, one only in the working tree is not looked at.
    std::fs::create_dir_all(t.join("deploy/other/default")).unwrap();
    std::fs::write(t.join("deploy/other/default/.svcc-owned"), "").unwrap();
    link(Path::new("/etc/passwd"), &t.join("deploy/other/default/x.yaml"));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "a pruned folder with a link"]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    link(Path::new("/etc"), &t.join("deploy/unrelated"));
    let o = svcc(t.path(), &["diff", "specs", "-o", "deploy", "--prune", "--ref", "HEAD"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`deploy/other/default/x.yaml` is a symbolic link at `HEAD`"), "{}", text(&o));
    assert!(!text(&o).contains("unrelated"), "{}", text(&o));
}

/// A journal and staging folder committed to the repository cannot make
/// recovery move anything through a link: the build stops, and neither
/// the output nor the folder outside changes. A journal naming paths
/// outside the output folder is refused as not svcc's.
#[cfg(unix)]
#[test]
fn a_committed_journal_cannot_reach_outside_the_output() {
    let t = scratch("journal");
    let outside = TempDir::new("journal-outside");
    outside.write("x/precious.yaml", "mine: true\n");
    let before = tree(outside.path());
    t.write("deploy/.svcc-journal", "svcc-journal 1\nstaging .svcc-staging-1-1\nreplace evil/x\n");
    t.write("deploy/.svcc-staging-1-1/evil/x/planted.yaml", "planted: true\n");
    link(outside.path(), &t.join("deploy/evil"));
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SVC0910") && text(&o).contains("`deploy/evil` is a symbolic link"), "{}", text(&o));
    assert_eq!(tree(outside.path()), before);
    assert!(t.join("deploy/.svcc-journal").exists() && !t.join("deploy/hello").exists());

    std::fs::remove_file(t.join("deploy/evil")).unwrap();
    t.write("deploy/.svcc-journal", "svcc-journal 1\nstaging ../../tmp\nreplace a/b\n");
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SVC0902") && text(&o).contains("not a journal svcc wrote"), "{}", text(&o));
    // Deleting it, as the help says, lets the build run.
    std::fs::remove_file(t.join("deploy/.svcc-journal")).unwrap();
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    assert!(top_level_dot_entries(&t.join("deploy")).is_empty());
}

/// An output folder that is, or holds, an input (a spec, a preset file, the
/// folder of specs) is refused before anything is written.
#[test]
fn an_output_folder_holding_the_inputs_is_refused() {
    let t = scratch("inputs");
    // The repository root, so that `../shared` is inside it.
    t.write(".git/HEAD", "ref: refs/heads/main\n");
    t.write("shared/base.kdl", "preset base {\n    replicas 2\n}\n");
    t.write(
        "specs/uses.kdl",
        &example("minimal").replace("service hello {", "service uses {\n    use \"../shared/base.kdl\""),
    );
    let before = tree(t.path());
    for out in ["specs", ".", "specs/..", "shared", "./specs/"] {
        let o = svcc(t.path(), &["build", "specs", "-o", out]);
        assert_eq!(code(&o), Some(2), "-o {out}: {}", text(&o));
        assert!(text(&o).contains("SVC0912"), "-o {out}: {}", text(&o));
        assert_eq!(tree(t.path()), before, "-o {out} changed something");
    }
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(0), "{}", text(&o));
    assert!(t.join("deploy/uses/default/.svcc-owned").is_file());
}

/// Each owned folder gets a marker; `--check` ignores it. A folder without
/// one (older output) is adopted when every file in it is one svcc writes,
/// refused (and left alone) when it holds anything else, and adopted again
/// once the user adds the marker.
#[test]
fn unmarked_folders_are_replaced_only_when_svcc_could_have_written_them() {
    let t = scratch("adopt");
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    let marker = t.join("deploy/hello/default/.svcc-owned");
    assert!(marker.is_file());
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy", "--check"])), Some(0));
    // Output from before markers: `--check` is satisfied, a build adds the marker.
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy", "--check"])), Some(0));
    t.write("deploy/hello/default/old-hpa.yaml", "kind: HorizontalPodAutoscaler\n");
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(0), "{}", text(&o));
    assert!(marker.is_file() && !t.join("deploy/hello/default/old-hpa.yaml").exists());
    // A folder holding someone else's file is refused.
    std::fs::remove_file(&marker).unwrap();
    t.write("deploy/hello/default/NOTES.md", "mine\n");
    let before = tree(t.path());
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SVC0911") && text(&o).contains("`NOTES.md`"), "{}", text(&o));
    assert_eq!(tree(t.path()), before);
    // Adopting it on purpose.
    std::fs::write(&marker, "").unwrap();
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "deploy"])), Some(0));
    assert!(!t.join("deploy/hello/default/NOTES.md").exists());
    // A file where an owned folder goes.
    std::fs::remove_dir_all(t.join("deploy/hello/default")).unwrap();
    t.write("deploy/hello/default", "a file\n");
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SVC0911"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(t.join("deploy/hello/default")).unwrap(), "a file\n");
}

const CRASH: &str = "SVCC_TEST_CRASH_AFTER_RENAMES";

fn specs3(t: &TempDir) {
    t.write("specs/backend.kdl", &example("backend-api"));
    let runbook = common::root().join("examples/backend-api/ci/RUNBOOK.md.hbs");
    t.write("specs/ci/RUNBOOK.md.hbs", &std::fs::read_to_string(runbook).unwrap());
    t.write("specs/environments.kdl", &example("environments"));
}

fn top_level_dot_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A build killed after N renames of its swap (old output with one tag, new
/// with another): the next build finishes the swap (SVC0913), with no
/// journal or staging folder left. With a staged folder lost, the swap is
/// undone instead. The next build builds only the service swapped last, so
/// the other folders are exactly as recovery left them: all new, or all old.
#[test]
fn a_build_killed_mid_swap_is_finished_or_undone_by_the_next() {
    let t = scratch("crash");
    specs3(&t);
    let build = |spec: &str, tag: &str, out: &str, env: &[(&str, &str)]| {
        svcc_env(t.path(), &["build", spec, "--image-tag", tag, "-o", out], env)
    };
    assert_eq!(code(&build("specs", "1.4.2", "new", &[])), Some(0));
    assert_eq!(code(&build("specs", "1.4.1", "old", &[])), Some(0));
    let (new, old) = (tree(&t.join("new")), tree(&t.join("old")));
    assert_ne!(new, old);
    for n in ["0", "1", "2", "3", "6", "9"] {
        for lose_one in [false, true] {
            let _ = std::fs::remove_dir_all(t.join("deploy"));
            assert_eq!(code(&build("specs", "1.4.1", "deploy", &[])), Some(0));
            let o = build("specs", "1.4.2", "deploy", &[(CRASH, n)]);
            assert!(!o.status.success(), "N={n}: the hook did not fire: {}", text(&o));
            let journal = std::fs::read_to_string(t.join("deploy/.svcc-journal")).expect("a journal");
            let last = journal.lines().last().unwrap().split_once(' ').unwrap().1;
            // Folders swap in sorted order: `payments` (examples/environments) is last.
            assert_eq!(last, "payments/staging", "{journal}");
            if lose_one {
                // Someone deleted the last folder's staged copy: the swap cannot be finished.
                let staging = journal.lines().nth(1).unwrap().strip_prefix("staging ").unwrap();
                std::fs::remove_dir_all(t.join("deploy").join(staging).join(last)).unwrap();
            }
            let (tag, want, how) =
                if lose_one { ("1.4.1", &old, "was undone") } else { ("1.4.2", &new, "was finished") };
            let o = build("specs/environments.kdl", tag, "deploy", &[]);
            assert_eq!(code(&o), Some(0), "N={n}: {}", text(&o));
            assert!(text(&o).contains("SVC0913") && text(&o).contains(how), "N={n}: {}", text(&o));
            assert_same_tree(&tree(&t.join("deploy")), want, &format!("N={n} lose_one={lose_one}"));
            assert!(top_level_dot_entries(&t.join("deploy")).is_empty(), "N={n}");
        }
    }
}

/// A first build killed before its final rename leaves its staging folder
/// beside the output; the next build removes it.
#[test]
fn a_killed_first_build_leaves_no_staging_folder_behind() {
    let t = scratch("crash-fresh");
    let o = svcc_env(t.path(), &["build", "specs", "-o", "deploy"], &[(CRASH, "0")]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!t.join("deploy").exists());
    let staged: Vec<String> = top_level_dot_entries(t.path());
    assert!(staged.iter().any(|n| n.starts_with(".svcc-staging-deploy-")), "{staged:?}");
    // Another output's staging folder (`deploy-x`) is not this one's to clean.
    std::fs::create_dir(t.join(".svcc-staging-deploy-x-1-2")).unwrap();
    let o = svcc(t.path(), &["build", "specs", "-o", "deploy"]);
    assert_eq!(code(&o), Some(0), "{}", text(&o));
    assert_eq!(top_level_dot_entries(t.path()), vec![".svcc-staging-deploy-x-1-2".to_string()]);
    assert!(t.join("deploy/hello/default/.svcc-owned").is_file());
    // Also when the output folder exists by then.
    let o = svcc_env(t.path(), &["build", "specs", "-o", "other"], &[(CRASH, "0")]);
    assert!(!o.status.success());
    std::fs::create_dir(t.join("other")).unwrap();
    assert_eq!(code(&svcc(t.path(), &["build", "specs", "-o", "other"])), Some(0));
    assert!(!top_level_dot_entries(t.path()).iter().any(|n| n.starts_with(".svcc-staging-other-")));
}
