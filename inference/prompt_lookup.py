"""Draft tokens for speculative decoding by prompt lookup: no draft model, only the text so far.

Code repeats itself: a completion reuses names from the prompt, an edited function copies
most of the original. When the last few tokens (prompt + output) occurred before, the
tokens that followed them then are a good guess of what follows now. The engine runs the
guess through the model in one step and keeps the longest prefix greedy decoding agrees
with, so a guess costs a little time and does not change the output: exactly so for float
graphs (a test); int8 graphs quantize activations per step, with one scale over all the rows
a step runs, so a verifying step can flip a near tie (bench/speculation.py counts how often).

    ... def area(self):  return self.w * self.h ...  def area(self):  ▮
                         └─ continuation drafted ─┘        └ n-gram ┘
"""

from __future__ import annotations

import numpy as np


class PromptLookup:
    def __init__(self, tokens: list[int], capacity: int, max_ngram: int = 3, min_ngram: int = 1) -> None:
        self.max_ngram = max_ngram  # longest tail looked up (longer matches are tried first)
        self.min_ngram = min_ngram  # shortest tail worth a guess
        self._ids = np.zeros(max(capacity, len(tokens)), np.int64)  # (capacity,) the tokens so far, then room
        self._ids[: len(tokens)] = tokens
        self._length = len(tokens)

    def append(self, token: int) -> None:
        if self._length == self._ids.size:
            self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
        self._ids[self._length] = token
        self._length += 1

    def draft(self, k: int) -> list[int]:
        """Up to ``k`` tokens that followed the latest earlier occurrence of the longest tail
        (``max_ngram`` tokens down to ``min_ngram``) that occurred before; [] if none did."""
        ids, end = self._ids, self._length
        if k < 1:
            return []
        for n in range(min(self.max_ngram, end - 1), self.min_ngram - 1, -1):
            tail = ids[end - n : end]
            # Starts j of an earlier occurrence ids[j:j+n] == tail with at least one token after it.
            starts = np.flatnonzero(ids[: end - n] == tail[0])
            for m in range(1, n):
                starts = starts[ids[starts + m] == tail[m]]
            if starts.size:
                j = int(starts[-1]) + n
                return ids[j : min(j + k, end)].tolist()
        return []
