//! Parse and decode arbitrary text: no panic on any document the KDL front
//! end accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc::diagnostic::Diagnostics;

fuzz_target!(|text: &str| {
    let mut diags = Diagnostics::new();
    if let Some(doc) = svcc::syntax::parse(text, &mut diags) {
        let spec = svcc::decode::decode(&doc, &mut diags);
        if spec.is_none() {
            assert!(diags.has_errors(), "decode gave up without saying why");
        }
    }
});
