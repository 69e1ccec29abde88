"""Tokenizer wrapper: prompts from segments, and text from tokens as they stream.

User text is encoded with special-token strings treated as plain text, so a file that
contains "<|im_end|>" cannot end a chat turn; control tokens enter only as ids.
"""

from __future__ import annotations

import bisect
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
        return self._spelled()[token_id]

    def ids_containing(self, parts: tuple[str, ...]) -> np.ndarray:
        """Ids whose spelling contains any of ``parts`` (cached per tuple)."""
        cache = self.__dict__.setdefault("_containing_cache", {})
        if parts not in cache:
            cache[parts] = np.array([i for i, text in enumerate(self._spelled()) if any(p in text for p in parts)],
                                    dtype=np.int64)
        return cache[parts]

    def _spelled(self) -> list[str]:
        if not hasattr(self, "_spelled_cache"):
            self._spelled_cache = self._tok.decode_batch([[i] for i in range(self.vocab_size)],
                                                         skip_special_tokens=False)
        return self._spelled_cache

    def prepare_healing(self) -> None:
        """Build the spelling tables token healing searches (half a second for a 150k vocabulary):
        at load, so that the first healed keystroke does not pay for them."""
        self.ids_starting_with("")

    def ids_starting_with(self, text: str) -> list[int]:
        """Ids whose decoded text starts with ``text``: the candidates when healing a token."""
        if not hasattr(self, "_sorted"):
            texts = sorted((t, i) for i, t in enumerate(self._spelled()))
            self._sorted = ([t for t, _ in texts], [i for _, i in texts])
        keys, ids = self._sorted
        low = bisect.bisect_left(keys, text)
        high = bisect.bisect_left(keys, text + "\U0010ffff")
        return ids[low:high]

    def ids_respelling(self, text: str) -> list[int]:
        """Ids that can start re-spelling ``text``: those that cover it, and those that spell a
        proper prefix of it (the rest is then re-spelled by the next token). Four spaces of
        indentation, say, come back as three spaces + " if", the way the model saw code."""
        self.ids_starting_with(text)
        keys, ids = self._sorted
        shorter = []
        for end in range(1, len(text)):
            at = bisect.bisect_left(keys, text[:end])
            while at < len(keys) and keys[at] == text[:end]:
                shorter.append(ids[at])
                at += 1
        return self.ids_starting_with(text) + shorter
