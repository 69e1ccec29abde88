"""A pure-numpy forward pass of the Llama family, written to be read, not to be fast.

It is the yardstick for the ONNX graph: same weights, same tokens, logits must agree.
It recomputes everything for every call (no cache), which also makes it the reference
for "decoding with the KV cache equals full recomputation".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from ghostwright.export.config import ModelConfig


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(variance + eps) * weight


def rope_angles(config: ModelConfig, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin, each (T, head_dim/2): angle = position * theta^(-2i/head_dim)."""
    half = np.arange(0, config.head_dim, 2, dtype=np.float64) / config.head_dim
    inv_freq = 1.0 / (config.rope_theta**half)
    angles = positions[:, None].astype(np.float64) * inv_freq[None, :]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, interleaved: bool) -> np.ndarray:
    """Rotate (T, heads, head_dim) by position.

    interleaved: the pairs are (0,1), (2,3), ... (llama.cpp's layout of GGUF Llama weights);
    otherwise they are (i, i + head_dim/2) (Hugging Face's rotate_half).
    """
    c, s = cos[:, None, :], sin[:, None, :]  # (T, 1, hd/2)
    out = np.empty_like(x)
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = x1 * c - x2 * s
        out[..., 1::2] = x2 * c + x1 * s
    else:
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        out[..., :half] = x1 * c - x2 * s
        out[..., half:] = x2 * c + x1 * s
    return out


def attention_mask(config: ModelConfig, length: int) -> np.ndarray:
    """(T, T) boolean: query i may see key j when j <= i and, with a window W, i - j < W."""
    i = np.arange(length)[:, None]
    j = np.arange(length)[None, :]
    allowed = j <= i
    if config.sliding_window:
        allowed &= (i - j) < config.sliding_window
    return allowed


def forward(config: ModelConfig, weights: Mapping[str, np.ndarray], token_ids: list[int]) -> np.ndarray:
    """Logits (T, vocab) for every position of ``token_ids``."""
    T = len(token_ids)
    x = weights["embed"][np.asarray(token_ids)]  # (T, H)
    cos, sin = rope_angles(config, np.arange(T))
    mask = attention_mask(config, T)
    for layer in range(config.num_layers):
        w = {k.split(".", 2)[2]: v for k, v in weights.items() if k.startswith(f"layers.{layer}.")}
        x = block(config, w, x, cos, sin, mask)
    x = rms_norm(x, weights["norm"], config.rms_norm_eps)
    head = weights["embed"] if config.tie_word_embeddings else weights["lm_head"]
    return (x @ head.T).astype(np.float32)


def block(config: ModelConfig, w: Mapping[str, np.ndarray], x: np.ndarray, cos: np.ndarray, sin: np.ndarray,
          mask: np.ndarray, observe: Callable[[str, np.ndarray], None] | None = None) -> np.ndarray:
    """One decoder layer on (T, H) hidden states; ``w`` holds that layer's tensors by short name.
    ``observe(role, inputs)`` sees what each group of linear layers reads: ``attn_in`` (q, k, v),
    ``o_in``, ``mlp_in`` (gate, up) and ``down_in`` (the export weighs its rounding by them)."""
    T = x.shape[0]
    nh, nkv, hd = config.num_heads, config.num_kv_heads, config.head_dim
    seen = observe or (lambda role, inputs: None)
    # Attention block: norm -> project -> rotate -> attend (GQA) -> project back.
    h = rms_norm(x, w["attn_norm"], config.rms_norm_eps)
    seen("attn_in", h)
    q = h @ w["q"].T + w.get("q_bias", 0.0)  # (T, nh*hd)
    k = h @ w["k"].T + w.get("k_bias", 0.0)  # (T, nkv*hd)
    v = h @ w["v"].T + w.get("v_bias", 0.0)
    q = apply_rope(q.reshape(T, nh, hd), cos, sin, config.rope_interleaved)
    k = apply_rope(k.reshape(T, nkv, hd), cos, sin, config.rope_interleaved)
    v = v.reshape(T, nkv, hd)
    group = nh // nkv
    k = np.repeat(k, group, axis=1)  # (T, nh, hd): each KV head serves `group` query heads
    v = np.repeat(v, group, axis=1)
    q, k, v = (a.transpose(1, 0, 2) for a in (q, k, v))  # (nh, T, hd): batched matmuls below
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)  # (nh, T, T), in the inputs' precision
    scores = np.where(mask[None], scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    attn = (probs @ v).transpose(1, 0, 2).reshape(T, nh * hd)
    seen("o_in", attn)
    x = x + attn @ w["o"].T
    # MLP block: norm -> SwiGLU -> project back.
    h = rms_norm(x, w["mlp_norm"], config.rms_norm_eps)
    seen("mlp_in", h)
    gate = h @ w["gate"].T
    up = h @ w["up"].T
    act = (gate / (1.0 + np.exp(-gate))) * up
    seen("down_in", act)
    return x + act @ w["down"].T
