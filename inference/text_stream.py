"""Turn a stream of token ids into a stream of text that is safe to show.

Two things are held back until they resolve: bytes of a UTF-8 character split across
tokens (the decoder shows them as U+FFFD), and a tail that could be the start of a stop
string. A stop string is cut with everything after it, even when it spans tokens.

Decoding is incremental: each token decodes a short window (the tokens since the text last
grew, and the ones before them), not every id so far, so a long answer costs linear time.
The window starts at a token already decoded, so whatever a tokenizer does to the first
token of a string (a sentencepiece leading space) happens to both decodes and cancels out;
when those tokens have no text of their own (a skipped special, a lone "▁"), the whole text
is decoded instead.
"""

from __future__ import annotations

from collections.abc import Callable

REPLACEMENT = "\ufffd"


class TextStream:
    def __init__(self, decode: Callable[[list[int]], str], stop: list[str], skip: str = "") -> None:
        self._decode = decode
        self._stop = [s for s in stop if s]
        self._ids: list[int] = []
        self._text = ""  # the decoded text of ids[: self._read]
        self._prefix = 0  # where the decode window starts
        self._read = 0  # ids whose text is in self._text
        self._emitted = 0  # characters of the decoded text already handed out
        self._skip = skip  # text the caller already has (a healed prompt token): never emitted
        self.stopped = False

    def push(self, token_id: int) -> str:
        """Add one token; return the text that became safe to show (maybe "")."""
        self._ids.append(token_id)
        window = self._decode(self._ids[self._prefix :])
        if window.endswith(REPLACEMENT):  # an incomplete UTF-8 sequence: wait for more bytes
            return ""
        self._advance(window)
        return self._release(self._text, final=False)

    def finish(self) -> str:
        """The rest of the text at the end of generation (held-back stop prefixes included)."""
        if self.stopped:
            return ""
        if self._read < len(self._ids):
            self._advance(self._decode(self._ids[self._prefix :]).rstrip(REPLACEMENT))
        return self._release(self._text, final=True)

    def _advance(self, window: str) -> None:
        """Take the text of ids[prefix:] into ``self._text``; the next window starts here."""
        head = self._decode(self._ids[self._prefix : self._read]) if self._read > self._prefix else ""
        if window.startswith(head) and (head or not self._prefix):
            self._text += window[len(head) :]
        else:  # rare: a decoder that rewrites across tokens, or a window whose first tokens
            # have no text of their own (a string's first-token rule would hit a later one)
            self._text = self._decode(self._ids).rstrip(REPLACEMENT)
        self._prefix, self._read = self._read, len(self._ids)

    def _release(self, text: str, final: bool) -> str:
        if self._skip:
            if len(text) < len(self._skip) and not final:
                return ""
            if text.startswith(self._skip):
                self._emitted = len(self._skip)
            self._skip = ""
        pending = text[self._emitted :]
        # A complete stop string anywhere in what we have not shown ends generation.
        cut = min((i for i in (pending.find(s) for s in self._stop) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._emitted += cut
            return pending[:cut]
        if not final:
            pending = pending[: len(pending) - self._held_back(pending)]
        self._emitted += len(pending)
        return pending

    def _held_back(self, pending: str) -> int:
        """Length of the longest tail of ``pending`` that begins some stop string."""
        longest = 0
        for stop in self._stop:
            for n in range(min(len(stop) - 1, len(pending)), longest, -1):
                if pending.endswith(stop[:n]):
                    longest = n
                    break
        return longest
