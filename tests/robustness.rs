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
        for a in c.artifacts.iter().filter(|a| !svcc::emit::is_kustomization(a)) {
            let v: serde_json::Value = serde_saphyr::from_str(&a.contents).unwrap();
            let errors: Vec<String> = reference.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{name}: {} is invalid: {errors:?}\n{text}", a.path);
        }
    }
    assert!(built >= 25 && refused >= 100, "built {built}, refused {refused} of 600");
}
