//! Machine formats of the real binary and its manual pages: SARIF judged
//! by Microsoft's SARIF Multitool (the SARIF rules and GitHub code
//! scanning's ingestion rules), GitHub annotations that keep every label,
//! and `svcc man` writing a page for every subcommand.
//!
//! The Multitool comes from npm (`@microsoft/sarif-multitool`, pinned
//! below); `.ci/run` installs it into `~/.cache/svcc-sarif`. When it is
//! missing the test installs it the same way, and skips (saying so) only
//! when npm cannot.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use svcc::diagnostic::Code;

/// The Multitool release the tests use (and `.ci/run` installs).
const MULTITOOL: &str = "@microsoft/sarif-multitool@5.7.0";

fn svcc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run svcc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("svcc-formats-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn sarif_of(args: &[&str]) -> Value {
    let o = svcc(args);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&o)))
}

/// The Multitool's platform binary (`bin.js` runs it through a shell,
/// which would split `Sarif;Gh`), installed on first use.
#[allow(clippy::print_stderr)] // say why the test is skipped
fn multitool() -> Option<PathBuf> {
    let prefix = std::env::var_os("SVCC_SARIF_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/svcc-sarif"));
    let find = || {
        let dir = prefix.join("node_modules/@microsoft");
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("Sarif.Multitool"))
            .find(|p| p.is_file())
    };
    if let Some(bin) = find() {
        return Some(bin);
    }
    let installed = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(MULTITOOL)
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!(
            "SKIPPED: the SARIF Multitool could not be installed (`npm install --prefix {} {MULTITOOL}`)",
            prefix.display()
        );
        return None;
    }
    find()
}

