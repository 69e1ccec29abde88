"""Rewrite selection: the selected lines rewritten by the model following the user's instruction.

The instruction comes as a command argument (editors ask the user for it), so the code
action only offers the command; ``run`` does the work once the instruction is known.
"""

from __future__ import annotations

import textwrap

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, InvalidAnswer, Offer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.chat_runner import ChatResult
from ghostwright.server.context.document import Document

ID = "rewrite"
KIND = "refactor.rewrite"
COMMAND = "ghostwright.rewriteSelection"
MAX_INSTRUCTION = 500
MAX_SELECTION = 4000
MIN_TOKENS, MAX_TOKENS = 64, 400


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to whole lines (the final line break excluded)."""
    if end > start and text[end - 1] == "\n":
        end -= 1
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return line_start, len(text) if line_end == -1 else line_end


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    if end <= start or not doc.text[start:end].strip():
        return []
    return [Offer(ID, "Rewrite the selection…", KIND, {})]


def _fence(doc: Document) -> str:
    return doc.language or ""


async def run(ctx: ActionContext) -> ActionResult:
    instruction = ctx.data.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ActionError("Rewrite selection needs an instruction (the command's \"instruction\" argument)")
    instruction = instruction.strip()[:MAX_INSTRUCTION]
    if ctx.end <= ctx.start:
        raise ActionError("select the code to rewrite first")
    start, end = whole_lines(ctx.text, ctx.start, ctx.end)
    selected = ctx.text[start:end]
    if len(selected) > MAX_SELECTION:
        raise ActionError(f"the selection is too long to rewrite ({len(selected)} characters; at most {MAX_SELECTION})")
    indent = selected[: len(selected) - len(selected.lstrip(" \t"))]
    code = textwrap.dedent(selected)
    lang = _fence(ctx.doc)
    messages = ctx.messages(f"Rewrite this {lang or 'code'}: {instruction}\nAnswer with the rewritten code only."
                            f"\n```{lang}\n{code}\n```")
    prefill = f"```{lang}\n"
    engine = await ctx.server.engines.get()
    budget = max(MIN_TOKENS, min(MAX_TOKENS, 2 * engine.count_tokens(code) + 32))

    def build(result: ChatResult) -> list[Replacement]:
        new = extract_code(result.text, prefill).rstrip("\n")
        if not new.strip():
            raise InvalidAnswer("the answer has no code")
        if result.finish is not None and result.finish.value == "length":
            raise InvalidAnswer("the answer was cut off")
        new = textwrap.indent(textwrap.dedent(new), indent)
        return [Replacement(start, end, new)]

    replacements, _, _ = await ctx.until_valid(messages, build, max_tokens=budget, label="rewrite", stop=["\n```"],
                                                prefill=prefill, copies_input=True)
    return ActionResult(replacements, f"Rewrote {selected.count(chr(10)) + 1} line(s): {instruction}")
