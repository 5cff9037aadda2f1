//! Hostile inputs to the real binary (issue 12, "reading any file" and
//! "exhaustion"): every spec, preset, `_defaults.kdl`, template and file
//! name may be written by someone who wants svcc to leak a secret from the
//! machine it runs on, or to hang or crash a commit hook.
//!
//! Each test builds a small repository in a temporary folder (a `.git`
//! folder marks its root), plants a secret where svcc must not read it, and
//! checks that the attack is inert: a diagnostic, a non-zero exit code (not
//! a signal), nothing of the secret in stdout, stderr or the output folder,
//! and an answer in well under a second (asserted < 5 s; `--nocapture`
//! prints the figures).

// The figures go to stderr (`cargo test --test hostile -- --nocapture`).
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(5);

const SERVICE: &str = "service api {\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    probes { readiness \"/ready\" }\n";

/// A temporary folder holding a repository at `repo/` (with `.git`) and
/// room outside it.
struct Sandbox {
    dir: PathBuf,
    secret: String,
}

impl Sandbox {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("svcc-hostile-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("repo/.git")).unwrap();
        let secret = format!("PLANTED-SECRET-{tag}-{nanos}");
        Sandbox { dir, secret }
    }

    fn repo(&self) -> PathBuf {
        self.dir.join("repo")
    }

