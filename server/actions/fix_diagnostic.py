"""Fix this diagnostic: a quickfix for a diagnostic the client sent in the code action context.

The model sees the lines around the problem and the diagnostic's message, and rewrites only
the lines the diagnostic covers; the result must parse where it lands.
"""

from __future__ import annotations

import textwrap
from typing import Any

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, InvalidAnswer, Offer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.rewrite import whole_lines
from ghostwright.server.chat_runner import ChatResult
from ghostwright.server.context.document import Document

ID = "fix"
KIND = "quickfix"
CONTEXT_LINES = 12
MAX_LINES = 40
MAX_TOKENS = 256
TRIES = 4


def without_context(answer: str, before: set[str], after: set[str]) -> str:
    """The answer minus lines it repeated from around the target (the model often restates them)."""
    lines = answer.split("\n")
    while len(lines) > 1 and lines[0].strip() in before:
        lines.pop(0)
    while len(lines) > 1 and lines[-1].strip() in after:
        lines.pop()
    return "\n".join(lines)


def offers(doc: Document, diagnostics: list[dict[str, Any]]) -> list[Offer]:
    found = []
    for diagnostic in diagnostics:
        message = str(diagnostic.get("message", "")).strip()
        if not message:
            continue
        short = message.split("\n")[0]
        short = short if len(short) <= 60 else short[:57] + "…"
        found.append(Offer(ID, f"Fix: {short}", KIND, {"diagnostic": diagnostic}, diagnostic=diagnostic))
    return found


def _span(ctx: ActionContext, diagnostic: dict[str, Any]) -> tuple[int, int]:
    try:
        start = diagnostic["range"]["start"]
        end = diagnostic["range"]["end"]
        first = ctx.doc.offset_at(int(start["line"]), int(start["character"]))
        last = ctx.doc.offset_at(int(end["line"]), int(end["character"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ActionError(f"the diagnostic's range is not usable: {exc}") from exc
    except Exception as exc:  # RequestError: past the end of the document
        raise ActionError(f"the diagnostic points outside the document: {exc}") from exc
    return whole_lines(ctx.text, first, max(first, last))


async def run(ctx: ActionContext) -> ActionResult:
    diagnostic = ctx.data.get("diagnostic")
    if not isinstance(diagnostic, dict):
        raise ActionError("no diagnostic to fix")
    start, end = _span(ctx, diagnostic)
    target = ctx.text[start:end]
    if target.count("\n") >= MAX_LINES:
        raise ActionError(f"the diagnostic covers more than {MAX_LINES} lines")
    before_start = start
    for _ in range(CONTEXT_LINES):
        before_start = ctx.text.rfind("\n", 0, max(0, before_start - 1)) + 1
        if before_start == 0:
            break
    after_end = end
    for _ in range(CONTEXT_LINES // 2):
        found = ctx.text.find("\n", after_end + 1)
        after_end = len(ctx.text) if found == -1 else found
    lang = ctx.doc.language or ""
    indent = target[: len(target) - len(target.lstrip(" \t"))]
    # Only the lines themselves: with the code around them too, the default model restates that
    # code instead of fixing the lines (measured); the context still strips restated lines below.
    messages = ctx.messages(f"This {lang or 'code'} has an error: {diagnostic.get('message')}\n"
                            f"```{lang}\n{textwrap.dedent(target)}\n```\nWrite the corrected code.")
    prefill = f"```{lang}\n"

    before = {line.strip() for line in ctx.text[before_start:start].split("\n") if line.strip()}
    after = {line.strip() for line in ctx.text[end:after_end].split("\n") if line.strip()}

    def build(result: ChatResult) -> list[Replacement]:
        new = without_context(extract_code(result.text, prefill).rstrip("\n"), before, after)
        if not new.strip():
            raise InvalidAnswer("the answer has no code")
        if result.finish is not None and result.finish.value == "length":
            raise InvalidAnswer("the answer was cut off")
        new = textwrap.indent(textwrap.dedent(new), indent)
        if new == target:
            raise InvalidAnswer("the answer changes nothing")
        return [Replacement(start, end, new)]

    replacements, _, _ = await ctx.until_valid(messages, build, max_tokens=MAX_TOKENS, label="fix", stop=["\n```"],
                                                prefill=prefill, tries=TRIES, copies_input=True)
    return ActionResult(replacements, f"Fixed: {str(diagnostic.get('message', '')).splitlines()[0][:80]}")
