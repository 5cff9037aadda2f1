//! `pipeline { … }`: the generated workflow's job graph, permissions and
//! triggers, and shellcheck on the generated deploy scripts. The oracle
//! (`tests/oracle.rs`) runs actionlint and the workflow schema on the
//! workflows; snapshots are in `tests/golden.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;
use svcc::Options;

fn opts() -> Options {
    Options { image_tag: Some("1.0.0".into()), require_tag: true, ..Options::default() }
}

/// The six-line block of docs/pipeline.md, on a two-environment service.
const MINIMAL: &str = r#"service api {
    image "ghcr.io/acme/api"
    port http 8080
    probes { readiness "/ready" }
    pipeline node=20 {
        install-svcc url="https://github.com/acme/svcc/releases/download/v0.1.0/svcc-linux-amd64" sha256="dbfdb4ddec3751591f52321da6d8130025eb60a753b68d1b6e4f5064663cac1c"
        integration-tests { postgres 15; redis 7 }
        deploy staging
        e2e base-url="https://staging.example.com"
        deploy production
    }
    environment staging
    environment production
}
"#;

fn workflow_of(c: &svcc::Compiled) -> Value {
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let a = c.artifacts.iter().find(|a| a.path.contains("/.github/workflows/")).expect("a workflow");
    svcc::emit::parse_documents(&a.contents).unwrap().remove(0)
}

/// job → the jobs it needs.
fn graph(wf: &Value) -> BTreeMap<String, BTreeSet<String>> {
    wf["jobs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, j)| {
            let needs = j["needs"].as_array().map_or_else(BTreeSet::new, |a| {
                a.iter().map(|v| v.as_str().unwrap().to_string()).collect::<BTreeSet<_>>()
            });
            (k.clone(), needs)
        })
        .collect()
}

/// Longest chain of jobs (in jobs) ending at each job; panics on a cycle.
fn depths(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    fn visit(
        j: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        on_stack: &mut BTreeSet<String>,
        memo: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(d) = memo.get(j) {
            return *d;
        }
        assert!(on_stack.insert(j.to_string()), "cycle through `{j}`");
        let needs = g.get(j).unwrap_or_else(|| panic!("`needs` names a missing job `{j}`"));
        let d = 1 + needs.iter().map(|n| visit(n, g, on_stack, memo)).max().unwrap_or(0);
        on_stack.remove(j);
        memo.insert(j.to_string(), d);
        d
    }
    let mut memo = BTreeMap::new();
    for j in g.keys() {
        visit(j, g, &mut BTreeSet::new(), &mut memo);
    }
    memo
}

fn reachable(g: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = g[from].iter().map(String::as_str).collect();
    while let Some(j) = todo.pop() {
        if seen.insert(j.to_string()) {
            todo.extend(g[j].iter().map(String::as_str));
        }
    }
    seen
}

/// The dependencies each job really has: gates, tests, the spec check and
/// the image build start at once; the scan needs the image; the first
/// deploy needs every gate and the scanned image; a check needs its
/// deploy; the next deploy needs the checks of the one before.
fn assert_graph_is_minimal(wf: &Value, expected_path: &[&str]) {
    let g = graph(wf);
    let d = depths(&g);
    for root in ["quality", "unit-tests", "integration-tests", "svcc-check", "build-image"] {
        if let Some(needs) = g.get(root) {
            assert!(needs.is_empty(), "`{root}` waits for {needs:?} but depends on nothing");
        }
    }
    // No redundant edge: a need already implied by another need only
    // hides the real dependency structure.
    for (j, needs) in &g {
        for n in needs {
            for other in needs.iter().filter(|o| *o != n) {
                assert!(!reachable(&g, other).contains(n), "`{j}` needs `{n}`, which `{other}` already needs");
            }
        }
    }
    // The critical path is exactly the chain the dependencies force.
    let longest = d.values().max().copied().unwrap();
    assert_eq!(longest, expected_path.len(), "critical path {d:?}");
    for (i, j) in expected_path.iter().enumerate() {
        assert_eq!(d[*j], i + 1, "`{j}` is {} jobs deep: {d:?}", d[*j]);
    }
}