/// Run `validate` with the SARIF and GitHub rules; return its errors and
/// warnings (notes are suggestions such as "provide a help URI").
fn multitool_findings(bin: &Path, log: &Path) -> Vec<String> {
    let out = log.with_extension("validation.sarif");
    let o = Command::new(bin)
        .args(["validate", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning", "--output"])
        .arg(&out)
        .arg(log)
        .output()
        .expect("run the SARIF Multitool");
    assert!(o.status.success(), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mut findings = Vec::new();
    for run in report["runs"].as_array().unwrap() {
        for r in run["results"].as_array().into_iter().flatten() {
            findings.push(format!("{} {}: {}", r["ruleId"], r["level"], r["message"]["arguments"]));
        }
        for n in run["invocations"][0]["toolExecutionNotifications"].as_array().into_iter().flatten() {
            if n["level"] == "error" {
                findings.push(format!("notification: {}", n["message"]["text"]));
            }
        }
    }
    findings
}

/// Every fixture of the diagnostics corpus (multi-file folders, warnings,
/// unreadable and oversized input included) and a run with problems
/// outside any file, as SARIF, pass the Multitool without an error or a
/// warning: valid SARIF 2.1.0, and what GitHub code scanning ingests.
#[test]
fn sarif_passes_the_sarif_multitool() {
    let Some(bin) = multitool() else { return };
    let dir = temp("multitool");
    let runs: [&[&str]; 2] = [
        &["check", "--format", "sarif", "tests/fixtures/err/"],
        &["check", "--format", "sarif", "--image-tag", "not a tag", "examples/minimal", "missing.kdl"],
    ];
    for (i, args) in runs.iter().enumerate() {
        let o = svcc(args);
        assert!(o.stderr.is_empty(), "SARIF goes to stdout alone: {}", String::from_utf8_lossy(&o.stderr));
        let log = dir.join(format!("run-{i}.sarif"));
        std::fs::write(&log, &o.stdout).unwrap();
        let findings = multitool_findings(&bin, &log);
        assert!(findings.is_empty(), "{args:?}:\n{}", findings.join("\n"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sarif_describes_the_tool_and_every_code() {
    let log = sarif_of(&["check", "--format", "sarif", "examples/minimal"]);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["results"], serde_json::json!([]), "a clean check has no results");
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "svcc");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for (rule, code) in rules.iter().zip(Code::ALL) {
        assert_eq!(rule["id"], code.as_str());
        assert_eq!(rule["help"]["markdown"], code.explanation(), "{code}: the page is the help");
        let title = code.explanation().lines().next().unwrap().split_once(": ").unwrap().1;
        assert_eq!(rule["shortDescription"]["text"], title);
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
    }
}

/// A result points at the primary label's token, in UTF-16 columns (an
/// emoji before it counts two), and links each secondary label as a
/// related location with its text.
#[test]
fn sarif_results_point_at_labels_in_utf16_columns() {
    let dir = temp("labels");
    let spec = "service api {\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    probes { readiness \"/ready\" }\n    env {\n        MOOD \"😀\"; MOOD \"😐\"\n    }\n}\n";
    std::fs::write(dir.join("api.kdl"), spec).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(["check", "--format", "sarif", "api.kdl"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:#?}");
    let r = &results[0];
    assert_eq!(r["ruleId"], "SVC0207");
    assert_eq!(r["ruleIndex"], Code::ALL.iter().position(|c| c.as_str() == "SVC0207").unwrap());
    assert_eq!(r["level"], "error");
    let at = &r["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"], serde_json::json!({ "uri": "api.kdl", "uriBaseId": "%SRCROOT%" }));
    // `        MOOD "😀"; MOOD`: the second MOOD is the 19th character, but
    // the emoji is two UTF-16 units, so its column is 20.
    assert_eq!(at["region"]["startLine"], 6);
    assert_eq!(at["region"]["startColumn"], 20);
    assert_eq!(at["region"]["endColumn"], 24);
    assert_eq!(at["region"]["snippet"]["text"], "MOOD");
    let related = &r["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(related["physicalLocation"]["region"]["startColumn"], 9);
    let label = related["message"]["text"].as_str().unwrap();
    assert!(r["message"]["text"].as_str().unwrap().contains(&format!("[{label}](1)")), "{r:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A GitHub annotation shows one line of one file, so its text carries
/// the primary label, every secondary label with its place, and the help.
#[test]
fn github_annotations_keep_every_label() {
    let dir = temp("github");
    let spec = "service api {\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    probes { readiness \"/ready\" }\n    env {\n        MOOD \"a\"\n        MOOD \"b\"\n    }\n}\n";
    std::fs::write(dir.join("api.kdl"), spec).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(["check", "--format", "github", "api.kdl"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let out = stdout(&o);
    let (props, message) = out.trim_end().split_once("::SVC0207: ").unwrap_or_else(|| panic!("{out}"));
    assert!(props.starts_with("::error title=svcc SVC0207,file=api.kdl,line=7,"), "{out}");
    let lines: Vec<&str> = message.split("%0A").collect();
    let d = svcc::compile(
        &svcc::Input { name: "api.kdl".into(), bytes: spec.as_bytes().to_vec() },
        &svcc::Options::default(),
    )
    .diagnostics
    .remove(0);
    assert_eq!(lines[1], format!("here: {}", d.primary.as_ref().unwrap().message));
    assert_eq!(lines[2], format!("api.kdl:6:9: {}", d.secondary[0].message));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `svcc man --out DIR` writes `svcc.1` and one page per subcommand, and
/// every page the main page refers to (`svcc\-build(1)`, …) is among them.
#[test]
fn man_writes_a_page_for_every_subcommand() {
    let dir = temp("man");
    let o = svcc(&["man", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut pages: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    pages.sort();
    let listed: Vec<String> =
        stdout(&o).lines().map(|l| Path::new(l).file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(listed.len(), pages.len(), "each written page is printed");
    let main = std::fs::read_to_string(dir.join("svcc.1")).unwrap();
    let referenced: Vec<String> = main
        .split("svcc\\-")
        .skip(1)
        // roff escapes the hyphens of a name too (`svcc\-adapter\-rules(1)`).
        .filter_map(|rest| rest.split_once("(1)").map(|(name, _)| format!("svcc-{}.1", name.replace("\\-", "-"))))
        .collect();
    assert!(referenced.len() >= 8, "{main}");
    for page in &referenced {
        assert!(pages.contains(page), "svcc.1 refers to {page}, which `svcc man --out` does not write: {pages:?}");
    }
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        let name = page.trim_end_matches(".1");
        assert!(text.contains(&format!(".TH {name} 1")), "{page}: {text}");
        assert!(
            text.contains(&format!("\"svcc {}\"", env!("CARGO_PKG_VERSION"))),
            "{page} does not name svcc's version"
        );
    }
    // One page to stdout, by name; an unknown name is a usage error.
    let o = svcc(&["man", "build"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), std::fs::read_to_string(dir.join("svcc-build.1")).unwrap());
    let o = svcc(&["man", "buidl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `build`?"));
    let _ = std::fs::remove_dir_all(&dir);
}
