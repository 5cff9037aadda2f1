//! The KDL front end on arbitrary text: no panic, no stack overflow, and
//! every diagnostic span inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc::diagnostic::Diagnostics;

fuzz_target!(|text: &str| {
    let mut diags = Diagnostics::new();
    let doc = svcc::syntax::parse(text, &mut diags);
    let diags = diags.into_sorted();
    assert_eq!(
        doc.is_none(),
        diags.iter().any(|d| d.is_error()),
        "a document comes back exactly when there are no errors"
    );
    for d in &diags {
        for l in d.primary.iter().chain(&d.secondary) {
            assert!(
                l.span.start <= l.span.end && l.span.end as usize <= text.len(),
                "span {:?} outside the text",
                l.span
            );
        }
    }
});
