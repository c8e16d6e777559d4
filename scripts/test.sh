#!/usr/bin/env bash
# Set up both environments (quick when already done), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # tests never reach a model hub
exec .venv/bin/python -m pytest "$@"
