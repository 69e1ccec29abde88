"""Where a small model starts repeating itself: the end of what it had to say.

SmolLM2-135M, asked to explain or answer, often says one thing and then says it again,
word for word or nearly, until the token limit. Hover and Ask stop decoding there and
keep what came before. Code loops differently (the same line again and again), and actions
that write code stop there too (``code_is_looping``).
"""

from __future__ import annotations

import re
from collections import Counter

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


CODE_REPEATS = 4  # a non-trivial line written this often: the code is looping
CODE_SHORT_RUN = 6  # the same (short) line this many times in a row: looping too
PHRASE_MIN_CHARS = 48  # a piece repeated at the end of the text over this many characters: looping


def code_is_looping(text: str) -> bool:
    """True when code being written loops: a line written again and again, the same short lines
    in a row, or a short piece repeating at the end of a line. Decoding more would only add more."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    counts = Counter(line for line in lines if len(line) > 6)
    if counts and counts.most_common(1)[0][1] >= CODE_REPEATS:
        return True
    if len(lines) >= CODE_SHORT_RUN and len(set(lines[-CODE_SHORT_RUN:])) == 1:
        return True
    return repeats_at_end(text)


def repeats_at_end(text: str) -> bool:
    """The text ends in one piece of 2-12 characters (not all one character) written over and over."""
    for size in range(2, 13):
        piece = text[-size:]
        times = max(PHRASE_MIN_CHARS // size, 4)
        if len(set(piece)) > 1 and len(text) >= size * times and text.endswith(piece * times):
            return True
    return False
