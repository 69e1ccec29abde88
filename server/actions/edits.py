"""Replacements in a document snapshot, made minimal and turned into LSP TextEdits.

Why minimal: the edit an action returns must touch nothing outside its target, and an editor
keeps cursors, marks and undo history best when only the changed characters are replaced.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from lsprotocol import types

from ghostwright.server.context.positions import LineIndex


@dataclass(frozen=True)
class Replacement:
    """Replace ``text[start:end]`` (str offsets into the snapshot) with ``new_text``."""

    start: int
    end: int
    new_text: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.new_text + text[self.end :]


def apply_all(text: str, replacements: list[Replacement]) -> str:
    """Apply non-overlapping replacements (any order) to ``text``."""
    for r in sorted(replacements, key=lambda r: r.start, reverse=True):
        text = r.apply(text)
    return text


def overlapping(replacements: list[Replacement]) -> bool:
    ordered = sorted(replacements, key=lambda r: (r.start, r.end))
    return any(b.start < a.end for a, b in itertools.pairwise(ordered))


def minimal(text: str, replacement: Replacement) -> Replacement | None:
    """The same change with the unchanged head and tail trimmed off; None when nothing changes."""
    old = text[replacement.start : replacement.end]
    new = replacement.new_text
    if old == new:
        return None
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    # Never split a surrogate pair or a CRLF: back off to a safe boundary.
    while head and (old[head - 1] == "\r" or "\udc00" <= old[head - 1] <= "\udfff"):
        head -= 1
    return Replacement(replacement.start + head, replacement.end - tail, new[head : len(new) - tail])


def text_edit(lines: LineIndex, replacement: Replacement) -> types.TextEdit:
    (sl, sc), (el, ec) = lines.position(replacement.start), lines.position(replacement.end)
    return types.TextEdit(range=types.Range(types.Position(sl, sc), types.Position(el, ec)),
                          new_text=replacement.new_text)


def end_position(text: str) -> types.Position:
    """LSP position of the end of ``text`` (UTF-16 columns)."""
    line, character = LineIndex(text).position(len(text))
    return types.Position(line, character)
