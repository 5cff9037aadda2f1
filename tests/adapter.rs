//! `svcc adapter-rules`: the prometheus-adapter rules derived from the
//! specs' HPAs (`tests/fixtures/adapter/`: a folder of services with their
//! own metric vocabularies, and the SVC0732 conflict), and the examples.
//! The output is snapshotted, its queries parse as PromQL once the adapter
//! fills its template in, and it reads the same as YAML 1.1 and 1.2 (and
//! passes the oracle's yamllint rules).

mod common;

use std::process::Command;

fn svcc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_svcc")).args(args).current_dir(common::root()).output().unwrap()
}

fn rules_of(args: &[&str]) -> String {
    let o = svcc(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn parse(q: &str) -> Result<(), String> {
    promql_parser::parser::parse(q).map(|_| ())
}

/// A metricsQuery as prometheus-adapter fills it in for an HPA's request.
fn fill(template: &str, series: &str) -> String {
    template
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", r#"namespace="shop",pod=~"api-0|api-1""#)
        .replace("<<.GroupBy>>", "pod")
}

/// Every rule's seriesQuery parses, and its metricsQuery once filled in.
fn queries_parse(text: &str) -> usize {
    let docs = svcc::emit::parse_documents(text).unwrap();
    assert_eq!(docs.len(), 1, "{text}");
    let rules = docs[0]["rules"].get("custom").unwrap_or(&docs[0]["rules"]).as_array().unwrap().clone();
    for r in &rules {
        parse(r["seriesQuery"].as_str().unwrap()).unwrap();
        let series = r["name"]["matches"].as_str().unwrap().trim_start_matches('^').trim_end_matches('$');
        assert!(r["seriesQuery"].as_str().unwrap().starts_with(series), "{r}");
        let filled = fill(r["metricsQuery"].as_str().unwrap(), series);
        parse(&filled).unwrap_or_else(|e| panic!("{filled}: {e}"));
    }
    rules.len()
}

#[test]
fn rules_of_a_folder_with_its_own_vocabularies() {
    let dir = "tests/fixtures/adapter/vocabularies";
    let helm = rules_of(&["adapter-rules", dir]);
    let config = rules_of(&["adapter-rules", dir, "--format", "config"]);
    common::settings().bind(|| {
        insta::assert_snapshot!("adapter__vocabularies_helm_values", helm);
        insta::assert_snapshot!("adapter__vocabularies_config", config);
    });
    // api and catalog share one rule; worker's production (KEDA) asks no adapter.
    assert_eq!(queries_parse(&helm), 3);
    assert_eq!(queries_parse(&config), 3);
    assert!(!helm.contains("jobs_backlog"), "{helm}");
    // One cluster's environments only.
    let production = rules_of(&["adapter-rules", dir, "--env", "production"]);
    assert!(
        !production.contains("jobs_queue_depth") && production.contains("orders_requests_per_second"),
        "{production}"
    );
    yaml_checks(&helm);
    yaml_checks(&config);
}

#[test]
fn rules_of_the_examples() {
    let text = rules_of(&["adapter-rules", "examples"]);
    common::settings().bind(|| insta::assert_snapshot!("adapter__examples", text));
    assert_eq!(queries_parse(&text), 2);
    yaml_checks(&text);
}

#[test]
fn one_metric_name_from_two_counters_is_a_conflict() {
    let o = svcc(&["adapter-rules", "tests/fixtures/adapter/SVC0732-adapter-metric-conflict", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "no rules are printed: {}", String::from_utf8_lossy(&o.stdout));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("error[SVC0732]"), "{err}");
    // Both services are pointed at, each naming the other.
    assert!(err.contains("api.kdl:6:5") && err.contains("orders.kdl:11:5"), "{err}");
    assert!(err.contains("service `api`") && err.contains("service `orders`"), "{err}");
    common::settings().bind(|| insta::assert_snapshot!("adapter__SVC0732-adapter-metric-conflict", err));
}

/// PyYAML (YAML 1.1) reads what svcc's YAML 1.2 parser reads, and the
/// oracle's yamllint rules pass (the oracle's tools; SVCC_SKIP_ORACLE=1
/// skips this as it skips tests/oracle.rs).
fn yaml_checks(text: &str) {
    let home = std::env::var_os("SVCC_ORACLE_HOME").map_or_else(
        || std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/svcc-oracle"),
        std::path::PathBuf::from,
    );
    let python = home.join("venv/bin/python");
    if std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1") {
        return;
    }
    assert!(
        python.exists(),
        "the oracle's Python is not installed: run ../shared/oracle/install (or SVCC_SKIP_ORACLE=1)"
    );
    let script = r#"
import json, sys, yaml
from yamllint import linter
from yamllint.config import YamlLintConfig
text = sys.stdin.read()
conf = YamlLintConfig("""
rules:
  key-duplicates: enable
  document-start: enable
  truthy:
    allowed-values: ['true', 'false']
    check-keys: true
  octal-values:
    forbid-implicit-octal: true
    forbid-explicit-octal: true
""")
problems = [str(p) for p in linter.run(text, conf)]
print(json.dumps({"doc": yaml.safe_load(text), "problems": problems}))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(got["problems"], serde_json::json!([]), "{text}");
    assert_eq!(got["doc"], svcc::emit::parse_documents(text).unwrap()[0], "YAML 1.1 reads it otherwise");
}

/// docs/traffic.md shows the rules of the examples as they are.
#[test]
fn traffic_docs_show_the_rules_of_the_examples() {
    let text = rules_of(&["adapter-rules", "examples"]);
    let rules = text.split_once("---\n").unwrap().1;
    let docs = std::fs::read_to_string(common::root().join("docs/traffic.md")).unwrap();
    assert!(docs.contains(&format!("```yaml\n{rules}```")), "update docs/traffic.md's adapter rules to:\n{rules}");
}

/// Two environments of one service asking for one metric name from two
/// counters: one error, labelling both; one cluster's environment is fine.
#[test]
fn one_metric_name_from_two_environments_is_a_conflict() {
    let dir = "tests/fixtures/adapter/environments";
    let o = svcc(&["adapter-rules", dir, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.matches("error[SVC0732]").count(), 1, "{err}");
    assert!(err.contains("environment `staging`") && err.contains("environment `production`"), "{err}");
    let production = rules_of(&["adapter-rules", dir, "--env", "production"]);
    assert!(production.contains("^payments_http_requests_total$"), "{production}");
    assert_eq!(queries_parse(&production), 1);
}
