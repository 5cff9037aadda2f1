//! Property tests over generated valid specs (stable Rust, seeded, so a
//! failure reproduces): random combinations of ports, env, resources,
//! probes, autoscale, environments, volumes, labels and annotations, with
//! names and values that YAML 1.1 reads as something else (`on`, `no`, `y`,
//! `0755`, `1e3`, `1.10`, `~`, …).
//!
//! For every generated spec:
//! - it compiles without errors and with no schema violation (SVC05xx);
//! - compiling it twice gives byte-identical artifacts;
//! - a YAML 1.2 reader (serde-saphyr) reads back exactly the values the
//!   spec set (env values, labels, annotations, namespaces, port names,
//!   the version label);
//! - a YAML 1.1 reader (the oracle's PyYAML) reads every document exactly
//!   as the YAML 1.2 reader does (skipped with SVCC_SKIP_ORACLE=1).
//!
//! Fuzzing with cargo-fuzz (nightly) is separate: docs/fuzzing.md.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use common::Rng;
use serde_json::Value;
use svcc::Options;

/// How many specs each run generates; about 8 s in a debug build on 2 cores, PyYAML included.
const CASES: usize = 80;

/// Free text a YAML 1.1 reader would misread, or that needs quoting at all.
const TEXT: &[&str] = &[
    "on",
    "off",
    "no",
    "yes",
    "y",
    "n",
    "Y",
    "N",
    "ON",
    "true",
    "False",
    "NULL",
    "null",
    "~",
    "",
    "0755",
    "0o17",
    "0x1F",
    "0b101",
    "1e3",
    "1E3",
    "1.10",
    "1.0",
    "+1",
    "-1",
    ".5",
    "1_000",
    "12:30",
    "12:30:45",
    "2001-12-14",
    ".inf",
    "-.Inf",
    ".NaN",
    "=",
    "<<",
    "- x",
    "a: b",
    "#x",
    "[a]",
    "{a}",
    "*a",
    "&a",
    "!tag",
    "|",
    "> x",
    "'q'",
    "\"dq\"",
    "back\\slash",
    "two\nlines",
    " lead",
    "trail ",
    "%x",
    "@x",
    "`x",
    "?",
    "-",
    "---",
    "...",
    "\u{e9}t\u{e9}",
    "tab\there",
    "plain",
];

/// Label values (and label or annotation key names) that YAML 1.1 misreads
/// but Kubernetes accepts.
const LABEL_WORDS: &[&str] = &[
    "on",
    "off",
    "no",
    "yes",
    "y",
    "n",
    "Y",
    "N",
    "ON",
    "Yes",
    "true",
    "False",
    "null",
    "NULL",
    "0755",
    "0x1f",
    "0o17",
    "1e3",
    "1E3",
    "1.10",
    "1.0",
    "1_000",
    "2001-12-14",
    "NaN",
    "inf",
    "a",
];

/// RFC 1123 labels YAML 1.1 misreads: environment (so namespace and folder) names.
const ENV_NAMES: &[&str] = &["on", "no", "y", "off", "yes", "true", "null", "n", "0755", "1e3", "dev", "prod"];

/// IANA port names YAML 1.1 misreads (a Service's `targetPort` is the name).
const PORT_NAMES: &[&str] = &["on", "no", "y", "n", "off", "yes", "true", "null", "http", "grpc", "admin"];

/// Image tags YAML 1.1 misreads (they become the `app.kubernetes.io/version` label).
const TAGS: &[&str] = &["1.10", "0755", "1e3", "on", "y", "no", "1.0", "true", "null", "2001-12-14", "1_000", "1.4.2"];

const ENV_VAR_NAMES: &[&str] = &["on", "y", "NO", "TRUE", "null", "LOG_LEVEL", "a.b", "x-y", "_1", "PORT"];

const VOLUMES: &[(&str, &str)] =
    &[("tmp", "/tmp"), ("cache", "/var/cache"), ("on", "/data/on"), ("y", "/y"), ("no", "/0755")];

const CPU: &[(&str, &str)] = &[("50m", "100m"), ("0.25", "0.5"), ("1", "1.5"), ("100m", "1"), ("1e-1", "200m")];
const MEMORY: &[(&str, &str)] =
    &[("64Mi", "128Mi"), ("0.5Gi", "1Gi"), ("1e8", "1e9"), ("1G", "2G"), ("128974848", "1.5Gi")];

