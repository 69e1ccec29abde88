"""Block-wise 4-bit quantization in the layout MatMulNBits reads.

Each block of 32 input features gets a scale and a float zero point, chosen like
GGUF's Q4_1 (min/max over the block), so a Q4_1 source converts without a second
rounding: dequantized = (q - zero_point) * scale = q * scale + block_min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_SIZE = 32


@dataclass(frozen=True)
class Int4Weight:
    packed: np.ndarray  # uint8 (N, k_blocks, BLOCK_SIZE // 2): element 2i in the low nibble
    scales: np.ndarray  # float32 (N, k_blocks)
    zero_points: np.ndarray  # float32 (N, k_blocks)
    in_features: int  # K before padding to whole blocks


def quantize_int4(weight: np.ndarray, block_size: int = BLOCK_SIZE) -> Int4Weight:
    """Quantize a (N, K) weight along K."""
    n, k = weight.shape
    pad = -k % block_size
    w = np.pad(weight.astype(np.float32), ((0, 0), (0, pad))) if pad else weight.astype(np.float32)
    blocks = w.reshape(n, -1, block_size)  # (N, k_blocks, block)
    low = blocks.min(axis=-1)
    high = blocks.max(axis=-1)
    scale = (high - low) / 15.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint((blocks - low[..., None]) / scale[..., None]), 0, 15).astype(np.uint8)
    packed = q[..., 0::2] | (q[..., 1::2] << 4)
    return Int4Weight(
        packed=np.ascontiguousarray(packed),
        scales=scale,
        zero_points=(-low / scale).astype(np.float32),
        in_features=k,
    )


def dequantize_int4(weight: Int4Weight) -> np.ndarray:
    low = weight.packed & 0x0F
    high = weight.packed >> 4
    q = np.empty(low.shape[:-1] + (low.shape[-1] * 2,), dtype=np.float32)
    q[..., 0::2] = low
    q[..., 1::2] = high
    w = (q - weight.zero_points[..., None]) * weight.scales[..., None]
    return w.reshape(w.shape[0], -1)[:, : weight.in_features]
