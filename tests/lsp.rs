//! `svcc lsp` driven as an editor drives it, over its real stdio
//! transport: diagnostics as you type (with exact UTF-16 ranges), their
//! clearing, completion, hover with effective values, quick fixes, go to
//! definition, symbols, formatting, the generated-YAML command, preset
//! diagnostics and dependents, and a clean shutdown.

#[path = "lsp/client.rs"]
mod client;

use client::{Client, repo, uri};
use serde_json::{Value, json};

const SPEC: &str = r#"service api {
    image "ghcr.io/acme/api"
    port http 8080
    replcas 2
    probes { readiness "/ready" }
    use "./presets/base.kdl"
    environment staging { }
    environment production { replicas 3; patch Deployment { set "/spec/minReadySeconds" 7 } }
}
"#;

const PRESET: &str = "preset base {\n    labels { team \"payments\" }\n}\n";

fn pos(line: u32, character: u32, uri: &str) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

fn labels(items: &Value) -> Vec<String> {
    let list = items.as_array().or_else(|| items["items"].as_array()).cloned().unwrap_or_default();
    list.iter().map(|i| i["label"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn an_editor_session_from_open_to_exit() {
    let dir = repo("session");
    std::fs::create_dir_all(dir.join("presets")).unwrap();
    std::fs::write(dir.join("presets/base.kdl"), PRESET).unwrap();
    std::fs::write(dir.join("api.kdl"), SPEC).unwrap();
    let api = uri(&dir.join("api.kdl"));
    let mut c = Client::start(&dir);

    // Open with a typo: one diagnostic, exactly on `replcas`, with its fix.
    c.open(&api, SPEC);
    let diags = c.diagnostics(&api);
    assert_eq!(codes(&diags), ["SVC0202"], "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["range"], json!({ "start": { "line": 3, "character": 4 }, "end": { "line": 3, "character": 11 } }));
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "svcc");
    assert_eq!(d["codeDescription"]["href"], "svcc:/docs/codes/SVC0202.md");
    assert!(d["message"].as_str().unwrap().contains("did you mean `replicas`?"), "{d}");

    // The quick fix renames it.
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": api }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    let edit = &action["edit"]["documentChanges"][0];
    assert_eq!(edit["textDocument"]["uri"], api.as_str());
    assert_eq!(edit["edits"][0]["newText"], "replicas");
    assert_eq!(edit["edits"][0]["range"], d["range"]);

    // Type the fix: the diagnostics clear.
    c.change(&api, 2, [3, 4, 3, 11], "replicas");
    assert_eq!(c.diagnostics(&api), Vec::<Value>::new());

    // Completion: body nodes with their summary, then a property and its values.
    let items = c.request("textDocument/completion", pos(3, 6, &api));
    let names = labels(&items);
    assert!(names.contains(&"replicas".into()) && names.contains(&"autoscale".into()), "{names:?}");
    let replicas = items.as_array().unwrap().iter().find(|i| i["label"] == "replicas").unwrap();
    assert!(replicas["documentation"]["value"].as_str().unwrap().contains("docs/"), "{replicas}");
    let items = c.request("textDocument/completion", pos(2, 18, &api));
    assert!(labels(&items).contains(&"protocol".into()), "{items}");
    let items = c.request("textDocument/completion", pos(5, 9, &api));
    let presets = labels(&items);
    assert!(presets.contains(&"node-http-api".into()) && presets.contains(&"./presets/base.kdl".into()), "{presets:?}");

    // Hover: the documentation and the value in each environment, with its origin.
    let hover = c.request("textDocument/hover", pos(3, 6, &api));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("replicas"), "{text}");
    assert!(text.contains("- staging: 2 — from the service (line 4)"), "{text}");
    assert!(text.contains("- production: 3 — from environment `production` (line 8)"), "{text}");

    // Definitions: the preset file; a patch pointer's field in the generated YAML.
    let def = c.request("textDocument/definition", pos(5, 12, &api));
    assert_eq!(def["uri"], uri(&dir.join("presets/base.kdl")));
    let def = c.request("textDocument/definition", pos(7, 68, &api));
    assert_eq!(def["uri"], "svcc:/generated/api/production.yaml");
    let yaml = c.request("svcc/virtualDocument", json!({ "uri": def["uri"] }));
    let line = def["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert_eq!(yaml["text"].as_str().unwrap().lines().nth(line).unwrap().trim(), "minReadySeconds: 7");

    // The generated YAML of the environment under the cursor.
    let shown = c.request(
        "workspace/executeCommand",
        json!({ "command": "svcc.showGeneratedYaml", "arguments": [api, { "line": 7, "character": 30 }] }),
    );
    assert_eq!(shown["environment"], "production");
    assert!(shown["text"].as_str().unwrap().contains("replicas: 3"), "{shown}");

    // Symbols: the service, its environments and blocks.
    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": api } }));
    assert_eq!(symbols[0]["name"], "service");
    assert_eq!(symbols[0]["detail"], "api");
    let kids: Vec<&str> =
        symbols[0]["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(kids.contains(&"environment") && kids.contains(&"probes"), "{kids:?}");

    // A preset with an error: published to the preset, and the service that uses it says so.
    let base = uri(&dir.join("presets/base.kdl"));
    c.open(&base, "preset base {\n    labels { team \"payments\" }\n    replicaz 2\n}\n");
    let diags = c.diagnostics(&base);
    assert_eq!(codes(&diags), ["SVC0202"], "{diags:#?}");
    assert_eq!(diags[0]["range"]["start"], json!({ "line": 2, "character": 4 }));
    let diags = c.diagnostics(&api);
    assert!(codes(&diags).iter().any(|c| c == "SVC0230" || c.starts_with("SVC02")), "{diags:#?}");
    // Fixing the buffer (not the disk) re-checks the service.
    c.change(&base, 2, [2, 4, 2, 12], "replicas");
    let mut cleared = false;
    for _ in 0..4 {
        if c.diagnostics(&api).is_empty() {
            cleared = true;
            break;
        }
    }
    assert!(cleared, "the service is re-checked when its preset changes");

    // Formatting through `svcc fmt`.
    let fmt = uri(&dir.join("fmt.kdl"));
    c.open(&fmt, "service fmt {\nimage \"ghcr.io/a/b\"\n  port http 80\n}\n");
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": fmt }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], "service fmt {\n    image \"ghcr.io/a/b\"\n    port http 80\n}\n");

    // An unknown request is an error, not a crash.
    let r = c.call("textDocument/rename", pos(0, 0, &api));
    assert_eq!(r["error"]["code"], -32601);

    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn positions_are_utf16_and_kdl_v1_keywords_get_a_fix() {
    let dir = repo("utf16");
    let u = uri(&dir.join("api.kdl"));
    let mut c = Client::start(&dir);
    // `é` is 2 bytes and 1 UTF-16 unit; `𝄞` is 4 bytes and 2 units.
    let text = "// é𝄞\nservice api {\n    image \"ghcr.io/acme/api\" // 𝄞𝄞\n    security { run-as-non-root true }\n}\n";
    c.open(&u, text);
    let diags = c.diagnostics(&u);
    let d = diags.iter().find(|d| d["code"] == "SVC0102").unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d["range"], json!({ "start": { "line": 3, "character": 31 }, "end": { "line": 3, "character": 35 } }));
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    assert_eq!(actions[0]["edit"]["documentChanges"][0]["edits"][0]["newText"], "#true");
    // A range on a line with surrogate pairs: replace `image` on line 2 after `𝄞𝄞` is untouched.
    c.change(&u, 2, [0, 3, 0, 5], "x");
    let _ = c.diagnostics(&u);
    let hover = c.request("textDocument/hover", pos(2, 5, &u));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("image"), "{hover}");
    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let dir = repo("exit");
    let mut c = Client::start(&dir);
    c.notify("exit", Value::Null);
    let start = std::time::Instant::now();
    let code = loop {
        if let Ok(Some(s)) = c.try_wait() {
            break s;
        }
        assert!(start.elapsed().as_secs() < 30);
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(code, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
