#!/usr/bin/env bash
# The quick start: set up this checkout, then create a verified sandbox with every default.
# Uses your own `vault` or `bao` when one is on PATH (or VAULT_BIN names one); otherwise the
# OpenBao binary that setup installed into .venv. Extra arguments go to the tool, e.g.
#   scripts/sandbox.sh ./my-sandbox --conn my_pg=postgres://u:p@localhost:5432/db
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" >&2
if [ -z "${VAULT_BIN:-}" ] && ! command -v vault >/dev/null && ! command -v bao >/dev/null; then
  export PATH="$PATH:$root/.venv/bin"
fi
exec "$root/dist/cli.js" --yes "$@"
