"""Fixtures for the VS Code extension's tests: the Node 24 / code-server / puppeteer-core /
chromium toolchain (editor-clients/vscode/scripts/setup-e2e.sh, cached under
~/.cache/ghostwright-e2e), the extension's npm dependencies and its packaged .vsix.

Nothing here skips: when a tool cannot be installed the test fails with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from vscode_env import EXTENSION, SETUP, npm, run_checked

TOOL_KEYS = ("GW_E2E_NODE", "GW_E2E_NPM_CLI", "GW_E2E_NODE_HOME", "GW_E2E_CODE_SERVER",
             "GW_E2E_NODE_PATH", "GW_E2E_CHROMIUM", "GW_E2E_NPM_CACHE")


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    """Node 24, code-server, puppeteer-core and chromium, installed once into the cache."""
    if shutil.which("bash") is None:
        pytest.fail(f"bash is needed to run {SETUP}")
    proc = run_checked(["bash", str(SETUP)], what="setup-e2e.sh", timeout=1800)
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            found[key] = value
    missing = [key for key in TOOL_KEYS if key not in found]
    if missing:
        pytest.fail(f"setup-e2e.sh did not report {missing}:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return found


@pytest.fixture(scope="session")
def extension_deps(tools: dict[str, str]) -> Path:
    """`npm ci` in editor-clients/vscode, skipped while node_modules matches package-lock.json."""
    installed = EXTENSION / "node_modules" / ".package-lock.json"
    lock = EXTENSION / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        npm(tools, "ci", "--prefer-offline", what="npm ci (extension)")
    return EXTENSION / "node_modules"


@pytest.fixture(scope="session")
def vsix(tools: dict[str, str], extension_deps: Path) -> Path:
    """The extension packaged by @vscode/vsce (`npm run package`, which compiles first)."""
    out = EXTENSION / "out" / "ghostwright.vsix"
    out.unlink(missing_ok=True)
    npm(tools, "run", "package", what="npm run package (vsce)")
    if not out.is_file():
        pytest.fail(f"npm run package did not produce {out}")
    return out
