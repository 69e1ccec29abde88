"""The Llama-family decoder in PyTorch, built from a :class:`ModelSource`, for training only.

It reads the exporter's canonical tensors, so whatever the exporter can read (a GGUF, a Hugging
Face folder) can be tuned, and the merged weights go back through the same exporter. The
arithmetic follows :mod:`ghostwright.export.reference` line by line; a test holds the two equal.
Linear layers are plain ``nn.Linear`` named as the canonical tensors (``q``, ``k``, ``v``, ``o``,
``gate``, ``up``, ``down``) so peft's LoRA finds them by name; the embedding (tied to the
output head in the shipped models) is frozen and never adapted.

Packed batches: ``segments`` numbers the example each position belongs to; attention stays
within an example and positions restart at each, so packing is the same as training the
examples one by one.

A one-line hole is ~500 tokens of prompt for ~12 tokens of loss. ``grad_from`` runs the positions
before it without a graph (their keys and values are computed once, as a KV cache is) and only
the rest with one: the forward values are the same, the backward pass is a dozen positions
instead of the whole row, and what is lost is the gradient through the prompt's own keys and
values — the continuation rows, with loss on every position, still train those.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from ghostwright.export.config import ModelConfig

LINEAR_NAMES = ("q", "k", "v", "o", "gate", "up", "down")


def _tensor(array: np.ndarray) -> torch.Tensor:
    """A float32 copy: a source's tensors may be read-only views of a memory-mapped file."""
    return torch.from_numpy(np.array(array, dtype=np.float32, copy=True))


