//! The diagnostics corpus: every `tests/fixtures/err/*.kdl` is compiled, and
//! its rendered diagnostics (human and JSON) are snapshotted together with
//! the source.
//!
//! A fixture states what it expects in header comments:
//!
//! ```kdl
//! // expect: SVC0202 4:5
//! // options: build env=production image-tag=latest
//! ```
//!
//! `expect` lines name a code and the 1-based line:column where a
//! diagnostic with that code must start (several lines allowed); a
//! position in another file the spec reads is written `FILE:LINE:COL`
//! (`// expect: SVC0231 broken.kdl:4:9`). `options` (optional) selects
//! `build` (a tag is required), `--env` and `--image-tag`. The name starts
//! with the first expected code.
//!
//! Each fixture is its own test (`cargo test --test diagnostics SVC0202`
//! runs those whose name holds it), through libtest-mimic.
//!
//! A fixture is a `.kdl` file, or a folder whose `service.kdl` is the spec:
//! its other files are the presets it uses and the `_defaults.kdl` that
//! applies to it (multi-file cases).
//!
//! Beside each bad spec, `tests/fixtures/ok/` holds the good one: the
//! corrected spec, or the case a check used to refuse or mis-compile. Each
//! compiles with no diagnostic at all, and its header lists texts the
//! output must hold, each in the generated file whose path ends as named:
//!
//! ```kdl
//! // output: production/prometheusrule-api.yaml le=~"1|1\\.0"
//! // absent: production/prometheusrule-api.yaml le="1"
//! ```
//!
//! (With a `gitops` block, the files that span services are searched too,
//! as `svcc build -o deploy --prune` writes them: `_argocd/…`, `_env.…/…`.)
//!
//! (`tests/oracle.rs` runs the independent validators over their output.)

mod common;

use std::path::{Path, PathBuf};

use svcc::diagnostic::render::Format;
use svcc::{Compiled, Options};

struct Expect {
    code: String,
    /// `LINE:COL`, or `FILE:LINE:COL` for another file.
    at: String,
}

/// `(name, spec path)` of every fixture, sorted.
fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = common::root().join("tests/fixtures/err");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            out.push((name, p.join("service.kdl")));
        } else if p.extension().is_some_and(|x| x == "kdl") {
            out.push((name, p));
        }
    }
    out.sort();
    out
}

/// Where a diagnostic starts: `LINE:COL` in the spec, `FILE:LINE:COL` elsewhere.
fn position(c: &Compiled, d: &svcc::diagnostic::Diagnostic) -> Option<String> {
    let p = d.primary.as_ref()?;
    let file = match p.span.file {
        0 => &c.file,
        k => c.imports.get(usize::from(k) - 1)?,
    };
    let (l, col) = file.line_col(p.span.start);
    Some(if p.span.file == 0 {
        format!("{l}:{col}")
    } else {
        format!("{}:{l}:{col}", Path::new(&file.name).file_name().unwrap().to_string_lossy())
    })
}

fn header(text: &str) -> (Vec<Expect>, Options) {
    let mut expects = Vec::new();
    let mut opts = Options::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("// expect:") {
            let mut it = rest.split_whitespace();
            let code = it.next().expect("expect: needs a code").to_string();
            let at = it.next().expect("expect: needs line:col").to_string();
            expects.push(Expect { code, at });
        } else if let Some(rest) = line.strip_prefix("// options:") {
            common::apply_options(rest, &mut opts);
        }
    }
    (expects, opts)
}

/// One fixture: its expectations, spans, and the snapshot of its source
/// and rendered diagnostics. `Err` says what is wrong.
fn check_fixture(name: &str, path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (expects, opts) = header(&text);
    let Some(first) = expects.first() else { return Err("no `// expect:` line".into()) };
    if !name.starts_with(&first.code) {
        return Err(format!("the name must start with {}", first.code));
    }
    let compiled = common::compile_file(path, &opts);
    if !compiled.has_errors() && compiled.diagnostics.iter().all(|d| d.is_error()) {
        return Err("no diagnostics".into());
    }
    if compiled.has_errors() && !compiled.artifacts.is_empty() {
        return Err("errors, yet artifacts".into());
    }
    let mut failures = Vec::new();
    for e in &expects {
        let found = compiled
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == e.code && position(&compiled, d).as_deref() == Some(&e.at));
        if !found {
            let got: Vec<String> =
                compiled.diagnostics.iter().map(|d| format!("{} at {:?}", d.code, position(&compiled, d))).collect();
            failures.push(format!("expected {} at {}, got {got:?}", e.code, e.at));
        }
    }
    // Every span lies inside the file it points into, on char boundaries.
    for d in &compiled.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            let text = match l.span.file {
                0 => &compiled.file.text,
                k => &compiled.imports[usize::from(k) - 1].text,
            };
            if l.span.end as usize > text.len() || !text.is_char_boundary(l.span.start as usize) {
                failures.push(format!("span {:?} outside its file or off a char boundary", l.span));
            }
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    let human = common::render(&compiled, Format::Human);
    let json = common::render(&compiled, Format::Json);
    let mut sources = format!("----- SOURCE\n{text}\n");
    for f in &compiled.imports {
        if !f.name.starts_with("stdlib/") {
            sources.push_str(&format!("----- SOURCE {}\n{}\n", f.name, f.text));
        }
    }
    let snap = format!("{sources}----- HUMAN\n{human}\n----- JSON\n{json}");
    common::settings().bind(|| insta::assert_snapshot!(format!("diagnostics__{name}"), snap));
    Ok(())
}

