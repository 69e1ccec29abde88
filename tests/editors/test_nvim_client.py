"""The Neovim client (editor-clients/nvim) in a real Neovim against the real server and
the real default model: ghost text while typing, the accept keys, commands, health, and
the errors a user must see. Each test is one Neovim run; see lua/scenarios/."""

from __future__ import annotations

import ast
import html
import re
import sys
from pathlib import Path

import pytest
from editors.nvim_runner import HERE, run_headless, server_cmd

from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES

FULL_MODEL = PROFILES[DEFAULT_PROFILE].full.model  # what the status names

FUNCTION = '''import math


def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
'''
DOCSTRING_LINE = 5  # 1-based line of the docstring: `o` there opens the body
# Model output must not depend on the machine: the full tier (not the router's pick) and a
# deadline that lets it end where the model stops, not where a busy machine cuts it.
GENEROUS = {"deadline_ms": 30000, "tier": "full"}
SCREENSHOT = HERE / "artifacts" / "latest" / "nvim_ghost_text"  # .txt and .svg: the screen with ghost text on it


def screen_rows_left(screen: list[str], row: int) -> int:
    """How many suggestion lines fit on screen from `row` on (the status and command lines stay)."""
    return len(screen) - 3 - row


def python_file(tmp_path: Path, name: str = "primes.py") -> Path:
    (tmp_path / "ws").mkdir(exist_ok=True)
    path = tmp_path / "ws" / name
    path.write_text(FUNCTION)
    return path


@pytest.mark.default_model
def test_ghost_text_is_streamed_and_accepted_word_line_and_all(default_profile, tmp_path):
    path = python_file(tmp_path)
    r = run_headless(tmp_path, "ghost_text", {"cmd": server_cmd(default_profile, tmp_path), "server": GENEROUS},
                     file=str(path), line=DOCSTRING_LINE, screenshot=str(SCREENSHOT), ui=True, timeout_s=90)

    # Ghost text: one extmark at the cursor, inline first line, the rest as virtual lines.
    suggestion = r["suggestion"]
    assert suggestion.strip(), "the ghost text is empty"
    row, col, details = r["extmark"][1], r["extmark"][2], r["extmark"][3]
    assert [row, col] == r["cursor"] and details["virt_text_pos"] == "inline"
    assert len(details.get("virt_lines", [])) == suggestion.count("\n")
    assert r["partials"] > 0, "streaming is on but no partial chunk was drawn"

    # The screen Neovim drew: the buffer, the ghost text after the cursor and below it, insert mode.
    screen = r["screen"].split("\n")
    (crow, ccol), shown = r["screen_cursor"], suggestion.split("\n")
    svg = SCREENSHOT.with_suffix(".svg").read_text()  # the image keeps each word of the ghost text
    for word in shown[0].split():
        assert f">{html.escape(word, quote=False)}</text>" in svg, (word, shown[0])
    text_col = ccol - r["cursor"][1]  # where buffer text starts, after the line numbers
    assert screen[crow][ccol:].rstrip() == shown[0].rstrip(), r["screen"]
    for k, line in enumerate(shown[1:screen_rows_left(screen, crow)], start=1):
        assert screen[crow + k][text_col:].rstrip() == line.rstrip(), r["screen"]
    assert any(line.startswith("-- INSERT --") for line in screen), r["screen"]
    assert r["requests"] == 1 and r["cache_hits"] == 1, "dismiss + trigger should reuse the cached answer"

    # Accept word, accept line, then <Tab>: the buffer is the suggestion inserted at the cursor.
    lines = r["before"].split("\n")
    offset = sum(len(line) + 1 for line in lines[: r["cursor"][0]]) + r["cursor"][1]
    expected = r["before"][:offset] + suggestion + r["before"][offset:]
    assert r["after"] == expected
    assert r["after_word"].strip() and r["rest_after_word"] and suggestion.endswith(r["rest_after_word"])
    if not r["rest_after_word"].startswith("\n"):  # typed ahead: the rest stays, answered without the server
        assert r["typed_ahead"] == r["rest_after_word"][:2]
        assert r["rest_after_typing"] == r["rest_after_word"][2:] and r["requests_after_typing"] == 1
    saved = path.read_text()
    assert saved.rstrip("\n") == expected.rstrip("\n")
    ast.parse(saved)  # what was accepted is valid Python

    # :Ghostwright status / stats and :checkhealth show the server's own view.
    assert f"model: {FULL_MODEL} (loaded)" in r["status"] and re.search(r"device: (cpu|cuda);", r["status"])
    assert "shown 2, accepted 1" in r["stats"]  # didShowCompletion for each showing (first, then cached); one accept
    assert "OK server binary" in r["health"] and f"OK model: {FULL_MODEL} (loaded)" in r["health"]
    assert re.search(r"device: (cpu|cuda);", r["health"])

    # Nothing went wrong on the way: no warning from the plugin or the server.
    assert [n["message"] for n in r["notifications"] if n["level"] >= 3] == []


