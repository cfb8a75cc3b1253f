# Sourced by setup.sh and setup-airflow.sh: installs (Node packages, Python venvs) built once per
# machine in a cache dir, keyed by the hash of their inputs, and linked into the checkout. A fresh
# clone of an unchanged tree then installs nothing. CSS_DEV_CACHE moves the cache.
CACHE_ROOT="${CSS_DEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/create-secrets-sandbox-dev}"

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-32; }

# cached LINK NAME-HASH SUB BUILD...: make LINK point at CACHE_ROOT/NAME-HASH/SUB, running
# `BUILD... DIR` to fill CACHE_ROOT/NAME-HASH first when no complete build is there. The stamp
# (HASH, in LINK/.setup-stamp) is what older set-ups wrote too, so their installs are kept.
# A venv cannot be moved once made (its scripts name their own path), so it is built where it
# stays; a lock keeps two suites running at once from building the same entry twice; a build cut
# short leaves no stamp and is started over.
cached() {
  local link="$1" key="$2" sub="$3"; shift 3
  local stamp="${key#*-}" target="$CACHE_ROOT/$key"
  [ "$sub" = . ] || target="$target/$sub"
  if [ -f "$link/.setup-stamp" ] && [ "$(cat "$link/.setup-stamp")" = "$stamp" ]; then return 0; fi
  local dir="$CACHE_ROOT/$key"
  mkdir -p "$CACHE_ROOT"
  (
    flock 9
    if ! [ -f "$target/.setup-stamp" ] || [ "$(cat "$target/.setup-stamp")" != "$stamp" ]; then
      rm -rf "$dir"
      mkdir -p "$dir"
      "$@" "$dir"
      echo "$stamp" > "$target/.setup-stamp"
    fi
  ) 9>"$CACHE_ROOT/$key.lock"
  mkdir -p "$(dirname "$link")"
  # A real dir from an older set-up, or a link to another build: replaced by the link (rm on a
  # link removes the link, never what it points at).
  rm -rf "$link"
  ln -s "$target" "$link"
}
