//! The real-world round trip of docs/import.md ("Real public services"):
//! every repository of `bench/corpus/SOURCES.tsv` is imported (its files
//! together, as `bench/import_corpus.py` does), every imported spec is
//! built, and `svcc diff`'s comparison ([`svcc::diff::fields`]) between
//! each original object and its rebuild may show only what the report
//! lists as changed by design or not carried over — and what svcc adds.
//!
//! The manifests are third-party and not in this repository: fetch them
//! with `bench/fetch_corpus.py DIR`, then
//! `SVCC_IMPORT_CORPUS=DIR cargo test --test import_corpus -- --ignored --nocapture`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use svcc::import::ledger::ObjectReport;
use svcc::import::{self, Source};
use svcc::{Compiled, Options};

/// (repository, [path, …]) in SOURCES.tsv order.
fn repositories() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(common::root().join("bench/corpus/SOURCES.tsv")).unwrap();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut cols = line.split('\t');
        let (repo, path) = (cols.next().unwrap().to_string(), cols.next().unwrap().to_string());
        match out.iter_mut().find(|(r, _)| *r == repo) {
            Some((_, paths)) => paths.push(path),
            None => out.push((repo, vec![path])),
        }
    }
    out
}

/// (kind, name) → object, of every manifest a build writes.
fn built(c: &Compiled) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for a in c.artifacts.iter().filter(|a| !svcc::emit::is_pipeline_file(a) && !svcc::emit::is_kustomization(a)) {
        for v in svcc::emit::parse_documents(&a.contents).unwrap() {
            let key = (v["kind"].as_str().unwrap().to_string(), v["metadata"]["name"].as_str().unwrap().to_string());
            out.insert(key, v);
        }
    }
    out
}

/// What one repository's round trip found.
#[derive(Default)]
struct Tally {
    objects: usize,
    listed: usize,
    added: usize,
    unlisted: Vec<String>,
}

/// Compare one original object with its rebuild: every difference that
/// is not svcc's addition must lie on a leaf the report lists.
fn compare(original: &Value, rebuilt: Option<&Value>, report: &ObjectReport, tally: &mut Tally) {
    let listed: Vec<&str> = report.changes.iter().chain(&report.dropped).map(|i| i.pointer.as_str()).collect();
    let what = format!("{}/{}", report.kind, report.name);
    tally.objects += 1;
    let Some(rebuilt) = rebuilt else {
        // Not in any spec: every field must be listed as not carried over.
        let mut leaves = Vec::new();
        svcc::import::ledger::leaves(original, "", &mut leaves);
        for p in leaves {
            if listed.contains(&p.as_str()) {
                tally.listed += 1;
            } else {
                tally.unlisted.push(format!("{what} {p}: in no spec and not listed"));
            }
        }
        return;
    };
    // Old = the rebuild, new = the original: pointers are the original's.
    for change in svcc::diff::fields(rebuilt, original) {
        let Some(theirs) = &change.new else {
            tally.added += 1;
            continue;
        };
        let mut leaves = Vec::new();
        svcc::import::ledger::leaves(theirs, &change.pointer, &mut leaves);
        for p in leaves {
            if listed.contains(&p.as_str()) {
                tally.listed += 1;
            } else {
                tally.unlisted.push(format!(
                    "{what} {p}: {} in the original, {} rebuilt, not listed",
                    original.pointer(&p).map_or("(none)".into(), Value::to_string),
                    rebuilt.pointer(&p).map_or("(none)".into(), Value::to_string),
                ));
            }
        }
    }
}

/// The rebuilt object an original object became: the same kind and name in
/// its service's build, else the only object of its kind there (svcc names
/// it after the service, which the report lists).
fn rebuilt_of<'a>(objects: &'a BTreeMap<(String, String), Value>, kind: &str, name: &str) -> Option<&'a Value> {
    if let Some(v) = objects.get(&(kind.to_string(), name.to_string())) {
        return Some(v);
    }
    let mut same_kind = objects.iter().filter(|((k, _), _)| k == kind);
    match (same_kind.next(), same_kind.next()) {
        (Some((_, v)), None) => Some(v),
        _ => None,
    }
}

