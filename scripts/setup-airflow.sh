#!/usr/bin/env bash
# Test-only: real Airflow 3 and 2.11, each with the hashicorp provider, in .venvs/airflow3 and
# .venvs/airflow2, installed from the frozen pins in requirements/. Each venv is built once per
# machine in the cache dir (scripts/cache.sh), keyed by the hash of its pins, and linked here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cache.sh

airflow_build() {
  local req="$1" dir="$2"
  echo "setup: installing $(grep -m1 '^apache-airflow==' "$req") into $dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
}
for v in airflow3 airflow2; do
  req="requirements/$v.txt"
  cached ".venvs/$v" "$v-$(hash_of "$req")" . airflow_build "$req"
done
