//! The node tables of `decode/` are the language: every node and property
//! they declare is documented, and they declare what the decoder reads.
//!
//! - every node of every table (from `decode::FILES` down) has a summary and
//!   a `FILE#ANCHOR` under `docs/` naming a heading; the node's name is a
//!   word of that heading or of a code span in its section (fenced blocks
//!   do not count), and each of its properties is in a code span there
//!   (`prop=…`, or `prop` alone);
//! - the properties a table declares for a node are exactly those the
//!   decoder asks for: the help of an unknown property lists them (and the
//!   same for `item_props`, the properties of a map's user-named children).

mod common;

use std::collections::BTreeSet;

use svcc::decode::node::Info;
use svcc::diagnostic::{Code, Diagnostics};

/// Every node reachable from the top-level nodes, once per table entry
/// (a table shared by several parents, such as the gates, counts once), with
/// the path of node names that leads to it.
fn all_nodes() -> Vec<(Vec<&'static str>, Info)> {
    fn walk(
        path: &[&'static str],
        nodes: Vec<Info>,
        seen: &mut BTreeSet<(String, String)>,
        out: &mut Vec<(Vec<&'static str>, Info)>,
    ) {
        for n in nodes {
            let key = (n.name.to_string(), n.doc.to_string() + n.summary);
            if !seen.insert(key) {
                continue;
            }
            let mut p = path.to_vec();
            p.push(n.name);
            out.push((p.clone(), n));
            walk(&p, n.children(), seen, out);
        }
    }
    let mut out = Vec::new();
    walk(&[], svcc::decode::FILES.to_vec(), &mut BTreeSet::new(), &mut out);
    out
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn slug(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The section of `docs/FILE` under the heading whose anchor is `ANCHOR`,
/// down to the next heading of the same or a higher level.
fn section(doc: &str) -> Result<String, String> {
    let (file, anchor) = doc.split_once('#').ok_or_else(|| format!("`{doc}` is not FILE#ANCHOR"))?;
    let text =
        std::fs::read_to_string(common::root().join("docs").join(file)).map_err(|e| format!("docs/{file}: {e}"))?;
    let mut out: Option<(usize, String)> = None;
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        let heading = !fenced && level > 0 && line[level..].starts_with(' ');
        match &mut out {
            Some((l, _)) if heading && level <= *l => break,
            Some((_, s)) => {
                s.push_str(line);
                s.push('\n');
            }
            // The heading is the section's first line.
            None if heading && slug(&line[level..]) == anchor => out = Some((level, format!("{line}\n"))),
            None => {}
        }
    }
    out.map(|(_, s)| s).ok_or_else(|| format!("docs/{file} has no heading with the anchor `#{anchor}`"))
}

/// The inline code spans of a section, outside fenced blocks, and its
/// heading (in lower case) as one more: `### resources` documents
/// `resources`.
fn code_spans(section: &str) -> Vec<String> {
    let heading = section.lines().next().unwrap_or_default();
    let mut spans = vec![heading.trim_start_matches('#').to_lowercase()];
    let mut fenced = false;
    for line in section.lines().skip(1) {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            spans.extend(line.split('`').skip(1).step_by(2).map(str::to_string));
        }
    }
    spans
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `word` stands alone in `span` (not as a part of a longer name); with
/// `open`, anything may follow it.
fn has_word(span: &str, word: &str, open: bool) -> bool {
    span.match_indices(word).any(|(i, _)| {
        let before = span[..i].chars().next_back();
        let after = span[i + word.len()..].chars().next();
        before.is_none_or(|c| !is_word_char(c)) && (open || after.is_none_or(|c| !is_word_char(c) || c == '='))
    })
}

/// `prop` is written alone or as `prop=…` in `span`.
fn has_prop(span: &str, prop: &str) -> bool {
    span.trim() == prop || has_word(span, &format!("{prop}="), true)
}

#[test]
fn every_node_and_property_is_documented() {
    let mut problems = Vec::new();
    let nodes = all_nodes();
    assert!(nodes.len() > 100, "only {} nodes in the tables", nodes.len());
    for (path, n) in &nodes {
        let at = path.join(" > ");
        if n.summary.is_empty() {
            problems.push(format!("{at}: no summary"));
        }
        let spans = match section(n.doc) {
            Ok(s) => code_spans(&s),
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        if !spans.iter().any(|s| has_word(s, n.name, false)) {
            problems.push(format!("{at}: `{}` is not in backticks in docs/{}", n.name, n.doc));
        }
        for p in n.props.iter().chain(n.item_props) {
            if !spans.iter().any(|s| has_prop(s, p)) {
                problems.push(format!("{at}: property `{p}=` is not in backticks in docs/{}", n.doc));
            }
        }
    }
    assert!(problems.is_empty(), "undocumented:\n{}", problems.join("\n"));
}

/// The properties the decoder asked for on the node `name`, read from the
/// help of the unknown property `zzz` it is given in `spec`; `None` when
/// nothing reported it (the decoder stopped before reading properties).
fn asked_for(spec: &str, name: &str) -> Option<BTreeSet<String>> {
    let mut diags = Diagnostics::new();
    let doc = svcc::syntax::parse(spec, &mut diags).unwrap_or_else(|| panic!("does not parse:\n{spec}"));
    svcc::decode::decode(&doc, &mut diags);
    let d = diags
        .iter()
        .find(|d| d.code == Code::UnknownProperty && d.message == format!("unknown property `zzz` on `{name}`"))?;
    let help = d.help.as_deref().unwrap_or_default();
    if help.ends_with("takes no properties") {
        return Some(BTreeSet::new());
    }
    let list = help.split_once(" takes: ").unwrap_or_else(|| panic!("help `{help}` lists nothing")).1;
    Some(list.split(", ").map(str::to_string).collect())
}

/// `inner` inside the blocks of `path` (without its last node), in a service.
fn nest(path: &[&str], inner: &str) -> String {
    let mut s = inner.to_string();
    for p in path[1..path.len() - 1].iter().rev() {
        s = format!("{p} {{\n{s}\n}}");
    }
    format!("service s {{\n{s}\n}}\n")
}

#[test]
fn tables_declare_what_the_decoder_reads() {
    let mut problems = Vec::new();
    for (path, n) in all_nodes() {
        if path.len() < 2 {
            continue; // service, preset, defaults: decoded before the tables
        }
        let at = path.join(" > ");
        let want: BTreeSet<String> = n.props.iter().map(|p| p.to_string()).collect();
        // Some nodes read their properties only after a valid argument.
        let found =
            ["", " \"X\""].iter().find_map(|arg| asked_for(&nest(&path, &format!("{}{arg} zzz=1", n.name)), n.name));
        match found {
            Some(got) if got != want => problems.push(format!("{at}: table says {want:?}, decoder reads {got:?}")),
            Some(_) => {}
            None => problems.push(format!("{at}: the decoder reports no unknown property")),
        }
        if n.children.is_some() {
            continue;
        }
        // A map's user-named children (`env { NAME … }`); a leaf has none.
        let want: BTreeSet<String> = n.item_props.iter().map(|p| p.to_string()).collect();
        let item = nest(&path, &format!("{} {{\n    k zzz=1\n}}", n.name));
        match asked_for(&item, "k") {
            Some(got) if got != want => {
                problems.push(format!("{at} items: table says {want:?}, decoder reads {got:?}"))
            }
            None if !want.is_empty() => problems.push(format!("{at} items: the decoder reports no unknown property")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "tables and decoder disagree:\n{}", problems.join("\n"));
}
