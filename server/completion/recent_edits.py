"""A ring buffer of recently edited snippets, across documents.

What the user just changed elsewhere is the best hint of what comes next here (a new
parameter, a renamed helper). Edits to the same region coalesce into one entry, so a
burst of keystrokes on one line is one snippet, not the whole buffer.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from ghostwright.server.context.document import Document
from ghostwright.server.context.secrets import is_secret_file


@dataclass(frozen=True)
class RecentEdit:
    uri: str
    path: str | None  # filesystem path, None for unsaved buffers
    start_line: int  # first line of ``text`` in its document when recorded
    end_line: int  # last line (inclusive)
    text: str  # the lines around the edit, as they read after it


class RecentEdits:
    """Fixed-capacity, thread-safe; the handler records, the prompt builder reads."""

    def __init__(self, capacity: int = 8, context_lines: int = 2) -> None:
        self.context_lines = context_lines
        self._entries: deque[RecentEdit] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, doc: Document, line: int) -> None:
        """Snapshot the lines around ``line`` of ``doc`` (call after applying a change)."""
        if doc.path is not None and is_secret_file(doc.path):
            return
        lines = doc.lines
        line = min(max(line, 0), lines.line_count - 1)
        first = max(0, line - self.context_lines)
        last = min(lines.line_count - 1, line + self.context_lines)
        while first < last and not lines.line_text(first).strip():
            first += 1
        while last > first and not lines.line_text(last).strip():
            last -= 1
        text = doc.text[lines.line_start(first) : lines.line_end(last)]
        if not text.strip():
            return
        entry = RecentEdit(doc.uri, doc.path, first, last, text)
        with self._lock:
            stale = [e for e in self._entries if e.uri == doc.uri and _overlaps(e, first, last)]
            for old in stale:
                self._entries.remove(old)
            self._entries.append(entry)

    def entries(self) -> list[RecentEdit]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._entries))

    def forget(self, uri: str) -> None:
        """Drop a closed document's snippets."""
        with self._lock:
            kept = [e for e in self._entries if e.uri != uri]
            self._entries.clear()
            self._entries.extend(kept)


def _overlaps(entry: RecentEdit, first: int, last: int) -> bool:
    return entry.start_line <= last and first <= entry.end_line