fn round_trip(root: &Path, repo: &str, paths: &[String]) -> Tally {
    let sources: Vec<Source> = paths
        .iter()
        .map(|p| {
            let name = format!("{repo}/{p}");
            let text = std::fs::read_to_string(root.join(&name))
                .unwrap_or_else(|e| panic!("{name}: {e} (fetch the corpus with bench/fetch_corpus.py)"));
            Source { name, text, environment: None }
        })
        .collect();
    let out = import::import(&sources, &import::Options::default());
    assert!(!out.has_errors(), "{repo}: {:#?}", out.diagnostics);
    let mut tally = Tally::default();
    for (service, spec) in out.report.services.iter().zip(&out.services) {
        assert_eq!(service.service, spec.service, "{repo}: report and specs in the same order");
        let c = common::compile_str("service.kdl", &spec.text, &Options::default());
        assert!(!c.has_errors(), "{repo}/{}: the imported spec does not build:\n{}", spec.service, spec.text);
        let objects = built(&c);
        for r in &service.objects {
            let original = original_of(&sources, r);
            compare(&original, rebuilt_of(&objects, &r.kind, &r.name), r, &mut tally);
        }
    }
    for r in &out.report.not_imported {
        compare(&original_of(&sources, r), None, r, &mut tally);
    }
    tally
}

/// The input document a report object stands for (its `file:line`).
fn original_of(sources: &[Source], r: &ObjectReport) -> Value {
    let (file, _) = r.source.rsplit_once(':').unwrap();
    let text = &sources.iter().find(|s| s.name == file).unwrap().text;
    svcc::emit::parse_documents(text)
        .unwrap()
        .into_iter()
        .find(|d| d["kind"] == r.kind.as_str() && d["metadata"]["name"] == r.name.as_str())
        .unwrap_or_else(|| panic!("{}/{} not in {file}", r.kind, r.name))
}

#[test]
#[ignore = "needs SVCC_IMPORT_CORPUS (bench/fetch_corpus.py's folder)"]
#[allow(clippy::print_stderr)] // the figures docs/import.md quotes
fn real_services_rebuild_with_only_the_listed_changes() {
    let Some(root) = std::env::var_os("SVCC_IMPORT_CORPUS") else {
        panic!("set SVCC_IMPORT_CORPUS to the folder bench/fetch_corpus.py filled");
    };
    let mut unlisted = Vec::new();
    let (mut objects, mut listed, mut added) = (0, 0, 0);
    for (repo, paths) in repositories() {
        let t = round_trip(Path::new(&root), &repo, &paths);
        eprintln!(
            "{repo}: {} objects; differences after the round trip: {} listed fields, {} unlisted; svcc adds {} fields",
            t.objects,
            t.listed,
            t.unlisted.len(),
            t.added
        );
        (objects, listed, added) = (objects + t.objects, listed + t.listed, added + t.added);
        unlisted.extend(t.unlisted.into_iter().map(|u| format!("{repo}: {u}")));
    }
    eprintln!(
        "total: {objects} objects; {listed} listed fields differ, {} unlisted; svcc adds {added} fields",
        unlisted.len()
    );
    assert!(unlisted.is_empty(), "differences the report does not list:\n{}", unlisted.join("\n"));
}

/// The comparison above finds a difference the report does not list, and
/// counts one it lists and one svcc adds (this runs without the corpus).
#[test]
fn an_unlisted_difference_is_found() {
    let original = serde_json::json!({ "spec": { "a": 1, "b": [{ "name": "x", "v": 2 }] } });
    let rebuilt = serde_json::json!({ "spec": { "a": 1, "b": [{ "name": "x", "v": 3 }], "c": 4 } });
    let report = |listed: &[&str]| ObjectReport {
        environment: "default".into(),
        kind: "Deployment".into(),
        name: "web".into(),
        source: "web.yaml:1".into(),
        fields: 2,
        native: 1,
        patched: 0,
        changed: listed.len(),
        not_carried_over: 0,
        native_by_block: BTreeMap::new(),
        changes: listed
            .iter()
            .map(|p| svcc::import::ledger::Item { pointer: p.to_string(), reason: "r".into() })
            .collect(),
        dropped: vec![],
    };
    let mut t = Tally::default();
    compare(&original, Some(&rebuilt), &report(&[]), &mut t);
    assert_eq!((t.listed, t.added), (0, 1));
    assert_eq!(t.unlisted, ["Deployment/web /spec/b/0/v: 2 in the original, 3 rebuilt, not listed"]);
    let mut t = Tally::default();
    compare(&original, Some(&rebuilt), &report(&["/spec/b/0/v"]), &mut t);
    assert_eq!((t.listed, t.unlisted.len()), (1, 0));
    let mut t = Tally::default();
    compare(&original, None, &report(&["/spec/a"]), &mut t);
    assert_eq!(
        t.unlisted,
        [
            "Deployment/web /spec/b/0/name: in no spec and not listed",
            "Deployment/web /spec/b/0/v: in no spec and not listed"
        ]
    );
}
