//! Hostile values in every spec setting that reaches shell, Dockerfile or
//! workflow text (issue: untrusted specs). For random strings built from
//! shell, YAML, Dockerfile and GitHub-expression metacharacters, each
//! placed in one setting, the compile either refuses the spec with an
//! error, or the generated files are inert and exact:
//!
//! - `deploy.sh` passes `bash -n`; `deploy.sh verify` and `deploy.sh deploy`
//!   run with stub `kubectl` and `svcc` create no marker file, and the value
//!   reaches the stub as one argument, byte for byte;
//! - every `run:` step of the workflow, executed the way GitHub runs it
//!   (`bash --noprofile --norc -eo pipefail`, job and step `env:`), with
//!   stubs for the tools it calls, creates no marker, and the value reaches
//!   its tool as one argument; the only `${{ … }}` are svcc's own;
//! - the Dockerfile's `HEALTHCHECK` is an exec-form JSON array holding the
//!   URL exactly, and no instruction follows `USER` but the expected ones.
//!
//! Each setting must also accept some cases (so a test that refuses
//! everything cannot pass).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Rng, kdl_string};
use serde_json::Value;
use svcc::Options;

const CASES: usize = 24;
const SHA: &str = "dbfdb4ddec3751591f52321da6d8130025eb60a753b68d1b6e4f5064663cac1c";

/// Pieces hostile values are made of: each would run, break a line or
/// open an expression somewhere if pasted raw.
const HOSTILE: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    "\"; touch pwned; \"",
    "\ntouch pwned\n",
    "\nRUN touch pwned",
    "\nUSER 0:0",
    "${{ github.event.pull_request.title }}",
    "$HOME",
    "${IFS}",
    " ",
    "#",
    "\\",
    "'",
    "\"",
    ";",
    "&&",
    "|",
    ">pwned",
    "%0a",
    "%20",
    "\u{7f}",
    "\r",
    "é",
    "\u{202e}",
    "*",
    "?",
    "~",
    "--",
];

/// Harmless pieces, so that some generated values are valid.
const BENIGN: &[&str] = &["health", "ready", "v1", "a-b", "x_y", "1.2", "api", "=", "&", "q", "20", ":", "@", "%41"];

fn value(rng: &mut Rng, prefix: &str) -> String {
    let mut s = prefix.to_string();
    for _ in 0..1 + rng.below(4) {
        s.push_str(if rng.chance(40) { rng.pick(HOSTILE) } else { rng.pick(BENIGN) });
    }
    s
}

/// The settings under test: how to write the value into the spec, and
/// what a hostile value is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Sink {
    ProbePath,
    SmokeUrl,
    E2eUrl,
    NodeVersion,
    Branch,
    Namespace,
    InstallUrl,
    SpecName,
}

const SINKS: &[Sink] = &[
    Sink::ProbePath,
    Sink::SmokeUrl,
    Sink::E2eUrl,
    Sink::NodeVersion,
    Sink::Branch,
    Sink::Namespace,
    Sink::InstallUrl,
    Sink::SpecName,
];

struct Case {
    name: String,
    spec: String,
    value: String,
}

fn case(sink: Sink, rng: &mut Rng) -> Case {
    let mut path = "/ready".to_string();
    let mut smoke = "https://api.example.com/health".to_string();
    let mut e2e = "https://staging.example.com".to_string();
    let mut node = "20".to_string();
    let mut branch = "main".to_string();
    let mut ns = "orders".to_string();
    let mut install = "https://example.com/svcc".to_string();
    let mut name = "api.kdl".to_string();
    let v = match sink {
        Sink::ProbePath => {
            path = value(rng, "/");
            path.clone()
        }
        Sink::SmokeUrl => {
            smoke = value(rng, "https://x.example.com/");
            smoke.clone()
        }
        Sink::E2eUrl => {
            e2e = value(rng, "https://e.example.com/");
            e2e.clone()
        }
        Sink::NodeVersion => {
            node = value(rng, "");
            node.clone()
        }
        Sink::Branch => {
            branch = value(rng, "");
            branch.clone()
        }
        Sink::Namespace => {
            ns = value(rng, "n");
            ns.clone()
        }
        Sink::InstallUrl => {
            install = value(rng, "https://dl.example.com/");
            install.clone()
        }
        Sink::SpecName => {
            name = format!("{}.kdl", value(rng, "specs/"));
            name.clone()
        }
    };
    let spec = format!(
        r#"service api {{
    image "ghcr.io/acme/api"
    port http 8080
    probes {{ readiness {path} }}
    pipeline node={node} {{
        install-svcc url={install} sha256="{SHA}"
        branch {branch}
        deploy staging
        e2e base-url={e2e}
        deploy production
        smoke {smoke}
    }}
    environment staging {{ namespace {ns} }}
    environment production
}}
"#,
        path = kdl_string(&path),
        node = kdl_string(&node),
        install = kdl_string(&install),
        branch = kdl_string(&branch),
        e2e = kdl_string(&e2e),
        smoke = kdl_string(&smoke),
        ns = kdl_string(&ns),
    );
    Case { name, spec, value: v }
}

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("svcc-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A folder of stub commands: each records its argv (NUL-separated, one
/// file per call) under `log/`, reads its input to the end (a stub that
/// exits first would kill the writer of a pipe with SIGPIPE, which
/// `pipefail` turns into a failure) and prints `True` (what deploy.sh's
/// pod queries count as a ready pod: the pod's Ready condition).
fn stubs(root: &Path, names: &[&str]) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(root.join("log")).unwrap();
    let body = format!(
        "#!/bin/bash\nf=$(mktemp {log}/call.XXXXXXXX)\nprintf '%s\\0' \"$(basename \"$0\")\" \"$@\" > \"$f\"\ncat >/dev/null\necho True\n",
        log = root.join("log").display()
    );
    for n in names {
        let p = bin.join(n);
        std::fs::write(&p, &body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    bin
}

/// Every recorded call: argv with the command's name first.
fn calls(root: &Path) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join("log")).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let argv: Vec<String> = bytes
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .split_last()
            .map(|(_, rest)| rest.to_vec())
            .unwrap_or_default();
        out.push(argv);
    }
    out
}

