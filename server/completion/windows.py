"""The prefix and suffix windows: the document text right around the cursor.

The prefix window is the one piece every prompt has. It starts at a statement that
still encloses the cursor (never mid-call, never inside the previous function's body),
and its start does not move while the user types on the cursor line: the lines above
are paid from the budget minus a fixed reserve for the cursor line, so the engine's
prefix cache survives keystrokes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ghostwright.server.context.document import Document
from ghostwright.server.context.slicing import Slice

CURRENT_LINE_RESERVE = 64  # tokens kept for the cursor line, so typing never moves the window
MAX_SNAP_LINES = 40  # how far the window start may move forward to reach a statement start


def prefix_window(
    doc: Document, offset: int, *, max_tokens: int, count_tokens: Callable[[str], int],
    deadline: float,
) -> Slice:
    """Text from a statement start above the cursor up to the cursor, within ``max_tokens``.

    Lines above the cursor line are paid from ``max_tokens - CURRENT_LINE_RESERVE``, so
    the start does not move while the user types on the cursor line.
    """
    lines, line = doc.lines, doc.lines.line_of(offset)
    budget, first = max_tokens - min(CURRENT_LINE_RESERVE, max_tokens // 4), line
    for number in range(line - 1, -1, -1):
        budget -= count_tokens(lines.line_text(number) + "\n")
        if budget < 0 or time.monotonic() > deadline:
            break
        first = number
    if first > 0:
        cursor, floor = lines.byte_offset(offset), _indent(lines.line_text(line))
        floors = {}  # line -> least indentation of the code lines after it, up to the cursor
        for number in range(line - 1, first - 1, -1):
            floors[number] = floor
            if lines.line_text(number).strip():
                floor = min(floor, _indent(lines.line_text(number)))
        first = next((n for n in range(first, min(line, first + MAX_SNAP_LINES))
                      if _starts_statement(doc, n, cursor, floors[n])), first)
    return Slice("prefix", doc.text[lines.line_start(first) : offset], first, line)


def suffix_window(
    doc: Document, offset: int, *, max_tokens: int, count_tokens: Callable[[str], int],
    deadline: float,
) -> Slice:
    """Text from the cursor to the end of a line below it, within ``max_tokens``."""
    lines, line = doc.lines, doc.lines.line_of(offset)
    budget = max_tokens - count_tokens(doc.text[offset : lines.line_end(line)])
    last = line
    for number in range(line + 1, lines.line_count):
        budget -= count_tokens(lines.line_text(number) + "\n")
        if budget < 0 or time.monotonic() > deadline:
            break
        last = number
    end = lines.line_start(last + 1) if last + 1 < lines.line_count else len(doc.text)
    return Slice("suffix", doc.text[offset:end], line, last)


def _starts_statement(doc: Document, line: int, cursor: int, floor: int) -> bool:
    """The line begins a statement whose block still holds the cursor.

    Not blank, not a continuation line, and not inside a block that closed above the
    cursor (a window must not open in the middle of the previous function's body). For
    indentation-scoped languages ``floor`` decides: no line between it and the cursor
    may be indented less than it.
    """
    text = doc.lines.line_text(line)
    if not text.strip():
        return False
    if doc.tree is None or doc.spec is None:
        return True
    start = doc.lines.byte_offset(doc.lines.line_start(line) + len(text) - len(text.lstrip()))
    node = doc.tree.root_node.named_descendant_for_byte_range(start, start + 1)
    while node is not None and node.parent is not None and node.parent.start_byte == start:
        node = node.parent
    if node is None or node.start_byte != start:
        return False
    parent = node.parent
    if parent is None:
        return True
    holds_cursor = _indent(text) <= floor if doc.spec.indent_scoped else parent.start_byte <= cursor < parent.end_byte
    return holds_cursor and (parent.type in doc.spec.blocks or "comment" in node.type)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())
