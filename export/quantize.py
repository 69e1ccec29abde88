"""Block-wise 4-bit quantization in the layout MatMulNBits reads.

Each block of 32 input features gets a float scale and a 4-bit integer zero point
(asymmetric round-to-nearest over the block's range, widened to include 0). Integer zero
points, packed two per byte, keep MatMulNBits on onnxruntime's fast int8 path: float
zero points measured 40x slower there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_SIZE = 32


@dataclass(frozen=True)
class Int4Weight:
    packed: np.ndarray  # uint8 (N, k_blocks, BLOCK_SIZE // 2): element 2i in the low nibble
    scales: np.ndarray  # float32 (N, k_blocks)
    zero_points: np.ndarray  # uint8 (N, ceil(k_blocks / 2)): block 2j in the low nibble
    in_features: int  # K before padding to whole blocks


def _pack_nibbles(q: np.ndarray) -> np.ndarray:
    """Pairs along the last axis -> one byte each, first of the pair in the low nibble."""
    if q.shape[-1] % 2:
        q = np.concatenate([q, np.zeros(q.shape[:-1] + (1,), q.dtype)], axis=-1)
    return np.ascontiguousarray(q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)


def _unpack_nibbles(packed: np.ndarray, count: int) -> np.ndarray:
    out = np.empty(packed.shape[:-1] + (packed.shape[-1] * 2,), dtype=np.uint8)
    out[..., 0::2] = packed & 0x0F
    out[..., 1::2] = packed >> 4
    return out[..., :count]


def quantize_int4(weight: np.ndarray, block_size: int = BLOCK_SIZE) -> Int4Weight:
    """Quantize a (N, K) weight along K."""
    n, k = weight.shape
    pad = -k % block_size
    w = np.pad(weight.astype(np.float32), ((0, 0), (0, pad))) if pad else weight.astype(np.float32)
    blocks = w.reshape(n, -1, block_size)  # (N, k_blocks, block)
    low = np.minimum(blocks.min(axis=-1), 0.0)
    high = np.maximum(blocks.max(axis=-1), 0.0)
    scale = ((high - low) / 15.0).astype(np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    zero = np.clip(np.rint(-low / scale), 0, 15).astype(np.uint8)  # (N, k_blocks)
    q = np.clip(np.rint(blocks / scale[..., None]) + zero[..., None], 0, 15).astype(np.uint8)
    return Int4Weight(packed=_pack_nibbles(q), scales=scale, zero_points=_pack_nibbles(zero), in_features=k)


def dequantize_int4(weight: Int4Weight) -> np.ndarray:
    k_blocks = weight.scales.shape[1]
    q = _unpack_nibbles(weight.packed, weight.packed.shape[-1] * 2).astype(np.float32)
    zero = _unpack_nibbles(weight.zero_points, k_blocks).astype(np.float32)
    w = (q - zero[..., None]) * weight.scales[..., None]
    return w.reshape(w.shape[0], -1)[:, : weight.in_features]
