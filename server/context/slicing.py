"""Slices of one document around the cursor: the raw material of a completion prompt.

Pure functions of (document, str offset, deadline): the file's imports, the signatures
of the scopes around the cursor, the identifiers near it (the prefix and suffix windows
are in ``windows.py``). Each slice carries the document lines it came from, so the
prompt builder can drop what the prefix window already shows, and each stops at its
``deadline`` (a ``time.monotonic()`` value) with what it has so far: a slow slice
degrades the prompt, it never delays the completion.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from ghostwright.server.context.document import Document
from ghostwright.server.context.symbols import header_end, header_span, unwrap

MAX_IMPORT_GAP = 200  # top-level nodes after the last import before we stop looking
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Slice:
    kind: str  # "imports" | "enclosing" | "prefix" | "suffix"
    text: str
    start_line: int  # first document line the text comes from
    end_line: int  # last document line the text comes from (inclusive)


def import_slices(doc: Document, *, before_line: int | None = None, deadline: float) -> list[Slice]:
    """Each top-level import (package clause, ``require``) as whole lines, in file order.

    Only nodes that start above ``before_line`` are read: a prompt uses imports the
    prefix window does not already show, and a 10,000-function file is not walked.
    """
    if doc.tree is None or doc.spec is None:
        return []
    spec, found, gap = doc.spec, [], 0
    limit = doc.lines.byte_offset(doc.lines.line_start(before_line)) if before_line else None
    for node in _top_level(doc.tree.root_node):
        if time.monotonic() > deadline or (limit is not None and node.start_byte >= limit):
            break
        is_require = node.type in spec.require_imports and b"require" in (node.text or b"")
        gap = 0 if node.type in spec.imports or is_require else gap + 1
        if gap > MAX_IMPORT_GAP:  # imports live at the top: stop reading function after function
            break
        if gap == 0:
            first, last = _lines_of(doc, node.start_byte, node.end_byte)
            text = doc.text[doc.lines.line_start(first) : doc.lines.line_end(last)]
            found.append(Slice("imports", text + "\n", first, last))
    return found


def enclosing_slices(doc: Document, offset: int, *, deadline: float) -> list[Slice]:
    """Signatures (+ docstrings) of the functions and classes around the cursor, outermost first."""
    if doc.tree is None or doc.spec is None:
        return []
    spec, source = doc.spec, doc.source
    cursor = doc.lines.byte_offset(offset)
    before = doc.text[doc.lines.line_start(doc.lines.line_of(offset)) : offset]
    indent = len(before) - len(before.lstrip())
    # In Python a blank line after a body still belongs to it: anchor on the last code byte.
    anchor = len(source[:cursor].rstrip()) - 1 if not before.strip() else cursor - 1
    node: Node | None = doc.tree.root_node.descendant_for_byte_range(max(anchor, 0), max(anchor, 0))
    found: list[Slice] = []
    while node is not None and time.monotonic() <= deadline:
        if node.type in spec.functions or node.type in spec.classes:
            outer = node
            while outer.parent is not None and unwrap(outer.parent, spec) == node:
                outer = outer.parent
            column = outer.start_point.column
            inside = cursor < node.end_byte or (spec.indent_scoped and indent > column)
            start, end = header_span(outer, node, source, spec)
            end = end if cursor >= end else header_end(node, source)
            if inside and cursor >= end:
                first, last = _lines_of(doc, start, end)
                text = source[start:end].decode("utf-8", "replace").rstrip() + "\n"
                found.append(Slice("enclosing", text, first, last))
        node = node.parent
    return found[::-1]


def identifiers_near(
    doc: Document, offset: int, *, before: int = 12, after: int = 4, deadline: float
) -> list[str]:
    """Identifiers on the lines around the cursor line, nearest first, for the index lookup.

    The cursor line itself is left out: what the user is typing must not change the
    prompt text that comes before the prefix window (the engine's prefix cache).
    """
    lines, line = doc.lines, doc.lines.line_of(offset)
    first, last = max(0, line - before), min(lines.line_count - 1, line + after)
    found: list[tuple[int, str]] = []  # (line, name)
    if doc.tree is not None:
        low = lines.byte_offset(lines.line_start(first))
        high = lines.byte_offset(lines.line_end(last))
        top = doc.tree.root_node.descendant_for_byte_range(low, high) or doc.tree.root_node
        _collect_identifiers(top, low, high, found, deadline)
    else:
        for number in range(first, last + 1):
            found += [(number, m[0]) for m in _WORD.finditer(lines.line_text(number))]
    ranked = sorted((abs(n - line) + (0.5 if n > line else 0), i, name)
                    for i, (n, name) in enumerate(found) if n != line)
    return list(dict.fromkeys(name for _, _, name in ranked if len(name) > 1))


def _top_level(root: Node) -> Iterator[Node]:
    """Children of ``root`` one at a time (``named_children`` would build them all)."""
    cursor = root.walk()
    more = cursor.goto_first_child()
    while more:
        if cursor.node is not None and cursor.node.is_named:
            yield cursor.node
        more = cursor.goto_next_sibling()


def _collect_identifiers(
    top: Node, low: int, high: int, found: list[tuple[int, str]], deadline: float
) -> None:
    """Identifier leaves overlapping bytes [low, high), in document order (a cursor walk)."""
    cursor = top.walk()
    if cursor.goto_first_child_for_byte(low) is None:
        return
    while time.monotonic() <= deadline:
        node = cursor.node
        if node is None or node.start_byte >= high:
            return
        if node.end_byte > low:
            if node.child_count == 0:
                if node.is_named and node.type.endswith("identifier") and node.text:
                    found.append((node.start_point.row, node.text.decode("utf-8", "replace")))
            elif cursor.goto_first_child():
                continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent() or cursor.node == top:
                return


def _lines_of(doc: Document, start_byte: int, end_byte: int) -> tuple[int, int]:
    """Document lines holding the bytes [start_byte, end_byte)."""
    lines = doc.lines
    first = lines.line_of(lines.offset_of_byte(start_byte))
    return first, lines.line_of(lines.offset_of_byte(max(start_byte, end_byte - 1)))