/// A KDL string literal.
fn q(s: &str) -> String {
    common::kdl_string(s)
}

/// A text value as a spec may write it, and the string it stands for:
/// mostly quoted, sometimes a bare number or boolean taken as written.
fn text_value(rng: &mut Rng) -> (String, String) {
    match rng.below(10) {
        0 => {
            let raw = rng.pick(&["1.10", "1e3", "3000", "0.5", "-7", "1E3"]);
            (raw.to_string(), raw.to_string())
        }
        1 => {
            let b = rng.pick(&["true", "false"]);
            (format!("#{b}"), b.to_string())
        }
        _ => {
            let s = rng.pick(TEXT);
            (q(s), s.to_string())
        }
    }
}

/// What one environment (or the service without environments) must show.
#[derive(Debug, Default, Clone)]
struct Expect {
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    tag: String,
    namespace: Option<String>,
    ports: Vec<String>,
}

struct Generated {
    text: String,
    /// Environment name → what its objects must say.
    expect: BTreeMap<String, Expect>,
}

fn generate(rng: &mut Rng, n: usize) -> Generated {
    let name = format!("svc{n}");
    let mut s = String::new();
    let mut base = Expect { tag: rng.pick(TAGS).to_string(), ..Expect::default() };
    writeln!(s, "service {name} {{").unwrap();
    writeln!(s, "    image \"ghcr.io/acme/{name}\" tag={}", q(&base.tag)).unwrap();
    gen_ports_and_probes(rng, &mut s, &mut base);
    gen_resources_and_env(rng, &mut s, &mut base);
    gen_metadata(rng, &mut s, &mut base);
    gen_volumes_and_scaling(rng, &mut s);
    gen_environments(rng, s, base)
}

fn gen_ports_and_probes(rng: &mut Rng, s: &mut String, base: &mut Expect) {
    // Ports: distinct names, numbers and service ports.
    let ports = rng.some(PORT_NAMES, 3);
    for (i, p) in ports.iter().enumerate() {
        let number = 8000 + i * 10 + rng.below(10);
        if rng.chance(30) {
            writeln!(s, "    port {} {number} service-port={}", q(p), 80 + i).unwrap();
        } else {
            writeln!(s, "    port {} {number}", q(p)).unwrap();
        }
        base.ports.push(p.to_string());
    }

    // Probes: by port name when there are ports, exec otherwise.
    if rng.chance(70) {
        s.push_str("    probes {\n");
        for kind in rng.some(&["startup", "liveness", "readiness"], 3) {
            if ports.is_empty() {
                writeln!(s, "        {kind} exec \"/bin/check\" {}", q(rng.pick(TEXT))).unwrap();
            } else {
                let port = q(rng.pick(&ports));
                match rng.below(4) {
                    0 => writeln!(s, "        {kind} tcp port={port}"),
                    1 => writeln!(s, "        {kind} grpc port={port} period=\"7s\""),
                    2 => writeln!(s, "        {kind} exec \"/bin/check\" {}", q(rng.pick(TEXT))),
                    _ => writeln!(s, "        {kind} \"/{}\" port={port} timeout=\"2s\"", rng.pick(LABEL_WORDS)),
                }
                .unwrap();
            }
        }
        s.push_str("    }\n");
    }
}

fn gen_resources_and_env(rng: &mut Rng, s: &mut String, base: &mut Expect) {
    if rng.chance(60) {
        let (cr, cl) = CPU[rng.below(CPU.len())];
        let (mr, ml) = MEMORY[rng.below(MEMORY.len())];
        s.push_str("    resources {\n");
        writeln!(s, "        requests cpu={} memory={}", q(cr), q(mr)).unwrap();
        if rng.chance(50) {
            writeln!(s, "        limits cpu={} memory={}", q(cl), q(ml)).unwrap();
        }
        s.push_str("    }\n");
    }

    let vars = rng.some(ENV_VAR_NAMES, 6);
    if !vars.is_empty() {
        s.push_str("    env {\n");
        for v in &vars {
            let (lit, value) = text_value(rng);
            writeln!(s, "        {} {lit}", q(v)).unwrap();
            base.env.insert(v.to_string(), value);
        }
        s.push_str("    }\n");
    }
}

