//! `svcc lsp` fed a sequence of edits and requests decoded from the input,
//! over an in-memory connection (the protocol the stdio transport carries):
//! a spec and the preset it uses are open; each step edits one of them
//! (a UTF-16 range replaced by a fragment of KDL or by raw input, or the
//! whole text) or asks something at a position. Asserts: the server never
//! panics or hangs, answers every request with its id (a result, or a
//! protocol error other than InternalError), publishes diagnostics whose
//! ranges lie inside the text the client holds, and exits cleanly after
//! `shutdown` and `exit`.
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
#[path = "../../tests/lsp/abuse.rs"]
mod abuse;
use abuse::{FRAGMENTS, METHODS};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

const SPEC: &str = "service api {\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    replicas 2\n    probes { readiness \"/ready\" }\n    use \"./presets/base.kdl\"\n    environment production { replicas 3; patch Deployment { set \"/spec/minReadySeconds\" 5 } }\n}\n";
const PRESET: &str = "preset base {\n    labels { team \"payments\" }\n}\n";

/// A folder that is its own repository, with the preset on disk.
fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("svcc-fuzz-lsp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::create_dir_all(dir.join("presets")).unwrap();
        std::fs::write(dir.join("presets/base.kdl"), PRESET).unwrap();
        std::fs::write(dir.join("api.kdl"), SPEC).unwrap();
        dir.canonicalize().unwrap()
    })
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

/// The byte offset of a UTF-16 position, as the protocol counts (past
/// the end of a line: its end; past the last line: the end of the text).
fn offset(text: &str, line: u32, character: u32) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        if units >= character as usize {
            return start + i;
        }
        units += c.len_utf16();
    }
    end
}

/// Whether a UTF-16 position lies inside `text`.
fn inside(text: &str, p: &Value) -> bool {
    let line = p["line"].as_u64().unwrap_or(u64::MAX) as usize;
    let character = p["character"].as_u64().unwrap_or(u64::MAX) as usize;
    let Some(l) = text.split('\n').nth(line) else { return false };
    character <= l.encode_utf16().count()
}

struct Client {
    conn: Connection,
    next: i32,
    /// Each document's URI and text as the client holds it.
    texts: [(String, String); 2],
    /// Each document's text at every version sent, for the publishes
    /// that answer them.
    versions: HashMap<(usize, i64), String>,
    /// Each document's last version sent and last version published.
    sent: [i64; 2],
    published: [i64; 2],
}

impl Client {
    fn recv(&self) -> Message {
        self.conn.receiver.recv_timeout(Duration::from_secs(20)).expect("the server answers within 20 s")
    }

    /// Check a notification the server sent: diagnostics lie inside the
    /// text of the version they were computed for.
    fn check(&mut self, n: &Notification) {
        if n.method != "textDocument/publishDiagnostics" {
            return;
        }
        let uri = n.params["uri"].as_str().unwrap_or("");
        let Some(doc) = self.texts.iter().position(|(u, _)| u == uri) else { return };
        let version = n.params["version"].as_i64().expect("an open document's publish has its version");
        assert!(version >= self.published[doc], "{uri}: version {version} published after {}", self.published[doc]);
        self.published[doc] = version;
        let text = &self.versions[&(doc, version)];
        for d in n.params["diagnostics"].as_array().into_iter().flatten() {
            for end in ["start", "end"] {
                assert!(inside(text, &d["range"][end]), "{uri}: {} outside the text {text:?}", d["range"]);
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        let req = Request { id: id.clone(), method: method.into(), params };
        self.conn.sender.send(Message::Request(req)).unwrap();
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => match r.response_result {
                    Ok(v) => return v,
                    Err(e) => {
                        assert_ne!(e.code, ErrorCode::InternalError as i32, "{method}: {}", e.message);
                        return Value::Null;
                    }
                },
                Message::Notification(n) => self.check(&n),
                m => panic!("unexpected {m:?}"),
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(Message::Notification(Notification { method: method.into(), params })).unwrap();
    }

    /// One step decoded from the input.
    fn step(&mut self, input: &mut Input, version: i32) -> Option<()> {
        let op = input.byte()?;
        let doc = usize::from(op & 1);
        let uri = self.texts[doc].0.clone();
        let (line, character) = (u32::from(input.byte()? % 12), u32::from(input.byte()? % 48));
        match op >> 1 {
            0..=79 => {
                let len = u32::from(input.byte()? % 8);
                let text = match input.byte()? {
                    // Three bytes in four pick a fragment, the rest raw input.
                    b if b < 192 => FRAGMENTS[usize::from(b) % FRAGMENTS.len()].to_string(),
                    b => String::from_utf8_lossy(input.bytes(usize::from(b % 16))).into_owned(),
                };
                let t = &mut self.texts[doc].1;
                let start = offset(t, line, character);
                let end = offset(t, line, character + len).max(start);
                t.replace_range(start..end, &text);
                self.versions.insert((doc, i64::from(version)), t.clone());
                self.sent[doc] = i64::from(version);
                let range = json!({ "start": { "line": line, "character": character },
                                    "end": { "line": line, "character": character + len } });
                self.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "range": range, "text": text }] }),
                );
            }
            80..=89 => {
                let n = usize::from(input.byte()?);
                let text = String::from_utf8_lossy(input.bytes(n)).into_owned();
                self.texts[doc].1.clone_from(&text);
                self.versions.insert((doc, i64::from(version)), text.clone());
                self.sent[doc] = i64::from(version);
                self.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": text }] }),
                );
            }
            _ => {
                let method = METHODS[usize::from(op) % METHODS.len()];
                let position = json!({ "line": line, "character": character });
                let params = abuse::params(method, &uri, &position, "svcc:/generated/api/production.yaml");
                let _ = self.request(method, params);
            }
        }
        Some(())
    }
}

fuzz_target!(|bytes: &[u8]| {
    let root = root();
    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || svcc::lsp::serve(&server));
    let uri = |p: &str| format!("file://{}/{p}", root.display());
    let mut c = Client {
        conn: client,
        next: 0,
        texts: [(uri("api.kdl"), SPEC.to_string()), (uri("presets/base.kdl"), PRESET.to_string())],
        versions: HashMap::from([((0, 1), SPEC.to_string()), ((1, 1), PRESET.to_string())]),
        sent: [1, 1],
        published: [0, 0],
    };
    c.request("initialize", json!({ "processId": null, "rootUri": uri(""), "capabilities": {} }));
    c.notify("initialized", json!({}));
    for (u, t) in c.texts.clone() {
        c.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": u, "languageId": "svcc", "version": 1, "text": t } }),
        );
    }
    let mut input = Input(bytes);
    let mut version = 2;
    while c.step(&mut input, version).is_some() {
        version += 1;
    }
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    while let Ok(m) = c.conn.receiver.recv_timeout(Duration::from_secs(20)) {
        if let Message::Notification(n) = m {
            c.check(&n);
        }
    }
    assert_eq!(thread.join().expect("the server thread does not panic"), Ok(()));
    // Every document's last edit got its diagnostics.
    assert_eq!(c.published, c.sent, "the last versions sent were not all published");
});