#[test]
fn needs_graph_is_acyclic_and_as_short_as_the_dependencies_allow() {
    let wf = workflow_of(&common::compile_str("api.kdl", MINIMAL, &opts()));
    assert_graph_is_minimal(&wf, &["build-image", "scan", "deploy-staging", "e2e-staging", "deploy-production"]);
    let g = graph(&wf);
    let gates: BTreeSet<String> =
        ["quality", "unit-tests", "integration-tests", "svcc-check", "scan"].map(String::from).into();
    assert_eq!(g["deploy-staging"], gates, "the first deploy waits for every gate and the scan");

    // Without a scan or checks between stages the path shrinks accordingly.
    let lean = MINIMAL.replace("        e2e base-url=\"https://staging.example.com\"\n", "        scan #false\n");
    let wf = workflow_of(&common::compile_str("api.kdl", &lean, &opts()));
    assert_graph_is_minimal(&wf, &["build-image", "deploy-staging", "deploy-production"]);

    // The example's graph too.
    let path = common::root().join("examples/backend-api/service.kdl");
    let wf = workflow_of(&common::compile_file(&path, &common::example_options(&path)));
    assert_graph_is_minimal(&wf, &["build-image", "scan", "deploy-staging", "e2e-staging", "deploy-production"]);
}

