#!/usr/bin/env bash
# Benchmark: build N generated services (backend-api-like, two environments
# each) into a folder with the release binary, and render the same objects
# with the tools a user would pick instead, in the same run.
#
#   bench/run.sh            # N = 1 10 100 1000
#   bench/run.sh 1000       # one size
#
# Prints, per N and tool, the median wall time of REPEAT runs (default 5),
# objects/second, peak RSS and the ratio of the tool's wall time to svcc's
# build. Rows: svcc (build into a new folder), svcc-check (no writing),
# floor (bench/floor.rs: serialising and writing the same objects, nothing
# compiled), and the other tools. Not run in CI; figures go in
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/svcc-target}"
cargo build --release --quiet --bin svcc --example floor
SVCC="$CARGO_TARGET_DIR/release/svcc"
FLOOR="$CARGO_TARGET_DIR/release/examples/floor"
SIZES=("${@:-1 10 100 1000}")
# Work in memory when possible: on this machine's ext4, creating files
# shortly after deleting many others is several times slower (the
# allocator skips recently deleted inodes), which would measure the disk's
# history rather than the tools. BENCH_TMP overrides.
if [ -z "${BENCH_TMP:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_TMP=/dev/shm; fi
WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/svcc-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# measure CMD... → runs CMD $REPEAT times (each writing to a fresh folder:
# the literal argument OUT in CMD is replaced by it, the last one is named
# in $WORK/last_out) and prints
# "median_wall_seconds max_rss_kb". Fails if CMD fails.
REPEAT=${REPEAT:-5}
measure() {
    local walls=() rss=0 i
    for ((i = 0; i < REPEAT; i++)); do
        local out="$WORK/out.$RANDOM$RANDOM" args=() a
        for a in "$@"; do args+=("${a//OUT/$out}"); done
        local t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$WORK/rss" "${args[@]}" >/dev/null 2>"$WORK/err.log" \
            || { cat "$WORK/err.log" >&2; return 1; }
        local t1=$EPOCHREALTIME
        walls+=("$(echo "$t1 - $t0" | bc -l)")
        local r; r=$(tail -1 "$WORK/rss"); ((r > rss)) && rss=$r
        echo "$out" >"$WORK/last_out"
    done
    local median; median=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p")
    echo "$median $rss"
}

# row N TOOL OBJECTS WALL RSS_KB BASE_WALL
row() {
    printf '%-6s %-10s %8d %9.4f %12.0f %10.1f %8.2f\n' "$1" "$2" "$3" "$4" \
        "$(echo "$3 / $4" | bc -l)" "$(echo "$5 / 1024" | bc -l)" "$(echo "$4 / $6" | bc -l)"
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

KUSTOMIZE_MAX=${KUSTOMIZE_MAX:-100} # kustomize takes minutes at N = 1000
printf '%-6s %-10s %8s %9s %12s %10s %8s\n' N tool objects wall_s objects/s peak_MiB ratio
for n in ${SIZES[@]}; do
    d="$WORK/n$n"
    gen "$n" "$d"
    # svcc: the whole build into a new folder (compile, validate, write).
    read -r wall rss < <(measure "$SVCC" build "$d/services" -o OUT)
    out=$(cat "$WORK/last_out")
    objects=$(find "$out" -name '*.yaml' ! -name kustomization.yaml | wc -l)
    row "$n" svcc "$objects" "$wall" "$rss" "$wall"
    # svcc check: the same without writing (compile and validate only).
    read -r cwall crss < <(measure "$SVCC" check "$d/services")
    row "$n" svcc-check "$objects" "$cwall" "$crss" "$wall"
    # The floor: serialising the same objects and writing the same files,
    # nothing compiled (bench/floor.rs times itself, input reading excluded).
    fwalls=()
    for ((i = 0; i < REPEAT; i++)); do
        fwalls+=("$("$FLOOR" "$out" "$WORK/floor.$n.$i" | cut -d' ' -f1)")
    done
    fwall=$(printf '%s\n' "${fwalls[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p")
    row "$n" floor "$objects" "$fwall" 0 "$wall"
    if ! command -v kubectl >/dev/null; then
        echo "kubectl not found: no kustomize comparison"
    elif ((n > KUSTOMIZE_MAX)); then
        echo "kustomize skipped above N=$KUSTOMIZE_MAX (KUSTOMIZE_MAX=N to run it; 466 s at N=1000 here)"
    else
        kustomize_tree "$out" "$d/kz"
        read -r kwall krss < <(measure kubectl kustomize "$d/kz")
        row "$n" kustomize "$objects" "$kwall" "$krss" "$wall"
    fi
    if command -v jrsonnet >/dev/null; then
        # The same objects as one Jsonnet program that outputs each file.
        python3 - "$out" "$d/objects.jsonnet" <<'PY'
import json, os, sys, yaml
out, dst = sys.argv[1], sys.argv[2]
docs = {}
for root, _, files in os.walk(out):
    for f in sorted(files):
        p = os.path.join(root, f)
        docs[os.path.relpath(p, out)] = yaml.safe_load(open(p))
open(dst, "w").write(json.dumps(docs))
PY
        read -r jwall jrss < <(measure jrsonnet -m OUT "$d/objects.jsonnet")
        row "$n" jrsonnet "$objects" "$jwall" "$jrss" "$wall"
    else
        echo "jrsonnet not found (cargo install jrsonnet): no jrsonnet comparison"
    fi
done
