//! Never a panic: seeded mutations of every example and hostile inputs all
//! end in diagnostics (or a build), with spans inside the file.

mod common;

use common::{Rng, mutate};
use svcc::{Compiled, Options};

fn assert_sane(name: &str, c: &Compiled) {
    for d in &c.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            // A span points into the spec (file 0) or into a file it imported.
            let text = match l.span.file {
                0 => &c.file.text,
                k => &c.imports.get(usize::from(k) - 1).unwrap_or_else(|| panic!("{name}: no file {k}")).text,
            };
            assert!(l.span.end as usize <= text.len(), "{name}: span {:?} beyond {}", l.span, text.len());
            assert!(text.is_char_boundary(l.span.start as usize), "{name}: span start not on a char boundary");
            assert!(text.is_char_boundary(l.span.end as usize), "{name}: span end not on a char boundary");
        }
    }
    if c.has_errors() {
        assert!(c.artifacts.is_empty(), "{name}: errors but artifacts");
    }
    // Rendering must not panic either.
    let _ = common::render(c, svcc::diagnostic::render::Format::Human);
    let _ = common::render(c, svcc::diagnostic::render::Format::Json);
    let _ = common::render(c, svcc::diagnostic::render::Format::Github);
}

#[test]
fn mutated_examples_never_panic() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for path in common::files("examples", "kdl") {
        let src = std::fs::read(&path).unwrap();
        let opts = common::example_options(&path);
        for i in 0..250 {
            let bytes = mutate(&mut rng, &src);
            let name = format!("{}#{i}", path.display());
            // Mutated specs use their real presets and defaults; mutated
            // presets and defaults files are compiled as (broken) services.
            let defaults = common::defaults_for(&path);
            let loader = common::loader();
            let input = svcc::Input { name: common::rel(&path), bytes: bytes.clone() };
            let c = svcc::compile_with(&input, &defaults, &loader, &opts);
            assert_sane(&name, &c);
            if !c.has_errors() {
                let again = svcc::compile_with(&svcc::Input { name: input.name, bytes }, &defaults, &loader, &opts);
                assert_eq!(c.artifacts, again.artifacts, "{name}: not deterministic");
            }
        }
    }
}

fn compile_bytes(bytes: &[u8]) -> Compiled {
    svcc::compile(&svcc::Input { name: "hostile.kdl".into(), bytes: bytes.to_vec() }, &Options::default())
}

#[test]
fn hostile_inputs_get_diagnostics() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("whitespace", b"   \n\n\t".to_vec()),
        ("deep nesting", format!("service a {{ {} }}", "x { ".repeat(50_000)).into_bytes()),
        ("unbalanced close", "}".repeat(10_000).into_bytes()),
        ("invalid utf-8", b"service a {\n  image \"\xff\xfe\"\n}\n".to_vec()),
        ("nul byte", b"service a {\0}\n".to_vec()),
        ("binary garbage", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("long identifier", format!("service {} {{}}\n", "a".repeat(200_000)).into_bytes()),
        ("long string", format!("service a {{ image \"{}\" }}\n", "X".repeat(2_000_000)).into_bytes()),
        (
            "many nodes",
            "service a {\n".bytes().chain("  port p 1\n".repeat(20_000).bytes()).chain("}\n".bytes()).collect(),
        ),
    ];
    for (name, bytes) in cases {
        let c = compile_bytes(&bytes);
        assert!(c.has_errors(), "{name}: expected an error");
        assert_sane(name, &c);
    }
}

#[test]
fn byte_order_mark_is_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(&std::fs::read(common::root().join("examples/minimal/service.kdl")).unwrap());
    let c = svcc::compile(&svcc::Input { name: "bom.kdl".into(), bytes }, &Options::default());
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    assert!(!c.artifacts.is_empty());
}

/// Inputs on which a fuzz target (fuzz/, docs/fuzzing.md) once crashed or
/// failed an assertion: each must now compile without a panic, with sane
/// spans, and deterministically.
#[test]
fn fuzz_crash_inputs_stay_fixed() {
    let dir = common::root().join("tests/fixtures/crashes");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let opts = Options { image_tag: Some("1.4.2".into()), require_tag: true, ..Options::default() };
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let name = common::rel(&path);
        let c = svcc::compile(&svcc::Input { name: name.clone(), bytes: bytes.clone() }, &opts);
        assert_sane(&name, &c);
        if !c.has_errors() {
            let again = svcc::compile(&svcc::Input { name: name.clone(), bytes }, &opts);
            assert_eq!(c.artifacts, again.artifacts, "{name}: not deterministic");
        }
    }
}