#[test]
fn six_lines_give_the_seed_workflow() {
    let wf = workflow_of(&common::compile_str("api.kdl", MINIMAL, &opts()));
    let jobs: Vec<&str> = wf["jobs"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        jobs,
        [
            "quality",
            "unit-tests",
            "integration-tests",
            "svcc-check",
            "build-image",
            "scan",
            "deploy-staging",
            "e2e-staging",
            "deploy-production"
        ]
    );
    let runs: Vec<&str> = wf["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|j| j["steps"].as_array().unwrap())
        .filter_map(|s| s["run"].as_str())
        .collect();
    for cmd in [
        "npm run lint",
        "npm run type-check",
        "npm audit --audit-level=high",
        "npm run test:unit -- --coverage",
        "npm run test:integration",
        "npm run test:e2e",
        "svcc check \"$SPEC\"",
        "svcc build \"$SPEC\" --env \"$ENVIRONMENT\" --image-tag \"$IMAGE_TAG\" -o deploy/",
        "kubectl apply --kustomize \"$MANIFESTS\"",
        "kubectl rollout status \"deployment/$SERVICE\" --namespace \"$NAMESPACE\" --timeout=300s",
    ] {
        assert!(runs.contains(&cmd), "no step runs `{cmd}`: {runs:#?}");
    }
    let it = &wf["jobs"]["integration-tests"]["services"];
    assert_eq!(it["postgres"]["image"], "postgres:15");
    assert_eq!(it["redis"]["image"], "redis:7");
    assert!(it["postgres"]["options"].as_str().unwrap().contains("--health-cmd pg_isready"));
    assert_eq!(wf["on"]["push"]["tags"][0], "v*");
    assert_eq!(wf["jobs"]["deploy-production"]["environment"]["name"], "production");
    let env = &wf["jobs"]["deploy-production"]["env"];
    assert_eq!(env["SPEC"], "api.kdl");
    assert_eq!(env["MANIFESTS"], "deploy/api/production");
    assert_eq!(wf["jobs"]["svcc-check"]["env"]["SPEC"], "api.kdl");
}

#[test]
fn pull_requests_never_deploy_and_permissions_are_least_privilege() {
    let path = common::root().join("examples/backend-api/service.kdl");
    for wf in [
        workflow_of(&common::compile_str("api.kdl", MINIMAL, &opts())),
        workflow_of(&common::compile_file(&path, &common::example_options(&path))),
    ] {
        assert_eq!(wf["permissions"], serde_json::json!({ "contents": "read" }));
        for (name, job) in wf["jobs"].as_object().unwrap() {
            let pushes_or_deploys =
                name.starts_with("deploy-") || name.starts_with("e2e-") || name == "build-image" || name == "scan";
            if pushes_or_deploys {
                assert_eq!(job["if"], "github.event_name == 'push'", "`{name}` must not run on pull requests");
            }
            if let Some(p) = job["permissions"].as_object() {
                for (scope, level) in p {
                    let allowed = matches!(
                        (name.as_str(), scope.as_str(), level.as_str().unwrap_or("")),
                        (_, "contents" | "actions", "read")
                            | ("build-image", "packages", "write")
                            | ("scan", "packages", "read")
                            | ("scan", "security-events", "write")
                    );
                    assert!(allowed, "`{name}` has {scope}: {level}");
                }
            }
            assert_supply_chain(name, job);
        }
        assert!(wf["jobs"]["svcc-check"]["if"].is_null(), "pull requests run `svcc check`");
    }
}

#[test]
fn pipeline_files_only_in_full_builds_and_never_in_the_stream() {
    let c = common::compile_str("api.kdl", MINIMAL, &opts());
    let files: Vec<&str> =
        c.artifacts.iter().filter(|a| svcc::emit::is_pipeline_file(a)).map(|a| a.path.as_str()).collect();
    assert_eq!(files, ["api/pipeline/.github/workflows/api.yml", "api/pipeline/Dockerfile", "api/pipeline/deploy.sh"]);
    assert!(!svcc::emit::stream(&c.artifacts).contains("pipeline/"));
    let one = Options { environments: vec!["staging".into()], ..opts() };
    let c = common::compile_str("api.kdl", MINIMAL, &one);
    assert!(!c.artifacts.iter().any(svcc::emit::is_pipeline_file), "`--env` builds write manifests only");
}

#[test]
fn deploy_scripts_pass_shellcheck() {
    if std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1") {
        return;
    }
    let shellcheck = std::env::home_dir().unwrap().join(".cache/svcc-oracle/venv/bin/shellcheck");
    let dir = std::env::temp_dir().join(format!("svcc-shellcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut scripts = Vec::new();
    let mut compiled = vec![common::compile_str("api.kdl", MINIMAL, &opts())];
    for path in common::services("examples") {
        compiled.push(common::compile_file(&path, &common::example_options(&path)));
    }
    for c in &compiled {
        for a in c.artifacts.iter().filter(|a| a.path.ends_with(".sh")) {
            assert!(a.contents.contains("set -euo pipefail"), "{}", a.path);
            let p = dir.join(a.path.replace('/', "__"));
            std::fs::write(&p, &a.contents).unwrap();
            scripts.push(p);
        }
    }
    assert!(scripts.len() >= 2, "expected deploy scripts");
    let o = Command::new(&shellcheck)
        .arg("--severity=style")
        .args(&scripts)
        .output()
        .expect("run shellcheck: install the oracle with ../shared/oracle/install");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// What zizmor audits, asserted on the model so a regression names the
/// job: every action is a pin from the one table, checkouts keep no
/// credentials, nothing is cached, and no `run:` script holds an
/// expression (values come in through `env:`).
fn assert_supply_chain(name: &str, job: &Value) {
    use svcc::ci::workflow::actions;
    for step in job["steps"].as_array().unwrap() {
        if let Some(u) = step["uses"].as_str() {
            let pin = actions::ALL.iter().find(|p| p.uses() == u);
            assert!(pin.is_some(), "`{name}` uses `{u}`, which is not in the pinned table");
            let (_, sha) = u.split_once('@').unwrap();
            assert!(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "`{u}` is not a commit");
            assert!(!u.starts_with("actions/cache"), "`{name}` caches: a cache is writable by other runs");
            if u.starts_with("actions/checkout@") {
                assert_eq!(step["with"]["persist-credentials"], "false", "`{name}` keeps the checkout token");
            }
            if u.starts_with("actions/setup-node@") {
                assert_eq!(step["with"]["package-manager-cache"], "false", "`{name}` caches npm");
                assert!(step["with"]["cache"].is_null(), "`{name}` caches npm");
            }
        }
        if let Some(run) = step["run"].as_str() {
            assert!(!run.contains("${{"), "`{name}` has an expression inside a run script: {run}");
        }
    }
}

/// Every `uses:` line of every generated workflow carries its pin's
/// version as a comment, and every pin in the table is a full commit.
#[test]
fn pinned_actions_carry_their_version() {
    use svcc::ci::workflow::actions;
    for p in actions::ALL {
        assert!(p.sha.len() == 40 && p.sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{p:?}");
    }
    let path = common::root().join("examples/backend-api/service.kdl");
    for c in
        [common::compile_str("api.kdl", MINIMAL, &opts()), common::compile_file(&path, &common::example_options(&path))]
    {
        let a = c.artifacts.iter().find(|a| a.path.contains("/.github/workflows/")).unwrap();
        let uses: Vec<&str> = a.contents.lines().filter(|l| l.trim_start().starts_with("uses:")).collect();
        assert!(uses.len() > 10, "{}", a.contents);
        for line in uses {
            let pin = actions::ALL.iter().find(|p| line.trim_start() == format!("uses: {} # {}", p.uses(), p.version));
            assert!(pin.is_some(), "`{line}` is not a pin with its version comment");
        }
    }
}

/// `install-svcc action="OWNER/REPO" rev="…"`: each job that runs svcc
/// uses the action at that one commit, before its first svcc command, and
/// passes it nothing (the commit is the whole input).
#[test]
fn install_svcc_action_is_used_at_one_commit() {
    const REV: &str = "0123456789abcdef0123456789abcdef01234567";
    let url_form = MINIMAL.lines().find(|l| l.contains("install-svcc")).unwrap();
    let spec = MINIMAL.replace(url_form, &format!("        install-svcc action=\"acme/svcc\" rev=\"{REV}\""));
    let wf = workflow_of(&common::compile_str("api.kdl", &spec, &opts()));
    for job in ["svcc-check", "deploy-staging", "deploy-production"] {
        let steps = wf["jobs"][job]["steps"].as_array().unwrap();
        let at = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred);
        let install = at(&|s| s["name"] == "Install svcc").unwrap_or_else(|| panic!("`{job}` installs no svcc"));
        let step = &steps[install];
        assert_eq!(step["uses"], format!("acme/svcc@{REV}"), "{job}");
        assert!(step["run"].is_null() && step["with"].is_null() && step["env"].is_null(), "{job}: {step}");
        let first_svcc = at(&|s| s["run"].as_str().is_some_and(|r| r.starts_with("svcc "))).unwrap();
        assert!(install < first_svcc, "`{job}` runs svcc before installing it");
    }
    let text = MINIMAL.replace(url_form, "");
    for bad in [
        "action=\"acme\" rev=\"REV\"",
        "action=\"acme/svcc@v1\" rev=\"REV\"",
        "action=\"acme/svcc/tools\" rev=\"REV\"",
        "action=\"-acme/svcc\" rev=\"REV\"",
        "action=\"acme/..\" rev=\"REV\"",
        "action=\"acme/svcc\" rev=\"v1.0.0\"",
        "action=\"acme/svcc\" rev=\"0123456789ABCDEF0123456789ABCDEF01234567\"",
        "action=\"acme/svcc\"",
        "action=\"acme/svcc\" git=\"https://github.com/acme/svcc\" rev=\"REV\"",
        "action=\"acme/svcc\" url=\"https://example.com/svcc\" sha256=\"REV\" rev=\"REV\"",
    ] {
        let line = format!("        install-svcc {}\n", bad.replace("REV", REV));
        let spec = text.replacen("        integration-tests", &format!("{line}        integration-tests"), 1);
        let c = common::compile_str("api.kdl", &spec, &opts());
        let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&"SVC0346"), "`install-svcc {bad}` was accepted: {codes:?}");
        assert!(c.diagnostics.iter().all(|d| d.code.as_str() == "SVC0346"), "{bad}: {:?}", c.diagnostics);
    }
}
