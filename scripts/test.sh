#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (Node packages, bundle, .venv with bao, the
# test-only tools and the Airflow venvs), type check, then vitest. Ends with a plain "N passed, N failed" line.
# VAULT_BIN=/path/to/vault runs the same e2e suite against HashiCorp Vault instead of OpenBao.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-test-tools.sh
scripts/setup-airflow.sh
npx tsc --noEmit
# Formatter and linter (biome.json): a formatting difference or a lint error fails the suite.
npx biome ci --colors=off --diagnostic-level=error .
status=0
NO_COLOR=1 npx vitest run --reporter=default --reporter=json --outputFile.json=test-results.json "$@" || status=$?
node scripts/count.mjs test-results.json || status=1
exit $status