fn no_marker(root: &Path, what: &str) {
    for p in [root.join("pwned"), root.join("work/pwned")] {
        assert!(!p.exists(), "{what}: a value ran as code ({} exists)", p.display());
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn path_with(bin: &Path) -> String {
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

/// deploy.sh: syntax, then `verify` and `deploy` against stubs.
fn check_deploy_sh(c: &Case, sink: Sink, script: &str) {
    let root = temp("sh");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let file = root.join("deploy.sh");
    std::fs::write(&file, script).unwrap();
    let o = run(Command::new("bash").arg("-n").arg(&file));
    assert!(o.status.success(), "bash -n rejects deploy.sh for {:?}: {}", c.value, String::from_utf8_lossy(&o.stderr));
    let bin = stubs(&root, &["kubectl", "svcc"]);
    for args in [&["verify", "staging"][..], &["deploy", "staging", "1.0.0"][..]] {
        let o = run(Command::new("bash").arg(&file).args(args).current_dir(&work).env("PATH", path_with(&bin)));
        assert!(
            o.status.success(),
            "deploy.sh {args:?} failed for {:?}: {}",
            c.value,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    no_marker(&root, &format!("deploy.sh with {:?}", c.value));
    let calls = calls(&root);
    let has = |want: &str| calls.iter().any(|argv| argv.iter().any(|a| a == want));
    match sink {
        Sink::ProbePath => {
            let want = format!("/api/v1/namespaces/orders/services/api:http/proxy/{}", c.value.trim_start_matches('/'));
            assert!(has(&want), "the health path did not arrive as one argument: {want:?} in {calls:?}");
        }
        Sink::Namespace => assert!(has(&c.value), "the namespace did not arrive as one argument: {calls:?}"),
        Sink::SpecName => assert!(has(&c.value), "the spec path did not arrive as one argument: {calls:?}"),
        _ => {}
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// svcc's own expressions: nothing else may appear as `${{ … }}`.
const EXPRESSIONS: &[&str] = &[
    "github.workflow",
    "github.ref",
    "github.event_name == 'pull_request'",
    "github.sha",
    "github.actor",
    "secrets.GITHUB_TOKEN",
    "secrets.CODECOV_TOKEN",
    "secrets.KUBECONFIG_STAGING",
    "secrets.KUBECONFIG_PRODUCTION",
    "steps.meta.outputs.tags",
    "steps.meta.outputs.labels",
    "steps.build.outputs.digest",
    "needs.build-image.outputs.image",
];

fn expressions_are_svcc_own(text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        let after = &rest[at + 3..];
        let end = after.find("}}").expect("an unclosed expression");
        let expr = after[..end].trim();
        assert!(EXPRESSIONS.contains(&expr), "unexpected expression `${{{{ {expr} }}}}` in the workflow");
        rest = &after[end + 2..];
    }
}

/// Run every `run:` step as GitHub would, with stubs for the tools.
fn check_workflow(c: &Case, sink: Sink, text: &str) {
    expressions_are_svcc_own(text);
    let wf = svcc::emit::parse_documents(text).unwrap().remove(0);
    let root = temp("wf");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let bin = stubs(&root, &["svcc", "kubectl", "curl", "sha256sum", "install", "cargo", "base64", "npm"]);
    let strip = |v: &Value| v.as_str().unwrap_or_default().replace("${{", "EXPR(").replace("}}", ")");
    for (job_name, job) in wf["jobs"].as_object().unwrap() {
        let job_env: BTreeMap<String, String> =
            job["env"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), strip(v))).collect()).unwrap_or_default();
        for step in job["steps"].as_array().unwrap() {
            let Some(script) = step["run"].as_str() else { continue };
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
                .current_dir(&work)
                .env("PATH", path_with(&bin))
                .env("RUNNER_TEMP", root.join("tmp"))
                .env("GITHUB_PATH", root.join("github_path"))
                .env("GITHUB_ENV", root.join("github_env"))
                .envs(&job_env);
            if let Some(env) = step["env"].as_object() {
                cmd.envs(env.iter().map(|(k, v)| (k.clone(), strip(v))));
            }
            std::fs::create_dir_all(root.join("tmp")).unwrap();
            let o = run(&mut cmd);
            assert!(
                o.status.success(),
                "`{job_name}` step {:?} failed for {:?}: {}",
                step["name"],
                c.value,
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    no_marker(&root, &format!("the workflow with {:?}", c.value));
    let calls = calls(&root);
    let called = |tool: &str, want: &str| calls.iter().any(|argv| argv[0] == tool && argv.iter().any(|a| a == want));
    match sink {
        Sink::SmokeUrl => assert!(called("curl", &c.value), "the smoke URL did not reach curl as one argument"),
        Sink::InstallUrl => assert!(called("curl", &c.value), "the svcc URL did not reach curl as one argument"),
        Sink::SpecName => assert!(called("svcc", &c.value), "the spec path did not reach svcc as one argument"),
        Sink::Namespace => assert!(called("kubectl", &c.value), "the namespace did not reach kubectl"),
        Sink::Branch => assert_eq!(wf["on"]["push"]["branches"][0], c.value.as_str()),
        Sink::E2eUrl => {
            let got = wf["jobs"]["e2e-staging"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|s| s["env"]["E2E_BASE_URL"].as_str());
            assert_eq!(got, Some(c.value.as_str()));
        }
        Sink::NodeVersion | Sink::ProbePath => {}
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// The Dockerfile: the health check is one exec-form array, and the
/// runtime stage's instructions after `USER` are exactly the expected ones.
fn check_dockerfile(c: &Case, sink: Sink, text: &str) {
    let after_user: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("USER "))
        .skip(1)
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(after_user, ["EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD"], "for {:?}:\n{text}", c.value);
    let users = text.lines().filter(|l| l.starts_with("USER ")).count();
    assert_eq!(users, 1, "{text}");
    let from = text.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(from, 3, "{text}");
    let exec = text.lines().find_map(|l| l.trim_start().strip_prefix("CMD [\"wget\"").map(|_| l.trim_start()));
    let args: Vec<String> =
        serde_json::from_str(exec.expect("an exec-form health check").trim_start_matches("CMD ")).unwrap();
    if sink == Sink::ProbePath {
        assert_eq!(args.last().unwrap(), &format!("http://127.0.0.1:8080{}", c.value));
    }
}

#[test]
fn hostile_values_are_refused_or_inert() {
    if std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1") {
        return;
    }
    let opts = Options { image_tag: Some("1.0.0".into()), require_tag: true, ..Options::default() };
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut accepted: BTreeMap<Sink, usize> = BTreeMap::new();
    for &sink in SINKS {
        for _ in 0..CASES {
            let c = case(sink, &mut rng);
            let compiled = common::compile_str(&c.name, &c.spec, &opts);
            if compiled.has_errors() {
                assert!(compiled.artifacts.is_empty());
                continue;
            }
            *accepted.entry(sink).or_default() += 1;
            let file = |suffix: &str| {
                compiled.artifacts.iter().find(|a| a.path.ends_with(suffix)).map(|a| a.contents.clone()).unwrap()
            };
            check_deploy_sh(&c, sink, &file("/deploy.sh"));
            check_workflow(&c, sink, &file(".yml"));
            check_dockerfile(&c, sink, &file("/Dockerfile"));
        }
    }
    #[allow(clippy::print_stderr)] // the figures a reader of `--nocapture` wants
    {
        eprintln!("accepted per setting (of {CASES}): {accepted:?}");
    }
    for &sink in SINKS {
        assert!(accepted.get(&sink).copied().unwrap_or(0) > 0, "{sink:?}: every case was refused: {accepted:?}");
    }
}

/// The `gitops` settings, each written into an Argo CD or a Flux block.
const GITOPS_SINKS: &[(&str, &str)] = &[
    ("argocd", "repo"),
    ("argocd", "revision"),
    ("argocd", "path"),
    ("argocd", "project"),
    ("argocd", "namespace"),
    ("argocd", "name"),
    ("argocd", "cluster"),
    ("flux", "source"),
    ("flux", "source-namespace"),
    ("flux", "path"),
    ("flux", "cluster"),
];

/// Go template pieces, which an ApplicationSet's controller would execute.
const TEMPLATE: &[&str] = &["{{.path}}", "{{", "}}", "{{ now }}", "{", "}"];

/// The spec of one `gitops` case: `value` in `setting` of the engine's block.
fn gitops_spec(engine: &str, setting: &str, value: &str) -> String {
    let v = kdl_string(value);
    let set = |name: &str, default: &str| if setting == name { v.clone() } else { kdl_string(default) };
    let body = if engine == "argocd" {
        format!(
            "repo {} revision={}\n        project {} create=#true\n        namespace {}\n        name {}\n        application-set #true",
            set("repo", "https://github.com/acme/deploy.git"),
            set("revision", "main"),
            set("project", "acme"),
            set("namespace", "argocd"),
            set("name", "svcc"),
        )
    } else {
        format!("source {} namespace={}", set("source", "deploy"), set("source-namespace", "flux-system"))
    };
    format!(
        "service api {{\n    image \"ghcr.io/acme/api\" tag=\"1.0.0\"\n    port http 8080\n    probes {{ readiness \"/ready\" }}\n    gitops {engine} {{\n        {body}\n        path {}\n        cluster production {}\n    }}\n    environment production\n}}\n",
        set("path", "deploy"),
        set("cluster", "prod-eu"),
    )
}

/// Every string leaf of a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Hostile values in every `gitops` setting: refused, or each generated
/// file is YAML holding the value exactly (in the field it names, or in a
/// path below it), the schema of its kind accepts it, and an
/// ApplicationSet's Go template holds no action but svcc's own parameters.
#[test]
fn hostile_gitops_values_are_refused_or_exact() {
    const OWN: &[&str] = &[
        "{{.service}}",
        "{{.environment}}",
        "{{.path}}",
        "{{.cluster}}",
        "{{.namespace}}",
        "{{.repoURL}}",
        "{{.revision}}",
        "{{.project}}",
    ];
    let mut rng = Rng(0x6170_7073_6574);
    for &(engine, setting) in GITOPS_SINKS {
        let (mut accepted, mut refused) = (0, 0);
        for i in 0..CASES * 2 {
            let prefix = match setting {
                "repo" => "https://git.example.com/",
                "path" | "revision" => "a",
                _ => "n",
            };
            let mut value = value(&mut rng, prefix);
            if i % 3 == 0 {
                value.push_str(rng.pick(TEMPLATE));
            }
            // A few plain ones, so that a check refusing everything fails.
            if i < 3 {
                value = format!("{prefix}{}", ["x", "v1", "a-b"][i]);
            }
            let spec = gitops_spec(engine, setting, &value);
            let c = common::compile_str("api.kdl", &spec, &Options::default());
            if c.has_errors() {
                refused += 1;
                continue;
            }
            accepted += 1;
            let deployed = c.deployed.clone().unwrap_or_else(|| panic!("{setting}={value:?}: no gitops\n{spec}"));
            let files = svcc::gitops::artifacts(&[deployed], Some("deploy"))
                .unwrap_or_else(|e| panic!("{setting}={value:?}: generated objects refused: {e:?}"));
            let mut leaves = Vec::new();
            for f in &files {
                let safe = f.path.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/-".contains(c));
                assert!(safe && !f.path.split('/').any(|p| p == ".."), "{setting}={value:?}: file {}", f.path);
                let docs = svcc::emit::parse_documents(&f.contents)
                    .unwrap_or_else(|e| panic!("{setting}={value:?}: {} is not YAML: {e:?}", f.path));
                for d in &docs {
                    strings(d, &mut leaves);
                    if d["kind"] == "ApplicationSet" {
                        let mut template = Vec::new();
                        strings(&d["spec"]["template"], &mut template);
                        for s in template {
                            let rest = OWN.iter().fold(s.clone(), |s, own| s.replace(own, ""));
                            assert!(!rest.contains(['{', '}']), "{setting}={value:?}: template text `{s}`");
                        }
                    }
                }
            }
            let exact = leaves
                .iter()
                .any(|l| *l == value || l.starts_with(&format!("{value}/")) || l.starts_with(&format!("./{value}/")));
            assert!(exact, "{setting}={value:?} is not in the objects as written: {leaves:?}");
        }
        assert!(accepted >= 3 && refused > 0, "{engine} {setting}: {accepted} accepted, {refused} refused");
    }
}
