//! Arbitrary strings in every spec setting that reaches shell, Dockerfile
//! or workflow text. The first byte picks the setting, the rest (as UTF-8,
//! lossily) is the value. When svcc accepts the spec:
//!
//! - `bash -n` accepts `deploy.sh`, and its `readonly` assignments, run by
//!   bash, give back every value exactly (one word each: the value arrives
//!   as one argument);
//! - the workflow parses, each value sits in an `env:` map exactly, and no
//!   `run:` script holds `${{`;
//! - the Dockerfile's health check is an exec-form JSON array ending in the
//!   exact URL, and no instruction was added after `USER`.
//!
//! `tests/hostile_values.rs` runs the same kind of checks on stable, with
//! seeded values, and also executes the scripts against stub tools.
#![no_main]

use std::io::Write;
use std::process::{Command, Stdio};

use libfuzzer_sys::fuzz_target;
use svcc::{Input, Options};

const SHA: &str = "dbfdb4ddec3751591f52321da6d8130025eb60a753b68d1b6e4f5064663cac1c";

fn kdl(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bash(script: &str, args: &[&str]) -> (bool, Vec<u8>) {
    let mut child = Command::new("bash")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bash");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    (o.status.success(), o.stdout)
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, rest)) = bytes.split_first() else { return };
    let v = String::from_utf8_lossy(rest).into_owned();
    let mut s = [
        "/ready".to_string(),
        "https://api.example.com/health".into(),
        "20".into(),
        "orders".into(),
        "https://example.com/svcc".into(),
        "api.kdl".into(),
    ];
    let sink = usize::from(which) % s.len();
    s[sink] = match sink {
        0 => format!("/{v}"),
        1 => format!("https://x.example.com/{v}"),
        4 => format!("https://dl.example.com/{v}"),
        5 => format!("specs/{v}.kdl"),
        _ => v.clone(),
    };
    let [path, smoke, node, ns, install, name] = &s;
    let spec = format!(
        "service api {{\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    probes {{ readiness {} }}\n    pipeline node={} {{\n        install-svcc url={} sha256=\"{SHA}\"\n        deploy staging\n        smoke {}\n    }}\n    environment staging {{ namespace {} }}\n}}\n",
        kdl(path),
        kdl(node),
        kdl(install),
        kdl(smoke),
        kdl(ns)
    );
    let opts = Options { image_tag: Some("1.0.0".into()), require_tag: true, ..Options::default() };
    let c = svcc::compile(&Input { name: name.clone(), bytes: spec.into_bytes() }, &opts);
    if c.has_errors() {
        return;
    }
    let file = |suffix: &str| c.artifacts.iter().find(|a| a.path.ends_with(suffix)).unwrap().contents.clone();

    // deploy.sh: syntax, then the assignments give back every value.
    let sh = file("/deploy.sh");
    assert!(bash(&sh, &["-n"]).0, "bash -n rejects deploy.sh:\n{sh}");
    let assignments: String = sh.lines().filter(|l| l.starts_with("readonly ")).map(|l| format!("{l}\n")).collect();
    let probe = format!("{assignments}printf '%s\\0' \"$SPEC\" \"$HEALTH_PATH\"\n");
    let (ok, out) = bash(&probe, &[]);
    assert!(ok, "the assignments do not run:\n{assignments}");
    let got: Vec<&[u8]> = out.split(|b| *b == 0).collect();
    assert_eq!(got[0], name.as_bytes(), "SPEC");
    assert_eq!(got[1], path.trim_start_matches('/').as_bytes(), "HEALTH_PATH");

    // The workflow: values only as env data.
    let wf_text = file(".yml");
    let wf = svcc::emit::parse_documents(&wf_text).unwrap().remove(0);
    assert_eq!(wf["jobs"]["svcc-check"]["env"]["SPEC"], name.as_str());
    assert_eq!(wf["jobs"]["deploy-staging"]["env"]["NAMESPACE"], ns.as_str());
    for job in wf["jobs"].as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "an expression in a run script: {run}");
            }
        }
    }

    // The Dockerfile: one exec-form health check with the exact URL.
    let df = file("/Dockerfile");
    let after: Vec<&str> = df.lines().skip_while(|l| !l.starts_with("USER ")).skip(1).filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(after.len(), 4, "{df}");
    let exec = df.lines().find_map(|l| l.trim_start().strip_prefix("CMD [\"wget\"").map(|_| l.trim_start())).unwrap();
    let args: Vec<String> = serde_json::from_str(exec.trim_start_matches("CMD ")).unwrap();
    assert_eq!(args.last().unwrap(), &format!("http://127.0.0.1:8080{path}"));
});
