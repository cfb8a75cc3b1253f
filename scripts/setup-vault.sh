#!/usr/bin/env bash
# Test-only: builds HashiCorp Vault from source through the Go module proxy (no Vault release
# binary can be downloaded from the registries this machine reaches) and prints the binary's path
# on stdout; everything else goes to stderr. Built once per machine in the install cache
# (scripts/cache.sh), keyed by the hash of the pin, the patch and this script, and linked at
# .venvs/vault; a rerun prints the path at once, a changed pin or patch builds anew.
#
# What is verified, and how:
# - The Vault module zip: the go command checks it against the checksum database sum.golang.org
#   (reached through the proxy's /sumdb/ endpoint, its signed tree checked with the key built into
#   Go), and this script compares it with VAULT_SUM below as well, so a build with the checksum
#   database turned off still refuses a different zip.
# - Every dependency listed in Vault's own go.sum: checked against that go.sum, which came inside
#   the verified zip.
# - The nested modules the zip leaves out (api, sdk, api/auth/*) and anything they add to the
#   graph: not in that go.sum, so the go command checks them against sum.golang.org as above.
#   GOSUMDB is set and GONOSUMDB/GOPRIVATE/GOINSECURE are cleared for the build, so that check
#   cannot be skipped; the go.sum it extends is the build copy's, removed afterwards.
# GOCACHE and GOMODCACHE stay where Go keeps them (~/.cache/go-build, ~/go/pkg/mod), so a second
# build on this machine, or after a pin change, reuses both. The module cache is read-only on
# disk: `go clean -modcache` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cache.sh

VAULT_MODULE=github.com/hashicorp/vault
VAULT_VERSION=v1.21.4
# sum.golang.org's hash of the module zip (`go mod download -json` prints the same "Sum").
VAULT_SUM='h1:KHGcdSnJtombvae1gDk+jZ50kiFngJPFDOvcCJRnU0c='
PATCH=scripts/vault/v1.21.4-sdk-v0.21.0.patch
# go.mod names these with local paths that the module zip does not contain; without the replace
# the go command takes each from the proxy at the version go.mod requires.
NESTED_MODULES=(api api/auth/approle api/auth/kubernetes api/auth/userpass sdk)
# Heartbeat period while downloading and compiling.
HEARTBEAT_SECONDS=30

say() { echo "setup-vault: $*" >&2; }
elapsed() { printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)); }
# json_field NAME: the value of "NAME": "..." in the go command's indented -json output on stdin.
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p"; }

# progress WHAT TOTAL: reads the go command's -v/-x output on stdin and prints one line per
# HEARTBEAT_SECONDS (how long, how many done, the latest), so a long build says what it is doing.
# Lines that are not progress (errors, "go: downloading") are passed through as they come.
progress() {
  local what="$1" total="$2" done=0 latest='' line next=$((SECONDS + HEARTBEAT_SECONDS)) status
  while true; do
    if IFS= read -r -t 5 line; then
      case "$line" in
        '# get '*'.zip: 200 OK'*) done=$((done + 1)); latest="${line#\# get }"; latest="${latest%%/@v/*}" ;;
        '# get '* | 'mkdir '* | 'cd '*) ;;
        *' '* | '#'*) echo "$line" >&2 ;;
        *) done=$((done + 1)); latest="$line" ;;
      esac
    else
      status=$?
      # read exits above 128 on its timeout, otherwise at the end of the input.
      [ "$status" -gt 128 ] || break
    fi
    if [ "$SECONDS" -ge "$next" ]; then
      say "$(elapsed) $what: $done${total:+ of $total}${latest:+, now $latest}"
      next=$((SECONDS + HEARTBEAT_SECONDS))
    fi
  done
  say "$what: $done${total:+ of $total}"
}

check_go() {
  if ! command -v go >/dev/null; then
    say "needs Go >= 1.25 (Vault ${VAULT_VERSION}'s go.mod says go 1.25.3); none on PATH"
    exit 1
  fi
  local v
  v="$(go env GOVERSION)"
  case "$v" in
    go1.2[5-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
    *) say "needs Go >= 1.25 (Vault ${VAULT_VERSION}'s go.mod says go 1.25.3); found $v"; exit 1 ;;
  esac
}

vault_build() {
  local out="$1" src="$1/src"
  SECONDS=0
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
  export GOSUMDB=sum.golang.org GONOSUMDB= GOINSECURE= GOPRIVATE=
  say "fetching ${VAULT_MODULE}@${VAULT_VERSION} through ${GOPROXY:-$(go env GOPROXY)}"
  local info dir sum build_date patch_file
  info="$(go mod download -json "${VAULT_MODULE}@${VAULT_VERSION}")"
  dir="$(json_field Dir <<<"$info")"
  sum="$(json_field Sum <<<"$info")"
  # The release's commit time from the proxy, so `vault version` says when its source was made.
  build_date="$(tr ',' '\n' <"$(json_field Info <<<"$info")" | sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')"
  patch_file="$(pwd)/$PATCH"
  if [ "$sum" != "$VAULT_SUM" ]; then
    say "the module zip's hash is ${sum:-missing}, expected $VAULT_SUM: refusing to build it"
    exit 1
  fi
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  (
    cd "$src"
    local m drops=()
    for m in "${NESTED_MODULES[@]}"; do drops+=("-dropreplace=${VAULT_MODULE}/$m"); done
    go mod edit "${drops[@]}"
    say "applying $PATCH"
    patch -p1 --forward --quiet <"$patch_file"
    say "downloading the modules Vault needs into Go's module cache (about 660 MB the first time; a line every ${HEARTBEAT_SECONDS}s)"
    nice -n 19 go mod download -x 2>&1 | progress "modules fetched (the rest were in the cache)" ''
    local total
    total="$(go list -deps -tags vault . | wc -l)"
    say "compiling $total packages under nice -n 19 with -p=2: 20 min or more on 2 cores with an empty build cache (an hour on a busy machine), about a minute with a warm one"
    # -tags vault as Vault's own scripts/build.sh; no "ui" tag: the web UI is a separate
    # JavaScript build that the Go module does not carry. CGO_ENABLED=0 as Vault's release builds.
    nice -n 19 go build -v -p=2 -trimpath -tags vault \
      -ldflags "-s -w -X ${VAULT_MODULE}/version.BuildDate=$build_date" \
      -o "$out/bin/vault" . 2>&1 | progress "packages compiled (the rest came from Go's build cache)" "$total"
  )
  rm -rf "$src"
  say "built $("$out/bin/vault" version) in $(elapsed)"
}

key="vault-$(hash_of <(echo "$VAULT_MODULE@$VAULT_VERSION $VAULT_SUM") "$PATCH" scripts/setup-vault.sh)"
if ! [ -f .venvs/vault/.setup-stamp ] || [ "$(cat .venvs/vault/.setup-stamp)" != "${key#*-}" ]; then check_go; fi
cached .venvs/vault "$key" . vault_build >&2
echo "$(pwd)/.venvs/vault/bin/vault"