/// The patch applier on generated `patch` blocks (tests/common/patchgen.rs,
/// shared with the `patch` fuzz target): real field names mixed with
/// hostile pointer segments and values. No panic, sane spans; a build that
/// succeeds is deterministic and every object it writes passes the
/// independent `jsonschema` crate on svcc's schema. Enough patches must both
/// apply and be refused for the test to mean anything.
#[test]
fn generated_patches_never_panic_and_never_write_invalid_objects() {
    let schema: serde_json::Value = serde_json::from_str(&svcc::validate::validation_schema_text()).unwrap();
    let reference = jsonschema::validator_for(&schema).unwrap();
    let opts = Options { require_tag: true, ..Options::default() };
    let mut rng = Rng(0x9a7c_4e55_0b1e_c7ed);
    let (mut built, mut refused) = (0, 0);
    for i in 0..600 {
        let text = common::patchgen::spec(&mut |n| rng.below(n));
        let name = format!("patch#{i}");
        let c = common::compile_str("patch.kdl", &text, &opts);
        assert_sane(&name, &c);
        if c.has_errors() {
            refused += 1;
            continue;
        }
        built += 1;
        assert_eq!(c.artifacts, common::compile_str("patch.kdl", &text, &opts).artifacts, "{name}: not deterministic");
        let mut objects = Vec::new();
        for a in c.artifacts.iter().filter(|a| !svcc::emit::is_kustomization(a)) {
            let v: serde_json::Value = serde_saphyr::from_str(&a.contents).unwrap();
            let errors: Vec<String> = reference.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{name}: {} is invalid: {errors:?}\n{text}", a.path);
            objects.push(v);
        }
        let broken = admission_invariants(&objects);
        assert!(broken.is_empty(), "{name}: a patched build the cluster would refuse: {broken:?}\n{text}");
    }
    assert!(built >= 25 && refused >= 100, "built {built}, refused {refused} of 600");
}

