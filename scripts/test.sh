#!/usr/bin/env bash
# Set up both environments (quick when already done), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The ticket store is tested on PostgreSQL too: Debian's server package, started by the tests
# on a free loopback port. Installed here when missing and we may (root with apt-get).
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing PostgreSQL (apt-get install postgresql)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    echo "[test] PostgreSQL server not installed: its tests will be skipped" >&2
  fi
fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  export HELPDESK_TEST_POSTGRES=required  # installed: its tests must run, not skip
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # tests never reach a model hub
exec .venv/bin/python -m pytest "$@"
