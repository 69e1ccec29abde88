"""Where a small model starts repeating itself: the end of what it had to say.

SmolLM2-135M, asked to explain or answer, often says one thing and then says it again,
word for word or nearly, until the token limit. Hover and Ask stop decoding there and
keep what came before.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def cut_repetition(text: str, min_chars: int = 10, ngram: int = 8) -> str | None:
    """``text`` up to the sentence where it starts repeating itself, or None when it does not.

    A small model that has said what it knows often says it again, word for word or
    nearly: a whole sentence (of ``min_chars`` or more) seen before, or a run of ``ngram``
    words seen before, marks where the answer ended.
    """
    seen: set[str] = set()
    for match in _SENTENCE.finditer(text):
        complete = match.end() < len(text) or match[0].rstrip().endswith((".", "!", "?"))
        sentence = " ".join(match[0].split())
        if not complete or len(sentence) < min_chars:
            continue
        if sentence in seen:
            return text[: match.start()].rstrip()
        seen.add(sentence)
    words = list(re.finditer(r"\S+", text))
    runs: set[tuple[str, ...]] = set()
    for first in range(len(words) - ngram):  # the last word may still be growing: not counted
        run = tuple(w[0] for w in words[first : first + ngram])
        if run in runs:
            start = words[first].start()
            boundary = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n"))
            return text[: boundary + 1].rstrip() if boundary >= 0 else ""
        runs.add(run)
    return None
