"""Golden tests for prompt assembly, one case per language and situation.

Each case is a source file ``golden/<case>.<ext>`` holding one ``<|cursor|>`` marker, and
``golden/<case>.expected.txt`` with the prompt as a tier renders it, the mode, the stop
strings and the pieces with their token counts. FIM cases are rendered in Qwen2.5-Coder's
repository-level format (control tokens shown by name), the others as SmolLM2 reads them: the
file with the snippets as comments, ending at ``<|cursor|>``.

To regenerate the expected files after an intended change, run

    GHOSTWRIGHT_UPDATE_GOLDEN=1 python -m pytest tests/unit/server/completion/test_prompt_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostwright.inference.prompt_format import CODE, REPO_FIM, PromptFormat, render_infill
from ghostwright.server.completion.prompt import CompletionPrompt, build_completion_prompt
from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import spec_for
from ghostwright.server.context.workspace_index import WorkspaceIndex

GOLDEN = Path(__file__).parent / "golden"
CURSOR = "<|cursor|>"
NAMES = {1: "<|fim_prefix|>", 2: "<|fim_suffix|>", 3: "<|fim_middle|>", 4: "<|repo_name|>", 5: "<|file_sep|>"}
REPO_FORMAT = PromptFormat(REPO_FIM, (1, 2, 3), (4, 5))
CODE_FORMAT = PromptFormat(CODE)
UPDATE = os.environ.get("GHOSTWRIGHT_UPDATE_GOLDEN") == "1"


def count_tokens(text: str) -> int:
    """Deterministic stand-in for a tokenizer: about four UTF-8 bytes a token."""
    return len(text.encode()) // 4 + 1


@dataclass(frozen=True)
class Case:
    source: str  # file name under golden/
    at: str  # path of the document in the (tmp) workspace
    budget: int = 256
    fim: bool = False
    workspace: str | None = None  # folder under golden/ copied as the workspace


CASES = {
    "py_empty_function_body": Case("py_empty_function_body.py", "geometry.py"),
    "py_mid_expression": Case("py_mid_expression.py", "stats.py"),
    "py_class_method": Case("py_class_method.py", "settings.py", budget=150),
    "py_cross_file": Case("py_cross_file.py", "app/main.py", budget=400, workspace="py_workspace"),
    "py_cross_file_fim": Case("py_cross_file.py", "app/main.py", budget=400, fim=True, workspace="py_workspace"),
    "py_fim": Case("py_fim.py", "fib.py", fim=True),
    "js_function": Case("js_function.js", "src/count.js"),
    "ts_class_method": Case("ts_class_method.ts", "src/queue.ts", budget=120),
    "go_method": Case("go_method.go", "stack/stack.go", fim=True),
    "rs_impl": Case("rs_impl.rs", "src/counter.rs", budget=90),
    "java_method": Case("java_method.java", "Inventory.java", budget=110),
    "c_function": Case("c_function.c", "reverse.c"),
    "cpp_method": Case("cpp_method.cpp", "polygon.cpp", budget=80),
    "lua_function": Case("lua_function.lua", "config.lua"),
    "txt_plain": Case("txt_plain.txt", "notes.txt", fim=True),
}


def build(case: Case, root: Path) -> CompletionPrompt:
    marked = (GOLDEN / case.source).read_text()
    offset, text = marked.index(CURSOR), marked.replace(CURSOR, "")
    index, recent = None, RecentEdits()
    if case.workspace:
        shutil.copytree(GOLDEN / case.workspace, root, dirs_exist_ok=True)
        target = root / case.at
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        index = WorkspaceIndex(root)
        index.scan()
        other = root / "pkg" / "util.py"
        edited = Document(other.as_uri(), "python", other.read_text(), 1)
        recent.record(edited, 5)
    spec = spec_for(None, case.at)
    doc = Document((root / case.at).as_uri(), spec.name if spec else "plaintext", text, 1)
    return build_completion_prompt(
        doc, offset, index=index, recent_edits=recent, count_tokens=count_tokens,
        budget_tokens=case.budget, fim=case.fim, repo="workspace",
        time_budget_s=10.0,  # goldens are about content; a loaded machine must not drop pieces
    )


def render(name: str, case: Case, built: CompletionPrompt) -> str:
    rendered = render_infill(REPO_FORMAT if case.fim else CODE_FORMAT, built.prompt)
    body = "".join(NAMES[s] if isinstance(s, int) else s for s in rendered.segments)
    pieces = " ".join(f"{p.kind}={p.tokens}" for p in built.pieces)
    return (
        f"case: {name} ({case.at}, budget={case.budget}, fim={'yes' if case.fim else 'no'})\n"
        f"mode: {built.mode}\n"
        f"stop: {json.dumps(built.stop)}\n"
        f"pieces: {pieces}\n"
        f"suffix: {json.dumps(built.suffix)}\n"
        "---- prompt ----\n"
        f"{body}{'' if case.fim else CURSOR}\n"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_prompt(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    rendered = render(name, case, build(case, tmp_path))
    expected_file = GOLDEN / f"{name}.expected.txt"
    if UPDATE:
        expected_file.write_text(rendered)
    assert expected_file.exists(), f"no {expected_file.name}: run with GHOSTWRIGHT_UPDATE_GOLDEN=1"
    assert rendered == expected_file.read_text()


def test_every_golden_source_has_a_case() -> None:
    sources = {
        p.name for p in GOLDEN.iterdir()
        if p.is_file() and not p.name.endswith(".expected.txt") and CURSOR in p.read_text()
    }
    assert sources == {case.source for case in CASES.values()}
