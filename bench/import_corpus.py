#!/usr/bin/env python3
"""`svcc import` over the public services of bench/corpus/SOURCES.tsv: the
real-world table of docs/import.md.

    python3 bench/import_corpus.py ORIGINALS [--svcc BIN] [--json FILE] [--details]

ORIGINALS is the folder bench/fetch_corpus.py fills (ORIGINALS/<owner>/<repo>/
<path>; the third-party manifests are not in this repository). For each
repository, every file SOURCES.tsv lists for it is imported together (so a
Service finds its Deployment) with `svcc import FILES --report json`, and
each imported service is one row: its fields, how many are native, patched,
changed by design and not carried over. The last lines are the totals.
--details lists, under each row, every field changed or not carried over
with its reason and the spec's patch lines: what is left to map.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEYS = ("fields", "native", "patched", "changed", "not_carried_over")


def sources(path):
    """(repository, [path, ...]) in SOURCES.tsv order."""
    out = collections.OrderedDict()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            repo, file = line.rstrip("\n").split("\t")[:2]
            out.setdefault(repo, []).append(file)
    return list(out.items())


def find_svcc(given):
    if given:
        return given
    for profile in ("release", "debug"):
        for target in (os.environ.get("CARGO_TARGET_DIR"), os.path.join(ROOT, "target")):
            if target and os.path.exists(os.path.join(target, profile, "svcc")):
                return os.path.join(target, profile, "svcc")
    found = shutil.which("svcc")
    if not found:
        sys.exit("no svcc binary: build it (cargo build --release) or pass --svcc BIN")
    return found


def import_repo(svcc, originals, repo, files):
    paths = [os.path.join(repo, f) for f in files]
    missing = [p for p in paths if not os.path.exists(os.path.join(originals, p))]
    if missing:
        sys.exit("missing in %s: %s (fetch them with bench/fetch_corpus.py)" % (originals, ", ".join(missing)))
    r = subprocess.run(
        [svcc, "import", "--color", "never", "--report", "json", *paths],
        cwd=originals, capture_output=True, text=True, check=False,
    )
    if r.returncode != 0:
        sys.exit("svcc import failed for %s:\n%s" % (repo, r.stderr))
    return json.loads(r.stdout)


def rows(report, repo):
    for s in report["services"]:
        files = sorted({o["source"].rsplit(":", 1)[0] for o in s["objects"]})
        files = [f[len(repo) + 1:] if f.startswith(repo + "/") else f for f in files]
        yield {"repository": repo, "paths": files, "service": s["service"], **{k: s["totals"][k] for k in KEYS},
               "objects": s["objects"]}


def share(native, fields):
    return "%.1f%%" % (100.0 * native / fields) if fields else "-"


def specs(svcc, originals, repo, files):
    """Service name -> its imported spec's patch lines."""
    paths = [os.path.join(repo, f) for f in files]
    r = subprocess.run([svcc, "import", "--color", "never", *paths], cwd=originals, capture_output=True, text=True,
                       check=False)
    out, name = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"// ---- (.*)/service.kdl", line)
        if m:
            name = m.group(1)
        elif name and re.match(r"\s*(patch |set |merge |remove )", line):
            out.setdefault(name, []).append(line.strip())
    return out


def details(row, patches):
    for o in row["objects"]:
        what = "%s/%s" % (o["kind"], o["name"])
        for c in o.get("changes", []):
            print("    changed %s %s: %s" % (what, c["pointer"], c["reason"]))
        for c in o.get("dropped", []):
            print("    dropped %s %s: %s" % (what, c["pointer"], c["reason"]))
    for line in patches.get(row["service"], []):
        print("    " + line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("originals")
    ap.add_argument("--svcc")
    ap.add_argument("--sources", default=os.path.join(HERE, "corpus", "SOURCES.tsv"))
    ap.add_argument("--json", help="write the rows and totals as JSON")
    ap.add_argument("--details", action="store_true", help="list every field not native")
    a = ap.parse_args()
    svcc = find_svcc(a.svcc)
    table, patches = [], {}
    for repo, files in sources(a.sources):
        table.extend(rows(import_repo(svcc, a.originals, repo, files), repo))
        if a.details:
            patches.update(specs(svcc, a.originals, repo, files))
    print("| Repository | Path | Service | Fields | Native | Patched | Changed | Not carried over | Native share |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = collections.Counter()
    for r in table:
        total.update({k: r[k] for k in KEYS})
        paths = ", ".join("`%s`" % p for p in r["paths"])
        print("| %s | %s | %s | %s | %s |" % (
            r["repository"], paths, r["service"], " | ".join(str(r[k]) for k in KEYS), share(r["native"], r["fields"])))
        if a.details:
            details(r, patches)
    repos = len({r["repository"] for r in table})
    print()
    print("total: %s native (%d of %d fields over %d services from %d repositories; "
          "%d patched, %d changed by design, %d not carried over)" % (
              share(total["native"], total["fields"]), total["native"], total["fields"], len(table), repos,
              total["patched"], total["changed"], total["not_carried_over"]))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"rows": [{k: v for k, v in r.items() if k != "objects"} for r in table],
                       "totals": dict(total)}, f, indent=1)


if __name__ == "__main__":
    main()
