//! Semantic tests of the generated alerts with `promtool test rules`: input
//! series for the backend-api example in production, and for each alert a
//! case where it fires only after its `for` duration and a case below its
//! threshold where it stays quiet.
//!
//! The rules under test are the generated ones with their annotations
//! removed: promtool compares annotations exactly, and rendered
//! descriptions depend on `$value`; annotation templates are checked by
//! `promtool check rules` in the oracle instead.
//!
//! Needs promtool from `../shared/oracle/install`; SVCC_SKIP_ORACLE=1 skips.

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

fn promtool() -> PathBuf {
    let home = std::env::var_os("SVCC_ORACLE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
        cache.join("svcc-oracle")
    });
    home.join("bin/promtool")
}

fn skip() -> bool {
    std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1")
}

fn rules_of_backend_api() -> Value {
    let path = common::root().join("examples/backend-api/service.kdl");
    let mut opts = common::example_options(&path);
    opts.environments = vec!["production".into()];
    rules_of(&common::compile_file(&path, &opts))
}

/// The rules of the one PrometheusRule a compilation generates, without
/// their annotations.
fn rules_of(c: &svcc::Compiled) -> Value {
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let a = c.artifacts.iter().find(|a| a.path.contains("/prometheusrule-")).expect("a PrometheusRule");
    let mut v: Value = serde_saphyr::from_str(&a.contents).unwrap();
    let mut groups = v["spec"]["groups"].take();
    for g in groups.as_array_mut().unwrap() {
        for r in g["rules"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("annotations");
        }
    }
    json!({ "groups": groups })
}

const NS: &str = "namespace=\"production\"";

/// `kube_replicaset_owner` labels of a ReplicaSet owned by Rollout `rollout`,
/// as kube-state-metrics replica `instance` reports it.
fn owner(replicaset: &str, rollout: &str, instance: &str) -> String {
    format!(
        "{NS},replicaset=\"{replicaset}\",owner_kind=\"Rollout\",owner_name=\"{rollout}\",owner_is_controller=\"true\",instance=\"ksm-{instance}\""
    )
}

fn series(name: &str, labels: &str, values: &str) -> Value {
    json!({ "series": format!("{name}{{{labels}}}"), "values": values })
}

fn alert(name: &str, at: &str, labels: &[(&str, &str)]) -> Value {
    let mut exp = serde_json::Map::new();
    for (k, v) in labels {
        exp.insert(k.to_string(), json!(v));
    }
    if labels.is_empty() {
        json!({ "eval_time": at, "alertname": name, "exp_alerts": [] })
    } else {
        json!({ "eval_time": at, "alertname": name, "exp_alerts": [{ "exp_labels": exp }] })
    }
}

fn quiet(name: &str, at: &str) -> Value {
    alert(name, at, &[])
}

