//! `svcc lsp` driven as an editor drives it, over its real stdio
//! transport: diagnostics as you type (with exact UTF-16 ranges), their
//! clearing, completion, hover with effective values, quick fixes, go to
//! definition, symbols, formatting, the generated-YAML command, preset
//! and org-defaults diagnostics and their dependents, related information,
//! and a clean shutdown.

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

/// A monorepo-like tree: org defaults above the service, a pipeline that
/// deploys its environments, a second definition of a port.
const DEFAULTS: &str = "defaults {\n    labels { \"example.com/org\" \"acme\" }\n    shutdown grace=\"40s\"\n}\n";

const SERVICE: &str = r#"service shop {
    image "ghcr.io/acme/shop" pull-policy="Always"
    port http 8080
    port admin 8080
    probes { readiness "/ready" }
    use "node-http-api"
    metrics { prometheus-labels { release "kps" } }
    autoscale min=2 max=4 { pods "x" 10 }
    pipeline {
        install-svcc git="https://git.example.com/svcc" rev="0123456789abcdef0123456789abcdef01234567"
        deploy staging
        deploy production
    }
    environment staging { autoscale #false }
    environment production { autoscale #false; replicas 3 }
}
"#;

/// The text of a completion's items, by label.
fn completion(c: &mut Client, uri: &str, line: u32, character: u32) -> Vec<String> {
    labels(&c.request("textDocument/completion", pos(line, character, uri)))
}

#[test]
fn defaults_related_information_and_navigation() {
    let dir = repo("defaults");
    std::fs::create_dir_all(dir.join("services/shop")).unwrap();
    std::fs::write(dir.join("_defaults.kdl"), DEFAULTS).unwrap();
    std::fs::write(dir.join("services/shop/service.kdl"), SERVICE).unwrap();
    let shop = uri(&dir.join("services/shop/service.kdl"));
    let defaults = uri(&dir.join("_defaults.kdl"));
    let mut c = Client::start(&dir);

    // "Used twice": the other port is the related information, with its exact range.
    c.open(&shop, SERVICE);
    let diags = c.diagnostics(&shop);
    let d = diags.iter().find(|d| d["code"] == "SVC0301").unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d["range"]["start"], json!({ "line": 3, "character": 15 }), "{d}");
    let related = d["relatedInformation"].as_array().unwrap_or_else(|| panic!("no related information: {d}"));
    assert_eq!(related[0]["location"]["uri"], shop.as_str());
    assert_eq!(related[0]["location"]["range"]["start"]["line"], 2, "{d}");
    c.change(&shop, 2, [3, 15, 3, 19], "9090");
    let diags = c.diagnostics(&shop);
    assert_eq!(codes(&diags), Vec::<String>::new(), "{diags:#?}");

    // Completion: enum values, environment names, metric names, with docs.
    let items = c.request("textDocument/completion", pos(1, 44, &shop));
    let policies = labels(&items);
    assert_eq!(policies, ["Always", "IfNotPresent", "Never"], "{items}");
    assert!(items[0]["documentation"]["value"].as_str().unwrap().contains("pull-policy"), "{items}");
    assert_eq!(completion(&mut c, &shop, 10, 15), ["staging", "production"]);
    let metrics = completion(&mut c, &shop, 7, 34);
    assert!(metrics.iter().any(|m| m.starts_with("http_request")), "{metrics:?}");

    // Hover: the value per environment, a default where nothing sets it.
    let hover = c.request("textDocument/hover", pos(14, 49, &shop));
    let text = hover["contents"]["value"].as_str().unwrap().to_string();
    assert!(text.contains("- production: 3 — from environment `production`"), "{text}");
    assert!(text.contains("- staging: 2 — default"), "{text}");

    // Definitions: the standard library's preset, read-only; a deployed environment.
    let def = c.request("textDocument/definition", pos(5, 12, &shop));
    assert_eq!(def["uri"], "svcc:/stdlib/presets/node-http-api.kdl");
    let stdlib = c.request("svcc/virtualDocument", json!({ "uri": def["uri"] }));
    assert!(stdlib["text"].as_str().unwrap().contains("preset node-http-api"), "{stdlib}");
    let def = c.request("textDocument/definition", pos(11, 17, &shop));
    assert_eq!(def["uri"], shop.as_str());
    assert_eq!(def["range"]["start"], json!({ "line": 14, "character": 16 }), "{def}");

    // An error in the org defaults is published there; fixing the open
    // buffer re-checks the service that reads it.
    let broken = DEFAULTS.replace("shutdown grace", "shutdwn grace");
    c.open(&defaults, &broken);
    let diags = c.diagnostics(&defaults);
    let d = diags.iter().find(|d| d["code"] == "SVC0202").unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d["range"]["start"], json!({ "line": 2, "character": 4 }), "{d}");
    // The service that reads the defaults is run again with the open buffer.
    let _ = c.diagnostics(&shop);
    let hover = c.request("textDocument/hover", pos(14, 49, &shop));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("once the spec has no errors"), "{hover}");
    c.change(&defaults, 2, [2, 4, 2, 11], "shutdown");
    let mut cleared = false;
    for _ in 0..4 {
        if c.diagnostics(&defaults).is_empty() {
            cleared = true;
            break;
        }
    }
    assert!(cleared, "the defaults' diagnostics clear");
    let hover = c.request("textDocument/hover", pos(14, 49, &shop));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("- staging: 2 — default"), "{hover}");
    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The edits of the quick fix for the first `code` diagnostic of `uri`.
fn fix_for(c: &mut Client, uri: &str, diags: &[Value], code: &str) -> Value {
    let d = diags.iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("no {code}: {diags:#?}"));
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    actions[0]["edit"]["documentChanges"][0]["edits"].clone()
}

#[test]
fn quick_fixes_add_a_probe_quote_a_value_and_remove_a_no_op_patch() {
    let dir = repo("fixes");
    let u = uri(&dir.join("api.kdl"));
    let mut c = Client::start(&dir);
    let text = "service api {\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    replicas 2\n    patch Deployment {\n        set \"/spec/replicas\" 2\n    }\n}\n";
    c.open(&u, text);
    let diags = c.diagnostics(&u);
    // The readiness skeleton goes in a new `probes` block above the closing brace.
    let edits = fix_for(&mut c, &u, &diags, "SVC0401");
    assert_eq!(edits[0]["newText"], "    probes { readiness \"/ready\" }\n", "{edits}");
    assert_eq!(edits[0]["range"]["start"], json!({ "line": 7, "character": 0 }), "{edits}");
    // A patch that sets what is already there: its whole line goes.
    let edits = fix_for(&mut c, &u, &diags, "SVC0334");
    assert_eq!(edits[0]["newText"], "", "{edits}");
    assert_eq!(
        edits[0]["range"],
        json!({ "start": { "line": 5, "character": 0 }, "end": { "line": 6, "character": 0 } }),
        "{edits}"
    );
    // A number where a string belongs: quoted.
    c.change(&u, 2, [6, 5, 6, 5], "\n    namespace 7");
    let diags = c.diagnostics(&u);
    let edits = fix_for(&mut c, &u, &diags, "SVC0204");
    assert_eq!(edits[0]["newText"], "\"7\"", "{edits}");
    assert_eq!(
        edits[0]["range"],
        json!({ "start": { "line": 7, "character": 14 }, "end": { "line": 7, "character": 15 } }),
        "{edits}"
    );
    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
