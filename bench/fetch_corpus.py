#!/usr/bin/env python3
"""Download the public manifests that bench/corpus reproduces.

    python3 bench/fetch_corpus.py DEST [--sources bench/corpus/SOURCES.tsv]

Each line of SOURCES.tsv is `owner/repo<TAB>path<TAB>commit`; the file is
fetched from raw.githubusercontent.com at that commit and written to
DEST/owner/repo/path, the layout bench/compare_corpus.py reads. The
manifests belong to their projects (see each repository's licence), which
is why they are not kept in this repository. Standard library only.
"""

import argparse
import os
import re
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SAFE_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def sources(path):
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3:
                sys.exit("%s:%d: expected repository, path and commit" % (path, n))
            repo, rel, commit = fields[:3]
            if not SAFE_REPO.match(repo) or not SAFE_PATH.match(rel) or ".." in rel.split("/") or not COMMIT.match(commit):
                sys.exit("%s:%d: not a repository, relative path and commit: %r" % (path, n, line))
            yield repo, rel, commit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", help="folder to write DEST/owner/repo/path into")
    parser.add_argument("--sources", default=os.path.join(HERE, "corpus", "SOURCES.tsv"))
    args = parser.parse_args(argv)
    for repo, rel, commit in sources(args.sources):
        url = "https://raw.githubusercontent.com/%s/%s/%s" % (repo, commit, rel)
        target = os.path.join(args.dest, repo, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (fixed https host)
            body = resp.read()
        with open(target, "wb") as fh:
            fh.write(body)
        print("%s %s@%s (%d bytes)" % (repo, rel, commit[:12], len(body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
