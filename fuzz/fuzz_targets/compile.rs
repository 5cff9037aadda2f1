//! The whole compile, with the options of `svcc build --image-tag`, on
//! arbitrary bytes: no panic; every diagnostic span inside the text and on
//! char boundaries; no artifacts with errors; without errors, compiling
//! twice gives identical artifacts; rendering never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc::diagnostic::render::{self, Format, HumanStyle};
use svcc::{Input, Options};

fuzz_target!(|bytes: &[u8]| {
    let opts = Options { image_tag: Some("1.4.2".into()), require_tag: true, ..Options::default() };
    let input = Input { name: "fuzz.kdl".into(), bytes: bytes.to_vec() };
    let c = svcc::compile(&input, &opts);
    let text = &c.file.text;
    for d in &c.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            let (s, e) = (l.span.start as usize, l.span.end as usize);
            assert!(s <= e && e <= text.len(), "span {:?} outside a text of {} bytes", l.span, text.len());
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e), "span {:?} not on char boundaries", l.span);
        }
    }
    if c.has_errors() {
        assert!(c.artifacts.is_empty(), "errors, yet artifacts");
    } else {
        let again = svcc::compile(&input, &opts);
        assert_eq!(c.artifacts, again.artifacts, "two compiles of the same input differ");
    }
    let _ = render::render(
        Format::Human,
        &svcc::file_diagnostics(std::slice::from_ref(&c)),
        HumanStyle { color: false, width: 80 },
    );
});