    /// Write `text` at `rel` (relative to the sandbox).
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[cfg(unix)]
    fn link(&self, target: &Path, rel: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// Run svcc in `repo/` with the secret in its environment; return the
    /// output, how long it took, and everything it wrote (stdout, stderr,
    /// every file under `repo/out`).
    fn svcc(&self, args: &[&str]) -> (Output, Duration, String) {
        let start = Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_svcc"))
            .args(args)
            .current_dir(self.repo())
            .env("NO_COLOR", "1")
            .env("SVCC_PLANTED_SECRET", &self.secret)
            .output()
            .expect("run svcc");
        let took = start.elapsed();
        let mut all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        all.push_str(&tree(&self.repo().join("out")));
        (o, took, all)
    }

    /// `svcc ARGS` must fail with `code`, a non-zero exit (not a signal),
    /// quickly, without the secret anywhere.
    fn refused(&self, what: &str, args: &[&str], code: &str) {
        let (o, took, all) = self.svcc(args);
        eprintln!("{what}: exit {:?} in {took:?}", o.status.code());
        assert!(o.status.code().is_some_and(|c| c != 0), "{what}: {:?}\n{all}", o.status);
        assert!(all.contains(code), "{what}: expected {code}\n{all}");
        assert!(!all.contains(&self.secret), "{what}: the secret leaked\n{all}");
        assert!(took < LIMIT, "{what}: took {took:?}");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every file under `dir`, concatenated (empty when there is none).
fn tree(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&tree(&p));
        } else {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

/// A spec whose pipeline renders `template`.
fn with_template(template: &str) -> String {
    format!(
        "{SERVICE}    pipeline node=20 {{\n        template \"{template}\" to=\"x.txt\"\n        install-svcc git=\"https://git.example.com/svcc\" rev=\"0123456789abcdef0123456789abcdef01234567\"\n    }}\n}}\n"
    )
}

/// A spec that uses `preset`.
fn with_preset(preset: &str) -> String {
    format!("{SERVICE}    use \"{preset}\"\n}}\n")
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let ok = Command::new("mkfifo").arg(p).status().expect("mkfifo").success();
    assert!(ok, "mkfifo {}", p.display());
}

#[test]
fn proc_self_environ_is_never_read() {
    let s = Sandbox::new("environ");
    s.write("repo/t.kdl", &with_template("/proc/self/environ"));
    s.refused("template /proc/self/environ", &["build", "t.kdl", "-o", "out"], "SVC0232");
    s.write("repo/u.kdl", &with_preset("/proc/self/environ"));
    s.refused("use /proc/self/environ", &["check", "u.kdl"], "SVC0232");
    s.refused("use /proc/self/environ (json)", &["check", "--format", "json", "u.kdl"], "SVC0232");
    #[cfg(unix)]
    {
        // Through symbolic links: a preset, a template, a defaults file and
        // a spec in a services folder.
        s.link(Path::new("/proc/self/environ"), "repo/presets/env.kdl");
        s.write("repo/l.kdl", &with_preset("./presets/env.kdl"));
        s.refused("use of a link to /proc/self/environ", &["check", "l.kdl"], "SVC0232");
        s.link(Path::new("/proc/self/environ"), "repo/ci/env.hbs");
        s.write("repo/lt.kdl", &with_template("./ci/env.hbs"));
        s.refused("template linked to /proc/self/environ", &["build", "lt.kdl", "-o", "out"], "SVC0232");
        s.link(Path::new("/proc/self/environ"), "repo/svc/evil.kdl");
        s.refused("spec linked to /proc/self/environ", &["check", "svc"], "SVC0232");
        s.refused("spec linked to /proc/self/environ, named", &["check", "svc/evil.kdl"], "SVC0232");
        s.link(Path::new("/proc/self/environ"), "repo/d/_defaults.kdl");
        s.write("repo/d/svc.kdl", &format!("{SERVICE}}}\n"));
        s.refused("_defaults.kdl linked to /proc/self/environ", &["check", "d/svc.kdl"], "SVC0232");
    }
}

#[test]
fn git_internals_and_env_files_are_never_read() {
    let s = Sandbox::new("hidden");
    s.write("repo/.git/config", &format!("[remote \"origin\"]\n\turl = https://x:{}@example.com/r.git\n", s.secret));
    s.write("repo/.env", &format!("TOKEN={}\n", s.secret));
    s.write("repo/.env.kdl", &format!("preset p {{ labels {{ t \"{}\" }} }}\n", s.secret));
    s.write("repo/g.kdl", &with_template("./.git/config"));
    s.refused("template ./.git/config", &["build", "g.kdl", "-o", "out"], "SVC0233");
    s.write("repo/e.kdl", &with_template(".env"));
    s.refused("template .env", &["build", "e.kdl", "-o", "out"], "SVC0233");
    s.write("repo/p.kdl", &with_preset("./.env.kdl"));
    s.refused("use ./.env.kdl", &["check", "p.kdl"], "SVC0233");
    #[cfg(unix)]
    {
        s.link(Path::new("../.git/config"), "repo/ci/notes.hbs");
        s.write("repo/n.kdl", &with_template("./ci/notes.hbs"));
        s.refused("template linked into .git", &["build", "n.kdl", "-o", "out"], "SVC0233");
        s.link(Path::new(".git/config"), "repo/cfg.kdl");
        s.refused("spec linked into .git", &["check", "cfg.kdl"], "SVC0233");
    }
}

#[test]
fn dot_dot_and_links_cannot_leave_the_repository() {
    let s = Sandbox::new("escape");
    let preset = format!("preset p {{\n    labels {{ t \"{}\" }}\n    port http 8080\n}}\n", s.secret);
    s.write("outside/p.kdl", &preset);
    s.write("outside/t.hbs", &format!("{}\n", s.secret));
    s.write("outside/broken.kdl", &format!("preset {{{{ {}\n", s.secret));
    s.write("repo/a.kdl", &with_preset("../outside/p.kdl"));
    s.refused("use ../ above the root", &["build", "a.kdl", "-o", "out"], "SVC0232");
    s.write("repo/b.kdl", &with_preset("../outside/broken.kdl"));
    s.refused("use ../ of a broken file", &["check", "b.kdl"], "SVC0232");
    s.write("repo/deep/c.kdl", &with_template("../../outside/t.hbs"));
    s.refused("template ../../ above the root", &["build", "deep/c.kdl", "-o", "out"], "SVC0232");
    s.write("repo/abs.kdl", &with_template(&s.dir.join("outside/t.hbs").display().to_string()));
    s.refused("template by absolute path", &["build", "abs.kdl", "-o", "out"], "SVC0232");
    #[cfg(unix)]
    {
        s.link(&s.dir.join("outside/p.kdl"), "repo/presets/p.kdl");
        s.write("repo/l.kdl", &with_preset("./presets/p.kdl"));
        s.refused("use of a link leaving the root", &["build", "l.kdl", "-o", "out"], "SVC0232");
        s.link(&s.dir.join("outside"), "repo/shared");
        s.write("repo/m.kdl", &with_preset("./shared/p.kdl"));
        s.refused("use through a linked folder", &["build", "m.kdl", "-o", "out"], "SVC0232");
    }
    // Inside the root, `..` is fine.
    s.write("repo/presets/ok.kdl", "preset ok {\n    replicas 3\n}\n");
    s.write("repo/svc/ok.kdl", &with_preset("../presets/ok.kdl"));
    let (o, _, all) = s.svcc(&["check", "svc/ok.kdl"]);
    assert_eq!(o.status.code(), Some(0), "{all}");
}

#[test]
fn defaults_lookup_stops_at_the_root() {
    let s = Sandbox::new("defaults");
    // Above the repository: never read, even though it would not parse.
    s.write("_defaults.kdl", &format!("defaults {{ {}\n", s.secret));
    s.write("repo/svc/api.kdl", &format!("{SERVICE}}}\n"));
    let (o, took, all) = s.svcc(&["check", "svc/api.kdl"]);
    eprintln!("defaults above the root: exit {:?} in {took:?}", o.status.code());
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(!all.contains(&s.secret), "{all}");
    // Without `.git`, the folder named on the command line is the root.
    std::fs::remove_dir_all(s.repo().join(".git")).unwrap();
    s.write("repo/_defaults.kdl", &format!("defaults {{ {}\n", s.secret));
    for args in [["check", "svc/api.kdl"], ["check", "svc"]] {
        let (o, _, all) = s.svcc(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {all}");
        assert!(!all.contains(&s.secret), "{args:?}: {all}");
    }
    // Naming the repository folder puts its `_defaults.kdl` in scope.
    let (o, _, all) = s.svcc(&["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{all}");
}

#[cfg(unix)]
#[test]
fn pipes_and_devices_never_block() {
    let s = Sandbox::new("fifo");
    mkfifo(&s.repo().join("presets/p.kdl"));
    s.write("repo/p.kdl", &with_preset("./presets/p.kdl"));
    s.refused("use of a FIFO", &["check", "p.kdl"], "SVC0907");
    mkfifo(&s.repo().join("ci/t.hbs"));
    s.write("repo/t.kdl", &with_template("./ci/t.hbs"));
    s.refused("template that is a FIFO", &["build", "t.kdl", "-o", "out"], "SVC0907");
    mkfifo(&s.repo().join("d/_defaults.kdl"));
    s.write("repo/d/svc.kdl", &format!("{SERVICE}}}\n"));
    s.refused("_defaults.kdl that is a FIFO", &["check", "d/svc.kdl"], "SVC0907");
    mkfifo(&s.repo().join("f/fifo.kdl"));
    s.refused("spec that is a FIFO", &["check", "f"], "SVC0907");
    s.refused("spec that is a FIFO, named", &["check", "f/fifo.kdl"], "SVC0907");
    s.refused("a FIFO to format", &["fmt", "--check", "f/fifo.kdl"], "SVC0907");
    s.refused("/dev/zero as a spec", &["check", "/dev/zero"], "SVC0907");
    s.link(Path::new("/dev/zero"), "repo/presets/zero.kdl");
    s.write("repo/z.kdl", &with_preset("./presets/zero.kdl"));
    s.refused("use of a link to /dev/zero", &["check", "z.kdl"], "SVC0232");
    s.write("repo/dir.kdl", &with_template("./ci"));
    s.refused("template that is a folder", &["build", "dir.kdl", "-o", "out"], "SVC0907");
}

#[test]
fn huge_presets_templates_and_defaults_are_cut_off() {
    let s = Sandbox::new("huge");
    let mut big = String::from("preset big {\n    replicas 2\n");
    while big.len() < 3 << 20 {
        big.push_str("    // padding padding padding padding padding padding padding padding\n");
    }
    big.push_str("}\n");
    s.write("repo/presets/big.kdl", &big);
    s.write("repo/p.kdl", &with_preset("./presets/big.kdl"));
    s.refused("a 3 MiB preset", &["check", "p.kdl"], "SVC0908");
    s.write("repo/ci/big.hbs", &big);
    s.write("repo/t.kdl", &with_template("./ci/big.hbs"));
    s.refused("a 3 MiB template", &["build", "t.kdl", "-o", "out"], "SVC0908");
    s.write("repo/d/_defaults.kdl", &big.replace("preset big", "defaults"));
    s.write("repo/d/svc.kdl", &format!("{SERVICE}}}\n"));
    s.refused("a 3 MiB _defaults.kdl", &["check", "d/svc.kdl"], "SVC0908");
    // Under the read cap but over the template limit: refused before
    // handlebars compiles it (in time quadratic in its size).
    let dense = "{{service}} ".repeat(80_000);
    s.write("repo/ci/dense.hbs", &dense);
    s.write("repo/dense.kdl", &with_template("./ci/dense.hbs"));
    s.refused("a 960 KB template of tags", &["build", "dense.kdl", "-o", "out"], "SVC0345");
    let (_, _, all) = s.svcc(&["check", "dense.kdl"]);
    assert!(all.contains("user templates are at most 32 KiB"), "{all}");
}

/// `levels` levels of `width` presets; each preset uses every preset of
/// the next level (diamonds everywhere: `width^levels` paths) and sets a
/// label of its own. Returns the label keys.
fn lattice(s: &Sandbox, levels: usize, width: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for l in 0..levels {
        for w in 0..width {
            let uses: String = if l + 1 < levels {
                (0..width).map(|n| format!("    use \"./l{}-{n}.kdl\"\n", l + 1)).collect()
            } else {
                "    port http 8080\n".into()
            };
            keys.push(format!("l{l}-{w}"));
            s.write(
                &format!("repo/presets/l{l}-{w}.kdl"),
                &format!("preset l{l}-{w} {{\n{uses}    labels {{ l{l}-{w} \"x\" }}\n}}\n"),
            );
        }
    }
    let uses: String = (0..width).map(|n| format!("    use \"./presets/l0-{n}.kdl\"\n")).collect();
    s.write("repo/svc.kdl", &format!("service api {{\n{uses}    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    probes {{ readiness \"/ready\" }}\n}}\n"));
    keys
}

#[test]
fn preset_fan_out_is_linear_or_capped() {
    // 7 levels of 8: 56 files, 8^7 ≈ 2 million paths through them.
    let s = Sandbox::new("fanout");
    let keys = lattice(&s, 7, 8);
    let (o, took, all) = s.svcc(&["build", "svc.kdl"]);
    eprintln!("preset lattice 7 levels × 8 (8^7 paths): exit {:?} in {took:?}", o.status.code());
    assert_eq!(o.status.code(), Some(0), "{all}");
    for k in &keys {
        assert!(all.contains(&format!("{k}: x")), "label {k} missing");
    }
    assert!(took < LIMIT, "took {took:?}");
    // 12 levels of 2 (4096 paths): deeper than presets may go.
    let s = Sandbox::new("deep");
    lattice(&s, 12, 2);
    s.refused("preset lattice 12 levels × 2", &["check", "svc.kdl"], "SVC0336");
    // One level of 70 files: more files than a service may use.
    let s = Sandbox::new("wide");
    lattice(&s, 1, 70);
    s.refused("70 presets side by side", &["check", "svc.kdl"], "SVC0336");
    // The same preset twice.
    let s = Sandbox::new("twice");
    s.write("repo/presets/p.kdl", "preset p {\n    replicas 2\n}\n");
    s.write("repo/svc.kdl", &format!("{SERVICE}    use \"./presets/p.kdl\"\n    use \"presets/p.kdl\"\n}}\n"));
    s.refused("a preset used twice", &["check", "svc.kdl"], "SVC0335");
}

#[test]
fn templates_cannot_recurse_or_explode() {
    let s = Sandbox::new("template");
    let cases: [(&str, String, &str, &str); 5] = [
        ("a recursive inline partial", "{{#*inline \"p\"}}{{> p}}{{/inline}}{{> p}}".into(), "SVC0344", "partial"),
        (
            "1 000 nested blocks",
            format!("{}x{}", "{{#if service}}".repeat(1_000), "{{/if}}".repeat(1_000)),
            "SVC0345",
            "nested more than 32 deep",
        ),
        (
            "nested each loops",
            format!("{}x{}", "{{#each environments}}".repeat(20), "{{/each}}".repeat(20)),
            "SVC0345",
            "steps",
        ),
        (
            "a 3.75 MB output",
            format!(
                "{}{}{}",
                "{{#each environments}}{{#each ../environments}}{{#each ../../environments}}",
                "y".repeat(30_000),
                "{{/each}}{{/each}}{{/each}}"
            ),
            "SVC0345",
            "larger than 1 MiB",
        ),
        (
            "deep subexpressions",
            format!("{{{{lookup {}service{} }}}}", "(lookup ".repeat(2_000), ")".repeat(2_000)),
            "SVC0345",
            "nested more than 32 deep",
        ),
    ];
    let envs: String = (0..5).map(|i| format!("    environment e{i} {{ }}\n")).collect();
    for (i, (what, template, code, reason)) in cases.iter().enumerate() {
        s.write(&format!("repo/ci/t{i}.hbs"), template);
        let spec = with_template(&format!("./ci/t{i}.hbs")).replace("    pipeline", &format!("{envs}    pipeline"));
        s.write(&format!("repo/t{i}.kdl"), &spec);
        s.refused(what, &["build", &format!("t{i}.kdl"), "-o", "out"], code);
        let (_, _, all) = s.svcc(&["check", &format!("t{i}.kdl")]);
        assert!(all.contains(reason), "{what}: expected `{reason}`\n{all}");
    }
    // Within the limits, templates render as before.
    s.write("repo/ci/ok.hbs", "{{#each environments}}{{name}} {{/each}}");
    s.write("repo/ok.kdl", &with_template("./ci/ok.hbs").replace("    pipeline", &format!("{envs}    pipeline")));
    let (o, _, all) = s.svcc(&["build", "ok.kdl", "-o", "out"]);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("e0 e1 e2 e3 e4 "), "{all}");
}

/// A spec cannot drive the terminal of whoever runs `svcc check` on it: a
/// value with escape sequences (spelled `\u{1b}` in a KDL string), a raw
/// escape character (a syntax error whose snippet shows the line), a
/// bidirectional override and a file name with an escape sequence all
/// reach stderr as visible text, never as the characters themselves.
#[test]
fn terminal_escapes_in_a_spec_are_shown_not_obeyed() {
    let s = Sandbox::new("terminal");
    let osc = "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}";
    s.write("repo/value.kdl", &format!("{SERVICE}    labels {{ team \"a{osc}b\" }}\n}}\n"));
    s.write("repo/raw.kdl", &format!("{SERVICE}    labels {{ team \"a\u{1b}[2Jb\" }}\n}}\n"));
    s.write("repo/name-\u{1b}[31m.kdl", &format!("{SERVICE}    replicas -1\n}}\n"));
    for file in ["value.kdl", "raw.kdl", "name-\u{1b}[31m.kdl"] {
        for format in ["human", "github"] {
            let (o, _, all) = s.svcc(&["check", "--format", format, "--color", "never", file]);
            assert!(o.status.code().is_some_and(|c| c != 0), "{file} ({format}):\n{all}");
            let obeyed: Vec<char> =
                all.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\t') || *c == '\u{202e}').collect();
            assert!(obeyed.is_empty(), "{file} ({format}): {obeyed:?} reached the terminal:\n{all}");
            if format == "human" {
                assert!(all.contains("\\u{1b}") || all.contains('?'), "{file}: the escape is not shown\n{all}");
            }
        }
    }
}
