"""The architecture description shared by the sources, the graph builder and the reference."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ghostwright.errors import UnsupportedModelError

SUPPORTED_ARCHITECTURES = ("llama", "mistral", "qwen2")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    architecture: str  # llama | mistral | qwen2
    vocab_size: int  # rows of the embedding table
    hidden_size: int  # residual stream width
    intermediate_size: int  # SwiGLU inner width
    num_layers: int  # decoder blocks
    num_heads: int  # query heads
    num_kv_heads: int  # key/value heads (GQA when fewer than num_heads)
    head_dim: int  # per-head width; usually hidden_size // num_heads
    rope_theta: float  # RoPE base frequency
    rms_norm_eps: float  # RMSNorm epsilon
    max_position_embeddings: int  # longest context the model was trained for
    rope_interleaved: bool  # True: rotate adjacent pairs (llama.cpp GGUF); False: rotate halves (HF)
    attention_bias: bool  # Q/K/V projections carry a bias (Qwen2)
    sliding_window: int | None = None  # Mistral: a token sees at most this many tokens, itself included
    tie_word_embeddings: bool = False  # the output head reuses the embedding table

    def __post_init__(self) -> None:
        if self.architecture not in SUPPORTED_ARCHITECTURES:
            raise UnsupportedModelError(
                f"unsupported architecture {self.architecture!r}; "
                f"supported: {', '.join(SUPPORTED_ARCHITECTURES)}"
            )
        if self.num_heads % self.num_kv_heads:
            raise UnsupportedModelError(
                f"num_heads {self.num_heads} is not a multiple of num_kv_heads {self.num_kv_heads}"
            )
        if self.head_dim % 2:
            raise UnsupportedModelError(f"head_dim {self.head_dim} must be even for RoPE")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
