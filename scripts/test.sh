#!/usr/bin/env bash
# The whole test suite: lint, unit tests, and end-to-end tests with the real default model
# (exported once into $GHOSTWRIGHT_HOME, default ~/.cache/ghostwright, and reused).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
