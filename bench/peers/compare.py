#!/usr/bin/env python3
"""Check that a peer tool rendered the same objects as svcc.

    bench/peers/compare.py SVCC_OUT PEER_OUT [--ignore-kind KIND]... [--max-diffs N]

Reads every YAML document under both folders (any file layout: one object
per file, multi-document streams, JSON) and compares them as a multiset:
documents are matched by (apiVersion, kind, namespace, name) and compared
as parsed values, so key order, quoting style and file names do not
matter, list order does. Kustomization documents (which have no name) are
matched by their content. Exits 0 and prints one line when both sides hold
the same objects; otherwise prints the first differences and exits 1.
"""

import argparse
import collections
import json
import os
import sys

import yaml

try:  # the C loader is several times faster on large outputs
    Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    Loader = yaml.SafeLoader


def load(folder):
    """Return {key: [(path, doc), ...]} for every document under folder."""
    docs = collections.defaultdict(list)
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml", ".json")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                for doc in yaml.load_all(fh, Loader=Loader):
                    if doc is None:
                        continue
                    docs[key(doc)].append((os.path.relpath(path, folder), doc))
    return docs


def key(doc):
    if not isinstance(doc, dict):
        return ("?", "?", None, json.dumps(doc, sort_keys=True))
    meta = doc.get("metadata") or {}
    name = meta.get("name") if isinstance(meta, dict) else None
    if name is None:  # e.g. a Kustomization: identified by what it says
        name = json.dumps(doc, sort_keys=True)
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    return (str(doc.get("apiVersion")), str(doc.get("kind")), ns, name)


def canon(doc):
    return json.dumps(doc, sort_keys=True)


def diff(a, b, path="", out=None, limit=10, peer="peer"):
    """Paths where a and b differ, as 'path: svcc X, PEER Y' lines."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append(f"{p}: only in svcc ({short(a[k])})")
            elif k not in a:
                out.append(f"{p}: only in {peer} ({short(b[k])})")
            else:
                diff(a[k], b[k], p, out, limit, peer)
            if len(out) >= limit:
                break
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(b):
                out.append(f"{p}: only in svcc ({short(a[i])})")
            elif i >= len(a):
                out.append(f"{p}: only in {peer} ({short(b[i])})")
            else:
                diff(a[i], b[i], p, out, limit, peer)
            if len(out) >= limit:
                break
    elif a != b or type(a) is not type(b):
        out.append(f"{path or '.'}: svcc {short(a)}, {peer} {short(b)}")
    return out


def short(v):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 80 else s[:77] + "..."


def label(k):
    api, kind, ns, name = k
    if name.startswith("{"):
        name = "(unnamed)"
    return f"{kind} {ns + '/' if ns else ''}{name}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("svcc_out")
    ap.add_argument("peer_out")
    ap.add_argument("--name", default="peer", help="the peer's name in messages")
    ap.add_argument("--ignore-kind", action="append", default=[],
                    help="leave documents of this kind out of the comparison")
    ap.add_argument("--max-diffs", type=int, default=5,
                    help="objects (and differences per object) to show")
    args = ap.parse_args()

    ours = load(args.svcc_out)
    theirs = load(args.peer_out)
    for d in (ours, theirs):
        for k in [k for k in d if k[1] in args.ignore_kind]:
            del d[k]

    problems = []
    for k in sorted(set(ours) | set(theirs), key=str):
        a, b = ours.get(k, []), theirs.get(k, [])
        if len(a) != len(b):
            where = (a or b)[0][0]
            problems.append(f"{label(k)}: {len(a)} in svcc's output, {len(b)} in {args.name}'s (e.g. {where})")
            continue
        ca = sorted(canon(d) for _, d in a)
        cb = sorted(canon(d) for _, d in b)
        if ca != cb:
            # Same key and count, different content: show where.
            for (pa, da), (pb, db) in zip(sorted(a, key=lambda x: canon(x[1])), sorted(b, key=lambda x: canon(x[1]))):
                lines = diff(da, db, limit=args.max_diffs, peer=args.name)
                if lines:
                    problems.append(f"{label(k)} (svcc {pa}, {args.name} {pb}):\n    " + "\n    ".join(lines))
                    break
        if len(problems) >= args.max_diffs:
            break

    n_ours = sum(len(v) for v in ours.values())
    n_theirs = sum(len(v) for v in theirs.values())
    if problems:
        kinds = lambda d: dict(sorted(collections.Counter(k[1] for k, v in d.items() for _ in v).items()))
        print(f"{args.name}: objects differ from svcc's ({n_ours} in svcc's output, {n_theirs} in {args.name}'s)",
              file=sys.stderr)
        print(f"  svcc kinds: {kinds(ours)}", file=sys.stderr)
        print(f"  {args.name} kinds: {kinds(theirs)}", file=sys.stderr)
        for p in problems[: args.max_diffs]:
            print("  " + p, file=sys.stderr)
        return 1
    ignored = f" (ignoring {', '.join(args.ignore_kind)})" if args.ignore_kind else ""
    print(f"{args.name}: the same {n_ours} documents as svcc{ignored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
