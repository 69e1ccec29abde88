"""What the model is asked for an implementation: two prompt shapes over the same function.

Restating: the function (with the imports and neighbouring definitions it may use) is shown as
code and the answer opens a fence, so the model writes the whole function again with a body.
Continuing: the answer starts as the user's own stub, opened onto the body's first line. They
fail differently, so mixing them gives more distinct candidates to verify.
"""

from __future__ import annotations

import textwrap

from ghostwright.server.actions.base import ActionContext
from ghostwright.server.actions.python_code import resume_after_docstring
from ghostwright.server.actions.targets import FunctionTarget, module_imports, top_level_definitions
from ghostwright.server.context.document import Document

CONTEXT_CHARS = 1500  # neighbouring definitions shown to the model, nearest first


def prompt(ctx: ActionContext, target: FunctionTarget) -> tuple[list[dict[str, str]], str, list[str]]:
    """Chat messages, the assistant prefill and stop strings.

    The function is shown as code in the user turn and the answer is started with a fence: the
    default model then restates the function with a body. Starting the answer with the function
    itself (so it only continues the body) does worse: it takes the code for finished and closes
    the fence (measured on HumanEval)."""
    code = shown_code(ctx.doc, target)
    what = "docstring" if target.docstring else "comment"
    user = (f"Complete the following Python function (see its {what}). Reply with the whole function in one "
            f"```python code block.\n\n```python\n{code}```")
    return ctx.messages(user), "```python\n", ["\n```"]


def continued_prefill(ctx: ActionContext, target: FunctionTarget, prefill: str) -> str:
    """The answer started as the user's own stub, opened onto the body's first line.

    A second way to ask: the model writes only the body (its first token barred from closing the
    block), under the very docstring the user wrote. It fails differently from restating the
    function, so mixing both shapes gives more distinct candidates, and it decodes fewer tokens."""
    stub = stub_text(ctx.text, target)
    opened = resume_after_docstring(stub, target.name) if target.docstring else None
    return prefill + (opened if opened is not None else stub.rstrip() + "\n    ")


def stub_text(text: str, target: FunctionTarget) -> str:
    """The function up to its docstring (or header), dedented to column 0, ending in a new line."""
    head_end = target.doc_end if target.doc_end is not None else target.header_end
    start = text.rfind("\n", 0, target.outer_start) + 1
    stub = textwrap.dedent(text[start:head_end]).rstrip() + "\n"
    if target.docstring is None and target.comment:
        stub = "".join(f"# {line}\n" for line in target.comment.split("\n")) + stub
    return stub


def shown_code(doc: Document, target: FunctionTarget) -> str:
    imports = "\n".join(module_imports(doc))
    neighbours: list[str] = []
    budget = CONTEXT_CHARS
    for definition in reversed(top_level_definitions(doc, target)):
        if doc.text.find(definition) > target.start or len(definition) > budget:
            continue  # after the function, or too long for the small context
        neighbours.insert(0, definition)
        budget -= len(definition)
    stub = stub_text(doc.text, target)
    parts = [p for p in (imports, *neighbours) if p.strip()]
    return "\n\n".join([*parts, stub.rstrip()]) + "\n" if parts else stub
