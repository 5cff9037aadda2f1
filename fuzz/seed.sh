#!/bin/sh
# Seed every fuzz target's corpus with the examples and the diagnostics
# corpus (the corpora themselves are not committed; see docs/fuzzing.md).
set -eu
cd "$(dirname "$0")"
for t in kdl_frontend decode compile; do
    mkdir -p "corpus/$t"
    for f in ../examples/*/service.kdl ../tests/fixtures/err/*.kdl ../tests/fixtures/fmt/*.kdl ../tests/fixtures/crashes/*.kdl; do
        [ -f "$f" ] || continue
        cp "$f" "corpus/$t/$(echo "$f" | sed 's|^\.\./||; s|/|_|g')"
    done
done