class RMSNorm(nn.Module):
    def __init__(self, weight: np.ndarray, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(_tensor(weight), requires_grad=False)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _linear(weight: np.ndarray, bias: np.ndarray | None) -> nn.Linear:
    out_features, in_features = weight.shape
    layer = nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(_tensor(weight))
        if bias is not None:
            layer.bias.copy_(_tensor(bias))
    layer.requires_grad_(False)
    return layer


class Block(nn.Module):
    def __init__(self, config: ModelConfig, tensor: Callable[[str], np.ndarray | None]) -> None:
        super().__init__()
        self.config = config
        self.attn_norm = RMSNorm(tensor("attn_norm"), config.rms_norm_eps)
        self.q = _linear(tensor("q"), tensor("q_bias"))
        self.k = _linear(tensor("k"), tensor("k_bias"))
        self.v = _linear(tensor("v"), tensor("v_bias"))
        self.o = _linear(tensor("o"), None)
        self.mlp_norm = RMSNorm(tensor("mlp_norm"), config.rms_norm_eps)
        self.gate = _linear(tensor("gate"), None)
        self.up = _linear(tensor("up"), None)
        self.down = _linear(tensor("down"), None)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor,
                past: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The block's output and this call's keys and values (rotated, one per KV head); with
        ``past``, the keys and values of the positions before ``x``, attended to as well."""
        c = self.config
        batch, length, _ = x.shape
        h = self.attn_norm(x)
        q = self.q(h).view(batch, length, c.num_heads, c.head_dim)
        k = self.k(h).view(batch, length, c.num_kv_heads, c.head_dim)
        v = self.v(h).view(batch, length, c.num_kv_heads, c.head_dim)
        q, k = rotate(q, cos, sin, c.rope_interleaved), rotate(k, cos, sin, c.rope_interleaved)
        keys, values = (torch.cat((past[0], k), 1), torch.cat((past[1], v), 1)) if past else (k, v)
        group = c.num_heads // c.num_kv_heads
        keys, values = keys.repeat_interleave(group, 2), values.repeat_interleave(group, 2)  # a KV head serves `group`
        attn = functional.scaled_dot_product_attention(q.transpose(1, 2), keys.transpose(1, 2),
                                                       values.transpose(1, 2), attn_mask=mask)
        x = x + self.o(attn.transpose(1, 2).reshape(batch, length, c.num_heads * c.head_dim))
        h = self.mlp_norm(x)
        return x + self.down(functional.silu(self.gate(h)) * self.up(h)), k, v


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, interleaved: bool) -> torch.Tensor:
    """RoPE on (batch, T, heads, head_dim); cos/sin are (batch, T, head_dim/2)."""
    c, s = cos[:, :, None, :], sin[:, :, None, :]
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1).flatten(-2)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)


class TorchDecoder(nn.Module):
    def __init__(self, config: ModelConfig, load_tensor: Callable[[str], np.ndarray]) -> None:
        super().__init__()
        self.config = config

        def layer_tensor(i: int) -> Callable[[str], np.ndarray | None]:
            def get(name: str) -> np.ndarray | None:
                if name.endswith("_bias") and not config.attention_bias:
                    return None
                return load_tensor(f"layers.{i}.{name}")
            return get

        self.embed = nn.Parameter(_tensor(load_tensor("embed")), requires_grad=False)
        self.layers = nn.ModuleList(Block(config, layer_tensor(i)) for i in range(config.num_layers))
        self.norm = RMSNorm(load_tensor("norm"), config.rms_norm_eps)
        self.lm_head = None if config.tie_word_embeddings else nn.Parameter(
            _tensor(load_tensor("lm_head")), requires_grad=False)
        half = torch.arange(0, config.head_dim, 2, dtype=torch.float64) / config.head_dim
        self.register_buffer("inv_freq", 1.0 / (config.rope_theta**half), persistent=False)

    def hidden(self, ids: torch.Tensor, segments: torch.Tensor | None = None, grad_from: int = 0) -> torch.Tensor:
        """Final hidden states (batch, T, hidden) for ``ids`` (batch, T); positions before
        ``grad_from`` are computed without a graph (see the module's docstring)."""
        length = ids.shape[1]
        if segments is None:
            segments = torch.zeros_like(ids)
        positions = _positions(segments)
        angles = positions[..., None].double() * self.inv_freq
        cos, sin = angles.cos().float(), angles.sin().float()
        i = torch.arange(length)
        allowed = (i[None, :] <= i[:, None])[None] & (segments[:, :, None] == segments[:, None, :])
        if self.config.sliding_window:
            allowed &= (i[:, None] - i[None, :] < self.config.sliding_window)[None]
        mask = allowed[:, None]  # (batch, 1, T, T): every head the same
        x = functional.embedding(ids, self.embed)
        split = grad_from if 0 < grad_from < length and torch.is_grad_enabled() else 0
        if not split:
            for block in self.layers:
                x = block(x, cos, sin, mask)[0]
            return self.norm(x)
        before, after = x[:, :split], x[:, split:]
        for block in self.layers:
            with torch.no_grad():
                before, k, v = block(before, cos[:, :split], sin[:, :split], mask[..., :split, :split])
            after = block(after, cos[:, split:], sin[:, split:], mask[..., split:, :], past=(k, v))[0]
        return self.norm(torch.cat((before, after), 1))

    def head(self) -> torch.Tensor:
        return self.embed if self.lm_head is None else self.lm_head

    def forward(self, ids: torch.Tensor, segments: torch.Tensor | None = None) -> torch.Tensor:
        return self.hidden(ids, segments) @ self.head().T


def _positions(segments: torch.Tensor) -> torch.Tensor:
    """Position of each token within its example: 0 where a new segment starts."""
    length = segments.shape[1]
    index = torch.arange(length).expand_as(segments)
    starts = torch.ones_like(segments, dtype=torch.bool)
    starts[:, 1:] = segments[:, 1:] != segments[:, :-1]
    first = torch.where(starts, index, torch.zeros_like(index)).cummax(dim=1).values
    return index - first


def masked_loss(model: TorchDecoder, ids: torch.Tensor, targets: torch.Tensor, segments: torch.Tensor,
                chunk: int = 256) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the positions whose target is not -100, and how many there
    were. The vocabulary projection runs only at those positions, in chunks: with a 152k
    vocabulary the full (T, vocab) logits would be most of the memory of a step. Positions
    before the first with a loss are run without a graph."""
    wanted = targets != -100
    first = int(wanted.any(0).int().argmax()) if bool(wanted.any()) else 0
    hidden = model.hidden(ids, segments, grad_from=first)
    rows, labels = hidden[wanted], targets[wanted]
    total = torch.zeros((), dtype=torch.float32)  # summed in float32 under bfloat16 autocast too
    for start in range(0, rows.shape[0], chunk):
        logits = rows[start:start + chunk] @ model.head().T
        total = total + functional.cross_entropy(logits, labels[start:start + chunk], reduction="sum")
    return total, int(labels.numel())
