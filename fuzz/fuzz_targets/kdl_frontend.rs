//! The KDL front end on arbitrary text: no panic, no stack overflow, every
//! diagnostic span inside the text, and the fast parser's document exactly
//! the kdl crate's whenever it builds one.
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
    // Differential: kdl's PartialEq ignores spans, so compare Debug text.
    if let Some(fast) = svcc::syntax::fast::parse(text) {
        let kdl = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn_scoped(s, || text.parse::<kdl::KdlDocument>())
                .expect("spawn")
                .join()
                .expect("kdl parse")
        });
        match kdl {
            Ok(kdl) => assert_eq!(format!("{fast:#?}"), format!("{kdl:#?}"), "the fast parser differs from kdl"),
            Err(e) => panic!("the fast parser accepts what kdl rejects: {e:?}"),
        }
    }
});