#[test]
fn alerts_fire_after_their_duration_and_stay_quiet_below_threshold() {
    if skip() {
        return;
    }
    let job = format!("job=\"backend-api\",{NS}");
    let ctr = format!("{NS},container=\"backend-api\",pod=\"backend-api-7d9f\"");
    let common_labels = [("namespace", "production"), ("service", "backend-api"), ("team", "backend")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        common_labels.iter().copied().chain(extra.iter().copied()).collect()
    };
    let firing = json!({
        "interval": "1m",
        "input_series": [
            // Scraped until 2m, then gone: down from 3m.
            series("up", &format!("{job},instance=\"10.0.0.1:3000\""), "1 1 1 0x30"),
            // 10 ok requests/s throughout; from 10m also 1 failing request/s (9% errors).
            series("http_requests_total", &format!("{job},status=\"200\""), "0+600x40"),
            series("http_requests_total", &format!("{job},status=\"500\""), "0x10 60+60x30"),
            // All requests take between 1 s and 2.5 s: p95 ≈ 2.4 s.
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"0.5\""), "0x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"1\""), "0x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"2.5\""), "0+600x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"+Inf\""), "0+600x40"),
            series("http_request_duration_seconds_count", &job, "0+600x40"),
            // 500Mi of a 512Mi limit.
            series("container_memory_working_set_bytes", &ctr, "524288000x40"),
            // One restart a minute.
            series("kube_pod_container_status_restarts_total", &ctr, "0+1x40"),
            // Production is a blue-green Rollout: kube-state-metrics reports
            // its ReplicaSets. The new one has 1 of 3 pods ready, the old one
            // is scaled down; another Rollout's ReplicaSet does not count, nor
            // does a second kube-state-metrics replica's copy of the owner.
            series("kube_replicaset_spec_replicas", &format!("{NS},replicaset=\"backend-api-7d9f\""), "3x40"),
            series("kube_replicaset_status_ready_replicas", &format!("{NS},replicaset=\"backend-api-7d9f\""), "1x40"),
            series("kube_replicaset_owner", &owner("backend-api-7d9f", "backend-api", "1"), "1x40"),
            series("kube_replicaset_owner", &owner("backend-api-7d9f", "backend-api", "2"), "1x40"),
            series("kube_replicaset_spec_replicas", &format!("{NS},replicaset=\"backend-api-5c4b\""), "0x40"),
            series("kube_replicaset_status_ready_replicas", &format!("{NS},replicaset=\"backend-api-5c4b\""), "0x40"),
            series("kube_replicaset_owner", &owner("backend-api-5c4b", "backend-api", "1"), "1x40"),
            series("kube_replicaset_spec_replicas", &format!("{NS},replicaset=\"worker-6f5d\""), "3x40"),
            series("kube_replicaset_status_ready_replicas", &format!("{NS},replicaset=\"worker-6f5d\""), "0x40"),
            series("kube_replicaset_owner", &owner("worker-6f5d", "worker", "1"), "1x40"),
        ],
        "alert_rule_test": [
            quiet("BackendApiDown", "3m"),
            alert("BackendApiDown", "5m", &[("namespace", "production"), ("service", "backend-api"), ("team", "backend"), ("severity", "critical")]),
            quiet("BackendApiHighErrorRate", "9m"),
            quiet("BackendApiHighErrorRate", "13m"),
            alert("BackendApiHighErrorRate", "20m", &with(&[("severity", "warning")])),
            quiet("BackendApiHighLatencyP95", "9m"),
            alert("BackendApiHighLatencyP95", "20m", &with(&[("severity", "warning")])),
            quiet("BackendApiHighMemoryUsage", "3m"),
            alert("BackendApiHighMemoryUsage", "10m", &with(&[("severity", "warning"), ("pod", "backend-api-7d9f")])),
            quiet("BackendApiCrashLooping", "2m"),
            alert("BackendApiCrashLooping", "10m", &with(&[("severity", "warning"), ("pod", "backend-api-7d9f")])),
            quiet("BackendApiPodsNotReady", "9m"),
            alert("BackendApiPodsNotReady", "15m", &with(&[("severity", "warning")])),
            quiet("BackendApiAvailabilityErrorBudgetBurn", "9m"),
            alert("BackendApiAvailabilityErrorBudgetBurn", "20m", &with(&[("severity", "critical"), ("slo", "availability")])),
        ],
    });
    let healthy = json!({
        "interval": "1m",
        "input_series": [
            series("up", &format!("{job},instance=\"10.0.0.1:3000\""), "1x40"),
            // 2% errors: under the 5% alert threshold.
            series("http_requests_total", &format!("{job},status=\"200\""), "0+600x40"),
            series("http_requests_total", &format!("{job},status=\"500\""), "0+12x40"),
            // Everything under 0.5 s.
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"0.5\""), "0+600x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"1\""), "0+600x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"2.5\""), "0+600x40"),
            series("http_request_duration_seconds_bucket", &format!("{job},le=\"+Inf\""), "0+600x40"),
            series("http_request_duration_seconds_count", &job, "0+600x40"),
            // Half the memory limit.
            series("container_memory_working_set_bytes", &ctr, "268435456x40"),
            // Two restarts in the first hour: under the threshold of 3.
            series("kube_pod_container_status_restarts_total", &ctr, "0 1 2x38"),
            series("kube_replicaset_spec_replicas", &format!("{NS},replicaset=\"backend-api-7d9f\""), "3x40"),
            series("kube_replicaset_status_ready_replicas", &format!("{NS},replicaset=\"backend-api-7d9f\""), "3x40"),
            series("kube_replicaset_owner", &owner("backend-api-7d9f", "backend-api", "1"), "1x40"),
        ],
        "alert_rule_test": [
            quiet("BackendApiDown", "30m"),
            quiet("BackendApiHighErrorRate", "30m"),
            quiet("BackendApiHighLatencyP95", "30m"),
            quiet("BackendApiHighMemoryUsage", "30m"),
            quiet("BackendApiCrashLooping", "30m"),
            quiet("BackendApiPodsNotReady", "30m"),
        ],
    });
    promtool_test("backend-api", &rules_of_backend_api(), &[firing, healthy]);
}

