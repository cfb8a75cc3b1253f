#!/usr/bin/env bash
# Test-only: real Airflow 3 and 2.11, each with the hashicorp provider, in .venvs/airflow3 and
# .venvs/airflow2, installed from the frozen pins in requirements/. Skipped when the pins have
# not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in airflow3 airflow2; do
  req="requirements/$v.txt"
  venv=".venvs/$v"
  h=$(sha256sum "$req" | cut -c1-32)
  if [ -f "$venv/.setup-stamp" ] && [ "$(cat "$venv/.setup-stamp")" = "$h" ]; then continue; fi
  echo "setup: installing $(grep -m1 '^apache-airflow==' "$req") into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$h" > "$venv/.setup-stamp"
done
