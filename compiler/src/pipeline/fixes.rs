//! Fixes that need the spec's syntax tree rather than the stage that found
//! the problem: the check stage knows a readiness probe is missing, but only
//! the document says where a `probes` block is and how the file is indented.

use kdl::{KdlDocument, KdlNode};

use crate::diagnostic::{Code, Diagnostic, Edit, Fix};
use crate::source::Span;

/// The readiness skeleton svcc offers: an endpoint the user then points at
/// real readiness.
const READINESS: &str = "readiness \"/ready\"";

/// Give each diagnostic of the spec that has a syntax-dependent fix its fix.
pub(super) fn attach(doc: &KdlDocument, text: &str, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        let in_spec = d.primary.as_ref().is_some_and(|l| l.span.file == 0);
        if d.code == Code::NoReadiness
            && in_spec
            && d.fix.is_none()
            && let Some(edit) = readiness(doc, text)
        {
            d.fix = Some(Fix { title: "Add a readiness probe".into(), edits: vec![edit] });
        }
    }
}

/// Insert `readiness "/ready"` into the service's `probes` block, or a
/// `probes` block holding it into the service.
fn readiness(doc: &KdlDocument, text: &str) -> Option<Edit> {
    let service = doc.nodes().iter().find(|n| n.name().value() == crate::decode::SERVICE.name)?;
    let body = service.children()?;
    match body.nodes().iter().find(|n| n.name().value() == "probes") {
        Some(probes) if probes.children().is_some() => insert_last(probes, text, READINESS),
        Some(_) => None,
        None => insert_last(service, text, &format!("probes {{ {READINESS} }}")),
    }
}

/// An edit that adds `line` as the last child of `node`, indented like
/// its other children (or one level below `node`).
fn insert_last(node: &KdlNode, text: &str, line: &str) -> Option<Edit> {
    let span = node.span();
    let end = (span.offset() + span.len()).min(text.len());
    let close = text.get(..end)?.rfind('}')?;
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    let before_close = &text[line_start..close];
    let node_start = span.offset().min(text.len());
    let node_line = text[..node_start].rfind('\n').map_or(0, |i| i + 1);
    let outer: String = text[node_line..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
    let indent = node
        .children()
        .and_then(|c| c.nodes().first())
        .map(|first| {
            let at = first.span().offset().min(text.len());
            let ls = text[..at].rfind('\n').map_or(0, |i| i + 1);
            text[ls..at].to_string()
        })
        .filter(|i| i.chars().all(|c| c == ' ' || c == '\t') && !i.is_empty())
        .unwrap_or_else(|| format!("{outer}    "));
    let (at, insert) = if before_close.chars().all(|c| c == ' ' || c == '\t') {
        // `}` on a line of its own: a new line above it.
        (line_start, format!("{indent}{line}\n"))
    } else {
        (close, format!("; {line} "))
    };
    Some(Edit { span: Span::in_file(0, at, at), text: insert })
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Code;
    use crate::{Input, NoFiles, Options};

    /// The text after applying the fix of the first `code` diagnostic.
    fn fixed(text: &str, code: Code) -> String {
        let input = Input { name: "api.kdl".into(), bytes: text.as_bytes().to_vec() };
        let run = crate::run(&input, &[], &NoFiles, &Options::default());
        let d = run.diagnostics.iter().find(|d| d.code == code).unwrap_or_else(|| panic!("no {code}: {run:#?}"));
        let fix = d.fix.as_ref().unwrap_or_else(|| panic!("{code} has no fix"));
        let mut out = text.to_string();
        let mut edits = fix.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        for e in edits {
            assert_eq!(e.span.file, 0);
            out.replace_range(e.span.start as usize..e.span.end as usize, &e.text);
        }
        out
    }

    const BASE: &str = "service api {\n    image \"ghcr.io/acme/api\"\n    port http 8080\n";

    #[test]
    fn fixes_rename_quote_and_insert() {
        let t = format!("{BASE}    replcas 2\n}}\n");
        assert!(fixed(&t, Code::UnknownNode).contains("    replicas 2\n"));
        let t = format!("{BASE}    port metrics 9090 protocl=\"TCP\"\n}}\n");
        assert!(fixed(&t, Code::UnknownProperty).contains("protocol=\"TCP\""));
        let t = format!("{BASE}    port metrics 9090 protocol=\"TPC\"\n}}\n");
        assert!(fixed(&t, Code::InvalidChoice).contains("protocol=\"TCP\""));
        let t = format!("{BASE}    security {{ run-as-non-root true }}\n}}\n");
        assert!(fixed(&t, Code::KdlV1).contains("run-as-non-root #true"));
        let t = format!("{BASE}    use \"node-http-apy\"\n}}\n");
        assert!(fixed(&t, Code::UnknownPreset).contains("use \"node-http-api\""));
        let t = "service api {\n    image 42\n}\n";
        assert!(fixed(t, Code::WrongType).contains("image \"42\""));
    }

    #[test]
    fn a_missing_readiness_probe_gets_a_skeleton() {
        let t = format!("{BASE}}}\n");
        assert_eq!(fixed(&t, Code::NoReadiness), format!("{BASE}    probes {{ readiness \"/ready\" }}\n}}\n"));
        let t = format!("{BASE}    probes {{\n        liveness \"/live\"\n    }}\n}}\n");
        let out = fixed(&t, Code::NoReadiness);
        assert!(out.contains("        liveness \"/live\"\n        readiness \"/ready\"\n    }"), "{out}");
        let t = format!("{BASE}    probes {{ liveness \"/live\" }}\n}}\n");
        assert!(fixed(&t, Code::NoReadiness).contains("probes { liveness \"/live\" ; readiness \"/ready\" }"));
    }

    #[test]
    fn a_patch_that_changes_nothing_is_removed_with_its_line() {
        let t = format!(
            "{BASE}    replicas 2\n    patch Deployment {{\n        set \"/spec/replicas\" 2\n        set \"/spec/minReadySeconds\" 5\n    }}\n}}\n"
        );
        let out = fixed(&t, Code::PatchPath);
        assert!(!out.contains("/spec/replicas") && out.contains("        set \"/spec/minReadySeconds\" 5\n"), "{out}");
    }
}