/// `(name, spec path)` of every accepted fixture, sorted.
fn accepted_fixtures() -> Vec<(String, PathBuf)> {
    common::files("tests/fixtures/ok", "kdl")
        .into_iter()
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

/// One accepted fixture: no diagnostics, and each `// output:` text in its
/// file, each `// absent:` text not.
fn check_accepted(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (_, opts) = header(&text);
    let compiled = common::compile_file(path, &opts);
    if !compiled.diagnostics.is_empty() {
        return Err(common::render(&compiled, Format::Human));
    }
    let mut failures = Vec::new();
    let mut files = compiled.artifacts.clone();
    if let Some(d) = &compiled.deployed {
        files.extend(svcc::gitops::artifacts(std::slice::from_ref(d), Some("deploy")).map_err(|e| format!("{e:?}"))?);
    }
    for line in text.lines() {
        let line = line.trim();
        let (rest, present) = match (line.strip_prefix("// output:"), line.strip_prefix("// absent:")) {
            (Some(rest), _) => (rest, true),
            (_, Some(rest)) => (rest, false),
            _ => continue,
        };
        let (file, want) = rest.trim().split_once(' ').ok_or("`// output: FILE TEXT`")?;
        let Some(a) = files.iter().find(|a| a.path.ends_with(file)) else {
            failures.push(format!("no generated file ends with `{file}`"));
            continue;
        };
        if a.contents.contains(want) != present {
            let verb = if present { "lacks" } else { "holds" };
            failures.push(format!("{} {verb} `{want}`:\n{}", a.path, a.contents));
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(failures.join("\n")) }
}

/// One test per fixture (`cargo test --test diagnostics SVC0202`), so a
/// failing fixture never hides the others, plus the tests below.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let all = fixtures();
    let mut trials = vec![
        libtest_mimic::Trial::test("corpus_is_large_enough", || {
            let n = fixtures().len();
            if n >= 30 {
                Ok(())
            } else {
                Err(format!("the corpus should hold at least 30 failure cases, found {n}").into())
            }
        }),
        libtest_mimic::Trial::test("github_annotations", || {
            github_annotations();
            Ok(())
        }),
        libtest_mimic::Trial::test("all_errors_of_a_file_are_reported_together", || {
            all_errors_of_a_file_are_reported_together();
            Ok(())
        }),
    ];
    for (name, path) in all {
        trials.push(libtest_mimic::Trial::test(format!("fixture::{name}"), move || {
            check_fixture(&name, &path).map_err(Into::into)
        }));
    }
    for (name, path) in accepted_fixtures() {
        trials.push(libtest_mimic::Trial::test(format!("accepted::{name}"), move || {
            check_accepted(&path).map_err(Into::into)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn github_annotations() {
    let path = common::root().join("tests/fixtures/err/SVC0202-unknown-node.kdl");
    let compiled = common::compile_file(&path, &Options::default());
    let gh = common::render(&compiled, Format::Github);
    assert!(
        gh.starts_with("::error title=svcc SVC0202,file=tests/fixtures/err/SVC0202-unknown-node.kdl,line="),
        "{gh}"
    );
    common::settings().bind(|| insta::assert_snapshot!("diagnostics_github", gh));
}

fn all_errors_of_a_file_are_reported_together() {
    let text = "service api {\n    imgae \"x\"\n    port http 99999\n    replicas \"3\"\n}\n";
    let c = common::compile_str("many.kdl", text, &Options::default());
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["SVC0202", "SVC0211", "SVC0204"], "{codes:?}");
}
