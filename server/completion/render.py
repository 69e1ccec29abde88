"""Context from other files, rendered as comments in the current file's language.

A prompt must read like the file being written (see :mod:`.prompt`), so a definition
from ``pkg/util.py`` or a snippet the user just edited appears as

    # Compare this snippet from pkg/util.py:
    # def helper(x: int) -> str:
    #     '''Format x.'''
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol

from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.context.definitions import Definition
from ghostwright.server.context.document import Document
from ghostwright.server.context.slicing import identifiers_near

MAX_DEFINITIONS = 6  # cross-file definitions looked up from identifiers near the cursor
MAX_METHODS = 6  # method signatures shown under a class found in another file
MAX_RECENT = 3  # recent-edit snippets


class SymbolIndex(Protocol):
    """What the prompt needs of the workspace index."""

    def lookup(self, names: Iterable[str]) -> list[Definition]: ...

    def definitions_in(self, path: str) -> list[Definition]: ...

    def relative_path(self, path: str) -> str | None: ...


def definition_pieces(
    doc: Document, offset: int, index: SymbolIndex | None, here: str, comment: str,
    deadline: float,
) -> list[tuple[str, str]]:
    """Commented signatures of symbols used near the cursor and defined in other files."""
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
        rendered.append((definition.path, _commented(definition.path, lines, comment)))
    return rendered


def _definition_lines(definition: Definition) -> list[str]:
    if not definition.doc:
        return definition.signature.splitlines()
    if definition.language == "python":  # the docstring belongs inside the body
        return [*definition.signature.splitlines(), *_indent(definition.doc).splitlines()]
    return [*definition.doc.splitlines(), *definition.signature.splitlines()]


def recent_pieces(
    doc: Document, window_start: int, window_end: int, recent: RecentEdits | None,
    index: SymbolIndex | None, comment: str,
) -> list[tuple[str, str]]:
    """Recent edits in other documents, or in this one away from the windows."""
    found = []
    for edit in recent.entries() if recent is not None else []:
        near = edit.start_line <= window_end and window_start <= edit.end_line
        if edit.uri == doc.uri and near:
            continue
        path = display_path(edit.path or edit.uri, index)
        found.append((path, _commented(path, edit.text.splitlines(), comment)))
    return found[:MAX_RECENT]


def _commented(path: str, lines: list[str], comment: str) -> str:
    body = "".join(f"{comment} {line}".rstrip() + "\n" for line in lines)
    return f"{comment} Compare this snippet from {path}:\n{body}"


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines()).rstrip("\n")


def display_path(path: str, index: SymbolIndex | None) -> str:
    relative = index.relative_path(path) if index is not None else None
    return relative or os.path.basename(path.rstrip("/")) or path
