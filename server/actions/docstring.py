"""Add docstring: a Python function without one gets a short docstring written by the model.

The answer is started for the model inside the new docstring (signature shown, ``\"\"\"`` opened),
so all it writes is prose, which is then placed under the header at the body's indentation.
"""

from __future__ import annotations

import textwrap

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, InvalidAnswer, Offer
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.targets import FunctionTarget, function_at
from ghostwright.server.chat_runner import ChatResult
from ghostwright.server.context.document import Document

ID = "docstring"
KIND = "refactor.rewrite"
MAX_TOKENS = 96
WIDTH = 100


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    target = function_at(doc, start, end)
    if target is None or target.docstring is not None:
        return []
    return [Offer(ID, f"Add a docstring to {target.name}", KIND, {"function": target.name, "offset": target.start})]


def _target(ctx: ActionContext) -> FunctionTarget:
    offset = ctx.data.get("offset")
    target = function_at(ctx.doc, offset) if isinstance(offset, int) and 0 <= offset <= len(ctx.text) else None
    if target is None or target.name != ctx.data.get("function"):
        raise ActionError(f"the function {ctx.data.get('function')!r} is no longer where it was")
    if target.docstring is not None:
        raise ActionError(f"{target.name} already has a docstring")
    return target


def docstring_text(answer: str) -> str:
    """The prose the model wrote, cleaned: no quotes, no fences, whole sentences."""
    text = answer.split('"""')[0].split("```")[0].strip()
    if not text:
        raise InvalidAnswer("the docstring is empty")
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return text


async def run(ctx: ActionContext) -> ActionResult:
    target = _target(ctx)
    line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
    function = textwrap.dedent(ctx.text[line_start : target.end])
    header = textwrap.dedent(ctx.text[line_start : target.header_end])
    messages = ctx.messages(f"Write a short docstring for this Python function: what it does, its arguments "
                            f"and what it returns.\n```python\n{function}\n```")
    prefill = f'```python\n{header}\n    """'

    def build(result: ChatResult) -> list[Replacement]:
        text = docstring_text(result.text)
        if result.finish is not None and result.finish.value == "length":  # cut off: keep whole sentences
            cut = text.rfind(".")
            if cut <= 0:
                raise InvalidAnswer("the docstring was cut off before its first sentence ended")
            text = text[: cut + 1]
        lines = [line.strip() for line in text.split("\n")]
        paragraphs = "\n".join(lines).strip()
        wrapped = "\n".join(textwrap.fill(p, WIDTH - len(target.indent)) if p else "" for p in paragraphs.split("\n"))
        body = wrapped.replace("\n", "\n" + target.indent).replace("\n" + target.indent + "\n", "\n\n")
        closing = f"\n{target.indent}" if "\n" in wrapped else ""
        new = f'\n{target.indent}"""{body}{closing}"""'
        return [Replacement(target.header_end, target.header_end, new)]

    replacements, _, _ = await ctx.until_valid(messages, build, max_tokens=MAX_TOKENS, label="docstring",
                                                stop=['"""', "\n```"], prefill=prefill)
    return ActionResult(replacements, f"Added a docstring to {target.name}")
