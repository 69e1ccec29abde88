"""Keep a document's cross-file context while the user types on, and gather it anew at a pause.

Snippets from other files come first in the prompt, so when they change the engine's KV cache is
lost and the whole prompt is prefilled again: for Qwen2.5-Coder-0.5B on two cores, 1-2 s for
~200 tokens. Similar code is looked up from the lines above the cursor and definitions from the
identifiers around it, so a new line, or a new name, changed the head of every prompt, and while
the user typed on, the next keystroke cancelled each re-prefill before it answered (24-56 of 600
keystrokes answered in the in-package typing replay). Copilot and llama.vscode keep their extra
context across keystrokes for the same reason; here it is kept for a burst of typing near where it
was gathered, and gathered anew when the user pauses, moves away, or asks by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghostwright.server.completion.prompt import CrossFileContext

PAUSE_S = 1.0  # a gap between two requests this long ends a burst of typing
NEAR_LINES = 12  # the cursor stays this close to the line the context was gathered at
MAX_AGE_S = 30.0  # even a long burst gathers anew this often


@dataclass(frozen=True)
class _Gathered:
    context: CrossFileContext
    line: int
    at: float


class StickyContext:
    """Per document: the last gathered context, and when the last request came."""

    def __init__(self) -> None:
        self._gathered: dict[str, _Gathered] = {}
        self._last_request: dict[str, float] = {}

    def arrived(self, uri: str, now: float) -> bool:
        """Call as each request arrives (before the debounce drops any): whether it continues a
        burst of typing, that is, came within ``PAUSE_S`` of the one before it."""
        previous, self._last_request[uri] = self._last_request.get(uri), now
        return previous is not None and now - previous < PAUSE_S

    def reusable(self, uri: str, line: int, now: float) -> CrossFileContext | None:
        """The context gathered near ``line`` not too long ago, if any: what a request within a
        burst reuses. The caller gathers anew when this is None, and then calls :meth:`keep`."""
        kept = self._gathered.get(uri)
        if kept is None or abs(line - kept.line) > NEAR_LINES or now - kept.at >= MAX_AGE_S:
            return None
        return kept.context

    def keep(self, uri: str, line: int, now: float, context: CrossFileContext) -> None:
        self._gathered[uri] = _Gathered(context, line, now)

    def forget(self, uri: str) -> None:
        self._gathered.pop(uri, None)
        self._last_request.pop(uri, None)
