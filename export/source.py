"""What every weight source hands the exporter: config, tensors, tokenizer, provenance.

Tensors use one canonical naming, whatever the file calls them:
``embed`` (vocab, hidden), ``norm`` (hidden,), ``lm_head`` (vocab, hidden, absent when
tied), and per layer ``layers.{i}.`` + ``attn_norm``, ``q``, ``k``, ``v``, ``o``,
``q_bias``, ``k_bias``, ``v_bias``, ``mlp_norm``, ``gate``, ``up``, ``down``. Linear
weights are (out_features, in_features), as both GGUF (reversed) and PyTorch store them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ghostwright.export.config import ModelConfig

LAYER_TENSORS = ("attn_norm", "q", "k", "v", "o", "mlp_norm", "gate", "up", "down")
BIAS_TENSORS = ("q_bias", "k_bias", "v_bias")


@dataclass(frozen=True)
class FimTokens:
    prefix: int
    suffix: int
    middle: int


@dataclass(frozen=True)
class SpecialTokens:
    bos: int | None
    eos: tuple[int, ...]  # any of these ends generation
    pad: int | None
    fim: FimTokens | None = None


@dataclass
class ModelSource:
    config: ModelConfig
    load_tensor: Callable[[str], np.ndarray]  # canonical name -> float32 array
    tokenizer_json: str  # a serialized `tokenizers` Tokenizer
    special_tokens: SpecialTokens
    add_bos: bool
    chat_template: str | None
    provenance: dict[str, str] = field(default_factory=dict)  # kind, path, sha256
    name: str = "model"
    tokenizer_origin: str = ""  # the file the vocabulary came from, for error messages

    def required_tensors(self) -> list[str]:
        names = ["embed", "norm"]
        if not self.config.tie_word_embeddings:
            names.append("lm_head")
        per_layer = LAYER_TENSORS + (BIAS_TENSORS if self.config.attention_bias else ())
        for i in range(self.config.num_layers):
            names += [f"layers.{i}.{t}" for t in per_layer]
        return names


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_files(paths: list[Path]) -> str:
    """One digest for a multi-file source (a safetensors folder), stable across file order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()
