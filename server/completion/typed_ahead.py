"""Answer from the last suggestion while the user types what it predicted.

If the document text before the cursor is the old text plus characters that are the
start of the shown suggestion, the rest of that suggestion is still right: no model call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Shown:
    before_len: int  # length of the document text before the cursor when it was shown
    tail: str  # the last TAIL characters of that text
    suggestion: str


class TypedAheadCache:
    TAIL = 2000  # characters compared to recognise "the same place, typed ahead"

    def __init__(self) -> None:
        self._by_uri: dict[str, _Shown] = {}
        self.hits = 0

    def remember(self, uri: str, before: str, suggestion: str) -> None:
        if suggestion.strip():
            self._by_uri[uri] = _Shown(len(before), before[-self.TAIL :], suggestion)

    def lookup(self, uri: str, before: str) -> str | None:
        """The rest of the shown suggestion if ``before`` only typed its start, else None."""
        shown = self._by_uri.get(uri)
        if shown is None:
            return None
        typed = len(before) - shown.before_len
        if not 0 < typed < len(shown.suggestion):
            return None
        expected = shown.tail + shown.suggestion[:typed]
        if not before.endswith(expected):
            return None
        rest = shown.suggestion[typed:]
        if not rest.strip():
            return None
        self.hits += 1
        return rest

    def forget(self, uri: str) -> None:
        self._by_uri.pop(uri, None)

    def clear(self) -> None:
        """Forget every suggestion (they came from a model that is no longer loaded)."""
        self._by_uri.clear()
