//! The real-services corpus (bench/corpus, docs/real-services.md): every
//! spec builds, names public originals listed in bench/corpus/SOURCES.tsv,
//! and the comparison script's classifier passes its unit tests.
//!
//! The originals themselves are not in the repository (bench/fetch_corpus.py
//! downloads them), so the comparison itself is not run here. The unit
//! tests need a Python with PyYAML: the oracle's venv, else python3;
//! SVCC_SKIP_ORACLE=1 skips them, as it skips the oracle.

mod common;

use std::path::PathBuf;
use std::process::Command;

use svcc::Options;

fn sources() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(common::root().join("bench/corpus/SOURCES.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() == 3 && f[2].len() == 40, "SOURCES.tsv: {l}");
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}

#[test]
fn every_corpus_spec_builds_and_names_listed_originals() {
    let listed = sources();
    let specs = common::services("bench/corpus");
    assert!(specs.len() >= 20, "{} specs", specs.len());
    let opts = Options { require_tag: true, ..Options::default() };
    let mut repos = std::collections::BTreeSet::new();
    for spec in &specs {
        let c = common::compile_file(spec, &opts);
        assert!(
            !c.has_errors(),
            "{}:\n{}",
            common::rel(spec),
            common::render(&c, svcc::diagnostic::render::Format::Human)
        );
        let text = std::fs::read_to_string(spec).unwrap();
        let originals: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("// original: ")).collect();
        assert!(!originals.is_empty(), "{}: no `// original:` header", common::rel(spec));
        for line in originals {
            let mut words = line.split_whitespace();
            let repo = words.next().unwrap();
            repos.insert(repo.to_string());
            for path in words {
                assert!(
                    listed.iter().any(|(r, p)| r == repo && p == path),
                    "{}: {repo} {path} is not in bench/corpus/SOURCES.tsv",
                    common::rel(spec)
                );
            }
        }
    }
    assert!(repos.len() >= 5, "{repos:?}");
}

/// A Python with PyYAML: the oracle's (installed by ../shared/oracle/install), else python3.
fn python_with_yaml() -> Option<PathBuf> {
    let oracle = std::env::var_os("SVCC_ORACLE_HOME").map(PathBuf::from).or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(cache.join("svcc-oracle"))
    });
    let candidates = oracle.map(|o| o.join("venv/bin/python")).into_iter().chain([PathBuf::from("python3")]);
    candidates
        .into_iter()
        .find(|py| Command::new(py).args(["-c", "import yaml"]).output().is_ok_and(|o| o.status.success()))
}

#[test]
fn the_comparison_classifier_passes_its_unit_tests() {
    if std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1") {
        return;
    }
    let python = python_with_yaml().expect(
        "no python3 with PyYAML: run ../shared/oracle/install (its venv has PyYAML), or set SVCC_SKIP_ORACLE=1",
    );
    let out = Command::new(python).arg(common::root().join("bench/test_compare_corpus.py")).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
