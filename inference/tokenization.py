"""Tokenizer wrapper: prompts from segments, and text from tokens as they stream.

User text is encoded with special-token strings treated as plain text, so a file that
contains "<|im_end|>" cannot end a chat turn; control tokens enter only as ids.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from ghostwright.errors import BundleError
from ghostwright.inference.api import Prompt


class TextTokenizer:
    def __init__(self, path: Path | None, vocab_rows: int, bos: int | None, add_bos: bool,
                 *, json_text: str | None = None) -> None:
        """From a ``tokenizer.json`` file, or its text (a remote engine sends its own)."""
        try:
            self._tok = Tokenizer.from_str(json_text) if json_text is not None else Tokenizer.from_file(str(path))
        except Exception as exc:
            raise BundleError(f"{path or 'tokenizer.json'}: unreadable tokenizer ({exc})") from exc
        size = self._tok.get_vocab_size(with_added_tokens=True)
        if size > vocab_rows:
            raise BundleError(f"{path}: {size} tokens but the model's embedding has {vocab_rows} rows")
        self._tok.encode_special_tokens = True
        self.bos = bos if add_bos else None
        self.vocab_size = size

    def encode_text(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids if text else []

    def encode(self, prompt: Prompt) -> list[int]:
        ids: list[int] = [self.bos] if self.bos is not None else []
        for segment in prompt.segments:
            if isinstance(segment, int):
                if not 0 <= segment < self.vocab_size:
                    raise ValueError(f"token id {segment} is outside the vocabulary")
                ids.append(segment)
            else:
                ids.extend(self.encode_text(segment))
        return ids

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids, skip_special_tokens=True)

    def special_ids(self) -> dict[str, int]:
        """Control tokens by their text (``<|im_start|>`` -> 151644): what a rendered chat template
        may contain besides the messages."""
        if not hasattr(self, "_special_ids"):
            self._special_ids = {t.content: i for i, t in self._tok.get_added_tokens_decoder().items() if t.special}
        return self._special_ids

    def token_text(self, token_id: int) -> str:
        return self._tok.id_to_token(token_id) or ""

    def spelling(self, token_id: int) -> str:
        """The text one token decodes to on its own (what healing compares)."""
        table = self._spellings()
        return table.text[table.offsets[token_id]:table.offsets[token_id + 1]]

    def ids_containing(self, parts: tuple[str, ...]) -> np.ndarray:
        """Ids whose spelling contains any of ``parts`` (cached per tuple)."""
        cache = self.__dict__.setdefault("_containing_cache", {})
        if parts not in cache:
            cache[parts] = self._spellings().containing(parts)
        return cache[parts]

    def _spellings(self) -> _SpellingTable:
        if not hasattr(self, "_spelling_table"):
            self._spelling_table = _SpellingTable.build(
                self._tok.decode_batch([[i] for i in range(self.vocab_size)], skip_special_tokens=False))
        return self._spelling_table

    def prepare_healing(self) -> None:
        """Build the spelling tables token healing searches (half a second for a 150k vocabulary):
        at load, so that the first healed keystroke does not pay for them."""
        self._spellings()

    def ids_starting_with(self, text: str) -> list[int]:
        """Ids whose decoded text starts with ``text``: the candidates when healing a token."""
        order = self._spellings().order
        low = bisect.bisect_left(order, text, key=self.spelling)
        high = bisect.bisect_left(order, text + "\U0010ffff", lo=low, key=self.spelling)
        return order[low:high].tolist()

    def ids_respelling(self, text: str) -> list[int]:
        """Ids that can start re-spelling ``text``: those that cover it, and those that spell a
        proper prefix of it (the rest is then re-spelled by the next token). Four spaces of
        indentation, say, come back as three spaces + " if", the way the model saw code."""
        order = self._spellings().order
        shorter = []
        for end in range(1, len(text)):
            at = bisect.bisect_left(order, text[:end], key=self.spelling)
            while at < len(order) and self.spelling(order[at]) == text[:end]:
                shorter.append(int(order[at]))
                at += 1
        return self.ids_starting_with(text) + shorter


@dataclass(frozen=True)
class _SpellingTable:
    """Every token's spelling in one string, with offsets, and the ids in spelling order. A list
    of 151,936 str objects and two sorted lists cost Qwen's vocabulary 34 MB resident for the
    life of the server; this costs under 2 MB and answers the same binary searches."""

    text: str
    offsets: np.ndarray  # int64, vocab_size + 1: token i is text[offsets[i]:offsets[i + 1]]
    order: np.ndarray  # int32 ids sorted by spelling

    def containing(self, parts: tuple[str, ...]) -> np.ndarray:
        """Ids whose spelling contains any of ``parts``: every (overlapping) occurrence in the joined
        text, kept where it ends inside the token it starts in."""
        if "" in parts:
            return np.arange(len(self.offsets) - 1, dtype=np.int64)
        found = [np.zeros(0, np.int64)]
        for part in parts:
            starts = np.fromiter((m.start() for m in re.finditer(f"(?={re.escape(part)})", self.text)), np.int64)
            ids = np.searchsorted(self.offsets, starts, side="right") - 1
            found.append(ids[starts + len(part) <= self.offsets[ids + 1]])
        return np.unique(np.concatenate(found))

    @classmethod
    def build(cls, spellings: list[str]) -> _SpellingTable:
        offsets = np.zeros(len(spellings) + 1, np.int64)
        np.cumsum([len(t) for t in spellings], out=offsets[1:])
        order = np.array(sorted(range(len(spellings)), key=spellings.__getitem__), np.int32)
        return cls("".join(spellings), offsets, order)
