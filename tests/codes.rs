//! Every diagnostic code has a page (`docs/codes/SVCnnnn.md`, printed by
//! `svcc explain`), and every page whose example is a ```kdl block really
//! emits its code when compiled.

mod common;

use svcc::diagnostic::Code;

#[test]
fn every_code_has_a_page_with_its_title() {
    for c in Code::ALL {
        let page = c.explanation();
        let first = page.lines().next().unwrap_or("");
        assert_eq!(first, format!("# {}: {}", c.as_str(), c.slug()), "{c}: the page starts with its title");
    }
}

#[test]
fn page_examples_emit_their_code() {
    for c in Code::ALL {
        let page = c.explanation();
        let Some(start) = page.find("```kdl\n") else {
            continue;
        };
        let rest = &page[start + 7..];
        let example = &rest[..rest.find("```").expect("unterminated example")];
        let compiled = common::compile_str(&format!("{c}.kdl"), example, &svcc::Options::default());
        assert!(
            compiled.diagnostics.iter().any(|d| d.code == *c),
            "{c}: the page's example does not emit it:\n{example}\n{}",
            common::render(&compiled, svcc::diagnostic::render::Format::Human)
        );
    }
}
