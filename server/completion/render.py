"""Context from other files: definitions used near the cursor, code like the code above it, and
recent edits elsewhere; and from this file, code below the cursor like the code above it.

Each comes back as (path, code): the model that runs the request spells them its own way
(as ``<|file_sep|>path`` files for Qwen2.5-Coder, as comments for a model without repository
tokens; see :class:`ghostwright.inference.api.InfillPrompt`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol

from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.context.definitions import Definition
from ghostwright.server.context.document import Document
from ghostwright.server.context.similar_code import QUERY_LINES, Match, query_lines
from ghostwright.server.context.similar_here import best_window
from ghostwright.server.context.slicing import identifiers_near

MAX_DEFINITIONS = 6  # cross-file definitions looked up from identifiers near the cursor
MAX_METHODS = 6  # method signatures shown under a class found in another file
MAX_RECENT = 3  # recent-edit snippets
MAX_SIMILAR = 2  # windows of similar code from other files
MAX_BELOW_LINES = 400  # how far below the cursor this file's own code is searched
BELOW_CONTINUATION = 6  # lines after the matching window: what followed code like the cursor's


class SymbolIndex(Protocol):
    """What the prompt needs of the workspace index."""

    def lookup(self, names: Iterable[str]) -> list[Definition]: ...

    def definitions_in(self, path: str) -> list[Definition]: ...

    def relative_path(self, path: str) -> str | None: ...

    def similar_to(self, code: str, *, exclude: str | None = None, limit: int = 2) -> list[Match]: ...


def definition_pieces(
    doc: Document, offset: int, index: SymbolIndex | None, here: str, deadline: float,
) -> list[tuple[str, str]]:
    """Signatures (and docs) of symbols used near the cursor and defined in other files."""
    if index is None:
        return []
    names = identifiers_near(doc, offset, deadline=deadline)
    found = [d for d in index.lookup(names) if d.path != here and d.kind != "method"]
    rendered = []
    for definition in found[:MAX_DEFINITIONS]:
        lines = _definition_lines(definition)
        if definition.kind == "class":
            methods = [m for m in index.definitions_in(definition.path)
                       if m.container == definition.name and m.kind == "method"]
            lines += [_indent(m.signature) for m in methods[:MAX_METHODS]]
        rendered.append((definition.path, "".join(line + "\n" for line in lines)))
    return rendered


def _definition_lines(definition: Definition) -> list[str]:
    if not definition.doc:
        return definition.signature.splitlines()
    if definition.language == "python":  # the docstring belongs inside the body
        return [*definition.signature.splitlines(), *_indent(definition.doc).splitlines()]
    return [*definition.doc.splitlines(), *definition.signature.splitlines()]


def similar_pieces(doc: Document, offset: int, index: SymbolIndex | None, here: str) -> list[tuple[str, str]]:
    """Windows of other files that share the most identifiers with the lines above the cursor line.
    The cursor line is not part of the query: typing on it must not change the prompt's head."""
    if index is None:
        return []
    return [(m.path, m.text) for m in index.similar_to(_query(doc, offset), exclude=here, limit=MAX_SIMILAR)]


def _query(doc: Document, offset: int) -> str:
    """The non-blank lines above the cursor line (not the cursor line: typing on it must not change
    what is found)."""
    line = doc.lines.line_of(offset)
    above = doc.text[doc.lines.line_start(max(0, line - 3 * QUERY_LINES)) : doc.lines.line_start(line)]
    return query_lines(above.split("\n"))


def below_pieces(doc: Document, offset: int, from_line: int, here: str) -> list[tuple[str, str]]:
    """The stretch of this file below ``from_line`` most like the lines above the cursor line: a
    model that is given only the prefix at a line start (Qwen2.5-Coder-0.5B, see the catalogue)
    otherwise never sees how the rest of the file does what the cursor is about to do. Read from
    the editor's text, never the index's copy of the file."""
    lines = _lines(doc, from_line, from_line + MAX_BELOW_LINES)
    found = best_window(lines, _query(doc, offset))
    if found is None:
        return []
    start, end = found[0], min(len(lines), found[1] + BELOW_CONTINUATION)
    return [(here, "".join(text + "\n" for text in lines[start:end]))]


def _lines(doc: Document, first: int, end: int) -> list[str]:
    """Lines [first, end) of ``doc``, those that exist, from one slice of its text."""
    first, end = min(first, doc.lines.line_count), min(end, doc.lines.line_count)
    if first >= end:
        return []
    stop = doc.lines.line_start(end) - 1 if end < doc.lines.line_count else len(doc.text)
    return doc.text[doc.lines.line_start(first) : stop].split("\n")


def recent_pieces(
    doc: Document, window_start: int, window_end: int, recent: RecentEdits | None,
    index: SymbolIndex | None,
) -> list[tuple[str, str]]:
    """Recent edits in other documents, or in this one away from the windows."""
    found = []
    for edit in recent.entries() if recent is not None else []:
        near = edit.start_line <= window_end and window_start <= edit.end_line
        if edit.uri == doc.uri and near:
            continue
        path = display_path(edit.path or edit.uri, index)
        found.append((path, edit.text if edit.text.endswith("\n") else edit.text + "\n"))
    return found[:MAX_RECENT]


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines()).rstrip("\n")


def display_path(path: str, index: SymbolIndex | None) -> str:
    relative = index.relative_path(path) if index is not None else None
    return relative or os.path.basename(path.rstrip("/")) or path
