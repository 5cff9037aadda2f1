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
# yaml_fast: YAML as svcc writes it, from the examples (built with $SVCC,
# else the workspace's svcc), and the YAML config files the examples mount.
svcc() {
    if [ -n "${SVCC:-}" ]; then "$SVCC" "$@"; else cargo run --quiet --manifest-path ../Cargo.toml -p svcc --bin svcc -- "$@"; fi
}
mkdir -p corpus/yaml_fast
out=$(mktemp -d)
for e in ../examples/*/; do
    svcc build "$e" -o "$out/$(basename "$e")" >/dev/null 2>&1 || true
done
for f in $(find "$out" ../examples -name '*.yaml' | sort); do
    cp "$f" "corpus/yaml_fast/$(echo "${f#"$out"/}" | sed 's|^\.\./||; s|/|_|g')"
done
rm -rf "$out"
