//! What `svcc lsp` is abused with, shared by `tests/lsp_robustness.rs`
//! (seeded, over stdio) and the `lsp` fuzz target (`fuzz/`, coverage
//! guided, in memory): the fragments edits insert, the requests asked at a
//! position, and their parameters.
#![allow(dead_code)]

use serde_json::{Value, json};

/// Text an edit inserts: KDL's punctuation and keywords, svcc's nodes
/// half-written, paths that leave the repository, and characters that
/// change width in UTF-16.
pub const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "\"",
    "=",
    ";",
    "\n",
    " ",
    "#true",
    "true",
    "replicas",
    "replicas 3",
    "port http 80",
    "environment x {",
    "patch Deployment { set \"/spec/x\" 1 }",
    "use \"./nope.kdl\"",
    "use \"../../etc/passwd.kdl\"",
    "use \"worker\"",
    "é𝄞",
    "/*",
    "*/",
    "//",
    "/-",
    "\\",
    "r#\"",
    "\"\"\"",
    "(u8)",
    "-1",
    "1e400",
    "#nan",
    "probes { readiness",
    "probes { }",
    "service",
    "preset p {",
    "${{ x }}",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\t",
    "metrics",
    "pipeline { deploy production }",
    "autoscale min=1 max=",
    "autoscale min=1 max=3 { pods \"x\" 1 }",
    "=\"",
];

/// The requests asked at a position of a document.
pub const METHODS: &[&str] = &[
    "textDocument/completion",
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/documentSymbol",
    "textDocument/formatting",
    "textDocument/codeAction",
    "workspace/executeCommand",
    "svcc/virtualDocument",
];

/// The virtual documents `svcc/virtualDocument` is asked for: real ones,
/// one that does not exist, and a file outside svcc's scheme.
pub const VIRTUAL: &[&str] =
    &["svcc:/generated/api/production.yaml", "svcc:/stdlib/presets/worker.kdl", "svcc:/x", "file:///etc/passwd"];

/// The parameters of `method` for document `uri` at `position`
/// (`{ "line", "character" }`); `virtual_doc` is the URI a
/// `svcc/virtualDocument` request asks for. A code action offers a fix
/// whose edit lands at the position.
pub fn params(method: &str, uri: &str, position: &Value, virtual_doc: &str) -> Value {
    let p = position;
    match method {
        "textDocument/documentSymbol" => json!({ "textDocument": { "uri": uri } }),
        "textDocument/formatting" => {
            json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } })
        }
        "textDocument/codeAction" => json!({
            "textDocument": { "uri": uri }, "range": { "start": p, "end": p },
            "context": { "diagnostics": [{ "range": { "start": p, "end": p }, "message": "x",
                "data": { "fix": { "title": "t", "edits": [{ "uri": uri, "range": { "start": p, "end": p }, "newText": "z" }] } } }] },
        }),
        "workspace/executeCommand" => json!({ "command": "svcc.showGeneratedYaml", "arguments": [uri, p] }),
        "svcc/virtualDocument" => json!({ "uri": virtual_doc }),
        _ => json!({ "textDocument": { "uri": uri }, "position": p }),
    }
}