fn gen_metadata(rng: &mut Rng, s: &mut String, base: &mut Expect) {
    let label_keys = rng.some(LABEL_WORDS, 4);
    if !label_keys.is_empty() {
        s.push_str("    labels {\n");
        for k in &label_keys {
            let key = if rng.chance(30) { format!("example.com/{k}") } else { k.to_string() };
            let v = rng.pick(LABEL_WORDS);
            writeln!(s, "        {} {}", q(&key), q(v)).unwrap();
            base.labels.insert(key, v.to_string());
        }
        s.push_str("    }\n");
    }

    let annotation_keys = rng.some(LABEL_WORDS, 3);
    if !annotation_keys.is_empty() {
        s.push_str("    annotations {\n");
        for k in &annotation_keys {
            let key = format!("notes.example.com/{k}");
            let (lit, value) = text_value(rng);
            writeln!(s, "        {} {lit}", q(&key)).unwrap();
            base.annotations.insert(key, value);
        }
        s.push_str("    }\n");
    }
}

fn gen_volumes_and_scaling(rng: &mut Rng, s: &mut String) {
    let volumes = rng.some(&VOLUMES.iter().collect::<Vec<_>>(), 3);
    if !volumes.is_empty() {
        s.push_str("    volumes {\n");
        for (v, path) in volumes {
            let extra = if rng.chance(40) {
                format!(" size-limit={}", q(rng.pick(&["64Mi", "1e8", "0.5Gi"])))
            } else {
                String::new()
            };
            writeln!(s, "        {} {}{extra}", q(v), q(path)).unwrap();
        }
        s.push_str("    }\n");
    }

    if rng.chance(50) {
        let min = 1 + rng.below(3);
        let max = min + rng.below(8);
        writeln!(s, "    autoscale min={min} max={max} {{").unwrap();
        if rng.chance(60) {
            writeln!(s, "        cpu {}", 1 + rng.below(100)).unwrap();
        }
        if rng.chance(40) {
            writeln!(s, "        memory {}", 1 + rng.below(100)).unwrap();
        }
        s.push_str("    }\n");
    } else if rng.chance(50) {
        writeln!(s, "    replicas {}", rng.below(5)).unwrap();
    }
}

fn gen_environments(rng: &mut Rng, mut s: String, base: Expect) -> Generated {
    let mut expect = BTreeMap::new();
    let envs = rng.some(ENV_NAMES, 3);
    if envs.is_empty() {
        expect.insert("default".to_string(), base.clone());
    }
    for e in envs {
        let mut x = base.clone();
        x.namespace = Some(e.to_string());
        writeln!(s, "\n    environment {} {{", q(e)).unwrap();
        if rng.chance(40) {
            x.tag = rng.pick(TAGS).to_string();
            writeln!(s, "        image tag={}", q(&x.tag)).unwrap();
        }
        let over = rng.some(ENV_VAR_NAMES, 2);
        if !over.is_empty() {
            s.push_str("        env {\n");
            for v in over {
                let (lit, value) = text_value(rng);
                writeln!(s, "            {} {lit}", q(v)).unwrap();
                x.env.insert(v.to_string(), value);
            }
            s.push_str("        }\n");
        }
        let over = rng.some(LABEL_WORDS, 2);
        if !over.is_empty() {
            s.push_str("        labels {\n");
            for k in over {
                let v = rng.pick(LABEL_WORDS);
                writeln!(s, "            {} {}", q(k), q(v)).unwrap();
                x.labels.insert(k.to_string(), v.to_string());
            }
            s.push_str("        }\n");
        }
        if rng.chance(30) {
            s.push_str("        autoscale #false\n        replicas 1\n");
        }
        s.push_str("    }\n");
        expect.insert(e.to_string(), x);
    }
    s.push_str("}\n");
    Generated { text: s, expect }
}

fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("<not a string>").to_string())).collect())
        .unwrap_or_default()
}

