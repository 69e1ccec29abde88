#!/usr/bin/env bash
# The main job on the default model: install, pull and export SmolLM2, show a real completion.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
.venv/bin/ghostwright demo "$@"
