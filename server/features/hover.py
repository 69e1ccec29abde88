"""textDocument/hover: the signature of the function, class, method or variable under the
cursor, and a short plain-language explanation written by the model.

The explanation runs at background priority within a time budget (see
``hover/service.py``): typing is never delayed, and a slow model yields the signature
with what it has so far instead of a hover that hangs. AGENTS.md instructions that
apply to the document go into the prompt.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ghostwright.server.agents_md import instructions_for, workspace_roots
from ghostwright.server.context.secrets import is_secret_file
from ghostwright.server.hover.service import INSTRUCTION_CHARS, Explanation, HoverService
from ghostwright.server.hover.target import HoverTarget, find_target
from ghostwright.server.lsp_errors import lsp_boundary


def render(target: HoverTarget, explanation: Explanation) -> str:
    """Markdown: signature in a code block, where it is defined, the doc, then the explanation."""
    parts = [f"```{target.language}\n{target.signature}\n```"]
    where = f"{target.kind}" + (f" · defined in `{target.path}:{target.line + 1}`" if target.path else "")
    parts.append(f"*{where}*")
    if target.doc:
        parts.append(_plain_doc(target.doc))
    if explanation.text:
        parts.append(explanation.text + ("…" if explanation.state == "partial" else ""))
    if explanation.note:
        parts.append(f"_({explanation.note})_")
    return "\n\n".join(parts)


def _plain_doc(doc: str) -> str:
    """A docstring or comment block without its quotes and comment markers."""
    lines = [line.strip().strip('"\'').lstrip("/*#-! ").rstrip("*/ ") for line in doc.strip().splitlines()]
    return "\n".join(line for line in lines if line).strip()


def register(server) -> None:
    service = server.hovers = HoverService(server)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @lsp_boundary
    async def hover(ls, params: types.HoverParams) -> types.Hover | None:
        doc = server.document(params.text_document.uri)
        offset = doc.offset_at(params.position.line, params.position.character)  # RequestError past the end
        if doc.path and is_secret_file(doc.path):
            return None
        target = find_target(doc, offset, server.index)
        if target is None:
            return None
        roots = workspace_roots(server)
        instructions = instructions_for(Path(doc.path), roots, INSTRUCTION_CHARS, compact=True) if doc.path else ""
        explanation = await service.explain(target, instructions, str(server.protocol.msg_id))
        start, end = (doc.position_at(o) for o in target.span)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=render(target, explanation)),
            range=types.Range(types.Position(*start), types.Position(*end)))
