#!/usr/bin/env bash
# Set up both environments (quick when already done) and run the helpdesk until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/helpdesk run "$@"
