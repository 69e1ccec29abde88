#!/usr/bin/env bash
# Create (or reuse) .venv and install Ghostwright with its test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.ghostwright-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # The tune extra's torch: the CPU build (pinned, so pip takes it rather than a CUDA build of several GB).
  .venv/bin/python -m pip install --quiet --disable-pip-version-check 'torch==2.13.0'
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,tune]'
  touch "$stamp"
fi
