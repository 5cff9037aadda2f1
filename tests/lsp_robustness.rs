//! `svcc lsp` under abuse, over its real stdio transport: random edit
//! sequences and requests at random positions never stop the server (every
//! request gets a result or a protocol error), and thousands of edits to a
//! spec and its preset leave its memory flat.

#[path = "lsp/abuse.rs"]
mod abuse;
#[path = "lsp/client.rs"]
mod client;

use abuse::{FRAGMENTS, METHODS, VIRTUAL, params};
use client::{Client, repo, uri};
use serde_json::{Value, json};

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn random_params(rng: &mut Rng, method: &str, u: &str) -> Value {
    // Sometimes malformed: the server must answer with an error.
    if rng.below(10) == 0 && !matches!(method, "workspace/executeCommand" | "svcc/virtualDocument") {
        return json!({ "textDocument": 5 });
    }
    let p = json!({ "line": rng.below(40), "character": rng.below(120) });
    let virtual_doc = rng.pick(VIRTUAL);
    params(method, u, &p, virtual_doc)
}

/// A request's answer is a result or an error with a numeric code.
fn answered(r: &Value) -> bool {
    r.get("result").is_some() || r["error"]["code"].is_i64()
}

#[test]
fn random_edits_and_requests_never_stop_the_server() {
    let dir = repo("fuzz");
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/backend-api/service.kdl")).unwrap();
    let u = uri(&dir.join("api.kdl"));
    let mut c = Client::start(&dir);
    c.open(&u, &text);
    let _ = c.diagnostics(&u);
    let seed = std::env::var("SVCC_LSP_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_1234_abcd_0001);
    let mut rng = Rng(seed);
    let rounds: u64 = std::env::var("SVCC_LSP_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    for version in 2..(2 + rounds) {
        let (l0, c0) = (rng.below(80), rng.below(100));
        let (l1, c1) = if rng.below(3) == 0 { (l0, c0) } else { (l0 + rng.below(3), rng.below(100)) };
        let change = if rng.below(25) == 0 {
            // Now and then a full-text change.
            json!({ "text": rng.pick(FRAGMENTS).repeat(rng.below(5) as usize) })
        } else {
            json!({ "range": { "start": { "line": l0, "character": c0 }, "end": { "line": l1, "character": c1 } },
                    "text": rng.pick(FRAGMENTS) })
        };
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [change] }),
        );
        for _ in 0..rng.below(3) {
            let method = rng.pick(METHODS);
            let params = random_params(&mut rng, method, &u);
            let r = c.call(method, params);
            assert!(answered(&r), "{method}: {r}");
            assert_ne!(r["error"]["code"], json!(-32603), "{method} failed inside svcc: {r}");
        }
        if version % 50 == 0 {
            c.notify("textDocument/didSave", json!({ "textDocument": { "uri": u } }));
        }
    }
    // Unknown documents and nonsense notifications are ignored.
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": "file:///nope.kdl", "version": 1 }, "contentChanges": [] }),
    );
    c.notify("textDocument/didOpen", json!({ "bogus": true }));
    let r = c.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nope.kdl" }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(answered(&r), "{r}");
    let internal = |m: &Value| m["error"]["code"] == json!(-32603);
    assert!(!c.notifications.iter().any(internal));
    std::thread::sleep(std::time::Duration::from_millis(50));
    let stderr = c.stderr();
    assert!(!stderr.contains("panicked"), "the server panicked (and recovered):\n{stderr}");
    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Edits to a spec and to the preset it uses: each edit is a new preset
/// text (the parse cache's worst case) and a new run.
#[test]
fn memory_stays_flat_over_many_edits() {
    let dir = repo("memory");
    std::fs::create_dir_all(dir.join("presets")).unwrap();
    let preset = "preset base {\n    labels { team \"payments-000000\" }\n}\n";
    let spec = "service api {\n    image \"ghcr.io/acme/api\"\n    port http 8080\n    replicas 2\n    probes { readiness \"/ready\" }\n    use \"./presets/base.kdl\"\n    environment staging { }\n    environment production { replicas 3 }\n}\n";
    std::fs::write(dir.join("presets/base.kdl"), preset).unwrap();
    std::fs::write(dir.join("api.kdl"), spec).unwrap();
    let (api, base) = (uri(&dir.join("api.kdl")), uri(&dir.join("presets/base.kdl")));
    let mut c = Client::start(&dir);
    c.open(&api, spec);
    c.open(&base, preset);
    let edits: u64 = std::env::var("SVCC_LSP_EDITS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let warmup = 500;
    let mut before = 0;
    for i in 0..warmup + edits {
        if i == warmup {
            before = c.rss_kib();
        }
        if i % 2 == 0 {
            // `payments-NNNNNN`: columns 28..34 of line 1.
            c.change(&base, (i + 2) as i64, [1, 28, 1, 34], &format!("{:06}", i % 1_000_000));
            let _ = c.diagnostics(&base);
        } else {
            c.change(&api, (i + 2) as i64, [3, 13, 3, 14], &format!("{}", 1 + i % 9));
        }
        let _ = c.diagnostics(&api);
        c.notifications.clear();
    }
    let after = c.rss_kib();
    let grown = after.saturating_sub(before);
    #[allow(clippy::print_stderr)] // the figure docs/performance.md records
    {
        eprintln!("rss after {warmup} edits: {before} KiB; after {edits} more: {after} KiB (+{grown} KiB)");
    }
    assert!(grown < 6 * 1024, "memory grew by {grown} KiB over {edits} edits ({before} → {after} KiB)");
    assert_eq!(c.shutdown(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