def test_problems_are_shown_not_swallowed(tmp_path):
    bad_options = {"cmd": ["ghostwright-not-installed", "serve"], "debounce_ms": "fast", "bogus": 1,
                   "keymaps": {"accept": 3}, "server": {"tier": "huge"}}
    r = run_headless(
        tmp_path, "no_server", bad_options, timeout_s=60,
        file=str(python_file(tmp_path)), other_file=str(python_file(tmp_path, "other.py")),
        no_model_file=str(python_file(tmp_path, "nomodel.py")),
        no_model_cmd=server_cmd(tmp_path / "no-such-model", tmp_path),
        broken_cmd=[sys.executable, "-c", "import sys; sys.exit('no model here')"])

    # Bad options: a warning each, and the defaults in force.
    assert r["options"] == {"debounce_ms": 75, "keymaps_accept": "<Tab>", "tier": "auto"}
    for name in ("debounce_ms", "bogus", "keymaps.accept", "server.tier"):
        assert f'"{name}"' in r["setup_warnings"]
    assert r["second_setup_debounce"] == 30

    # No binary: an error that says what to install or set, and the same in :checkhealth.
    assert "ghostwright-not-installed" in r["missing"] and "not found on $PATH" in r["missing"]
    assert "cmd" in r["missing"] and "pip install" in r["missing"]
    assert "ERROR Ghostwright: server \"ghostwright-not-installed\" not found" in r["health"]
    assert r["tab_line"] in ("\tx", "    x"), "<Tab> with no suggestion shown must still indent"

    # A server without its model: the first suggestion request says which model and what to run.
    assert "no-such-model" in r["no_model"] and "ghostwright model pull" in r["no_model"]
    assert "ERROR model" in r["no_model_health"] and "no-such-model" in r["no_model_health"], r["no_model_health"]

    # :Ghostwright restart: a new client, said so, and the old server's exit is no error.
    old_id, new_id = r["restart_ids"]
    assert new_id != old_id and f"client {new_id}" in r["restart_message"]
    assert r["restart_errors"] == []

    # A server that dies at start: its exit code and its last words.
    assert "exited (code 1" in r["broken"] and "no model here" in r["broken"]



def test_pure_functions_in_neovim(tmp_path):
    take = [["  foo(bar)", "word"], ["(x) + 1", "word"], ["a\nb", "line"], ["\n    b\nc", "line"],
            ["a\nb", "all"], ["", "word"]]
    resolve = {"server": {"max_tokens": 0}, "filetypes": [], "cmd": ["gw", 3],
               "keymaps": {"accept": "<C-l>", "dismiss": False}}
    stats = {"shown": 4, "accepted": 1, "acceptance_rate": 0.25, "latency_p50_ms": 12.4, "latency_p90_ms": 80}
    r = run_headless(tmp_path, "units", {}, timeout_s=20, take=take, resolve=resolve, stats=stats)

    assert r["take"] == ["  foo", "(", "a", "\n    b", "a\nb", ""]
    assert r["cache"] == {"a": 1, "b": None, "c": 3} and r["cache_disabled"]
    # Bad values fall back to their defaults, each with a warning; good ones are kept.
    assert r["resolved"] == {"max_tokens": 96, "filetypes": r["resolved"]["filetypes"], "cmd": ["ghostwright", "serve"],
                             "accept": "<C-l>", "dismiss": False}
    assert "python" in r["resolved"]["filetypes"]
    assert len(r["warnings"]) == 3 and all("using" in w for w in r["warnings"]), r["warnings"]
    assert r["not_a_table"] == ["setup() expects a table, got string; using the defaults"]
    # Server settings go out camelCase; an empty model is left to the server.
    assert r["init_options"]["maxTokens"] == 40 and "model" not in r["init_options"]
    assert r["init_options"]["streaming"] is True and r["init_options"]["reportsShown"] is True
    assert r["init_options_native"]["streaming"] is False and r["init_options_native"]["reportsShown"] is False
    assert r["default_keys"] == {"tab": True, "word": True, "dismiss": True}
    assert r["changed_keys"] == {"tab": False, "ctrl_l": True, "word": True, "dismiss": False}
    assert r["progress"] == ["Ghostwright: Implement add 50% last line", "Ghostwright: ask", "",
                             "Ghostwright: Implement add: done"]
    assert r["stats_line"] == "Ghostwright stats: shown 4, accepted 1 (25%), latency p50 12 ms, latency p90 80 ms"
