#!/usr/bin/env bash
# The main job on the default profile: install, pull and export Qwen2.5-Coder-0.5B (full tier) and
# SmolLM2-135M (mini tier), show a real fill-in-the-middle completion.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
.venv/bin/ghostwright demo "$@"