/// The values a spec set, read back from one environment's objects.
fn check_values(what: &str, x: &Expect, docs: &[Value]) {
    let mut kinds = Vec::new();
    for d in docs {
        let kind = d["kind"].as_str().unwrap_or("?");
        kinds.push(kind);
        let meta = &d["metadata"];
        let labels = str_map(&meta["labels"]);
        for (k, v) in &x.labels {
            assert_eq!(labels.get(k), Some(v), "{what}: {kind} label {k:?}");
        }
        // The version label is on the workload and its pod template only.
        let version = labels.get("app.kubernetes.io/version");
        if matches!(kind, "Deployment" | "Rollout") {
            assert_eq!(version, Some(&x.tag), "{what}: {kind} version label");
            let pod = str_map(&d["spec"]["template"]["metadata"]["labels"]);
            assert_eq!(pod.get("app.kubernetes.io/version"), Some(&x.tag), "{what}: pod version label");
        } else {
            assert_eq!(version, None, "{what}: {kind} has a version label");
        }
        let annotations = str_map(&meta["annotations"]);
        for (k, v) in &x.annotations {
            assert_eq!(annotations.get(k), Some(v), "{what}: {kind} annotation {k:?}");
        }
        assert_eq!(meta["namespace"].as_str(), x.namespace.as_deref(), "{what}: {kind} namespace");
        match kind {
            "Deployment" => {
                let c = &d["spec"]["template"]["spec"]["containers"][0];
                let env: BTreeMap<String, String> = c["env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| Some((e["name"].as_str()?.to_string(), e["value"].as_str()?.to_string())))
                    .collect();
                assert_eq!(env, x.env, "{what}: container env");
                let ports: Vec<&str> =
                    c["ports"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
                assert_eq!(ports, x.ports, "{what}: container ports");
                let pod_labels = str_map(&d["spec"]["template"]["metadata"]["labels"]);
                for (k, v) in &x.labels {
                    assert_eq!(pod_labels.get(k), Some(v), "{what}: pod label {k:?}");
                }
            }
            "Service" => {
                let targets: Vec<&str> = d["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["targetPort"].as_str())
                    .collect();
                assert_eq!(targets, x.ports, "{what}: Service targetPort names");
            }
            _ => {}
        }
    }
    assert!(kinds.contains(&"Deployment"), "{what}: no Deployment in {kinds:?}");
    assert_eq!(kinds.contains(&"Service"), !x.ports.is_empty(), "{what}: Service iff ports");
}

/// Read a YAML stream with the oracle's PyYAML (YAML 1.1). Values PyYAML
/// types as something JSON cannot say (dates, …) and keys that are not
/// strings come back tagged, so they never compare equal to a string.
fn read_yaml_1_1(stream: &str) -> Option<Vec<Value>> {
    if std::env::var_os("SVCC_SKIP_ORACLE").is_some_and(|v| v == "1") {
        return None;
    }
    let python = std::path::PathBuf::from(std::env::var_os("HOME")?).join(".cache/svcc-oracle/venv/bin/python");
    assert!(
        python.exists(),
        "PyYAML from the oracle is missing: run ../shared/oracle/install, or set SVCC_SKIP_ORACLE=1"
    );
    let file = std::env::temp_dir().join(format!("svcc-properties-{}.yaml", std::process::id()));
    std::fs::write(&file, stream).unwrap();
    const SCRIPT: &str = r#"
import json, sys, yaml
def fix(o):
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else "!key %s %r" % (type(k).__name__, k)): fix(v) for k, v in o.items()}
    if isinstance(o, list):
        return [fix(v) for v in o]
    if o is None or isinstance(o, (str, bool, int, float)):
        return o
    return {"!py": type(o).__name__, "value": str(o)}
with open(sys.argv[1], encoding="utf-8") as f:
    docs = [fix(d) for d in yaml.safe_load_all(f) if d is not None]
json.dump(docs, sys.stdout)
"#;
    let out = std::process::Command::new(python).arg("-c").arg(SCRIPT).arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "PyYAML failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn generated_specs_compile_deterministically_and_read_back_the_same_in_yaml_1_1_and_1_2() {
    let mut rng = Rng(0x5eed_0000_0000_0042);
    let opts = Options { image_tag: None, require_tag: true, ..Options::default() };
    let mut stream = String::new();
    let mut objects = 0;
    for n in 0..CASES {
        let g = generate(&mut rng, n);
        let what = format!("case {n}");
        let c = common::compile_str(&format!("case{n}.kdl"), &g.text, &opts);
        let schema: Vec<_> = c.diagnostics.iter().filter(|d| d.code.as_str().starts_with("SVC05")).collect();
        assert!(schema.is_empty(), "{what}: schema violations {schema:?}\n{}", g.text);
        assert!(!c.has_errors(), "{what}: {:?}\n{}", c.diagnostics, g.text);
        let again = common::compile_str(&format!("case{n}.kdl"), &g.text, &opts);
        assert_eq!(c.artifacts, again.artifacts, "{what}: not deterministic\n{}", g.text);

        let mut folders: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for a in c.artifacts.iter().filter(|a| !svcc::emit::is_kustomization(a)) {
            let env = a.path.split('/').nth(1).unwrap();
            let docs = svcc::emit::parse_documents(&a.contents).unwrap_or_else(|e| panic!("{what}: {}: {e}", a.path));
            folders.entry(env).or_default().extend(docs);
        }
        let envs: Vec<&str> = folders.keys().copied().collect();
        let want: Vec<&str> = g.expect.keys().map(String::as_str).collect();
        assert_eq!(envs, want, "{what}: environment folders\n{}", g.text);
        for (env, docs) in &folders {
            objects += docs.len();
            check_values(&format!("{what} environment {env}\n{}", g.text), &g.expect[*env], docs);
        }
        stream.push_str(&svcc::emit::stream(&c.artifacts));
    }
    assert!(objects > CASES * 3, "only {objects} objects");

    // YAML 1.2 and YAML 1.1 read every generated document the same.
    let docs_1_2 = svcc::emit::parse_documents(&stream).unwrap();
    if let Some(docs_1_1) = read_yaml_1_1(&stream) {
        assert_eq!(docs_1_1.len(), docs_1_2.len(), "document count");
        for (a, b) in docs_1_1.iter().zip(&docs_1_2) {
            assert_eq!(a, b, "YAML 1.1 reads a document differently from YAML 1.2");
        }
    }
}

/// One random operation on the security of a pod template: a field set to
/// a hardened or a weakened value, a hardened field removed, or a container
/// added with or without a security context.
fn security_op(rng: &mut Rng) -> String {
    const POD: &str = "/spec/template/spec";
    const C0: &str = "/spec/template/spec/containers/0/securityContext";
    let b = |rng: &mut Rng| if rng.chance(50) { "#true" } else { "#false" };
    let hardened = "securityContext { allowPrivilegeEscalation #false; readOnlyRootFilesystem #true; \
                    capabilities { drop { - \"ALL\"; }; }; }";
    match rng.below(16) {
        0 => format!("set \"{POD}/hostNetwork\" {}", b(rng)),
        1 => format!("set \"{POD}/hostPID\" {}", b(rng)),
        2 => format!("merge \"{POD}\" {{ hostIPC {}; }}", b(rng)),
        3 => format!("set \"{POD}/securityContext/runAsNonRoot\" {}", b(rng)),
        4 => format!("set \"{POD}/securityContext/runAsUser\" {}", rng.pick(&["0", "1000", "10001"])),
        5 => format!(
            "set \"{POD}/securityContext/seccompProfile\" {{ type {}; }}",
            rng.pick(&["\"Unconfined\"", "\"RuntimeDefault\""])
        ),
        6 => format!("set \"{C0}/privileged\" {}", b(rng)),
        7 => format!("set \"{C0}/allowPrivilegeEscalation\" {}", b(rng)),
        8 => format!("set \"{C0}/readOnlyRootFilesystem\" {}", b(rng)),
        9 => format!(
            "set \"{C0}/capabilities/add\" {{ - {}; }}",
            rng.pick(&["\"NET_BIND_SERVICE\"", "\"SYS_ADMIN\"", "\"CHOWN\""])
        ),
        10 => format!(
            "remove \"{C0}/{}\"",
            rng.pick(&["capabilities", "allowPrivilegeEscalation", "readOnlyRootFilesystem"])
        ),
        11 => format!("merge \"{C0}\" {{ runAsNonRoot {}; }}", b(rng)),
        12 => format!(
            "set \"{POD}/volumes\" {{ - {{ name \"v\"; {}; }}; }}",
            rng.pick(&["hostPath { path \"/\"; }", "emptyDir { }"])
        ),
        13 => format!("set \"{C0}/procMount\" {}", rng.pick(&["\"Default\"", "\"Unmasked\""])),
        n => {
            let list = if n == 14 { "containers/-" } else { "initContainers" };
            let sc = if rng.chance(50) { hardened } else { "" };
            let item = format!("{{ name \"side\"; image \"busybox:1.36\"; {sc} }}");
            if list == "initContainers" {
                format!("set \"{POD}/{list}\" {{ - {item}; }}")
            } else {
                format!("set \"{POD}/{list}\" {item}")
            }
        }
    }
}

/// What a hardened pod template must hold, checked directly on the built
/// YAML (independently of `svcc::harden`): the fields every example keeps.
fn weakened_fields(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let pod = &doc["spec"]["template"]["spec"];
    for f in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[f] == Value::Bool(true) {
            out.push(f.to_string());
        }
    }
    let sc = &pod["securityContext"];
    if sc["runAsNonRoot"] != Value::Bool(true)
        || sc["runAsUser"] == 0
        || sc["seccompProfile"]["type"] != "RuntimeDefault"
    {
        out.push(format!("pod securityContext {sc}"));
    }
    if pod["volumes"].as_array().is_some_and(|v| v.iter().any(|v| v.get("hostPath").is_some())) {
        out.push("hostPath".into());
    }
    let containers =
        ["containers", "initContainers"].iter().flat_map(|l| pod[*l].as_array().cloned().unwrap_or_default());
    for c in containers {
        let s = &c["securityContext"];
        let drops_all = s["capabilities"]["drop"].as_array().is_some_and(|d| d.iter().any(|x| x == "ALL"));
        let adds = s["capabilities"]["add"].as_array().cloned().unwrap_or_default();
        if s["allowPrivilegeEscalation"] != Value::Bool(false)
            || s["readOnlyRootFilesystem"] != Value::Bool(true)
            || s["privileged"] == Value::Bool(true)
            || s["runAsNonRoot"] == Value::Bool(false)
            || s["procMount"].as_str().is_some_and(|p| p != "Default")
            || !drops_all
            || adds.iter().any(|a| a != "NET_BIND_SERVICE")
        {
            out.push(format!("container {} securityContext {s}", c["name"]));
        }
    }
    out
}

