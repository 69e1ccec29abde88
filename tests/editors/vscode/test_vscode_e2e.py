"""VS Code end to end: the packaged extension in real VS Code (code-server) with the real model.

Builds the .vsix, installs it into a fresh code-server, opens a Python file in headless
Chromium, types a function signature and docstring, waits for the ghost text (streamed:
partial text first, then the final suggestion), accepts it with Tab and checks the saved
file holds the suggestion and the server counted the acceptance. Then points
ghostwright.serverPath at a missing file, then at a server that exits at once, and checks the
user gets one actionable error pop-up for each. The tools come from
``editor-clients/vscode/scripts/setup-e2e.sh`` (cached under ~/.cache/ghostwright-e2e);
when they cannot be installed the test fails and says why, it does not skip.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from vscode_env import REPO, run_checked, tail

from ghostwright.export.catalogue import PROFILES
from ghostwright.home import models_dir

DRIVER = Path(__file__).with_name("drive_vscode.cjs")
ARTIFACTS = REPO / "tests" / "editors" / "artifacts" / "latest"  # ignored by git: runs never touch the snapshot
SCREENSHOT = ARTIFACTS / "vscode_ghost_text.png"
NO_SERVER_SCREENSHOT = ARTIFACTS / "vscode_no_server.png"
ASK_SCREENSHOT = ARTIFACTS / "vscode_ask.png"
BAD_SERVER = "/nonexistent/bin/ghostwright"
QUESTION = "What does is_prime return?"
MISSING_MODEL = "no-such-model"

SOURCE = "import math\n\n\n"
TYPED = ["def is_prime(n: int) -> bool:", '"""Return True if n is a prime number."""']
# Workspace settings: the server, streaming on (so partial text is exercised), and a deadline
# long enough for a shared 2-core CI machine (the e2e over stdio uses the same).
WORKSPACE_SETTINGS = {"ghostwright.streaming": True, "ghostwright.deadlineMs": 30000}

# Keep the workbench quiet and deterministic: no word/trigger completions competing for Tab,
# no auto-closed quotes doubling the typed docstring, no welcome pages or update checks.
USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "chat.disableAIFeatures": True,
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "editor.autoClosingQuotes": "never",
    "editor.autoClosingBrackets": "never",
    "files.autoSave": "off",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"code-server exited with {proc.returncode} before it listened:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"code-server did not answer {url} within {timeout:.0f}s:\n{tail(log)}")


def _ghostwright_logs(user_data: Path, lines: int = 60) -> str:
    logs = sorted(user_data.glob("logs/**/*Ghostwright*.log"))
    return "\n".join(f"--- {p.name} ---\n{tail(p, lines)}" for p in logs) or "<no Ghostwright output channel log>"


@pytest.mark.default_model
def test_ghost_text_in_vscode(default_profile: str, tools: dict[str, str], vsix: Path,
                              tmp_path: Path) -> None:
    server = Path(sys.executable).parent / "ghostwright"
    if not os.access(server, os.X_OK):
        pytest.fail(f"no ghostwright executable next to {sys.executable}: install the project into this venv")
    node, code_server = tools["GW_E2E_NODE"], tools["GW_E2E_CODE_SERVER"]

    # A home of its own (stats.jsonl lands here) that shares the exported model.
    home = tmp_path / "gwhome"
    (home).mkdir()
    (home / "models").symlink_to(models_dir(), target_is_directory=True)
    config, user_data, extensions = tmp_path / "config.yaml", tmp_path / "user-data", tmp_path / "extensions"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    source = workspace / "example.py"
    source.write_text(SOURCE, encoding="utf-8")
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2), encoding="utf-8")
    # serverPath is machine-overridable: a remote window (code-server) ignores it in user
    # settings, so it goes where a user of a venv would put it, the workspace settings.
    # A one-line wrapper adds `-v`, so the server's own log (per-completion timings) reaches the
    # output channel and the failure report.
    wrapper = tmp_path / "ghostwright-verbose"
    wrapper.write_text(f'#!/bin/sh\nexec "{server}" -v "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    broken = tmp_path / "ghostwright-broken"  # a server that dies at once, saying why on stderr
    broken.write_text('#!/bin/sh\necho "ghostwright: error: broken on purpose by the test" >&2\nexit 3\n',
                      encoding="utf-8")
    broken.chmod(0o755)
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(json.dumps(
        {"ghostwright.serverPath": str(wrapper), **WORKSPACE_SETTINGS}, indent=2), encoding="utf-8")
    port = _free_port()
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n", encoding="utf-8")
    env = dict(os.environ, GHOSTWRIGHT_HOME=str(home), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
               XDG_DATA_HOME=str(tmp_path / "xdg-data"))
    dirs = ["--config", str(config), "--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]

    run_checked([node, code_server, *dirs, "--install-extension", str(vsix)], what="install .vsix", timeout=300,
                env=env)
    if not list(extensions.glob("ghostwright.ghostwright-*")):
        pytest.fail(f"the extension is not in {extensions} after --install-extension")

    log = tmp_path / "code-server.log"
    started = time.monotonic()
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [node, code_server, *dirs, "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
             "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", str(workspace)],
            stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in [*ARTIFACTS.glob("vscode_ghost_text*.png"), NO_SERVER_SCREENSHOT, ASK_SCREENSHOT]:
            old.unlink(missing_ok=True)
        drive = tmp_path / "drive.json"
        drive.write_text(json.dumps({
            "url": f"http://127.0.0.1:{port}", "folder": str(workspace), "file": source.name,
            "chromium": tools["GW_E2E_CHROMIUM"], "screenshot": str(SCREENSHOT), "typed": TYPED,
            "noServerScreenshot": str(NO_SERVER_SCREENSHOT), "badServerPath": str(BAD_SERVER),
            "brokenServerPath": str(broken), "question": QUESTION, "askTimeoutMs": 240_000,
            "askScreenshot": str(ASK_SCREENSHOT), "missingModel": MISSING_MODEL,
            "model": PROFILES[default_profile].full.model,  # the status bar names the full tier's model
            "settingsFile": str(workspace / ".vscode" / "settings.json"),
            "timeoutMs": 180_000, "ghostTimeoutMs": 30_000,
        }), encoding="utf-8")
        driven = subprocess.run([node, str(DRIVER), str(drive)], capture_output=True, text=True, timeout=420,
                                env=dict(env, NODE_PATH=tools["GW_E2E_NODE_PATH"]))
        try:
            result = json.loads(driven.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            result = {"ok": False, "error": f"driver printed no result (exit {driven.returncode})"}
        print(json.dumps(result, indent=2))
        (ARTIFACTS / "vscode_e2e.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        diagnostics = (f"\n--- driver stderr ---\n{driven.stderr[-3000:]}\n--- code-server ---\n{tail(log)}\n"
                       f"{_ghostwright_logs(user_data)}")
        assert result.get("ok"), f"VS Code e2e failed: {result.get('error')}{diagnostics}"

        # The ghost text was real text, and Tab put it into the file.
        ghost = [line for line in result["ghost"]["inline"] + result["ghost"]["block"] if line.strip()]
        assert ghost, f"ghost text elements were empty: {result['ghost']}{diagnostics}"
        saved = source.read_text(encoding="utf-8")
        for line in TYPED:
            assert line in saved, f"typed line {line!r} missing from the saved file:\n{saved}"
        typed_end = saved.index(TYPED[-1]) + len(TYPED[-1])
        inserted = saved[typed_end:]
        for line in ghost:
            assert line.strip() in inserted, (
                f"ghost text {line!r} not in the saved file after Tab:\n{saved}{diagnostics}")
        assert SCREENSHOT.is_file() and SCREENSHOT.stat().st_size > 10_000, "screenshot missing or empty"

        # Streaming: the server sends whole lines as they are decoded, so a multi-line suggestion
        # showed a shorter first part (a prefix of the final text) before the final text.
        if len(ghost) >= 2:
            final = result["ghostSeen"][-1].strip("\n")
            earlier = [seen.strip("\n") for seen in result["ghostSeen"][:-1]]
            assert any(seen.strip() and final.startswith(seen) and seen != final for seen in earlier), (
                f"no partial ghost text was shown before the final one: {result['ghostSeen']}{diagnostics}")

        # VS Code ran the item's ghostwright.accept command, so the server counted an acceptance.
        stats = home / "stats.jsonl"
        events = [json.loads(x)["event"] for x in stats.read_text().splitlines()] if stats.is_file() else []
        assert "accepted" in events, f"no 'accepted' event in {stats}: {events}{diagnostics}"
        # Ghostwright: Show Stats (command palette) reports the acceptance too.
        assert re.search(r"\d+ shown, [1-9]\d* accepted", result["stats"]), result["stats"]

        # Ghostwright: Ask put the server's answer in a Markdown editor under the question.
        answer = result["ask"].split(f"# {QUESTION}", 1)[1].strip()
        assert answer and not answer.startswith("```json"), f"no answer text: {result['ask']}"
        assert ASK_SCREENSHOT.is_file()

        # A missing model: one pop-up with the server's reason (which says what to run).
        errors = result["missingModel"]["errors"]
        assert len(errors) == 1 and MISSING_MODEL in errors[0]["message"], errors
        assert "ghostwright model pull" in errors[0]["message"], errors

        # A missing server: an error pop-up naming the path, with a way to fix it.
        errors = result["noServer"]["errors"]
        assert any(BAD_SERVER in e["message"] and "serverPath" in e["message"] for e in errors), errors
        assert any("Open Settings" in e["buttons"] for e in errors), errors
        assert NO_SERVER_SCREENSHOT.is_file()
        # A server that exits at once: an error pop-up that points at the logs, which hold its stderr.
        errors = result["brokenServer"]["errors"]
        assert errors and all("Show Logs" in e["buttons"] for e in errors), errors
        assert any(re.search(r"failed to start|stopped \d+ times", e["message"]) for e in errors), errors
        assert len(errors) == 1, f"one problem, one pop-up: {errors}"
        assert "broken on purpose by the test" in _ghostwright_logs(user_data, lines=100_000)
        print(f"e2e total (code-server start → done): {time.monotonic() - started:.1f}s")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
