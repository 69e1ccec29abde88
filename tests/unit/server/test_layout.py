"""The house rules of ``server/`` (see server/README.md), checked on the source itself.

Each capability folder may import only what the map says, no feature imports a sibling
feature, the root holds plumbing only, and no module grows past 250 lines; a move that
breaks the map fails here rather than in a reviewer's head.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[3] / "server"
PLUMBING = {"__init__", "app", "main", "settings", "engine_holder", "lsp_errors", "lsp_stdin", "work_progress",
            "telemetry", "prompt_trace", "chat_runner", "agents_md", "repetition"}
CAPABILITIES = {"features", "completion", "context", "hover", "ask", "actions", "verify"}
COMPOSITION_ROOTS = {"app", "main"}  # they wire the capabilities together, so they may import any
MAY_IMPORT = {  # server subpackage -> the other subpackages it may import (the root's plumbing is open to all)
    "context": set(),
    "verify": set(),
    "completion": {"context"},
    "hover": {"context"},
    "ask": {"context"},
    "actions": {"context", "verify"},
    "features": {"completion", "context", "hover", "ask", "actions", "verify"},
    "(root)": {"context"},
}
INFERENCE_SEAM = {"ghostwright.inference.api", "ghostwright.inference.chat"}  # what server/ may know of inference
MAX_LINES = 250


def modules() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def area(path: Path) -> str:
    parts = path.relative_to(SERVER).parts
    return parts[0] if len(parts) > 1 else "(root)"


def server_area(module: str) -> str | None:
    """The server subpackage ``module`` (a dotted name) lies in, "(root)" for plumbing, None outside server."""
    parts = module.split(".")
    if parts[:2] != ["ghostwright", "server"] or len(parts) < 3:
        return None
    return parts[2] if (SERVER / parts[2]).is_dir() else "(root)"


def test_the_root_holds_plumbing_and_capability_folders_only() -> None:
    assert {p.stem for p in SERVER.glob("*.py")} == PLUMBING
    folders = {p.name for p in SERVER.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == CAPABILITIES


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SERVER)))
def test_each_module_imports_only_what_the_map_allows(path: Path) -> None:
    here = area(path)
    if here == "(root)" and path.stem in COMPOSITION_ROOTS:
        return
    for module in imported(path):
        there = server_area(module)
        if there is None or there in (here, "(root)"):
            continue
        assert there in MAY_IMPORT[here], f"{path.relative_to(SERVER)} imports {module}: {here} may not use {there}"


@pytest.mark.parametrize("path", sorted((SERVER / "features").glob("*.py")), ids=lambda p: p.name)
def test_no_feature_imports_a_sibling_feature(path: Path) -> None:
    siblings = {module for module in imported(path) if module.startswith("ghostwright.server.features.")}
    assert not siblings, f"features/{path.name} imports {sorted(siblings)}: shared code belongs in the plumbing"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SERVER)))
def test_the_server_knows_inference_only_through_its_seam(path: Path) -> None:
    for module in imported(path):
        assert not module.startswith(("onnxruntime", "ghostwright.export")), f"{path.name} imports {module}"
        if module == "ghostwright.inference.load_engine":  # loading a bundle is main's job alone
            assert path.stem == "main", f"{path.name} loads an engine itself"
        elif module.startswith("ghostwright.inference") and module != "ghostwright.inference":
            owner = ".".join(module.split(".")[:3])
            assert owner in INFERENCE_SEAM, f"{path.name} imports {module}: only {sorted(INFERENCE_SEAM)} are the seam"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SERVER)))
def test_no_module_is_over_250_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SERVER)} has {lines} lines: split it along its seams"
