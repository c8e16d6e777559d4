#!/usr/bin/env bash
# Set up both environments (quick when already done), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Test-only system packages from Debian, installed when missing and we may (root with apt-get):
#   postgresql  the ticket store is tested on PostgreSQL too (the tests start their own server)
#   chromium      the browser tests, driven by Playwright (which never downloads a browser here)
#   redis-server  the replicas tests: Rasa's lock store and socket.io's rooms shared through Redis
#   haproxy       the replicas tests: the load balancer of `helpdesk run --replicas N`
has_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
has_chromium() { [ -x /usr/bin/chromium ]; }
has_redis() { [ -x /usr/bin/redis-server ]; }
has_haproxy() { [ -x /usr/sbin/haproxy ]; }
missing=()
has_postgres || missing+=(postgresql)
has_chromium || missing+=(chromium)
has_redis || missing+=(redis-server)
has_haproxy || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing ${missing[*]} (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "[test] not installed: ${missing[*]}; their tests will be skipped" >&2
  fi
fi
# Installed: their tests must run, not skip.
if has_postgres; then export HELPDESK_TEST_POSTGRES=required; fi
if has_chromium; then export HELPDESK_TEST_BROWSER=required; fi
if has_redis; then export HELPDESK_TEST_REDIS=required; fi
if has_postgres && has_redis && has_haproxy; then export HELPDESK_TEST_REPLICAS=required; fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # tests never reach a model hub
exec .venv/bin/python -m pytest "$@"
