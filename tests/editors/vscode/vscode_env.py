"""Paths and subprocess helpers shared by the VS Code extension's tests (see conftest.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
EXTENSION = REPO / "editor-clients" / "vscode"
SETUP = EXTENSION / "scripts" / "setup-e2e.sh"


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, for failure messages."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<{path}: {exc}>"


def run_checked(cmd: list[str], *, what: str, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure fail the test with its output (never skip)."""
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
                    f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")
    print(f"{what}: {time.monotonic() - started:.1f}s")
    return proc


def npm(tools: dict[str, str], *args: str, what: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """npm in editor-clients/vscode, run on the cached Node 24 with the cached npm cache."""
    env = dict(os.environ, PATH=f"{tools['GW_E2E_NODE_HOME']}/bin:{os.environ.get('PATH', '')}",
               npm_config_nodedir=tools["GW_E2E_NODE_HOME"], npm_config_update_notifier="false")
    return run_checked([tools["GW_E2E_NODE"], tools["GW_E2E_NPM_CLI"], "--cache", tools["GW_E2E_NPM_CACHE"],
                        "--no-audit", "--no-fund", *args], what=what, timeout=timeout, cwd=EXTENSION, env=env)