#[test]
fn patches_on_the_examples_are_refused_or_leave_the_pods_hardened() {
    let mut rng = Rng(0x5eed_0000_0000_0405);
    let (mut refused, mut accepted) = (0, 0);
    for path in common::services("examples") {
        let text = std::fs::read_to_string(&path).unwrap();
        let opts = common::example_options(&path);
        let close = text.rfind('}').unwrap();
        for n in 0..12 {
            let kind = if text.contains("blue-green") || text.contains("canary") { "Rollout" } else { "Deployment" };
            let ops: Vec<String> = (0..1 + rng.below(3)).map(|_| security_op(&mut rng)).collect();
            let patch = format!("    patch {kind} {{\n        {}\n    }}\n", ops.join("\n        "));
            let spec = format!("{}{patch}{}", &text[..close], &text[close..]);
            let name = common::rel(&path);
            let c = svcc::compile_with(
                &svcc::Input { name: name.clone(), bytes: spec.clone().into_bytes() },
                &common::defaults_for(&path),
                &common::loader(),
                &opts,
            );
            let what = format!("{name} case {n}:\n{patch}");
            if c.has_errors() {
                assert!(c.artifacts.is_empty(), "{what}: errors, yet artifacts");
                refused += usize::from(c.diagnostics.iter().any(|d| d.code.as_str() == "SVC0405"));
                continue;
            }
            accepted += 1;
            for a in c.artifacts.iter().filter(|a| a.path.ends_with(".yaml")) {
                for doc in svcc::emit::parse_documents(&a.contents).unwrap() {
                    if doc["kind"] == "Deployment" || doc["kind"] == "Rollout" {
                        let weak = weakened_fields(&doc);
                        assert!(weak.is_empty(), "{what}: {} is weakened without a diagnostic: {weak:?}", a.path);
                    }
                }
            }
        }
    }
    // The generator reaches both outcomes.
    assert!(refused >= 10 && accepted >= 5, "refused {refused}, accepted {accepted}");
}
