"""Generate unit tests: pytest tests for the function at the cursor, in test_<module>.py beside it.

The test file is created when missing (a WorkspaceEdit with a CreateFile) or extended at its end
when it exists (read from the editor when open there, from disk otherwise). Only what the model
wrote as ``test_*`` functions is kept: prose, prints and stray calls are dropped.
"""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, FileEdit, InvalidAnswer, Offer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.python_code import parse_prefix
from ghostwright.server.actions.targets import function_at, module_imports
from ghostwright.server.actions.validate import syntax_problems
from ghostwright.server.chat_runner import ChatResult
from ghostwright.server.context.document import Document

ID = "unit_tests"
KIND = "refactor"  # a new file, not a rewrite of the code at the cursor
MAX_TOKENS = 200
MAX_TEST_FILE_BYTES = 1 << 20


def test_path(module: Path) -> Path:
    return module.with_name(f"test_{module.stem}.py")


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    target = function_at(doc, start, end)
    if target is None or doc.path is None or target.in_class or target.name.startswith("_"):
        return []
    module = Path(doc.path)
    if module.name.startswith("test_") or target.is_stub:
        return []
    return [Offer(ID, f"Generate unit tests for {target.name} in {test_path(module).name}", KIND,
                  {"function": target.name, "offset": target.start})]


def keep_tests(code: str, existing: str, module: str, name: str) -> str:
    """The imports and ``test_*`` functions of ``code``, renamed where ``existing`` has the name."""
    tree = parse_prefix(code)
    lines = code.split("\n")
    taken = {n.name for n in ast.parse(existing).body if isinstance(n, ast.FunctionDef)} if existing else set()
    have = {line.strip() for line in existing.split("\n")}
    kept_imports: list[str] = []
    tests: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            line = ast.unparse(node)
            if line not in have and line not in kept_imports:
                kept_imports.append(line)
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            if not any(isinstance(n, (ast.Assert, ast.With)) for n in ast.walk(node)):
                continue
            source = "\n".join(lines[(node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
                                     : node.end_lineno])
            new_name = node.name
            suffix = 2
            while new_name in taken:
                new_name, suffix = f"{node.name}_{suffix}", suffix + 1
            taken.add(new_name)
            tests.append(source.replace(f"def {node.name}(", f"def {new_name}(", 1))
    if not tests:
        raise InvalidAnswer("the answer has no test function with an assert")
    own = f"from {module} import {name}"
    if own not in have and own not in kept_imports:
        kept_imports.insert(0, own)
    head = "\n".join(kept_imports)
    return (head + "\n\n\n" if head else "") + "\n\n\n".join(tests) + "\n"


def _existing(ctx: ActionContext, path: Path) -> tuple[str, int | None, bool]:
    """(text, open version or None, exists) of the test file."""
    uri = path.as_uri()
    open_doc = ctx.server.documents.get(uri)
    if open_doc is not None:
        return open_doc.text, open_doc.version, True
    if path.is_dir():
        raise ActionError(f"{path.name} is a directory")
    if not path.exists():
        return "", None, False
    if path.stat().st_size > MAX_TEST_FILE_BYTES:
        raise ActionError(f"{path.name} is too large to extend")
    try:
        return path.read_text(encoding="utf-8"), None, True
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionError(f"cannot read {path.name}: {exc}") from exc


async def run(ctx: ActionContext) -> ActionResult:
    offset = ctx.data.get("offset")
    target = function_at(ctx.doc, offset) if isinstance(offset, int) and 0 <= offset <= len(ctx.text) else None
    if target is None or target.name != ctx.data.get("function") or ctx.doc.path is None:
        raise ActionError(f"the function {ctx.data.get('function')!r} is no longer where it was")
    module_path = Path(ctx.doc.path)
    path = test_path(module_path)
    existing, version, exists = _existing(ctx, path)
    try:
        ast.parse(existing)
    except SyntaxError as exc:
        raise ActionError(f"{path.name} does not parse (line {exc.lineno}); fix it first") from exc
    module = module_path.stem
    line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
    imports = "\n".join(module_imports(ctx.doc))
    function = textwrap.dedent(ctx.text[line_start : target.end])
    messages = ctx.messages(f"Write pytest unit tests for this function from {module}.py. Use plain assert "
                            f"statements.\n```python\n{imports}\n\n{function}\n```".replace("\n\n\n", "\n\n"))
    prefill = f"```python\nfrom {module} import {target.name}\n\n\ndef test_{target.name}"
    text_holder: dict[str, str] = {}

    def build(result: ChatResult) -> list[Replacement]:
        tests = keep_tests(extract_code(result.text, prefill), existing, module, target.name)
        if existing.strip():
            lead = "\n" if existing.endswith("\n") else "\n\n"
            lead += "\n" if not existing.endswith("\n\n\n") else ""
            addition = lead + tests
        else:
            addition = tests
        new_text = existing + addition
        problems = syntax_problems(ctx.doc.spec, new_text, len(existing), len(new_text))
        if problems:
            raise InvalidAnswer("; ".join(problems))
        text_holder["addition"] = addition
        return []  # nothing changes in the module itself

    await ctx.until_valid(messages, build, max_tokens=MAX_TOKENS, label="unit tests", stop=["\n```"],
                          prefill=prefill)
    addition = text_holder["addition"]
    count = addition.count("\ndef test_") + addition.startswith("def test_")
    edit = FileEdit(path.as_uri(), existing, Replacement(len(existing), len(existing), addition),
                    create=not exists, version=version)
    where = "added to" if exists else "created"
    return ActionResult([], f"{count} test{'s' if count != 1 else ''} for {target.name}: {path.name} {where}"
                            f" ({os.path.relpath(path, module_path.parent)})", file_edits=[edit])
