#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up (Node packages, bundle, .venv with bao, the
# test-only tools, the Airflow venvs, HashiCorp Vault built from source), type check, then vitest.
# The e2e files that talk to a server run twice: on OpenBao (project e2e) and on HashiCorp Vault
# (project e2e-vault). Ends with the counts per server, then a plain "N passed, N failed" line.
# VAULT_BIN=/path/to/vault (a release build, say) is used for the Vault pass instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-test-tools.sh
scripts/setup-airflow.sh
if [ -z "${VAULT_BIN:-}" ]; then VAULT_BIN="$(scripts/setup-vault.sh)"; fi
export VAULT_BIN
echo "test: HashiCorp Vault pass on $("$VAULT_BIN" version) ($VAULT_BIN)"
npx tsc --noEmit
# Formatter and linter (biome.json): a formatting difference or a lint error fails the suite.
npx biome ci --colors=off --diagnostic-level=error .
# The Python the package ships (the Airflow probe), held to ruff (ruff.toml) from the test-tools venv.
.venvs/test-tools/bin/ruff check --no-cache templates/airflow_probe.py
.venvs/test-tools/bin/ruff format --no-cache --check templates/airflow_probe.py
status=0
rm -f test-results.json test-results.projects.json
NO_COLOR=1 npx vitest run --reporter=default --reporter=json --outputFile.json=test-results.json \
  --reporter=./test/support/project-counts.ts "$@" || status=$?
node scripts/count.mjs test-results.json test-results.projects.json || status=1
exit $status
