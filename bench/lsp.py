#!/usr/bin/env python3
"""Latency and memory of `svcc lsp`, measured as an editor sees them.

  bench/lsp.py [SVCC_BIN]          # default: $CARGO_TARGET_DIR/release/svcc

For each case, opens the spec over stdio and makes EDITS edits (default
200) that change a value and back, timing each from the moment the
`didChange` is written to the moment its `publishDiagnostics` (for that
version's run) arrives. Prints the median, 95th percentile and max, then
the resident memory of a server holding every file of examples/monorepo
open, and of one after 10,000 edits to a spec and its preset. Not run in
CI; the figures go in docs/performance.md.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import queue

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/svcc-target"))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TARGET, "release", "svcc"))
EDITS = int(os.environ.get("EDITS", "200"))


class Server:
    def __init__(self, root):
        self.p = subprocess.Popen([BIN, "lsp"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.id = 0
        self.request("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {}})
        self.notify("initialized", {})

    def _read(self):
        f = self.p.stdout
        while True:
            n = None
            while True:
                line = f.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.startswith(b"Content-Length:"):
                    n = int(line.split(b":")[1])
            self.q.put((time.perf_counter(), json.loads(f.read(n))))

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.id += 1
        self.send({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        while True:
            _, m = self.q.get(timeout=60)
            if m.get("id") == self.id:
                return m

    def diagnostics(self, uri, version=None):
        while True:
            t, m = self.q.get(timeout=60)
            p = m.get("params", {})
            if m.get("method") == "textDocument/publishDiagnostics" and p.get("uri") == uri:
                if version is None or p.get("version") == version:
                    return t, p["diagnostics"]

    def rss_kib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def close(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=30)


def uri(path):
    return "file://" + os.path.realpath(path)


def latency(name, root, path, line, col, a, b):
    s = Server(root)
    u = uri(path)
    text = open(path).read()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": u, "languageId": "svcc", "version": 1, "text": text}})
    s.diagnostics(u)
    times = []
    for i in range(EDITS):
        new, old = (a, b) if i % 2 == 0 else (b, a)
        rng = {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + len(old)}}
        version = i + 2
        t0 = time.perf_counter()
        s.notify("textDocument/didChange", {"textDocument": {"uri": u, "version": version},
                                            "contentChanges": [{"range": rng, "text": new}]})
        t1, diags = s.diagnostics(u, version)
        times.append((t1 - t0) * 1000)
    s.close()
    times.sort()
    lines = text.count("\n")
    print(f"{name:<28} {lines:>5} lines  median {times[len(times) // 2]:6.2f} ms  "
          f"p95 {times[int(len(times) * 0.95)]:6.2f} ms  max {times[-1]:6.2f} ms  ({len(diags)} diagnostics)")


def big_spec(dir):
    """A 2,000-line spec without errors (so every stage runs): a service
    with a long env block, metrics, alerts and two environments."""
    lines = ["service big-api {", '    image "ghcr.io/acme/big-api"', "    port http 8080", "    replicas 3",
             '    probes { readiness "/ready"; liveness "/health" }',
             '    metrics path="/metrics" { prometheus-labels { release "kube-prometheus-stack" } }', "    env {"]
    lines += [f'        VAR_{i:04d} "value-{i}"' for i in range(1900)]
    lines += ["    }", "    alerts {", '        down for="1m"', '        error-rate above=0.05 for="5m"', "    }"]
    lines += ["    environment staging { replicas 1 }", "    environment production { replicas 5 }"]
    while len(lines) < 1999:
        lines.append("    // padding")
    lines.append("}")
    path = os.path.join(dir, "big.kdl")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def monorepo_memory():
    root = os.path.join(ROOT, "examples", "monorepo")
    s = Server(root)
    files = []
    for d, _, fs in os.walk(root):
        files += [os.path.join(d, f) for f in fs if f.endswith(".kdl")]
    for f in sorted(files):
        s.notify("textDocument/didOpen", {"textDocument": {"uri": uri(f), "languageId": "svcc", "version": 1,
                                                           "text": open(f).read()}})
    for f in sorted(files):
        s.diagnostics(uri(f))
    time.sleep(0.2)
    print(f"examples/monorepo: {len(files)} files open, RSS {s.rss_kib() / 1024:.1f} MiB")
    s.close()


def edits_memory(n=10000):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, ".git"))
        os.makedirs(os.path.join(d, "presets"))
        preset = 'preset base {\n    labels { team "payments-000000" }\n}\n'
        spec = ('service api {\n    image "ghcr.io/acme/api"\n    port http 8080\n    replicas 2\n'
                '    probes { readiness "/ready" }\n    use "./presets/base.kdl"\n}\n')
        open(os.path.join(d, "presets/base.kdl"), "w").write(preset)
        open(os.path.join(d, "api.kdl"), "w").write(spec)
        s = Server(d)
        api, base = uri(os.path.join(d, "api.kdl")), uri(os.path.join(d, "presets/base.kdl"))
        for u, t in ((api, spec), (base, preset)):
            s.notify("textDocument/didOpen", {"textDocument": {"uri": u, "languageId": "svcc", "version": 1, "text": t}})
        s.diagnostics(api)
        start = None
        for i in range(n):
            if i == 500:
                start = s.rss_kib()
            if i % 2 == 0:
                rng = {"start": {"line": 1, "character": 28}, "end": {"line": 1, "character": 34}}
                s.notify("textDocument/didChange", {"textDocument": {"uri": base, "version": i + 2},
                                                    "contentChanges": [{"range": rng, "text": f"{i:06d}"}]})
                s.diagnostics(base, i + 2)
            else:
                rng = {"start": {"line": 3, "character": 13}, "end": {"line": 3, "character": 14}}
                s.notify("textDocument/didChange", {"textDocument": {"uri": api, "version": i + 2},
                                                    "contentChanges": [{"range": rng, "text": str(1 + i % 9)}]})
                s.diagnostics(api, i + 2)
        end = s.rss_kib()
        print(f"{n} edits to a spec and its preset: RSS {start / 1024:.1f} MiB after 500, {end / 1024:.1f} MiB at the end")
        s.close()


def main():
    print(f"svcc lsp: {BIN}; {EDITS} edits per case")
    latency("examples/backend-api", os.path.join(ROOT, "examples", "backend-api"),
            os.path.join(ROOT, "examples", "backend-api", "service.kdl"), 20, 13, "3000", "3001")
    latency("examples/monorepo checkout", os.path.join(ROOT, "examples", "monorepo"),
            os.path.join(ROOT, "examples", "monorepo", "services", "checkout", "service.kdl"), 6, 19, "payments", "paymentz")
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, ".git"))
        latency("2,000-line spec", d, big_spec(d), 3, 13, "3", "4")
    monorepo_memory()
    edits_memory()


if __name__ == "__main__":
    main()
