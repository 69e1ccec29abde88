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
class RepoTokens:
    """Repository-level context tokens (Qwen2.5-Coder, StarCoder2): files of the repository are
    given as ``<|repo_name|>name`` then ``<|file_sep|>path\ncode`` before the file being written."""

    repo_name: int
    file_sep: int


@dataclass(frozen=True)
class SpecialTokens:
    bos: int | None
    eos: tuple[int, ...]  # any of these ends generation
    pad: int | None
    fim: FimTokens | None = None
    repo: RepoTokens | None = None
    fim_pad: int | None = None  # a FIM model may write it once the middle is done: it ends the answer too


# Spellings of the FIM and repository tokens in the vocabularies that have them. A GGUF may lack
# the ``fim_*_token_id`` keys (Qwen2.5-Coder's do) while its vocabulary has the tokens.
FIM_SPELLINGS = (
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),  # Qwen2.5-Coder, DeepSeek-style
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),  # StarCoder, SantaCoder
    ("<PRE>", "<SUF>", "<MID>"),  # CodeLlama
)
REPO_SPELLINGS = (("<|repo_name|>", "<|file_sep|>"), ("<repo_name>", "<file_sep>"))
FIM_PAD_SPELLINGS = ("<|fim_pad|>", "<fim_pad>")


def tokens_by_text(token_id: Callable[[str], int | None]) -> tuple[FimTokens | None, RepoTokens | None, int | None]:
    """FIM, repository and FIM-pad tokens found by their spelling (``token_id``: text -> id, or None
    for text that is not one special token). Repository tokens count only beside FIM tokens:
    without fill-in-the-middle, a model's ``<repo_name>`` was not trained for repository context."""
    fim = next((FimTokens(*ids) for s in FIM_SPELLINGS  # type: ignore[arg-type]
                if None not in (ids := [token_id(t) for t in s])), None)
    if fim is None:
        return None, None, None
    repo = next((RepoTokens(*ids) for s in REPO_SPELLINGS  # type: ignore[arg-type]
                 if None not in (ids := [token_id(t) for t in s])), None)
    pad = next((i for s in FIM_PAD_SPELLINGS if (i := token_id(s)) is not None), None)
    return fim, repo, pad


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