/// `promtool test rules` on `rules` with `tests`; fails the test with
/// promtool's report.
fn promtool_test(tag: &str, rules: &Value, tests: &[Value]) {
    let dir = std::env::temp_dir().join(format!("svcc-promtool-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.json"), serde_json::to_string_pretty(rules).unwrap()).unwrap();
    let test = json!({ "rule_files": ["rules.json"], "evaluation_interval": "1m", "tests": tests });
    std::fs::write(dir.join("test.json"), serde_json::to_string_pretty(&test).unwrap()).unwrap();
    let out = Command::new(promtool())
        .args(["test", "rules", "test.json"])
        .current_dir(&dir)
        .output()
        .expect("run promtool (install it with ../shared/oracle/install)");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "promtool test rules failed:\n{report}");
}

/// A latency SLO at a whole number of seconds reads the bucket whether it
/// is stored as `le="1"` (client_golang's text format, Prometheus 2) or
/// `le="1.0"` (Prometheus 3 normalises classic histogram buckets; protobuf
/// scrapes and the Python and Java clients always wrote it so): its page
/// fires with every request slower than the threshold, and stays quiet with
/// every request faster, in both spellings.
#[test]
fn latency_slo_at_whole_seconds_reads_both_le_spellings() {
    if skip() {
        return;
    }
    let spec = r#"service api {
    image "ghcr.io/acme/api" tag="1.0.0"
    port http 8080
    probes { readiness "/ready" }
    metrics { prometheus-labels { release "kube-prometheus-stack" } }
    slo latency objective=0.99 threshold="1s" window="30d"
    environment production
}
"#;
    let rules = rules_of(&common::compile_str("api.kdl", spec, &svcc::Options::default()));
    let job = format!("job=\"api\",{NS}");
    let burn = [("namespace", "production"), ("service", "api"), ("slo", "latency"), ("severity", "critical")];
    let mut tests = Vec::new();
    for le in ["1", "1.0"] {
        // 10 requests/s; the bucket at the threshold counts none (all slow) or all (all fast).
        for (fast, expect) in [("0x40", &burn[..]), ("0+600x40", &[][..])] {
            tests.push(json!({
                "interval": "1m",
                "input_series": [
                    series("http_request_duration_seconds_bucket", &format!("{job},le=\"{le}\""), fast),
                    series("http_request_duration_seconds_bucket", &format!("{job},le=\"+Inf\""), "0+600x40"),
                    series("http_request_duration_seconds_count", &job, "0+600x40"),
                ],
                "alert_rule_test": [
                    quiet("ApiLatencyErrorBudgetBurn", "1m"),
                    alert("ApiLatencyErrorBudgetBurn", "20m", expect),
                ],
            }));
        }
    }
    promtool_test("latency-slo", &rules, &tests);
}
