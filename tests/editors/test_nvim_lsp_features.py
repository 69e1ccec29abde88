"""Hover, code actions and :Ghostwright ask in a real Neovim, through Neovim's own LSP paths
(vim.lsp.buf.hover, vim.lsp.buf.code_action), against the real server and default model.
One Neovim run (lua/scenarios/actions.lua) under the viewer, which saves the hover screen."""

from __future__ import annotations

import ast
import re

import pytest
from editors.nvim_runner import HERE, run_headless, server_cmd

# Model output must not depend on the machine: the full tier (not the router's pick) and a
# deadline that lets it end where the model stops, not where a busy machine cuts it.
GENEROUS = {"deadline_ms": 30000, "tier": "full"}


ACTIONS_FILE = '''def is_even(n: int) -> bool:
    return n % 2 == 0


def add(a: int, b: int) -> int:
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    """
    ...
'''
HOVER_SCREENSHOT = HERE / "artifacts" / "latest" / "nvim_hover"


@pytest.mark.default_model
def test_hover_explains_code_action_applies_and_ask_cites(default_profile, tmp_path):
    (tmp_path / "ws").mkdir()
    path = tmp_path / "ws" / "calc.py"
    path.write_text(ACTIONS_FILE)
    (tmp_path / "ws" / "pyproject.toml").write_text("")  # a project root: the server indexes it for ask
    setup = {"cmd": server_cmd(default_profile, tmp_path), "server": GENEROUS,
             "cmd_env": {"GHOSTWRIGHT_HOVER_BUDGET_MS": "30000"}}  # a whole explanation even on a busy machine
    r = run_headless(tmp_path, "actions", setup, file=str(path), hover_name="is_even",
                     hover_screenshot=str(HOVER_SCREENSHOT), stub_line=r"^    %.%.%.$", action_title="^Implement add",
                     question="what does is_even return?", progress_screenshot=str(tmp_path / "progress"),
                     ui=True, timeout_s=240)
    assert r["capabilities"] == {"hover": True, "code_action": True}

    # Hover: the signature, then a plain-language explanation the model wrote.
    hover = r["hover"]
    assert "def is_even(n: int) -> bool" in hover, hover
    prose = [line for line in hover.split("\n") if line.strip() and not line.startswith(("```", "*", "def "))]
    assert prose, f"no explanation in the hover: {hover}"
    assert prose[0].replace("`", "")[:40] in r["hover_screen"], "the explanation is not on screen"

    # The code action was offered by title and replaced the stub with a body; nothing else changed.
    assert "Implement add from its docstring" in r["action_titles"]
    before, after = r["before_action"], r["after_action"]
    assert after != before and "    ...\n" not in after + "\n"
    assert after.startswith(before[: before.index("    ...")]), "the edit touched text before the stub"
    progress_line = r["progress_screen"].rstrip("\n").split("\n")[-1]
    assert progress_line.startswith("Ghostwright: Implement"), r["progress_screen"]
    tree = ast.parse(path.read_text())
    add = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "add")
    assert not (len(add.body) == 2 and isinstance(add.body[1], ast.Expr)), "the body is still a stub"

    # :Ghostwright ask: an answer in a split that cites a real line of the workspace.
    cited = [int(n) for n in re.findall(r"calc\.py:(\d+)", r["answer"])]
    assert cited and all(1 <= n <= len(path.read_text().splitlines()) for n in cited), r["answer"]
