#!/usr/bin/env bash
# Benchmark: build N generated services (backend-api-like, two environments
# each) into a folder with the release binary, and render the same objects
# with the tools a user would pick instead, in the same run.
#
#   bench/run.sh            # N = 1 10 100 1000
#   bench/run.sh 1000       # one size
#
# Prints wall time, objects/second, peak RSS and the ratio of each other
# tool's wall time to svcc's. Not run in CI; figures go in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/svcc-target}"
cargo build --release --quiet
SVCC="$CARGO_TARGET_DIR/release/svcc"
SIZES=("${@:-1 10 100 1000}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/svcc-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# measure LABEL CMD... → prints "wall_seconds max_rss_kb" and fails if CMD fails.
measure() {
    local log="$WORK/time.log"
    /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$WORK/err.log" || { cat "$WORK/err.log" >&2; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss"
}

gen() { # gen N DIR
    local n=$1 dir=$2
    mkdir -p "$dir/services"
    cat >"$dir/services/_defaults.kdl" <<'KDL'
defaults {
    labels { "example.com/org" "acme" }
    node-selector { "kubernetes.io/arch" "amd64" }
    metrics { prometheus-labels { release "kube-prometheus-stack" } }
}
KDL
    for i in $(seq -f "%04g" 1 "$n"); do
        mkdir -p "$dir/services/svc-$i"
        cat >"$dir/services/svc-$i/service.kdl" <<KDL
service svc-$i {
    use "node-http-api"
    image "ghcr.io/company/svc-$i" tag="1.4.$((10#$i % 50))"
    resources {
        requests cpu="200m" memory="256Mi"
        limits cpu="500m" memory="512Mi"
    }
    env-from secret="svc-$i-secrets" config-map="svc-$i-config"
    volumes { logs "/app/logs" }
    security { run-as-user 1001; run-as-group 1001; fs-group 1001 }
    autoscale min=3 max=20 { cpu 70; memory 80 }
    patch Deployment { set "/spec/revisionHistoryLimit" 5 }
    environment staging { replicas 1; autoscale #false; env { NODE_ENV "staging" } }
    environment production
}
KDL
    done
}

# The same objects as a kustomize tree: svcc writes a kustomization.yaml in
# every environment folder; one at the top includes them all.
kustomize_tree() { # kustomize_tree SVCC_OUT DIR
    local out=$1 dir=$2
    mkdir -p "$dir"
    cp -r "$out"/. "$dir"/
    local top="$dir/kustomization.yaml"
    echo "resources:" >"$top"
    for envdir in "$dir"/*/*/; do
        envdir=${envdir%/}
        echo "- ${envdir#"$dir"/}" >>"$top"
    done
}

printf '%-6s %-10s %8s %9s %12s %10s %8s\n' N tool objects wall_s objects/s peak_MiB ratio
for n in ${SIZES[@]}; do
    d="$WORK/n$n"
    gen "$n" "$d"
    read -r wall rss < <(measure "$SVCC" build "$d/services" -o "$d/out")
    objects=$(find "$d/out" -name '*.yaml' ! -name kustomization.yaml | wc -l)
    printf '%-6s %-10s %8d %9.3f %12.0f %10.1f %8s\n' "$n" svcc "$objects" "$wall" \
        "$(echo "$objects / ($wall + 0.0005)" | bc -l)" "$(echo "$rss / 1024" | bc -l)" 1.0
    if command -v kubectl >/dev/null; then
        kustomize_tree "$d/out" "$d/kz"
        read -r kwall krss < <(measure kubectl kustomize "$d/kz")
        printf '%-6s %-10s %8d %9.3f %12.0f %10.1f %8.1f\n' "$n" kustomize "$objects" "$kwall" \
            "$(echo "$objects / ($kwall + 0.0005)" | bc -l)" "$(echo "$krss / 1024" | bc -l)" \
            "$(echo "$kwall / ($wall + 0.0005)" | bc -l)"
    else
        echo "kubectl not found: no kustomize comparison"
    fi
    if command -v jrsonnet >/dev/null; then
        # The same objects as one Jsonnet program that outputs each file.
        python3 - "$d/out" "$d/objects.jsonnet" <<'PY'
import json, os, sys, yaml
out, dst = sys.argv[1], sys.argv[2]
docs = {}
for root, _, files in os.walk(out):
    for f in sorted(files):
        p = os.path.join(root, f)
        docs[os.path.relpath(p, out)] = yaml.safe_load(open(p))
open(dst, "w").write(json.dumps(docs))
PY
        read -r jwall jrss < <(measure jrsonnet -m "$d/jout" "$d/objects.jsonnet")
        printf '%-6s %-10s %8d %9.3f %12.0f %10.1f %8.1f\n' "$n" jrsonnet "$objects" "$jwall" \
            "$(echo "$objects / ($jwall + 0.0005)" | bc -l)" "$(echo "$jrss / 1024" | bc -l)" \
            "$(echo "$jwall / ($wall + 0.0005)" | bc -l)"
    else
        echo "jrsonnet not found (cargo install jrsonnet): no jrsonnet comparison"
    fi
done