/// Random patches aimed at what admission guards (selectors, counts,
/// containers, HPA bounds, Service selectors, control characters) over
/// every example: each build is refused with a diagnostic or passes the
/// independent reading below. Without the admission stage, some would pass
/// svcc and break it (the test is meant to fail then).
#[test]
fn semantic_patches_are_refused_or_admissible() {
    const OPS: &[(&str, &str)] = &[
        ("Deployment", r#"set "/spec/selector/matchLabels/extra" "y""#),
        ("Deployment", r#"set "/spec/replicas" -1"#),
        ("Deployment", r#"set "/spec/replicas" 4"#),
        ("Deployment", r#"remove "/spec/template/spec/containers/0""#),
        ("Deployment", r#"merge "/spec/template/metadata/labels" { tier "web" }"#),
        ("Deployment", r#"set "/spec/template/spec/containers/0/env/-" { name "X"; value "a\u{7f}b" }"#),
        ("Deployment", r#"set "/spec/template/spec/containers/0/env/-" { name "Y"; value "fine" }"#),
        ("Service", r#"set "/spec/selector/app" "other""#),
        ("Service", r#"merge "/metadata/labels" { tier "web" }"#),
        ("PodDisruptionBudget", r#"set "/spec/selector/matchLabels/app" "other""#),
        ("HorizontalPodAutoscaler", r#"set "/spec/minReplicas" 0"#),
        ("HorizontalPodAutoscaler", r#"set "/spec/maxReplicas" 1"#),
        ("HorizontalPodAutoscaler", r#"set "/spec/maxReplicas" 50"#),
    ];
    let mut rng = Rng(0x5eed_0000_0000_0614);
    let (mut built, mut refused) = (0, 0);
    for path in common::services("examples") {
        let text = std::fs::read_to_string(&path).unwrap();
        let opts = common::example_options(&path);
        let close = text.rfind('}').unwrap();
        let rollout = text.contains("blue-green") || text.contains("canary");
        for n in 0..16 {
            let mut patches = String::new();
            for _ in 0..1 + rng.below(2) {
                let (kind, op) = OPS[rng.below(OPS.len())];
                let kind = if kind == "Deployment" && rollout { "Rollout" } else { kind };
                patches.push_str(&format!("    patch {kind} {{\n        {op}\n    }}\n"));
            }
            let spec = format!("{}{patches}{}", &text[..close], &text[close..]);
            let name = common::rel(&path);
            let input = svcc::Input { name: name.clone(), bytes: spec.into_bytes() };
            let c = svcc::compile_with(&input, &common::defaults_for(&path), &common::loader(), &opts);
            if c.has_errors() {
                refused += 1;
                continue;
            }
            built += 1;
            let folders: std::collections::BTreeSet<&str> =
                c.artifacts.iter().filter_map(|a| a.path.rsplit_once('/').map(|(f, _)| f)).collect();
            for env in folders {
                let objects: Vec<serde_json::Value> = c
                    .artifacts
                    .iter()
                    .filter(|a| a.path.starts_with(&format!("{env}/")) && a.path.ends_with(".yaml"))
                    .filter(|a| !svcc::emit::is_kustomization(a))
                    .map(|a| serde_saphyr::from_str(&a.contents).unwrap())
                    .collect();
                let broken = admission_invariants(&objects);
                assert!(broken.is_empty(), "{name} case {n}: accepted, yet {broken:?}\n{patches}");
            }
        }
    }
    assert!(built >= 10 && refused >= 20, "built {built}, refused {refused}");
}

/// A few of the admission rules, written independently of
/// `compiler/src/admission/` (each from the upstream rule it names), so a
/// patched build that passes svcc is checked by a second reading.
fn admission_invariants(objects: &[serde_json::Value]) -> Vec<String> {
    use serde_json::Value;
    let map = |v: &Value, p: &str| -> Vec<(String, String)> {
        v.pointer(p)
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default()
    };
    let subset = |a: &[(String, String)], b: &[(String, String)]| a.iter().all(|x| b.contains(x));
    let mut broken = Vec::new();
    let pods: Vec<(String, String)> = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" || o["kind"] == "Rollout")
        .map(|w| map(w, "/spec/template/metadata/labels"))
        .unwrap_or_default();
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or("");
        match kind {
            // apps/validation: "selector does not match template labels"; replicas >= 0; a container.
            "Deployment" | "Rollout" => {
                let sel = map(o, "/spec/selector/matchLabels");
                if sel.is_empty() || !subset(&sel, &map(o, "/spec/template/metadata/labels")) {
                    broken.push(format!("{kind}: selector"));
                }
                if o.pointer("/spec/replicas").and_then(Value::as_i64).is_some_and(|n| n < 0) {
                    broken.push(format!("{kind}: replicas"));
                }
                if o.pointer("/spec/template/spec/containers").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                    broken.push(format!("{kind}: containers"));
                }
            }
            // A Service and a PDB select the pods.
            "Service" if !subset(&map(o, "/spec/selector"), &pods) => broken.push("Service: selector".into()),
            "PodDisruptionBudget" if !subset(&map(o, "/spec/selector/matchLabels"), &pods) => {
                broken.push("PodDisruptionBudget: selector".into());
            }
            // autoscaling/validation: 1 <= minReplicas <= maxReplicas.
            "HorizontalPodAutoscaler" => {
                let min = o.pointer("/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1);
                let max = o.pointer("/spec/maxReplicas").and_then(Value::as_i64).unwrap_or(0);
                if min < 1 || max < min {
                    broken.push("HorizontalPodAutoscaler: bounds".into());
                }
            }
            _ => {}
        }
        // Printable text only (kubectl kustomize refuses control characters).
        fn controls(v: &Value) -> bool {
            match v {
                Value::String(s) => s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
                Value::Array(a) => a.iter().any(controls),
                Value::Object(m) => m.iter().any(|(k, v)| k.chars().any(char::is_control) || controls(v)),
                _ => false,
            }
        }
        if controls(o) {
            broken.push(format!("{kind}: control character"));
        }
    }
    broken
}
