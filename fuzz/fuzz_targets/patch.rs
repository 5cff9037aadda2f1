//! The patch applier: specs with generated `patch` blocks
//! (tests/common/patchgen.rs, shared with tests/robustness.rs), every
//! choice taken from the fuzzer's bytes. No panic; spans in bounds; a
//! successful build is deterministic and every object it writes passes
//! svcc's schema.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc::Options;

#[path = "../../tests/common/patchgen.rs"]
mod patchgen;

fuzz_target!(|bytes: &[u8]| {
    let mut at = 0usize;
    let mut pick = |n: usize| {
        // Two bytes per choice; zeros once the input runs out.
        let b = [bytes.get(at).copied().unwrap_or(0), bytes.get(at + 1).copied().unwrap_or(0)];
        at += 2;
        usize::from(u16::from_le_bytes(b)) % n
    };
    let text = patchgen::spec(&mut pick);
    let opts = Options { require_tag: true, ..Options::default() };
    let input = svcc::Input { name: "patch.kdl".into(), bytes: text.clone().into_bytes() };
    let c = svcc::compile(&input, &opts);
    for d in &c.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            assert!(l.span.end as usize <= text.len(), "span {:?} beyond the text", l.span);
        }
    }
    if !c.has_errors() {
        assert_eq!(c.artifacts, svcc::compile(&input, &opts).artifacts, "not deterministic");
        for a in c.artifacts.iter().filter(|a| !svcc::emit::is_kustomization(a)) {
            let v: serde_json::Value = serde_saphyr::from_str(&a.contents).expect("svcc's YAML parses");
            assert!(svcc::validate::violations(&v).is_empty(), "{} is invalid:\n{text}", a.path);
        }
    }
});
