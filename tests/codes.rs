//! The diagnostic code registry and its pages stay in sync.
//!
//! - every code has `docs/codes/<code>.md`, titled `# <code>: …` with a
//!   one-line description that says more than the slug (`svcc explain`
//!   lists it), and every page names a code;
//! - the first ```kdl block of a page is a spec that emits the page's code
//!   (a `// options:` header line selects `build`, `env=NAME` and
//!   `image-tag=TAG`, as in the diagnostics corpus);
//! - codes that no single spec can raise ([`EXEMPT`]) show the situation in
//!   a ```text or ```console block instead;
//! - several ```kdl blocks in a page's example are the files of one
//!   folder build (the service graph's codes, SVC07xx);
//! - every other code is exercised by a fixture in `tests/fixtures/err/`
//!   (or, for the service graph, `tests/fixtures/graph/`).

mod common;

use std::collections::BTreeSet;

use svcc::Options;
use svcc::diagnostic::Code;

/// Codes that no single spec file can raise: invalid UTF-8 cannot sit in a
/// Markdown page, a service conflict and a GitOps conflict need two files, a schema violation
/// means a gap in the earlier checks, import cycles, deep preset chains and
/// template problems need files beside the spec (their fixtures are
/// folders), `svcc import`'s codes are about YAML input (tests/import.rs),
/// and the rest come from the command line or the file system.
/// (SVC0903, an unknown `--env`, is raised by the library and has a spec
/// example with `// options: env=…`.)
const EXEMPT: &[&str] = &[
    "SVC0103", "SVC0311", "SVC0353", "SVC0501", "SVC0901", "SVC0902", "SVC0904", "SVC0905", "SVC0906", "SVC0331",
    "SVC0336", "SVC0344", "SVC0345", "SVC0907", "SVC0908", "SVC0910", "SVC0911", "SVC0912", "SVC0913",
    // `svcc import` reads YAML, not a spec.
    "SVC0801", "SVC0802", "SVC0803", "SVC0804", "SVC0805", "SVC0806", "SVC0807", "SVC0808", "SVC0809", "SVC0810",
    "SVC0811", "SVC0812", // `svcc adapter-rules` compares the services of a build (tests/adapter.rs).
    "SVC0732",
];

/// SVC04xx codes that are errors: a patch that undoes the hardening, a
/// credential written into the spec (docs/security.md).
const SECURITY_ERRORS: &[&str] = &["SVC0405", "SVC0406"];

/// The service graph's warnings (the rest of SVC07xx are errors).
const GRAPH_WARNINGS: &[&str] = &["SVC0708", "SVC0709", "SVC0710", "SVC0711"];

