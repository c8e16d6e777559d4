#!/usr/bin/env bash
# Installs both environments; idempotent (a second run only compares stamps).
#
#   .venv       Python 3.11: our packages (knowledge, actions, escalation, helpdesk CLI)
#   .venv-rasa  Python 3.10: Rasa 3.6.21 server, pinned by requirements/rasa.lock
#   node_modules  the widget's socket.io client and axe-core, pinned by package-lock.json
#
# Override the interpreters with HELPDESK_APP_PYTHON / HELPDESK_RASA_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
step() { printf '\n[setup %s/4] %s\n' "$1" "$2" >&2; }
# pip's own progress: a bar on a terminal, one line per package in a log (CI).
PIP_FLAGS=(--progress-bar "$([ -t 2 ] && echo on || echo off)")

python_version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }

find_python() {  # $1 = wanted major.minor, $2 = override variable value
  local wanted=$1 override=${2:-} candidate
  local candidates=()
  [ -n "$override" ] && candidates+=("$override")
  candidates+=("python$wanted")
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$wanted".*/bin/python"$wanted"; do
      candidates+=("$candidate")
    done
  fi
  [ "$wanted" = "$(python_version_of python3)" ] && candidates+=("python3")
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && [ "$(python_version_of "$candidate")" = "$wanted" ]; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

stamp_matches() {  # $1 = venv dir, $2 = stamp content
  [ -f "$1/.helpdesk-stamp" ] && [ "$(cat "$1/.helpdesk-stamp")" = "$2" ]
}

check_prerequisites() {  # everything, before a byte is installed
  local missing=0 needed_mb=0 free_mb
  if ! APP_PY=$(find_python 3.11 "${HELPDESK_APP_PYTHON:-}"); then
    log "missing: Python 3.11. Install it (e.g. 'pyenv install 3.11' or 'uv python install 3.11')"
    log "         and point HELPDESK_APP_PYTHON at it."
    missing=1
  else
    log "Python 3.11: $APP_PY"
  fi
  if [ -n "${HELPDESK_RASA_URL:-}" ]; then
    log "Rasa: the server at $HELPDESK_RASA_URL (HELPDESK_RASA_URL): no Python 3.10 needed"
  elif ! RASA_PY=$(find_python 3.10 "${HELPDESK_RASA_PYTHON:-}"); then
    log "missing: Python 3.10 (Rasa 3.6's interpreter). Get one with one of:"
    log "  pyenv install 3.10.13        (then re-run; pyenv versions are found automatically)"
    log "  uv python install 3.10       (then HELPDESK_RASA_PYTHON=\$(uv python find 3.10))"
    log "or run Rasa from the official image (README: \"An external Rasa server\") and set"
    log "HELPDESK_RASA_URL to it."
    missing=1
  else
    log "Python 3.10: $RASA_PY"
  fi
  if ! command -v npm >/dev/null 2>&1; then
    log "missing: npm (the chat widget's socket.io client): e.g. 'apt-get install nodejs npm'"
    missing=1
  fi
  [ -f .venv/.helpdesk-stamp ] || needed_mb=$((needed_mb + 1600))
  [ -n "${HELPDESK_RASA_URL:-}" ] || [ -f .venv-rasa/.helpdesk-stamp ] || needed_mb=$((needed_mb + 2800))
  [ -f node_modules/.helpdesk-stamp ] || needed_mb=$((needed_mb + 40))
  free_mb=$(df -Pm . | awk 'NR == 2 {print $4}')
  if [ "$needed_mb" -gt 0 ] && [ "$free_mb" -lt "$needed_mb" ]; then
    log "missing: disk space: about ${needed_mb} MB needed here, ${free_mb} MB free"
    missing=1
  fi
  [ "$missing" -eq 0 ] || { log "nothing was installed"; exit 1; }
  log "to install: about ${needed_mb} MB (${free_mb} MB free)"
}

setup_app_env() {
  local py=$APP_PY stamp
  stamp=$(cat pyproject.toml requirements/app-constraints.txt | sha256sum | cut -d' ' -f1)
  if stamp_matches .venv "$stamp"; then
    log ".venv is up to date"
    return
  fi
  log "installing .venv with $py"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/pip install -q --upgrade pip wheel
  # torch first, the local CPU build: later resolutions then find it satisfied.
  .venv/bin/pip install "${PIP_FLAGS[@]}" torch==2.13.0
  .venv/bin/pip install "${PIP_FLAGS[@]}" -c requirements/app-constraints.txt -e '.[dev]'
  echo "$stamp" > .venv/.helpdesk-stamp
}

setup_rasa_env() {
  local py=$RASA_PY stamp
  stamp=$(sha256sum requirements/rasa.lock | cut -d' ' -f1)
  if stamp_matches .venv-rasa "$stamp"; then
    log ".venv-rasa is up to date"
    return
  fi
  log "installing .venv-rasa with $py (Rasa 3.6.21, about 2.7 GB)"
  [ -x .venv-rasa/bin/python ] || "$py" -m venv .venv-rasa
  # The lock pins setuptools and wheel too (Rasa pins them): no pip upgrade here.
  .venv-rasa/bin/pip install "${PIP_FLAGS[@]}" -r requirements/rasa.lock
  echo "$stamp" > .venv-rasa/.helpdesk-stamp
}

setup_web_deps() {  # the widget's socket.io client, axe-core for the browser tests
  local stamp
  stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ -f node_modules/.helpdesk-stamp ] && [ "$(cat node_modules/.helpdesk-stamp)" = "$stamp" ]; then
    log "node_modules is up to date"
    return
  fi
  log "installing node_modules (npm ci, versions from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp" > node_modules/.helpdesk-stamp
}

step 1 "checking prerequisites"
check_prerequisites
step 2 "our packages (.venv, Python 3.11)"
setup_app_env
step 3 "the Rasa server (.venv-rasa, Python 3.10)"
if [ -n "${HELPDESK_RASA_URL:-}" ]; then
  log "skipped: HELPDESK_RASA_URL is set, Rasa runs elsewhere"
else
  setup_rasa_env
fi
step 4 "the widget's browser packages (node_modules)"
setup_web_deps
log "environments ready in ${SECONDS} s"
