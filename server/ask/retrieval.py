"""BM25 ranking of code chunks for a natural-language question.

Code and questions do not share a vocabulary until identifiers are split: a question
about "the token cache" should find ``TokenCache`` and ``token_cache``. So both sides
are tokenized the same way: identifiers split at ``_`` and camelCase humps, lower-cased,
a plural ``s`` stripped, English filler words dropped; the whole identifier is kept as a
term too, so an exact name in the question scores highest. A chunk's path and defined
name are added to its text, so "where is the parser" finds ``parser.py``.
:func:`relevant` then drops chunks that scored far below the best one: a small model
reading four sources answers about the last one, whatever the question.

Pure: (chunks, question) → ranked chunks. Okapi BM25 with the usual k1 = 1.2, b = 0.75.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ghostwright.server.ask.chunks import SourceChunk

K1 = 1.2
B = 0.75
NAME_WEIGHT = 2  # a chunk's defined name counts this many times over its body (its path once)

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*|\d+")
_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_FILLER = (
    "a about an and are as at be by can could do does did for from has have how i if in into is it its "
    "me my of on or please show so tell than that the their them then there these this those to was "
    "we what when where which who why will with would you your code codebase project file files "
    "function functions"
)
STOPWORDS = frozenset(_FILLER.split())


def terms(text: str) -> list[str]:
    """Search terms of ``text``: split identifiers, lower-cased, light-stemmed, no filler words."""
    found: list[str] = []
    for word in _WORD.findall(text):
        parts = [p.lower() for piece in word.split("_") for p in _HUMP.findall(piece)]
        whole = word.lower().strip("_")
        candidates = parts if len(parts) <= 1 else [*parts, whole]
        for term in candidates:
            if term not in STOPWORDS and len(stemmed := _stem(term)) > 1 and stemmed not in STOPWORDS:
                found.append(stemmed)
    return found


def _stem(term: str) -> str:
    """Plural and third-person ``s`` only: "parsers" → "parser", "class" and "status" unchanged."""
    if len(term) > 3 and term.endswith("s") and not term.endswith(("ss", "us", "is")):
        return term[:-1]
    return term


@dataclass(frozen=True)
class Ranked:
    chunk: SourceChunk
    score: float


class BM25:
    """An index over ``chunks``; build once per question set, query with :meth:`search`."""

    def __init__(self, chunks: Sequence[SourceChunk]) -> None:
        self.chunks = list(chunks)
        self._counts: list[Counter[str]] = []
        self._lengths: list[int] = []
        frequency: Counter[str] = Counter()
        for chunk in self.chunks:
            label = chunk.path.replace("/", " ").replace(".", " ") + (" " + chunk.name) * NAME_WEIGHT
            counts = Counter(terms(label + "\n" + chunk.text))
            self._counts.append(counts)
            self._lengths.append(sum(counts.values()))
            frequency.update(counts.keys())
        total = len(self.chunks)
        self._average = sum(self._lengths) / total if total else 0.0
        self._idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}

    def search(self, question: str, k: int = 5) -> list[Ranked]:
        """The ``k`` best chunks for ``question`` (score > 0), best first; ties keep file order."""
        query = Counter(terms(question))
        if not query or not self.chunks:
            return []
        scored = []
        for position, (counts, length) in enumerate(zip(self._counts, self._lengths, strict=True)):
            score = 0.0
            for term, repeats in query.items():
                tf = counts.get(term, 0)
                if tf:
                    norm = K1 * (1 - B + B * length / (self._average or 1))
                    score += repeats * self._idf[term] * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                scored.append((-score, position))
        scored.sort()
        return [Ranked(self.chunks[position], -negative) for negative, position in scored[:k]]



def relevant(ranked: Sequence[Ranked], fraction: float = 0.35) -> list[Ranked]:
    """The ranked chunks that score at least ``fraction`` of the best one."""
    if not ranked:
        return []
    floor = ranked[0].score * fraction
    return [item for item in ranked if item.score >= floor]
