//! The spec text import writes: native nodes, then the patches, each piece
//! with its byte range so a diagnostic of the build can be traced back to
//! the node or operation that caused it.

use std::fmt::Write as _;

use super::diff::Set;
use super::kdl;

/// One top-level node of the service block, as KDL lines (unindented).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecNode {
    /// What an environment would override: `image`, `port http`, `patch Service api`.
    pub key: String,
    pub text: String,
}

/// The `set` operations of one `patch KIND [NAME]`.
#[derive(Clone, Debug)]
pub struct PatchBlock {
    pub kind: String,
    pub name: Option<String>,
    pub sets: Vec<Set>,
}

/// Which piece of the text a byte range holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Node(usize),
    Op(usize, usize),
}

/// Byte ranges of a text and the piece each holds.
pub type Ranges = Vec<(usize, usize, Piece)>;

#[derive(Debug)]
pub struct Rendered {
    pub text: String,
    pub ranges: Ranges,
}

impl Rendered {
    /// The piece a byte offset of the text lies in.
    pub fn piece_at(&self, offset: usize) -> Option<Piece> {
        self.ranges.iter().find(|(s, e, _)| (*s..*e).contains(&offset)).map(|r| r.2)
    }
}

pub const PATCH_COMMENT: &str = "// From svcc import: no native setting for these fields yet";

/// The text of one patch block.
pub fn patch_text(p: &PatchBlock, ranges: Option<(&mut Ranges, usize, usize)>) -> String {
    let mut out = String::new();
    let name = p.name.as_deref().map(|n| format!(" {}", kdl::string(n))).unwrap_or_default();
    let _ = writeln!(out, "{PATCH_COMMENT}\npatch {}{name} {{", p.kind);
    let mut spans = Vec::new();
    for (i, s) in p.sets.iter().enumerate() {
        let start = out.len();
        kdl::value_node(&mut out, 4, &format!("set {}", kdl::string(&s.pointer)), &s.value);
        spans.push((start, out.len(), i));
    }
    out.push_str("}\n");
    if let Some((ranges, base, block)) = ranges {
        ranges.extend(spans.into_iter().map(|(s, e, i)| (base + s, base + e, Piece::Op(block, i))));
    }
    out
}

fn indent(out: &mut String, text: &str, by: usize) {
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{}{line}", " ".repeat(by));
        }
    }
}

/// A one-environment spec: `nodes`, then `patches`, then (with
/// environments) an empty `environment ENV` block.
pub fn spec(header: &str, service: &str, nodes: &[SpecNode], patches: &[PatchBlock], env: Option<&str>) -> Rendered {
    let mut text = String::from(header);
    let _ = writeln!(text, "service {} {{", kdl::name(service));
    let mut ranges = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let start = text.len();
        indent(&mut text, &n.text, 4);
        ranges.push((start, text.len(), Piece::Node(i)));
    }
    for (b, p) in patches.iter().enumerate() {
        let mut local = Vec::new();
        let body = patch_text(p, Some((&mut local, 0, b)));
        let base = text.len();
        // Indenting adds four bytes per line before each range.
        let mut shifted = String::new();
        indent(&mut shifted, &body, 4);
        for (s, e, piece) in local {
            let lines_before = body[..s].matches('\n').count();
            let lines_in = body[s..e].matches('\n').count();
            ranges.push((base + s + 4 * lines_before, base + e + 4 * (lines_before + lines_in), piece));
        }
        text.push_str(&shifted);
    }
    if let Some(env) = env {
        let _ = writeln!(text, "    environment {}", kdl::name(env));
    }
    text.push_str("}\n");
    Rendered { text, ranges }
}

/// The spec of several environments: nodes every environment has alike in
/// the service, the rest in each `environment` block.
pub fn combined(header: &str, service: &str, envs: &[(String, Vec<SpecNode>)], share: bool) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for (_, nodes) in envs {
        for n in nodes {
            if !keys.contains(&n.key.as_str()) {
                keys.push(&n.key);
            }
        }
    }
    let common = |k: &str| -> Option<&SpecNode> {
        if !share {
            return None;
        }
        let first = envs.first()?.1.iter().find(|n| n.key == k)?;
        envs.iter().all(|(_, ns)| ns.iter().any(|n| n == first)).then_some(first)
    };
    let mut text = String::from(header);
    let _ = writeln!(text, "service {} {{", kdl::name(service));
    for k in &keys {
        if let Some(n) = common(k) {
            indent(&mut text, &n.text, 4);
        }
    }
    for (env, nodes) in envs {
        let own: Vec<&SpecNode> = nodes.iter().filter(|n| common(&n.key).is_none()).collect();
        if own.is_empty() {
            let _ = writeln!(text, "    environment {}", kdl::name(env));
            continue;
        }
        let _ = writeln!(text, "    environment {} {{", kdl::name(env));
        for n in own {
            indent(&mut text, &n.text, 8);
        }
        text.push_str("    }\n");
    }
    text.push_str("}\n");
    text
}