fn page(code: Code) -> String {
    let path = common::root().join("docs/codes").join(format!("{}.md", code.as_str()));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced code blocks of a Markdown page: (info string, body).
fn fences(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in md.lines() {
        match &mut open {
            None => {
                if let Some(info) = line.trim_start().strip_prefix("```") {
                    open = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((_, body)) => {
                if line.trim() == "```" {
                    out.push(open.take().unwrap());
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "unclosed code block");
    out
}

/// Options from a `// options: …` header line.
fn options(spec: &str) -> Options {
    let mut opts = Options::default();
    for line in spec.lines() {
        if let Some(rest) = line.trim().strip_prefix("// options:") {
            common::apply_options(rest, &mut opts);
        }
    }
    opts
}

fn exempt(code: Code) -> bool {
    EXEMPT.contains(&code.as_str())
}

#[test]
fn every_code_has_a_page_and_every_page_a_code() {
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let path = common::root().join("docs/codes").join(format!("{code}.md"));
        if !path.is_file() {
            problems.push(format!("{code}: no page at {}", common::rel(&path)));
            continue;
        }
        let text = page(code);
        let first = text.lines().next().unwrap_or("");
        let prefix = format!("# {code}: ");
        match first.strip_prefix(&prefix) {
            Some(title) if !title.trim().is_empty() => {}
            _ => problems.push(format!("{code}: the first line must be `{prefix}<title>`, found `{first}`")),
        }
        for section in ["\n## Example\n", "\n## Fix\n"] {
            if !text.contains(section) {
                problems.push(format!("{code}: no `{}` section", section.trim()));
            }
        }
        if code.explanation() != text {
            problems.push(format!("{code}: `explanation()` is not the page (stale build?)"));
        }
    }
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    for path in common::files("docs/codes", "md") {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !known.contains(stem.as_str()) {
            problems.push(format!("{}: names no diagnostic code", common::rel(&path)));
        }
    }
    for e in EXEMPT {
        if !known.contains(e) {
            problems.push(format!("exemption {e} is not a diagnostic code"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Letters and digits only, lower case: `unknown-node` and "Unknown node"
/// read the same.
fn words(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// `svcc explain` lists each code with its page's title: a description,
/// not the slug again.
#[test]
fn explain_lists_a_description_for_every_code() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_svcc")).arg("explain").output().unwrap();
    assert!(o.status.success());
    let listing = String::from_utf8(o.stdout).unwrap();
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let Some(line) = listing.lines().find(|l| l.trim_start().starts_with(code.as_str())) else {
            problems.push(format!("{code}: not listed"));
            continue;
        };
        let rest = line.trim_start()[code.as_str().len()..].trim_start();
        let description = rest.strip_prefix(code.slug()).unwrap_or("").trim();
        if description.is_empty() || words(description) == words(code.slug()) {
            problems.push(format!(
                "{code}: `svcc explain` lists `{description}`, which only repeats the slug `{}`: give docs/codes/{code}.md a title that says what is wrong",
                code.slug()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn page_examples_emit_their_code() {
    let mut problems = Vec::new();
    for &code in Code::ALL {
        let text = page(code);
        let blocks = fences(&text);
        if exempt(code) {
            // No spec can raise it: the page shows the situation as text.
            match blocks.first() {
                Some((info, _)) if info == "text" || info == "console" => {}
                Some((info, _)) => problems
                    .push(format!("{code}: exempt, so its first code block must be text or console, not `{info}`")),
                None => problems.push(format!("{code}: exempt, but the page has no ```text or ```console block")),
            }
            continue;
        }
        let Some((_, spec)) = blocks.iter().find(|(info, _)| info == "kdl") else {
            problems.push(format!("{code}: the page has no ```kdl example"));
            continue;
        };
        // Several ```kdl blocks before `## Fix` are the files of one folder
        // build (the service graph's codes).
        let example = text.split("\n## Fix\n").next().unwrap_or_default();
        let files: Vec<String> = fences(example).into_iter().filter(|(i, _)| i == "kdl").map(|(_, b)| b).collect();
        let diagnostics: Vec<svcc::diagnostic::Diagnostic> = if files.len() > 1 {
            let units: Vec<svcc::Unit> = files
                .iter()
                .enumerate()
                .map(|(i, f)| svcc::Unit {
                    input: svcc::Input { name: format!("docs/codes/{code}/{i}.kdl"), bytes: f.as_bytes().to_vec() },
                    defaults: Vec::new(),
                })
                .collect();
            let opts = Options { whole_graph: true, ..options(spec) };
            svcc::compile_units(&units, &svcc::NoFiles, &opts).into_iter().flat_map(|c| c.diagnostics).collect()
        } else {
            common::compile_str(&format!("docs/codes/{code}.md"), spec, &options(spec)).diagnostics
        };
        let hits: Vec<_> = diagnostics.iter().filter(|d| d.code == code).collect();
        if hits.is_empty() {
            let got: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
            problems.push(format!("{code}: the ```kdl example does not emit it; it emits {got:?}"));
            continue;
        }
        // Warnings are exactly the SVC04xx codes, but for the security
        // checks that stop a build, and the service graph's warnings.
        let warning = (code.as_str().starts_with("SVC04") && !SECURITY_ERRORS.contains(&code.as_str()))
            || GRAPH_WARNINGS.contains(&code.as_str());
        if hits.iter().any(|d| d.is_error() == warning) {
            let want = if warning { "a warning" } else { "an error" };
            problems.push(format!("{code}: the example emits it, but not as {want}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The codes a fixture exercises: the one its name starts with, and every
/// `// expect: CODE …` header line.
fn fixture_codes(path: &std::path::Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for &code in Code::ALL {
        if name.starts_with(code.as_str()) {
            out.insert(code.as_str().to_string());
        }
    }
    let bytes = std::fs::read(path).unwrap();
    for line in String::from_utf8_lossy(&bytes).lines() {
        if let Some(rest) = line.trim().strip_prefix("// expect:")
            && let Some(code) = rest.split_whitespace().next()
        {
            out.insert(code.to_string());
        }
    }
    out
}

#[test]
fn every_code_has_a_fixture() {
    let mut covered = BTreeSet::new();
    for path in
        common::files("tests/fixtures/err", "kdl").into_iter().chain(common::files("tests/fixtures/graph", "kdl"))
    {
        covered.extend(fixture_codes(&path));
    }
    let missing: Vec<&str> =
        Code::ALL.iter().filter(|c| !exempt(**c)).map(|c| c.as_str()).filter(|c| !covered.contains(*c)).collect();
    assert!(missing.is_empty(), "no fixture in tests/fixtures/err exercises: {}", missing.join(", "));
}

#[test]
fn parse_accepts_code_number_and_slug() {
    for s in ["SVC0202", "svc0202", "0202", "unknown-node", " SVC0202 "] {
        assert_eq!(Code::parse(s), Some(Code::UnknownNode), "{s:?}");
    }
    for s in ["SVC9999", "unknown node", "", "202"] {
        assert_eq!(Code::parse(s), None, "{s:?}");
    }
    for &code in Code::ALL {
        assert_eq!(Code::parse(code.as_str()), Some(code));
        assert_eq!(Code::parse(code.slug()), Some(code));
        assert_eq!(code.to_string(), code.as_str());
    }
}

#[test]
fn codes_are_unique_and_ordered() {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "codes must be unique and in numeric order");
    let slugs: BTreeSet<&str> = Code::ALL.iter().map(|c| c.slug()).collect();
    assert_eq!(slugs.len(), codes.len(), "slugs must be unique");
    for c in &codes {
        assert!(c.len() == 7 && c.starts_with("SVC") && c[3..].bytes().all(|b| b.is_ascii_digit()), "{c}");
    }
}
